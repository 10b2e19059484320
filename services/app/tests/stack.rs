//! The app over plain HTTP against the whole system on the bundled feeds, as a browser
//! without JavaScript uses it: free-text stations resolved on the server (with a choice page
//! when ambiguous), results with later pages, station pages, suggestions, language, and the
//! error messages of real API answers.

mod common;

use common::{inputs, link, stack};

async fn get(path: &str) -> (u16, String) {
    let response = reqwest::get(format!("{}{path}", stack().app)).await.expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

fn journeys(html: &str) -> usize {
    html.matches("data-journey ").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_without_javascript() {
    // Unambiguous free text (天神 is one exact match, 姪浜 too): straight to the results.
    let (status, html) =
        get("/search?from=%E5%A4%A9%E7%A5%9E&to=%E5%A7%AA%E6%B5%9C&date=2019-06-05&time=08:00&arrive=depart&lang=ja").await;
    assert_eq!(status, 200, "{html}");
    assert!(journeys(&html) >= 3, "Tenjin → Meinohama runs every few minutes: {html}");
    assert!(html.contains("空港線"), "the line name is shown");
    assert!(html.contains("class=\"line-badge\" style=\"background-color:#"), "with its colour");
    assert!(
        html.contains("てんじん") || html.contains("テンジン"),
        "the reading is shown with the name"
    );
    assert!(!html.contains("data-error-code"), "no error: {html}");

    // Later journeys through the API's cursor.
    let later = link(&html, "data-later").expect("a later link");
    assert!(later.contains("cursor="), "{later}");
    let (status, later_html) = get(&later).await;
    assert_eq!(status, 200);
    assert!(journeys(&later_html) >= 3);
    let first_departure = |html: &str| {
        let start =
            html.find("class=\"departure\">").expect("a departure") + "class=\"departure\">".len();
        html[start..start + 5].to_owned()
    };
    assert!(first_departure(&later_html) > first_departure(&html));
}

/// Issue 23: from 天神南 to 天神 walking (8 minutes) beats every ride, so the first card is
/// the walk, plainly ("Walk 8 min (510 m)"), in both languages: no transfer count, no fare
/// line. Waits for the route engine to offer walk-only journeys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walking_is_shown_first_when_it_is_the_fastest() {
    let search = "/search?from_id=fukuoka:35&to_id=fukuoka:8&date=2019-10-16&time=14:23:58";
    for (lang, walk, absent) in [
        ("en", "Walk 8 min (", ["Transfers", "Fare", "Direct"]),
        ("ja", "徒歩8分（", ["乗換", "運賃", "乗換なし"]),
    ] {
        let (status, html) = get(&format!("{search}&lang={lang}")).await;
        assert_eq!(status, 200, "{html}");
        assert!(!html.contains("data-error-code"), "no error: {html}");
        let first = html.split("data-journey ").nth(1).expect("a journey");
        let first = first.split("data-journey ").next().unwrap_or(first);
        let first = first.split("</article>").next().unwrap_or(first);
        assert!(first.contains("data-on-foot"), "the first journey is on foot: {first}");
        let walk_at = first.find(walk).unwrap_or_else(|| panic!("`{walk}` in {first}"));
        let distance = first[walk_at + walk.len()..].split([')', '）']).next().unwrap_or_default();
        assert!(
            distance.ends_with(" m") && distance.starts_with(|c: char| c.is_ascii_digit()),
            "the walk's distance in metres: `{distance}` in {first}"
        );
        assert!(
            first.contains("<time class=\"departure\">14:23</time>"),
            "leaves at once: {first}"
        );
        for label in absent {
            assert!(!first.contains(label), "no `{label}` on foot: {first}");
        }
        assert_eq!(first.matches("class=\"leg ").count(), 1, "one leg, the walk: {first}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asks_which_station_when_the_text_is_ambiguous() {
    // "天神" alone is clear, but "天" matches 天神 and 天神南: a choice for `to`.
    let (status, html) =
        get("/search?from=%E5%A7%AA%E6%B5%9C&to=%E5%A4%A9&date=2019-06-05&time=09:00&lang=en")
            .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Choose your stations"), "{html}");
    let fields = inputs(&html);
    let radios: Vec<_> = fields
        .iter()
        .filter(|(kind, name, _)| kind.starts_with("radio") && name == "to_id")
        .collect();
    assert!(radios.len() >= 2, "choices: {radios:?}");
    // Submit the form as a browser would, with the second choice.
    let mut query: Vec<(String, String)> = fields
        .iter()
        .filter(|(kind, _, _)| kind == "hidden")
        .map(|(_, name, value)| (name.clone(), value.clone()))
        .collect();
    query.push(("to_id".to_owned(), radios[1].2.clone()));
    // No cookie store here: the language travels in the URL.
    query.push(("lang".to_owned(), "en".to_owned()));
    let url = format!("/search?{}", serde_urlencoded::to_string(&query).expect("query"));
    let (status, results) = get(&url).await;
    assert_eq!(status, 200, "{results}");
    assert!(journeys(&results) >= 1, "{results}");
    assert!(results.contains("Departing 2019-06-05 09:00"), "the carried date and time: {results}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explains_what_went_wrong_in_the_page_language() {
    let (status, html) = get("/search?from=zzqxv&to=%E5%A7%AA%E6%B5%9C&lang=en").await;
    assert_eq!(status, 400);
    assert!(html.contains("No station matches “zzqxv”"), "{html}");
    assert!(html.contains("aria-invalid=\"true\""), "the field is marked");

    let (status, html) = get("/search?from=%E5%A7%AA%E6%B5%9C&lang=ja").await;
    assert_eq!(status, 400);
    assert!(html.contains("到着地を入力してください"), "{html}");

    // A date outside every feed: the API's date_out_of_range, with the periods from /v1/status.
    let (status, html) =
        get("/search?from_id=fukuoka:8&to_id=fukuoka:1&date=2031-01-08&time=08:00&lang=en").await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("2031-01-08 is outside the timetable"), "{html}");
    assert!(html.contains("Fukuoka City Subway: 2019-03-16"), "the periods are listed: {html}");

    // A date inside the timetable but outside the subway's feed: no journeys, and why.
    let (status, html) =
        get("/search?from_id=fukuoka:8&to_id=fukuoka:1&date=2025-06-04&time=08:00&lang=en").await;
    assert_eq!(status, 200);
    assert!(html.contains("No journeys match your search"), "{html}");
    assert!(html.contains("Fukuoka City Subway: 2019-03-16"), "{html}");

    let (status, html) = get("/stations/nope:1?lang=en").await;
    assert_eq!(status, 404);
    assert!(html.contains("We could not find that station"), "{html}");

    let (status, html) = get("/no/such/page").await;
    assert_eq!(status, 404);
    assert!(html.contains("<html lang=\"ja\">"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shows_a_departure_board_and_nearby_stations() {
    let (status, html) = get("/stations/fukuoka:8?date=2019-06-05&time=08:00&lang=en").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Tenjin"), "{html}");
    assert!(
        html.matches("data-board-group").count() >= 2,
        "both directions of the Kuko line: {html}"
    );
    assert!(html.contains("08:0"), "departures after 08:00");
    assert!(html.contains("href=\"/stations/fukuoka%3A"), "nearby stations link to their boards");
    assert!(html.contains("Plan a journey from here"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggests_stations_as_json() {
    let response = reqwest::get(format!(
        "{}/suggest?q=%E3%81%8A%E3%81%8B%E3%82%84%E3%81%BE&lang=ja",
        stack().app
    ))
    .await
    .expect("request");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    let names: Vec<&str> = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|station| station["name"].as_str())
        .collect();
    assert!(names.contains(&"岡山駅"), "{names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remembers_the_language_and_serves_health() {
    let client = reqwest::Client::new();
    let response = client.get(format!("{}/?lang=en", stack().app)).send().await.expect("request");
    let cookie = response.headers()["set-cookie"].to_str().expect("cookie").to_owned();
    assert!(cookie.starts_with("lang=en;"), "{cookie}");
    let html = response.text().await.expect("body");
    assert!(html.contains("<html lang=\"en\">") && html.contains("Plan a journey"));
    let html = client
        .get(format!("{}/", stack().app))
        .header("cookie", "lang=en")
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(html.contains("Plan a journey"));
    let html = client
        .get(format!("{}/", stack().app))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(html.contains("Plan a journey"));
    for path in ["/health/live", "/health/ready", "/metrics", "/static/app.js", "/static/app.css"] {
        let response = client.get(format!("{}{path}", stack().app)).send().await.expect("request");
        assert_eq!(response.status(), 200, "{path}");
    }
}
