//! End-to-end in a real headless Chromium, driven over WebDriver (fantoccini + the system's
//! chromedriver), against the whole system on the bundled feeds: type "おかやま" and pick
//! 岡山駅 from the suggestions, pick a destination with the keyboard, search, see journeys, go
//! to later journeys and to the day's last journey (終電), open a station's departures and a
//! line's timetable (時刻表) there, switch to English.
//!
//! Screenshots of each step are written to `<cargo target dir>/screenshots/` (by default
//! `target/screenshots/`; `NORIKAE_SCREENSHOTS_DIR` overrides it). Without chromedriver the
//! test fails and says how to install it, unless `NORIKAE_SKIP_BROWSER=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// Longest wait for something to appear on a page.
const PAGE_WAIT: Duration = Duration::from_secs(20);

/// The chromedriver process, stopped when the test ends (passing or not).
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn executable(env: &str, default: &str) -> PathBuf {
    std::env::var_os(env).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// Starts chromedriver on a free port, or explains what is missing.
async fn start_driver() -> Option<Driver> {
    let chromedriver = executable("CHROMEDRIVER", CHROMEDRIVER);
    let chromium = executable("CHROMIUM", CHROMIUM);
    if !chromedriver.exists() || !chromium.exists() {
        if std::env::var("NORIKAE_SKIP_BROWSER").is_ok_and(|value| value == "1") {
            eprintln!(
                "NORIKAE_SKIP_BROWSER=1: skipping the browser test (no {} or {})",
                chromedriver.display(),
                chromium.display()
            );
            return None;
        }
        panic!(
            "the browser test needs Chromium and chromedriver ({} and {} are missing): install them \
             with `apt-get install chromium chromium-driver` (as .ci/run does), point CHROMIUM / \
             CHROMEDRIVER at them, or set NORIKAE_SKIP_BROWSER=1 to skip this test",
            chromium.display(),
            chromedriver.display()
        );
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("address")
        .port();
    let child = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {}: {error}", chromedriver.display()));
    let driver = Driver { child, url: format!("http://127.0.0.1:{port}") };
    let status = format!("{}/status", driver.url);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if let Ok(response) = reqwest::get(&status).await
            && response.status().is_success()
        {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start within 20 s");
}

async fn browser(driver: &Driver) -> Client {
    let chromium = executable("CHROMIUM", CHROMIUM);
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1100,1400", "--lang=ja", "--no-first-run"]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("NORIKAE_SCREENSHOTS_DIR").map_or_else(
        || Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target dir").join("screenshots"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    let path = screenshot_dir().join(format!("{name}.png"));
    std::fs::write(&path, png).expect("screenshot written");
    eprintln!("screenshot: {}", path.display());
}

async fn wait_for(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(PAGE_WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("`{css}` did not appear: {error}"))
}

/// Waits until `script` (a JavaScript expression) is truthy.
async fn wait_until(client: &Client, what: &str, script: &str) {
    let started = Instant::now();
    loop {
        let value =
            client.execute(&format!("return !!({script});"), Vec::new()).await.expect("script");
        if value == json!(true) {
            return;
        }
        assert!(started.elapsed() < PAGE_WAIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn value(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .expect(css)
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default()
}

async fn first_departure(client: &Client) -> String {
    wait_for(client, "[data-journey] .departure").await.text().await.expect("departure text")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_a_trip_in_chromium() {
    let Some(driver) = start_driver().await else { return };
    let stack = common::stack();
    let client = browser(&driver).await;
    let steps = tokio::spawn({
        let client = client.clone();
        let app = stack.app.clone();
        async move { journey(&client, &app).await }
    });
    let outcome = tokio::time::timeout(Duration::from_secs(120), steps).await;
    if !matches!(outcome, Ok(Ok(()))) {
        screenshot(&client, "failure").await;
    }
    // Ends the session, which quits Chromium.
    let _ = client.close().await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(failed)) => std::panic::resume_unwind(failed.into_panic()),
        Err(_) => panic!("the browser journey took over 2 minutes"),
    }
}

async fn journey(client: &Client, app: &str) {
    client.goto(&format!("{app}/?lang=ja")).await.expect("home page");
    assert_eq!(client.title().await.expect("title"), "経路を検索 | ノリカエ 乗換案内");
    let footer = wait_for(client, ".attribution").await.text().await.expect("footer");
    assert!(footer.contains("CC BY 4.0") && footer.contains("両備バス"), "attribution: {footer}");
    screenshot(client, "01-home").await;
    for button in ["input[data-first-train]", "input[data-last-train]"] {
        wait_for(client, button).await;
    }

    // From: type the reading, pick 岡山駅 with a click (mouse or tap).
    let from = wait_for(client, "#from").await;
    assert_eq!(
        from.attr("role").await.expect("role").as_deref(),
        Some("combobox"),
        "the script turns the field into a combobox"
    );
    from.click().await.expect("focus from");
    from.send_keys("おかやま").await.expect("type from");
    wait_until(client, "suggestions for おかやま", "[...document.querySelectorAll('#from-listbox [role=option] .name')].some(n => n.textContent === '岡山駅')").await;
    assert_eq!(from.attr("aria-expanded").await.expect("expanded").as_deref(), Some("true"));
    screenshot(client, "02-suggestions").await;
    let options =
        client.find_all(Locator::Css("#from-listbox [role=option]")).await.expect("options");
    let mut picked = false;
    for option in options {
        let name =
            option.find(Locator::Css(".name")).await.expect("name").text().await.expect("text");
        if name == "岡山駅" {
            option.click().await.expect("pick 岡山駅");
            picked = true;
            break;
        }
    }
    assert!(picked, "岡山駅 was among the suggestions");
    assert_eq!(value(client, "#from").await, "岡山駅");
    let from_id = value(client, "input[name=from_id]").await;
    assert!(!from_id.is_empty(), "picking a suggestion sets the station id");
    assert_eq!(from.attr("aria-expanded").await.expect("expanded").as_deref(), Some("false"));

    // To: type, then choose with the keyboard (down, enter).
    let to = wait_for(client, "#to").await;
    to.click().await.expect("focus to");
    to.send_keys("天満屋").await.expect("type to");
    wait_until(
        client,
        "suggestions for 天満屋",
        "document.querySelectorAll('#to-listbox [role=option]').length > 0",
    )
    .await;
    to.send_keys(&Key::Down.to_string()).await.expect("arrow down");
    let active = to.attr("aria-activedescendant").await.expect("active").unwrap_or_default();
    assert_eq!(active, "to-listbox-option-0", "arrow down highlights the first suggestion");
    to.send_keys(&Key::Enter.to_string()).await.expect("enter");
    let to_name = value(client, "#to").await;
    assert!(to_name.contains("天満屋"), "picked {to_name}");
    let to_id = value(client, "input[name=to_id]").await;
    assert!(!to_id.is_empty() && to_id != from_id, "destination id {to_id}");

    // A weekday both Okayama feeds run.
    client
        .execute("document.getElementById('date').value = '2025-06-04'; document.getElementById('time').value = '08:00';", Vec::new())
        .await
        .expect("set date and time");
    client
        .find(Locator::Css(".trip-form button[type=submit]"))
        .await
        .expect("search button")
        .click()
        .await
        .expect("search");

    let first = first_departure(client).await;
    let url = client.current_url().await.expect("url");
    assert_eq!(url.path(), "/search");
    let journeys = client.find_all(Locator::Css("[data-journey]")).await.expect("journeys");
    assert!(!journeys.is_empty());
    let heading = client.find(Locator::Css("h1")).await.expect("h1").text().await.expect("h1 text");
    assert!(heading.contains("岡山駅") && heading.contains("天満屋"), "results heading: {heading}");
    let first_leg = client
        .find(Locator::Css("[data-journey] .leg.transit .line-badge"))
        .await
        .expect("a ride")
        .text()
        .await
        .expect("line");
    assert!(!first_leg.is_empty());
    screenshot(client, "03-results").await;

    // Later journeys.
    client
        .find(Locator::Css("a[data-later]"))
        .await
        .expect("later link")
        .click()
        .await
        .expect("later");
    wait_until(client, "the later page", "location.search.includes('cursor=')").await;
    let later_first = first_departure(client).await;
    assert!(later_first > first, "later journeys leave later: {later_first} after {first}");
    screenshot(client, "04-later").await;

    // A ride's trip: its run with every stop, the ride marked; then back to the results.
    let trip_link = wait_for(client, "[data-journey] a[data-trip-link]").await;
    trip_link.click().await.expect("open the trip");
    wait_for(client, "[data-trip-stops]").await;
    assert!(client.current_url().await.expect("url").path().starts_with("/trips/"));
    let ridden = client.find_all(Locator::Css(".trip-stop.ridden")).await.expect("ridden stops");
    let stops = client.find_all(Locator::Css("[data-trip-stop]")).await.expect("trip stops");
    assert!(
        ridden.len() >= 2 && stops.len() >= ridden.len(),
        "{} of {} stops",
        ridden.len(),
        stops.len()
    );
    screenshot(client, "04b-trip").await;
    client.back().await.expect("back to the results");
    wait_for(client, "[data-journey]").await;
    // 終電: the same trip's last journey of the day, from the results.
    client
        .find(Locator::Css("a[data-last-train]"))
        .await
        .expect("last train link")
        .click()
        .await
        .expect("last train");
    wait_until(client, "the last-train page", "location.search.includes('arrive=last')").await;
    let last = first_departure(client).await;
    let journeys = client.find_all(Locator::Css("[data-journey]")).await.expect("journeys");
    assert_eq!(journeys.len(), 1, "one last journey");
    assert!(last.as_str() >= "18:00", "the last journey leaves in the evening: {last}");
    let summary =
        client.find(Locator::Css(".summary")).await.expect("summary").text().await.expect("text");
    assert!(summary.contains("終電"), "the summary says so: {summary}");
    screenshot(client, "04b-last-train").await;

    // A station's departures.
    let station_link = wait_for(client, "[data-journey] a[data-station-link]").await;
    let stop_name = station_link.text().await.expect("stop name");
    station_link.click().await.expect("open station");
    wait_for(client, "#departures-heading").await;
    assert!(client.current_url().await.expect("url").path().starts_with("/stations/"));
    let title =
        client.find(Locator::Css("h1 .name")).await.expect("h1").text().await.expect("h1 text");
    // The stop's station: same name, or the stop's name extends it (岡山駅 / 岡山駅前).
    assert!(
        !title.is_empty() && (stop_name.contains(&title) || title.contains(&stop_name)),
        "station page {title} for the stop {stop_name}"
    );
    let groups = client.find_all(Locator::Css("[data-board-group]")).await.expect("board");
    assert!(!groups.is_empty(), "departures by line and direction");
    assert!(
        !client.find_all(Locator::Css("a[data-nearby]")).await.expect("nearby").is_empty(),
        "nearby stations"
    );
    screenshot(client, "05-station").await;

    // The timetable (時刻表) of the first line and direction on the board.
    let timetable_link = wait_for(client, "a[data-timetable-link]").await;
    timetable_link.click().await.expect("open timetable");
    wait_for(client, "[data-timetable]").await;
    assert!(client.current_url().await.expect("url").path().ends_with("/timetable"));
    let hours: Vec<u32> = {
        let rows = client.find_all(Locator::Css("tr[data-hour]")).await.expect("rows");
        let mut hours = Vec::new();
        for row in rows {
            let hour = row.attr("data-hour").await.expect("hour").unwrap_or_default();
            hours.push(hour.parse().expect("an hour"));
        }
        hours
    };
    assert!(!hours.is_empty(), "the timetable lists hours");
    assert!(hours.windows(2).all(|pair| pair[0] < pair[1]), "hours in order: {hours:?}");
    let minutes = client.find_all(Locator::Css("[data-timetable] .minute")).await.expect("minutes");
    assert!(!minutes.is_empty());
    let service = wait_for(client, "[data-service-day]").await;
    let kind = service.attr("data-service-day").await.expect("kind").unwrap_or_default();
    assert!(
        ["weekday", "saturday", "holiday", "saturday_and_holiday"].contains(&kind.as_str()),
        "service day {kind}"
    );
    let said = service.text().await.expect("service day text");
    assert!(["平日", "土曜", "休日"].iter().any(|word| said.contains(word)), "named: {said}");
    screenshot(client, "05b-timetable").await;
    client.back().await.expect("back to the station");
    wait_for(client, "#departures-heading").await;

    // English.
    client
        .find(Locator::Css("a[data-lang-link=en]"))
        .await
        .expect("English link")
        .click()
        .await
        .expect("switch");
    wait_until(client, "the English page", "document.documentElement.lang === 'en'").await;
    let heading = client
        .find(Locator::Css("#departures-heading"))
        .await
        .expect("heading")
        .text()
        .await
        .expect("text");
    assert_eq!(heading, "Departures");
    screenshot(client, "06-station-en").await;
    // The choice is remembered.
    client.goto(&format!("{app}/")).await.expect("home");
    let heading = wait_for(client, "h1").await.text().await.expect("h1");
    assert_eq!(heading, "Plan a journey");
    screenshot(client, "07-home-en").await;
}

/// The realtime simulator's feed for Fukuoka (every running trip late from a random stop on)
/// pushed to the route service for a day no other test of this stack asks about; 天神's board
/// that morning shows the delays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shows_the_simulators_delays_in_chromium() {
    use prost::Message;

    let Some(driver) = start_driver().await else { return };
    let stack = common::stack();
    let date = chrono::NaiveDate::from_ymd_opt(2019, 6, 12).expect("date");
    let timetable =
        norikae_timetable::bundled::import_feeds(&norikae_timetable::bundled::repo_feeds_dir())
            .expect("the bundled feeds import");
    let options = norikae_realtime::sim::SimOptions {
        seed: 12,
        date,
        from_secs: 8 * 3600,
        to_secs: 9 * 3600,
        delayed_share: 1.0,
        max_delay_secs: 600,
        delays: norikae_realtime::sim::Delays::Uniform,
        cancel_one: false,
        now: chrono::Utc::now().timestamp(),
    };
    let message = norikae_realtime::sim::feed_message(&timetable, "fukuoka", &options);
    assert!(!message.entity.is_empty(), "the simulator has trips to delay on {date}");
    let pushed = reqwest::Client::new()
        .post(format!("{}/realtime/fukuoka", stack.route))
        .bearer_auth(common::REALTIME_PUSH_TOKEN)
        .body(message.encode_to_vec())
        .send()
        .await
        .expect("push the simulated feed");
    assert!(pushed.status().is_success(), "push answered {}", pushed.status());

    let client = browser(&driver).await;
    let steps = tokio::spawn({
        let client = client.clone();
        let app = stack.app.clone();
        async move {
            client
                .goto(&format!("{app}/stations/fukuoka:8?lang=ja&date={date}&time=08:10"))
                .await
                .expect("station page");
            wait_for(&client, "ul.departures").await;
            wait_until(
                &client,
                "a delay on the board",
                "[...document.querySelectorAll('.realtime')].some(e => e.textContent.includes('分遅れ'))",
            )
            .await;
            screenshot(&client, "07-live-delays").await;
        }
    });
    let outcome = tokio::time::timeout(Duration::from_secs(60), steps).await;
    if !matches!(outcome, Ok(Ok(()))) {
        screenshot(&client, "failure-live").await;
    }
    let _ = client.close().await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(failed)) => std::panic::resume_unwind(failed.into_panic()),
        Err(_) => panic!("the live-delay page took over a minute"),
    }
}
