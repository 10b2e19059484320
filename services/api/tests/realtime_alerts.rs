//! GTFS-Realtime ServiceAlerts from the route engine joined with the database's alerts in
//! `/v1/alerts`, in the feed's languages.

mod common;

use std::time::Duration;

use common::{Api, Engines, api_config, check_documented, openapi, sqlite_url};
use norikae_wire::route::{RealtimeAlert, RealtimeAlertText, RealtimeAlertsResponse};

/// A route engine stand-in that answers `/realtime/alerts` with one alert (and 404 else).
async fn route_with_an_alert() -> String {
    let now = u64::try_from(chrono::Utc::now().timestamp()).expect("after 1970");
    let alert = RealtimeAlert {
        id: "fukuoka:alert-cancelled-1".to_owned(),
        cause: "technical_problem".to_owned(),
        effect: "no_service".to_owned(),
        url: None,
        translations: vec![
            RealtimeAlertText {
                language: "ja".to_owned(),
                header: "空港線 8:00発の便は運休します".to_owned(),
                description: String::new(),
            },
            RealtimeAlertText {
                language: "en".to_owned(),
                header: "Airport line: the 8:00 departure is cancelled".to_owned(),
                description: String::new(),
            },
        ],
        active_periods: vec![(Some(now - 60), Some(now + 3600))],
        agency_ids: Vec::new(),
        route_ids: vec!["fukuoka:1".to_owned()],
        station_ids: Vec::new(),
        trip_ids: Vec::new(),
    };
    let body = RealtimeAlertsResponse { alerts: vec![alert] };
    let router = axum::Router::new()
        .route("/realtime/alerts", axum::routing::get(move || async move { axum::Json(body) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

#[tokio::test]
async fn realtime_alerts_join_the_database_alerts_with_their_languages() {
    let route_url = route_with_an_alert().await;
    let engines = Engines { search_url: route_url.clone(), route_url };
    let directory = tempfile::tempdir().expect("temp dir");
    let api = Api::start(api_config(&engines, sqlite_url(&directory), true)).await;
    // Real time: the api polls the stand-in engine over a real socket (each second here, the
    // shortest `upstream.status_poll_secs`); ask until its alert shows, 10 s at most.
    for _ in 0..100 {
        let answer = api.get("/v1/alerts?lang=en").await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let alerts = answer.body["alerts"].as_array().cloned().unwrap_or_default();
        if let Some(alert) =
            alerts.iter().find(|alert| alert["id"] == "rt:fukuoka:alert-cancelled-1")
        {
            assert_eq!(alert["header"], "Airport line: the 8:00 departure is cancelled");
            check_documented(&openapi(), "get", "/v1/alerts", &answer);
            assert_eq!(
                (alert["cause"].as_str(), alert["effect"].as_str()),
                (Some("technical_problem"), Some("no_service"))
            );
            assert_eq!(alert["informed"][0]["route_id"], "fukuoka:1");
            assert_eq!(alert["translations"]["ja"]["header"], "空港線 8:00発の便は運休します");
            let japanese = api.get("/v1/alerts?lang=ja").await;
            let header = japanese.body["alerts"]
                .as_array()
                .and_then(|alerts| {
                    alerts.iter().find(|alert| alert["id"] == "rt:fukuoka:alert-cancelled-1")
                })
                .map(|alert| alert["header"].clone());
            assert_eq!(header, Some("空港線 8:00発の便は運休します".into()));
            api.stop().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the realtime alert never showed in /v1/alerts");
}
