//! Per-client limits and shared quotas: anonymous requests and unknown keys limited per
//! client address (behind the balancer's `X-Forwarded-For`), key guessing without database
//! queries, and one key's daily quota held by two api instances on one database.

mod common;

use std::time::Duration;

use common::{Api, PgDatabase, Proxy, api_config, check_documented, engines, openapi, sqlite_url};
use norikae_api::DatabaseSettings;
use norikae_api::keys::{NewKey, Rate, create_key};
use norikae_api::store::Db;
use norikae_runtime::ClientRate;

const SEARCH: &str = "/v1/stations?q=tenjin";

async fn open(url: &str) -> Db {
    let db = Db::open(&DatabaseSettings { url: url.to_owned(), ..Default::default() })
        .expect("database");
    db.migrate().await.expect("migrations");
    db
}

async fn new_key(db: &Db, name: &str, daily_quota: Option<u64>) -> String {
    let new = NewKey {
        name: name.to_owned(),
        rate: Rate::parse("1000/s").expect("rate"),
        burst: None,
        daily_quota,
        admin: false,
    };
    create_key(db, &new).await.expect("key created").1
}

/// A request from `client`, as the balancer forwards it (the api's peer is the balancer).
fn from(api: &Api, client: &str, key: Option<&str>) -> reqwest::RequestBuilder {
    let request = api.client.get(format!("{}{SEARCH}", api.base)).header("x-forwarded-for", client);
    match key {
        Some(key) => request.header("x-api-key", key),
        None => request,
    }
}

#[tokio::test]
async fn anonymous_requests_are_limited_per_client_address() {
    let directory = tempfile::tempdir().expect("temp dir");
    let mut config = api_config(&engines(), sqlite_url(&directory), true);
    config.auth.anonymous_limit = ClientRate { requests: 1, per_secs: 60, burst: 2 };
    let api = Api::start(config).await;
    let document = openapi();

    // The left-most entry is the client's own claim: changing it changes nothing.
    for forged in ["1.1.1.1", "2.2.2.2"] {
        let answer = api.send(from(&api, &format!("{forged}, 198.51.100.7"), None)).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let limited = api.send(from(&api, "3.3.3.3, 198.51.100.7", None)).await;
    assert_eq!(
        (limited.status, limited.body["code"].as_str()),
        (429, Some("rate_limited")),
        "{}",
        limited.body
    );
    assert!(limited.header("content-type").is_some_and(|value| value.contains("problem+json")));
    let retry_after: u64 =
        limited.header("retry-after").expect("Retry-After").parse().expect("seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    check_documented(&document, "get", "/v1/stations", &limited);

    // Another client is not affected.
    let other = api.send(from(&api, "198.51.100.8", None)).await;
    assert_eq!(other.status, 200, "{}", other.body);
    api.stop().await;
}

/// Unknown keys cost a database query once: the same guess later (after key refreshes) is
/// answered from memory, and a client past its unknown-key budget gets 429 without a lookup.
/// The database is cut to show no query is made: one would answer 503.
#[tokio::test]
async fn guessing_keys_costs_no_database_query_after_the_first_few() {
    let database = PgDatabase::create().await;
    let proxy = Proxy::start("127.0.0.1:5432").await;
    let db = open(&database.url()).await;
    let known = new_key(&db, "known", None).await;
    let mut config = api_config(&engines(), database.url_via(proxy.port), false);
    config.auth.unknown_key_limit = ClientRate { requests: 1, per_secs: 600, burst: 3 };
    let api = Api::start(config).await;

    let guess = "nk_guessed_once";
    let first = api.send(from(&api, "198.51.100.1", Some(guess))).await;
    assert_eq!((first.status, first.body["code"].as_str()), (401, Some("invalid_api_key")));
    // Several key refreshes (every 200 ms) pass before the database goes away (real time:
    // each refresh is a query to PostgreSQL over a socket, which paused time would outrun).
    tokio::time::sleep(Duration::from_millis(700)).await;
    proxy.cut();

    // A second client with a fresh budget: the known guess needs no query, a new one would.
    let client = "198.51.100.2";
    let again = api.send(from(&api, client, Some(guess))).await;
    assert_eq!(
        (again.status, again.body["code"].as_str()),
        (401, Some("invalid_api_key")),
        "the negative cache survives refreshes: {}",
        again.body
    );
    let new_guess = api.send(from(&api, client, Some("nk_new_guess"))).await;
    assert_eq!(new_guess.status, 503, "a new guess does reach the database: {}", new_guess.body);
    let third = api.send(from(&api, client, Some(guess))).await;
    assert_eq!(third.status, 401, "{}", third.body);
    // The budget (3) is spent: more guesses are refused before any lookup.
    for attempt in 0..5 {
        let refused = api.send(from(&api, client, Some(&format!("nk_more_{attempt}")))).await;
        assert_eq!(
            (refused.status, refused.body["code"].as_str()),
            (429, Some("too_many_unknown_keys")),
            "{}",
            refused.body
        );
        assert!(refused.header("retry-after").is_some());
    }
    // Malformed keys are failed checks too.
    let malformed = api.send(from(&api, client, Some("hunter2"))).await;
    assert_eq!(malformed.status, 429, "{}", malformed.body);
    // Known keys from the same address are not affected, database or not.
    let served = api.send(from(&api, client, Some(&known))).await;
    assert_eq!(served.status, 200, "{}", served.body);

    proxy.restore();
    api.stop().await;
    db.close().await;
    database.drop().await;
}

/// Two instances on one database, keys re-read only once a minute (so only the usage flush
/// tells an instance what the other counted): together they admit the daily quota and at
/// most one flush batch more.
async fn one_quota_over_two_instances(database_url: String) {
    let db = open(&database_url).await;
    const QUOTA: u64 = 10;
    let key = new_key(&db, "shared", Some(QUOTA)).await;
    let mut config = api_config(&engines(), database_url, false);
    config.auth.key_refresh_ms = 60_000;
    config.auth.usage_flush_ms = 50;
    let first = Api::start(config.clone()).await;
    let second = Api::start(config).await;

    let mut admitted = 0;
    let mut refused = 0;
    for round in 0..2 * QUOTA + 6 {
        let api = if round % 2 == 0 { &first } else { &second };
        let answer = api.get_with_key(SEARCH, &key).await;
        match answer.status {
            200 => admitted += 1,
            429 => {
                assert_eq!(answer.body["code"].as_str(), Some("quota_exceeded"), "{}", answer.body);
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", answer.body),
        }
        // Each instance flushes between two of its requests: one batch is one request each
        // (real time: a flush is a PostgreSQL write over a socket, which paused time outruns).
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    first.stop().await;
    second.stop().await;
    let today = chrono::Utc::now().date_naive();
    let usage = norikae_api::store::usage::on_day(&db, today).await.expect("usage");
    let stored: u64 = usage.values().sum();
    assert_eq!(stored, admitted, "every admitted request counted once");
    assert!(
        (QUOTA..=QUOTA + 2).contains(&admitted),
        "{admitted} requests admitted for a quota of {QUOTA} ({refused} refused)"
    );
    db.close().await;
}

#[tokio::test]
async fn one_quota_over_two_instances_on_postgres() {
    let database = PgDatabase::create().await;
    one_quota_over_two_instances(database.url()).await;
    database.drop().await;
}

#[tokio::test]
async fn one_quota_over_two_instances_on_sqlite() {
    let directory = tempfile::tempdir().expect("temp dir");
    one_quota_over_two_instances(sqlite_url(&directory)).await;
}
