//! Keys, quotas and alerts against the database, each test on SQLite and on PostgreSQL
//! (127.0.0.1:5432, a fresh database per test, dropped at its end).

mod common;

use std::time::Duration;

use common::{Api, PgDatabase, api_config, check_documented, engines, openapi, sqlite_url};
use norikae_api::DatabaseSettings;
use norikae_api::cli::{CreateArgs, KeysCommand, execute};
use norikae_api::keys::{NewKey, Rate, Registered, list_keys, register_key};
use norikae_api::store::Db;
use serde_json::{Value, json};

async fn open(url: &str) -> Db {
    let db = Db::open(&DatabaseSettings { url: url.to_owned(), ..Default::default() })
        .expect("database");
    db.migrate().await.expect("migrations");
    db
}

/// `norikae keys create …`, as the command runs it; returns the secret it prints.
async fn create_key(db: &Db, name: &str, rate: &str, daily: Option<u64>, admin: bool) -> String {
    let args = CreateArgs {
        name: name.to_owned(),
        rate: Rate::parse(rate).expect("rate"),
        burst: None,
        daily,
        admin,
        secret_env: None,
    };
    let output = execute(db, KeysCommand::Create(args)).await.expect("key created");
    let secret = output.lines().last().expect("secret line").trim().to_owned();
    assert!(secret.starts_with("nk_"), "{output}");
    secret
}

