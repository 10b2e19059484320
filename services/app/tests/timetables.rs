//! The timetable page (時刻表) and the first / last train and order links, over plain HTTP
//! against the whole system on the bundled feeds.

mod common;

use common::{link, stack};

async fn get(path: &str) -> (u16, String) {
    let response = reqwest::get(format!("{}{path}", stack().app)).await.expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_links_each_line_to_its_timetable() {
    let (status, station) = get("/stations/fukuoka:8?date=2019-07-15&time=08:00&lang=ja").await;
    assert_eq!(status, 200, "{station}");
    let timetable = link(&station, "data-timetable-link").expect("a timetable link per line");
    assert!(timetable.contains("route=") && timetable.contains("date=2019-07-15"), "{timetable}");
    let (status, html) = get(&timetable).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("data-timetable"), "a timetable: {html}");
    assert!(html.contains("土休日（海の日）"), "Marine Day runs the 土日祝 timetable: {html}");
    assert!(html.contains("data-hour=\"24\""), "the last trains at 24 o'clock: {html}");
    assert!(html.contains("空港線"));

    let (status, weekday) = get(
        "/stations/fukuoka:8/timetable?route=fukuoka:%E7%A9%BA%E6%B8%AF%E7%B7%9A&direction=0&date=2019-06-05&lang=en",
    )
    .await;
    assert_eq!(status, 200, "{weekday}");
    assert!(weekday.contains("data-service-day=\"weekday\""), "{weekday}");
    assert!(weekday.contains("Weekdays"), "{weekday}");

    // Both directions of a line need one: the page explains, in the page's language.
    let (status, html) =
        get("/stations/fukuoka:8/timetable?route=fukuoka:%E7%A9%BA%E6%B8%AF%E7%B7%9A&date=2019-06-05&lang=en").await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("<html lang=\"en\">"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_offer_the_first_and_last_train_and_three_orders() {
    let search = "/search?from_id=fukuoka:1&to_id=fukuoka:8&date=2019-06-05&time=08:00&lang=ja";
    let (status, html) = get(search).await;
    assert_eq!(status, 200, "{html}");
    for marker in
        ["data-sort=\"fastest\"", "data-sort=\"fewest_transfers\"", "data-sort=\"cheapest\""]
    {
        assert!(html.contains(marker), "{marker}: {html}");
    }
    let fastest = link(&html, "data-sort=\"fastest\"").expect("fastest");
    let (status, sorted) = get(&fastest).await;
    assert_eq!(status, 200, "{sorted}");
    assert!(sorted.contains("aria-current=\"true\" data-sort=\"fastest\""), "{sorted}");

    let last = link(&html, "data-last-train").expect("a last-train link");
    assert!(last.contains("arrive=last"), "{last}");
    let (status, last_html) = get(&last).await;
    assert_eq!(status, 200, "{last_html}");
    assert_eq!(last_html.matches("data-journey ").count(), 1, "one journey: {last_html}");
    assert!(last_html.contains("2019-06-05 の終電"), "{last_html}");
    assert!(last_html.contains("data-departure=\"00:"), "after midnight: {last_html}");

    let first = link(&html, "data-first-train").expect("a first-train link");
    let (status, first_html) = get(&first).await;
    assert_eq!(status, 200, "{first_html}");
    assert!(first_html.contains("data-departure=\"05:"), "{first_html}");
    // The form keeps the choice.
    let (_, form) = get("/?from_id=fukuoka:1&to_id=fukuoka:8&arrive=last&lang=ja").await;
    assert!(form.contains("value=\"last\" checked"), "{form}");
}
