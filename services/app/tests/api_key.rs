//! The app's own API key, configured as ECS and docker-compose configure it
//! (`NORIKAE_UPSTREAM__API_KEY`), reaches the api as `X-Api-Key` on every call. The stand-in
//! api answers as the real one does when access is not open: the page's data with the right
//! key, 401 `missing_api_key` / `invalid_api_key` otherwise, which the app shows as "not
//! allowed" (a 502), not as results.

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tokio::net::TcpListener;

const KEY: &str = "nk_app_test_6f1c2e";

/// The stand-in api: its base URL and the `x-api-key` header of each request it got (`None`
/// when the request had none).
struct StandInApi {
    url: String,
    presented_keys: Arc<Mutex<Vec<Option<String>>>>,
}

async fn start_api_requiring(key: &'static str) -> StandInApi {
    let presented_keys = Arc::new(Mutex::new(Vec::new()));
    let seen = presented_keys.clone();
    let router = Router::new().route(
        "/v1/stations",
        get(move |headers: HeaderMap| {
            let presented = headers
                .get("x-api-key")
                .map(|value| value.to_str().expect("an ASCII key").to_owned());
            seen.lock().expect("stand-in lock").push(presented.clone());
            async move { stations_answer(presented.as_deref(), key) }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move { axum::serve(listener, router).await });
    StandInApi { url: format!("http://127.0.0.1:{port}"), presented_keys }
}

fn stations_answer(presented: Option<&str>, key: &str) -> Response {
    let refused = |code: &str, detail: &str| {
        let body = json!({"type": "about:blank", "status": 401, "code": code, "detail": detail});
        (StatusCode::UNAUTHORIZED, [("content-type", "application/problem+json")], body.to_string())
            .into_response()
    };
    match presented {
        None => refused("missing_api_key", "send an API key as `X-Api-Key: <key>`"),
        Some(presented) if presented != key => {
            refused("invalid_api_key", "this API key is not valid")
        }
        Some(_) => axum::Json(json!({"query": "tenjin", "results": [{
            "id": "fukuoka:8", "name": "天神", "reading": "てんじん", "label": "地下鉄",
            "lat": 33.59, "lon": 130.40, "lines": ["空港線"], "agencies": ["福岡市地下鉄"]
        }]}))
        .into_response(),
    }
}

/// The app's configuration as its binary loads it, from these environment variables alone.
fn config_from_environment(variables: &[(&str, &str)]) -> norikae_app::Config {
    let mut loaded = None;
    figment::Jail::expect_with(|jail| {
        for (name, value) in variables {
            jail.set_env(name, value);
        }
        loaded = Some(norikae_runtime::load_config("app").map_err(|error| format!("{error:#}"))?);
        Ok(())
    });
    loaded.expect("the configuration loads")
}

#[tokio::test]
async fn the_configured_key_is_sent_as_x_api_key_on_every_call() {
    let api = start_api_requiring(KEY).await;
    let config = config_from_environment(&[
        ("NORIKAE_UPSTREAM__API_URL", &api.url),
        ("NORIKAE_UPSTREAM__API_KEY", KEY),
    ]);
    let app = common::start_app(config).await;
    for _ in 0..2 {
        let (status, body) = common::suggest(&app).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["results"][0]["name"], "天神", "{body}");
    }
    let presented = api.presented_keys.lock().expect("stand-in lock").clone();
    assert_eq!(presented, vec![Some(KEY.to_owned()); 2]);
}

#[tokio::test]
async fn without_the_right_key_the_page_says_the_app_is_not_allowed() {
    let api = start_api_requiring(KEY).await;
    // No key; an empty one (a secret that resolved to nothing), which is not sent; a wrong one.
    for (key, sent) in [(None, None), (Some(""), None), (Some("nk_other"), Some("nk_other"))] {
        let mut variables = vec![("NORIKAE_UPSTREAM__API_URL", api.url.as_str())];
        variables.extend(key.map(|key| ("NORIKAE_UPSTREAM__API_KEY", key)));
        let app = common::start_app(config_from_environment(&variables)).await;
        let (status, body) = common::suggest(&app).await;
        assert_eq!(status, 502, "{key:?}: {body}");
        assert_eq!(
            body["error"], "The app is not allowed to use the journey planner right now.",
            "{key:?}: {body}"
        );
        let last = api.presented_keys.lock().expect("stand-in lock").last().cloned();
        assert_eq!(last, Some(sent.map(str::to_owned)), "{key:?}");
    }
}
