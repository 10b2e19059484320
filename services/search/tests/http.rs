//! The search service over HTTP, started in-process on port 0 on the bundled feeds (imported
//! by the real importer): endpoints, JSON shape, language, errors, readiness.

use std::sync::Arc;
use std::time::{Duration, Instant};

use norikae_search::{Config, RecordsSource, StationRecord};
use norikae_timetable::bundled;
use norikae_wire::search::{MatchKind, NearbyResponse, SearchResponse, StationDetail};
use serde_json::Value;

struct Service {
    base: String,
    client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn spawn_service() -> Service {
    let records = tokio::task::spawn_blocking(|| {
        let timetable =
            bundled::import_feeds(&bundled::repo_feeds_dir()).expect("bundled feeds import");
        StationRecord::all_from_timetable(&timetable)
    })
    .await
    .expect("import task");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let mut config = Config::default();
    config.http.port = listener.local_addr().expect("address").port();
    config.timetable.reload_interval_secs = 0;
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(norikae_search::run_with_source(
        config,
        listener,
        async move {
            let _ = stopped.await;
        },
        Arc::new(RecordsSource { records }),
    ));
    Service { base, client: reqwest::Client::new(), stop: Some(stop), handle }
}

impl Service {
    async fn get(&self, path: &str) -> (u16, Value) {
        let response =
            self.client.get(format!("{}{path}", self.base)).send().await.expect("request");
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let response = self.client.get(format!("{}/health/ready", self.base)).send().await;
            if response.is_ok_and(|response| response.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("service not ready within 60 s");
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.handle.await.expect("server task").expect("server ran");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_nearby_and_station_endpoints() {
    let service = spawn_service().await;
    service.wait_ready().await;

    let (status, body) = service.get("/stations?q=%E5%B2%A1%E5%B1%B1&limit=5").await; // 岡山
    assert_eq!(status, 200, "{body}");
    let response: SearchResponse = serde_json::from_value(body.clone()).expect("search response");
    assert_eq!(response.results.len(), 5);
    let okayama = &response.results[0];
    assert_eq!(okayama.name, "岡山駅");
    assert_eq!(okayama.match_kind, Some(MatchKind::Exact));
    assert_eq!(okayama.reading.as_deref(), Some("オカヤマエキ"));
    assert_eq!(okayama.romaji.as_deref(), Some("okayamaeki"));
    assert!(!okayama.label.is_empty() && !okayama.agencies.is_empty());
    assert_eq!(body["results"][0]["match"], "exact");

    let (status, body) = service.get("/stations?q=tenjin%20minami&lang=en&near=33.59,130.40").await;
    assert_eq!(status, 200, "{body}");
    let response: SearchResponse = serde_json::from_value(body).expect("search response");
    assert_eq!(response.results[0].name, "Tenjin-minami");
    assert!(response.results[0].distance_m.is_some_and(|distance| distance < 1_000.0));

    let url =
        format!("/stations/nearby?lat={}&lon={}&radius_m=300&limit=5", okayama.lat, okayama.lon);
    let (status, body) = service.get(&url).await;
    assert_eq!(status, 200, "{body}");
    let nearby: NearbyResponse = serde_json::from_value(body).expect("nearby response");
    assert_eq!(nearby.results[0].id, okayama.id);
    assert!(nearby.results.windows(2).all(|pair| pair[0].distance_m <= pair[1].distance_m));

    let (status, body) = service.get(&format!("/stations/{}", okayama.id)).await;
    assert_eq!(status, 200, "{body}");
    let detail: StationDetail = serde_json::from_value(body).expect("station detail");
    assert_eq!(detail.station.id, okayama.id);
    let stop_id =
        detail.stops.iter().find(|stop| **stop != okayama.id).expect("another stop id").clone();
    let (status, body) = service.get(&format!("/stations/{stop_id}?lang=en")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], Value::String(okayama.id.clone()));
    assert_eq!(body["name"], "Okayama Sta.");

    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_problems_naming_the_parameter() {
    let service = spawn_service().await;
    service.wait_ready().await;
    for (path, status, code, field) in [
        ("/stations?q=", 400, "empty_query", "q"),
        ("/stations", 400, "empty_query", "q"),
        ("/stations?q=%E3%80%80", 400, "empty_query", "q"),
        ("/stations?q=---", 400, "empty_query", "q"),
        ("/stations?q=oka&limit=51", 400, "invalid_parameter", "limit"),
        ("/stations?q=oka&limit=0", 400, "invalid_parameter", "limit"),
        ("/stations?q=oka&limit=ten", 400, "invalid_parameter", "limit"),
        ("/stations?q=oka&near=34.6", 400, "invalid_parameter", "near"),
        ("/stations?q=oka&near=95,133", 400, "invalid_parameter", "near"),
        ("/stations/nearby?lat=34.6&lon=133.9&radius_m=0", 400, "invalid_parameter", "radius_m"),
        ("/stations/nearby?lat=34.6&lon=200", 400, "invalid_parameter", "lon"),
        ("/stations/nearby?lon=133.9", 400, "missing_parameter", "lat"),
    ] {
        let (got_status, body) = service.get(path).await;
        assert_eq!(got_status, status, "{path}: {body}");
        assert_eq!(body["code"], code, "{path}: {body}");
        assert_eq!(body["field"], field, "{path}: {body}");
    }
    let (status, body) = service.get("/stations/ryobi:no_such_stop").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["code"], "unknown_station");
    service.stop().await;
}

/// A source whose data changes when told to, like a snapshot replaced by a new import.
struct SwitchingSource {
    generation: std::sync::atomic::AtomicUsize,
}

impl norikae_search::IndexSource for SwitchingSource {
    fn version(&self) -> Result<String, norikae_search::SearchError> {
        Ok(self.generation.load(std::sync::atomic::Ordering::SeqCst).to_string())
    }

    fn build(&self) -> Result<norikae_search::SearchIndex, norikae_search::SearchError> {
        let generation = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        let name = if generation == 0 { "天神" } else { "博多" };
        let record = StationRecord {
            id: format!("test:{generation}"),
            name: norikae_timetable::LocalizedText::new(name),
            ..StationRecord::default()
        };
        norikae_search::SearchIndex::build(vec![record])
    }

    fn describe(&self) -> String {
        "switching test source".to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_source_is_reindexed_and_swapped_in() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let mut config = Config::default();
    config.http.port = listener.local_addr().expect("address").port();
    // Real time: the service answers over a real socket (a paused clock would fire the
    // client's timeouts while requests are in flight), so one real reload tick, the shortest
    // the setting takes (whole seconds).
    config.timetable.reload_interval_secs = 1;
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let source = Arc::new(SwitchingSource { generation: std::sync::atomic::AtomicUsize::new(0) });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(norikae_search::run_with_source(
        config,
        listener,
        async move {
            let _ = stopped.await;
        },
        Arc::clone(&source) as Arc<dyn norikae_search::IndexSource>,
    ));
    let service = Service { base, client: reqwest::Client::new(), stop: Some(stop), handle };
    service.wait_ready().await;
    let (status, body) = service.get("/stations/test:0").await;
    assert_eq!(status, 200, "{body}");
    source.generation.store(1, std::sync::atomic::Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, _) = service.get("/stations/test:1").await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the new index was not swapped in");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _) = service.get("/stations/test:0").await;
    assert_eq!(status, 404);
    service.stop().await;
}