async fn keys_rates_and_quotas(database_url: String) {
    let document = openapi();
    let db = open(&database_url).await;
    let api = Api::start(api_config(&engines(), database_url, false)).await;
    let search = "/v1/stations?q=tenjin";

    let missing = api.get(search).await;
    assert_eq!(
        (missing.status, missing.body["code"].as_str()),
        (401, Some("missing_api_key")),
        "{}",
        missing.body
    );
    check_documented(&document, "get", "/v1/stations", &missing);
    let made_up = api.get_with_key(search, "nk_madeup").await;
    assert_eq!((made_up.status, made_up.body["code"].as_str()), (401, Some("invalid_api_key")));
    let not_even_a_key = api.get_with_key(search, "hunter2").await;
    assert_eq!(not_even_a_key.status, 401);

    // A key of 1 request a minute with a burst of 3: three pass, the fourth waits.
    let args = CreateArgs {
        name: "slow".to_owned(),
        rate: Rate::parse("1/m").expect("rate"),
        burst: Some(3),
        daily: None,
        admin: false,
        secret_env: None,
    };
    let output = execute(&db, KeysCommand::Create(args)).await.expect("key");
    let slow = output.lines().last().expect("secret").trim().to_owned();
    assert_eq!(api.get_with_key(search, &slow).await.status, 200, "X-Api-Key");
    let bearer = api.send(api.client.get(format!("{}{search}", api.base)).bearer_auth(&slow)).await;
    assert_eq!(bearer.status, 200, "Authorization: Bearer: {}", bearer.body);
    assert_eq!(api.get_with_key(search, &slow).await.status, 200);
    let limited = api.get_with_key(search, &slow).await;
    assert_eq!(
        (limited.status, limited.body["code"].as_str()),
        (429, Some("rate_limited")),
        "{}",
        limited.body
    );
    check_documented(&document, "get", "/v1/stations", &limited);
    let retry_after: u64 =
        limited.header("retry-after").expect("Retry-After").parse().expect("seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");

    // A daily quota of 4: the fifth request is refused until midnight UTC, and not counted.
    let quota = create_key(&db, "quota", "100/s", Some(4), false).await;
    for _ in 0..4 {
        assert_eq!(api.get_with_key(search, &quota).await.status, 200);
    }
    let exhausted = api.get_with_key(search, &quota).await;
    assert_eq!(
        (exhausted.status, exhausted.body["code"].as_str()),
        (429, Some("quota_exceeded")),
        "{}",
        exhausted.body
    );
    assert!(
        exhausted
            .header("retry-after")
            .and_then(|value| value.parse::<u64>().ok())
            .is_some_and(|secs| secs <= 86_400)
    );

    // Usage reaches the database in batches.
    let today = chrono::Utc::now().date_naive();
    let mut stored = 0;
    for _ in 0..50 {
        let usage = norikae_api::store::usage::on_day(&db, today).await.expect("usage");
        let records = norikae_api::keys::list_keys(&db).await.expect("keys");
        let quota_id = &records.iter().find(|record| record.name == "quota").expect("quota key").id;
        stored = usage.get(quota_id).copied().unwrap_or(0);
        if stored == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stored, 4, "every admitted request of the quota key counted once");
    let listing = execute(&db, KeysCommand::List).await.expect("list");
    assert!(listing.contains("quota") && listing.contains("slow"), "{listing}");
    assert!(!listing.contains(&quota), "secrets are never listed");

    // Revoked: refused with 403 once the api has re-read its keys.
    let revoked =
        execute(&db, KeysCommand::Revoke { key: "quota".to_owned() }).await.expect("revoke");
    assert!(revoked.contains("revoked"), "{revoked}");
    let mut answer = api.get_with_key(search, &quota).await;
    for _ in 0..50 {
        if answer.status == 403 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        answer = api.get_with_key(search, &quota).await;
    }
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (403, Some("revoked_api_key")),
        "{}",
        answer.body
    );
    assert!(execute(&db, KeysCommand::Revoke { key: "nobody".to_owned() }).await.is_err());
    let duplicate = CreateArgs {
        name: "slow".to_owned(),
        rate: Rate::parse("1/s").expect("rate"),
        burst: None,
        daily: None,
        admin: false,
        secret_env: None,
    };
    let taken = execute(&db, KeysCommand::Create(duplicate)).await.unwrap_err().to_string();
    assert!(taken.contains("already exists"), "{taken}");

    // Admin endpoints need the admin scope.
    let reader = create_key(&db, "reader", "100/s", None, false).await;
    let body = json!({"translations": {"ja": {"header": "運休"}}, "informed": [{"station_id": "fukuoka:8"}]});
    let forbidden = api
        .send(
            api.client
                .post(format!("{}/v1/admin/alerts", api.base))
                .header("x-api-key", &reader)
                .json(&body),
        )
        .await;
    assert_eq!(
        (forbidden.status, forbidden.body["code"].as_str()),
        (403, Some("insufficient_scope")),
        "{}",
        forbidden.body
    );
    check_documented(&document, "post", "/v1/admin/alerts", &forbidden);

    api.stop().await;
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rates_and_quotas_on_sqlite() {
    let directory = tempfile::tempdir().expect("temp dir");
    keys_rates_and_quotas(sqlite_url(&directory)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rates_and_quotas_on_postgres() {
    let database = PgDatabase::create().await;
    keys_rates_and_quotas(database.url()).await;
    database.drop().await;
}

/// A secret made outside the api (compose's one-shot, Secrets Manager in ECS) registered with
/// `keys create --secret-env`: the api accepts it, registering it again changes nothing, and
/// a malformed or revoked secret is refused with a message saying why.
async fn supplied_secrets(database_url: String) {
    let db = open(&database_url).await;
    let api = Api::start(api_config(&engines(), database_url, false)).await;
    let search = "/v1/stations?q=tenjin";
    let new = NewKey {
        name: "app".to_owned(),
        rate: Rate::parse("100/s").expect("rate"),
        burst: None,
        daily_quota: None,
        admin: false,
    };
    let secret = "nk_0123456789abcdefghijklmnopqrstuvwxyz-_ABCDEFG";
    let Registered::Created(created) = register_key(&db, &new, secret).await.expect("registered")
    else {
        panic!("a new secret creates a key");
    };
    assert_eq!(created.name, "app");
    assert_eq!(created.prefix, "nk_01234567");
    assert_eq!(api.get_with_key(search, secret).await.status, 200);
    // Again (every `docker compose up`, every registration task run): nothing changes.
    let again = NewKey { name: "app-again".to_owned(), ..new.clone() };
    let Registered::AlreadyRegistered(existing) =
        register_key(&db, &again, secret).await.expect("idempotent")
    else {
        panic!("a registered secret is not created twice");
    };
    assert_eq!(existing.id, created.id);
    assert_eq!(list_keys(&db).await.expect("keys").len(), 1);
    // Another secret under a taken name.
    let other = "nk_ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210";
    let taken = register_key(&db, &new, other).await.unwrap_err().to_string();
    assert!(taken.contains("already exists"), "{taken}");
    for malformed in [
        "0123456789abcdefghijklmnopqrstuvwxyz",
        "nk_short",
        "nk_0123456789abcdefghijklmnopqrstuvwxyz!",
        "nk_ 123456789abcdefghijklmnopqrstuvwxyz",
    ] {
        let refused = register_key(&db, &again, malformed).await.unwrap_err().to_string();
        assert!(refused.contains("at least 32 URL-safe characters"), "{malformed}: {refused}");
        assert!(!refused.contains(malformed), "the secret is not echoed: {refused}");
    }
    execute(&db, KeysCommand::Revoke { key: "app".to_owned() }).await.expect("revoked");
    let revoked = register_key(&db, &again, secret).await.unwrap_err().to_string();
    assert!(revoked.contains("revoked key `app`"), "{revoked}");
    api.stop().await;
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supplied_secrets_on_sqlite() {
    let directory = tempfile::tempdir().expect("temp dir");
    supplied_secrets(sqlite_url(&directory)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supplied_secrets_on_postgres() {
    let database = PgDatabase::create().await;
    supplied_secrets(database.url()).await;
    database.drop().await;
}

fn transit_legs(journeys: &Value) -> Vec<&Value> {
    journeys["journeys"]
        .as_array()
        .expect("journeys")
        .iter()
        .flat_map(|journey| journey["legs"].as_array().expect("legs").iter())
        .filter(|leg| leg["type"] == "transit")
        .collect()
}

async fn alerts_on_journeys_and_boards(database_url: String) {
    let document = openapi();
    let db = open(&database_url).await;
    let api = Api::start(api_config(&engines(), database_url, true)).await;
    let admin = create_key(&db, "operator", "100/s", None, true).await;
    let post = |path: &str, body: Value| {
        api.client.post(format!("{}{path}", api.base)).header("x-api-key", &admin).json(&body)
    };

    let trip = "/v1/journeys?from=fukuoka:1&to=fukuoka:8&date=2019-06-05&time=08:00&lang=en";
    let before = api.get(trip).await;
    assert_eq!(before.status, 200, "{}", before.body);
    assert!(
        transit_legs(&before.body)
            .iter()
            .all(|leg| leg["alerts"].as_array().is_some_and(Vec::is_empty))
    );
    let route_id =
        transit_legs(&before.body)[0]["route"]["id"].as_str().expect("route id").to_owned();

    // Delays on that line on the morning of 2019-06-05, in Japanese and English.
    let created = api
        .send(post(
            "/v1/admin/alerts?lang=en",
            json!({
                "cause": "technical_problem",
                "effect": "significant_delays",
                "url": "https://subway.example/status",
                "translations": {
                    "ja": {"header": "空港線に遅れ", "description": "信号故障のため"},
                    "en": {"header": "Delays on the Airport Line", "description": "Signal failure"}
                },
                "active_periods": [{"start": "2019-06-05T07:00:00+09:00", "end": "2019-06-05T12:00:00+09:00"}],
                "informed": [{"route_id": route_id}]
            }),
        ))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    check_documented(&document, "post", "/v1/admin/alerts", &created);
    assert_eq!(created.body["header"], "Delays on the Airport Line");
    assert_eq!(created.body["active_periods"][0]["start"], "2019-06-04T22:00:00Z", "stored in UTC");
    let alert_id = created.body["id"].as_str().expect("id").to_owned();

    let during = api.get(trip).await;
    assert_eq!(during.status, 200);
    check_documented(&document, "get", "/v1/journeys", &during);
    let legs = transit_legs(&during.body);
    let on_route: Vec<&&Value> =
        legs.iter().filter(|leg| leg["route"]["id"] == route_id.as_str()).collect();
    assert!(!on_route.is_empty());
    for leg in &on_route {
        assert_eq!(leg["alerts"][0]["id"], alert_id.as_str(), "{leg}");
        assert_eq!(leg["alerts"][0]["header"], "Delays on the Airport Line");
    }
    assert_eq!(during.body["alerts"].as_array().map(Vec::len), Some(1), "the banner lists it once");
    let japanese = api
        .get("/v1/journeys?from=fukuoka:1&to=fukuoka:8&date=2019-06-05&time=08:00&lang=ja")
        .await;
    assert_eq!(japanese.body["alerts"][0]["header"], "空港線に遅れ");
    assert_eq!(japanese.body["alerts"][0]["translations"]["en"]["description"], "Signal failure");
    // The next day is outside the active period.
    let next_day =
        api.get("/v1/journeys?from=fukuoka:1&to=fukuoka:8&date=2019-06-06&time=08:00").await;
    assert!(
        next_day.body["alerts"].as_array().is_some_and(Vec::is_empty),
        "{}",
        next_day.body["alerts"]
    );

    // The departure board of Tenjin: the line's groups and the board carry it.
    let board = api.get("/v1/stations/fukuoka:8/departures?date=2019-06-05&time=08:00").await;
    assert_eq!(board.status, 200, "{}", board.body);
    check_documented(&document, "get", "/v1/stations/{id}/departures", &board);
    let groups = board.body["groups"].as_array().expect("groups");
    for group in groups {
        let has_alert = group["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .any(|alert| alert["id"] == alert_id.as_str());
        assert_eq!(has_alert, group["route"]["id"] == route_id.as_str(), "{group}");
    }
    assert!(
        board.body["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .any(|alert| alert["id"] == alert_id.as_str())
    );

    // A station alert without periods is active now: it is in /v1/alerts; the 2019 one is not.
    let station_alert = api
        .send(post(
            "/v1/admin/alerts",
            json!({"effect": "accessibility_issue", "translations": {"ja": {"header": "エレベーター停止"}}, "informed": [{"station_id": "okaden:18_10"}]}),
        ))
        .await;
    assert_eq!(station_alert.status, 201, "{}", station_alert.body);
    let active = api.get("/v1/alerts?lang=en").await;
    check_documented(&document, "get", "/v1/alerts", &active);
    let active_ids: Vec<&str> = active.body["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter_map(|alert| alert["id"].as_str())
        .collect();
    assert_eq!(active_ids, vec![station_alert.body["id"].as_str().expect("id")]);
    assert_eq!(
        active.body["alerts"][0]["header"], "エレベーター停止",
        "Japanese when English is missing"
    );

    // Updates: a bad one changes nothing, a good one replaces the text.
    let patch = |body: Value| {
        api.client
            .patch(format!("{}/v1/admin/alerts/{alert_id}", api.base))
            .header("x-api-key", &admin)
            .json(&body)
    };
    let invalid = api.send(patch(json!({"informed": []}))).await;
    assert_eq!(
        (invalid.status, invalid.body["field"].as_str()),
        (400, Some("informed")),
        "{}",
        invalid.body
    );
    check_documented(&document, "patch", "/v1/admin/alerts/{id}", &invalid);
    let updated = api
        .send(patch(json!({"translations": {"ja": {"header": "空港線は平常運転に戻りつつあります"}}, "effect": "reduced_service"})))
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    check_documented(&document, "patch", "/v1/admin/alerts/{id}", &updated);
    assert_eq!(updated.body["effect"], "reduced_service");
    assert_eq!(
        updated.body["informed"][0]["route_id"],
        route_id.as_str(),
        "untouched members stay"
    );
    assert!(updated.body["translations"]["en"].is_null(), "translations are replaced whole");
    let after_update = api
        .get("/v1/journeys?from=fukuoka:1&to=fukuoka:8&date=2019-06-05&time=08:00&lang=ja")
        .await;
    assert_eq!(after_update.body["alerts"][0]["header"], "空港線は平常運転に戻りつつあります");

    // Bad bodies and unknown ids.
    let garbled =
        api.send(post("/v1/admin/alerts", json!({"translations": "yes", "informed": []}))).await;
    assert_eq!(
        (garbled.status, garbled.body["code"].as_str(), garbled.body["field"].as_str()),
        (400, Some("invalid_body"), Some("translations"))
    );
    let both = api
        .send(post("/v1/admin/alerts", json!({"translations": {"ja": {"header": "x"}}, "informed": [{"station_id": "fukuoka:8", "route_id": "fukuoka:1"}]})))
        .await;
    assert_eq!((both.status, both.body["field"].as_str()), (400, Some("informed[0]")));
    let bad_cause = api.send(post("/v1/admin/alerts", json!({"cause": "gremlins", "translations": {"ja": {"header": "x"}}, "informed": [{"station_id": "fukuoka:8"}]}))).await;
    assert_eq!((bad_cause.status, bad_cause.body["field"].as_str()), (400, Some("cause")));
    let not_json = api
        .send(
            api.client
                .post(format!("{}/v1/admin/alerts", api.base))
                .header("x-api-key", &admin)
                .body("{"),
        )
        .await;
    assert_eq!((not_json.status, not_json.body["code"].as_str()), (400, Some("invalid_body")));
    let unknown = api
        .send(
            api.client
                .post(format!("{}/v1/admin/alerts/nope/end", api.base))
                .header("x-api-key", &admin),
        )
        .await;
    assert_eq!((unknown.status, unknown.body["code"].as_str()), (404, Some("unknown_alert")));
    check_documented(&document, "post", "/v1/admin/alerts/{id}/end", &unknown);
    let anonymous_admin =
        api.send(api.client.post(format!("{}/v1/admin/alerts", api.base)).json(&json!({}))).await;
    assert_eq!(anonymous_admin.status, 401, "admin endpoints need a key even in open access");

    // Ended: gone from journeys and boards, listed with its end in active=false.
    let ended = api
        .send(
            api.client
                .post(format!("{}/v1/admin/alerts/{alert_id}/end", api.base))
                .header("x-api-key", &admin),
        )
        .await;
    assert_eq!(ended.status, 200, "{}", ended.body);
    check_documented(&document, "post", "/v1/admin/alerts/{id}/end", &ended);
    assert!(ended.body["ended_at"].is_string());
    let after_end = api.get(trip).await;
    assert!(
        after_end.body["alerts"].as_array().is_some_and(Vec::is_empty),
        "{}",
        after_end.body["alerts"]
    );
    let all = api.get("/v1/alerts?active=false").await;
    check_documented(&document, "get", "/v1/alerts", &all);
    let listed = all.body["alerts"].as_array().expect("alerts");
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .any(|alert| alert["id"] == alert_id.as_str() && alert["ended_at"].is_string())
    );

    api.stop().await;
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_on_journeys_and_boards_on_sqlite() {
    let directory = tempfile::tempdir().expect("temp dir");
    alerts_on_journeys_and_boards(sqlite_url(&directory)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_on_journeys_and_boards_on_postgres() {
    let database = PgDatabase::create().await;
    alerts_on_journeys_and_boards(database.url()).await;
    database.drop().await;
}
