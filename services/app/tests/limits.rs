//! The app's per-client limit: one client address (the right-most untrusted
//! `X-Forwarded-For` hop) past its bucket gets a 429 page, or a 429 problem from
//! `/suggest`, with `Retry-After`; other clients and static files are not affected.

use norikae_runtime::ClientRate;

/// The app alone, its api on a closed port (pages then explain the api is unreachable).
async fn start_app() -> String {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let api_url = format!("http://{}", closed.local_addr().expect("address"));
    drop(closed);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let mut config = norikae_app::Config {
        http: norikae_runtime::HttpSettings::for_port(port),
        ..norikae_app::Config::default()
    };
    config.upstream.api_url = api_url;
    config.upstream.timeout_ms = 500;
    config.limits.per_client = ClientRate { requests: 1, per_secs: 60, burst: 2 };
    tokio::spawn(norikae_app::run(config, listener, std::future::pending()));
    format!("http://127.0.0.1:{port}")
}

async fn get(app: &str, path: &str, forwarded_for: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{app}{path}"))
        .header("x-forwarded-for", forwarded_for)
        .header("accept-language", "en")
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn one_client_is_limited_and_others_are_not() {
    let app = start_app().await;
    for _ in 0..100 {
        if reqwest::get(format!("{app}/health/ready")).await.is_ok_and(|r| r.status() == 200) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The forged left-most entry changes nothing: the balancer appended the real address.
    for forged in ["1.1.1.1", "2.2.2.2"] {
        let page = get(&app, "/", &format!("{forged}, 198.51.100.7")).await;
        assert_ne!(page.status(), 429);
    }
    let limited = get(&app, "/", "3.3.3.3, 198.51.100.7").await;
    assert_eq!(limited.status(), 429);
    let retry_after: u64 =
        limited.headers()["retry-after"].to_str().expect("text").parse().expect("seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let html = limited.text().await.expect("body");
    assert!(html.contains("Too many requests right now"), "{html}");

    let suggest = get(&app, "/suggest?q=ten", "198.51.100.7").await;
    assert_eq!(suggest.status(), 429);
    assert!(suggest.headers()["content-type"].to_str().expect("text").contains("problem+json"));
    assert!(suggest.headers().contains_key("retry-after"));

    let asset = get(&app, "/static/app.css", "198.51.100.7").await;
    assert_eq!(asset.status(), 200, "static files cost no API call");
    let other = get(&app, "/", "198.51.100.8").await;
    assert_ne!(other.status(), 429, "another client is not affected");
}
