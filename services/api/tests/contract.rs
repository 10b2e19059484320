//! The api's contract with client code generators and browsers: the OpenAPI document holds
//! every operation to constraints, examples and declared headers (walked from the served
//! `/v1/openapi.json`, so endpoints added later are held to it too); every problem `code` the
//! services make is listed; CORS, compression, `RateLimit` headers, the self-contained docs
//! page, language subtags, and arrive-by pages through `/v1`.

mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use common::{Api, Engines, api_config, check_documented, engines, openapi, sqlite_url};
use norikae_api::DatabaseSettings;
use norikae_api::config::OriginList;
use norikae_api::keys::{NewKey, Rate, create_key};
use norikae_runtime::ClientRate;
use serde_json::Value;

/// Engines nobody listens on: for tests that need none.
fn no_engines() -> Engines {
    Engines {
        search_url: "http://127.0.0.1:9".to_owned(),
        route_url: "http://127.0.0.1:9".to_owned(),
    }
}

/// `$ref`s resolved against the document (one level at a time, as often as needed).
fn resolve<'a>(document: &'a Value, mut value: &'a Value) -> &'a Value {
    while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
        let pointer = reference.trim_start_matches('#');
        value = document.pointer(pointer).unwrap_or(&Value::Null);
    }
    value
}

/// Whether a parameter's schema says what values the handler takes.
fn constrained(schema: &Value) -> Result<(), String> {
    let types: Vec<&str> = match &schema["type"] {
        Value::String(kind) => vec![kind.as_str()],
        Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if schema.get("enum").is_some() {
        return Ok(());
    }
    if types.contains(&"boolean") {
        return Ok(());
    }
    if types.contains(&"integer") || types.contains(&"number") {
        let low = schema.get("minimum").or_else(|| schema.get("exclusiveMinimum"));
        let high = schema.get("maximum").or_else(|| schema.get("exclusiveMaximum"));
        return match (low, high) {
            (Some(_), Some(_)) => Ok(()),
            _ => Err(format!("a number without minimum and maximum: {schema}")),
        };
    }
    if types.contains(&"string") {
        return if schema.get("pattern").is_some() {
            Ok(())
        } else {
            Err(format!("a string without pattern or enum: {schema}"))
        };
    }
    Err(format!("no type: {schema}"))
}

/// Every way the document can fall short, one line each, naming the operation and the
/// parameter, response or header.
fn contract_breaches(document: &Value) -> Vec<String> {
    let mut breaches = Vec::new();
    let paths = document["paths"].as_object().expect("paths");
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            if !["get", "post", "patch", "put", "delete"].contains(&method.as_str()) {
                continue;
            }
            let name = format!("{} {path}", method.to_uppercase());
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let parameter = resolve(document, parameter);
                let parameter_name = parameter["name"].as_str().unwrap_or("?");
                let schema = resolve(document, &parameter["schema"]);
                if let Err(why) = constrained(schema) {
                    breaches.push(format!("{name}: parameter `{parameter_name}`: {why}"));
                }
            }
            let responses = operation["responses"].as_object().expect("responses");
            // An operation that answers 304 validates with an ETag its answers must declare.
            let conditional = responses.contains_key("304");
            let mut has_success_example = false;
            for (status, response) in responses {
                let response = resolve(document, response);
                let headers = response["headers"].as_object();
                let declared = |header: &str| {
                    headers.is_some_and(|headers| {
                        headers.keys().any(|key| key.eq_ignore_ascii_case(header))
                    })
                };
                let mut required = vec!["X-Request-Id"];
                if status.starts_with('2') || status == "304" || status == "429" {
                    required.extend(["RateLimit", "RateLimit-Policy"]);
                }
                if status == "429" || status == "503" {
                    required.push("Retry-After");
                }
                if conditional && (status.starts_with('2') || status == "304") {
                    required.push("ETag");
                }
                for header in required {
                    if !declared(header) {
                        breaches.push(format!("{name} {status}: header {header} not declared"));
                    }
                }
                if !status.starts_with('2') {
                    continue;
                }
                let Some(content) = response["content"].as_object() else {
                    has_success_example = true; // 204 and the like: nothing to show
                    continue;
                };
                for (media, body) in content {
                    let Some(example) = body.get("example") else { continue };
                    has_success_example = true;
                    let schema = serde_json::json!({
                        "$schema": "https://json-schema.org/draft/2020-12/schema",
                        "components": document["components"],
                        "allOf": [body["schema"]],
                    });
                    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
                    for error in validator.iter_errors(example) {
                        breaches.push(format!(
                            "{name} {status} {media}: the example does not match the schema: \
                             {error} at {}",
                            error.instance_path()
                        ));
                    }
                }
            }
            if !has_success_example {
                breaches.push(format!("{name}: no example of its success response"));
            }
        }
    }
    breaches
}

#[tokio::test]
async fn the_served_document_holds_every_operation_to_the_contract() {
    let directory = tempfile::tempdir().expect("temp dir");
    let api = Api::start(api_config(&no_engines(), sqlite_url(&directory), true)).await;
    let served = api.get("/v1/openapi.json").await;
    assert_eq!(served.status, 200);
    let document = served.body;
    let breaches = contract_breaches(&document);
    assert!(breaches.is_empty(), "the OpenAPI document falls short:\n{}", breaches.join("\n"));

    // The walk does find what is missing.
    let mut broken = document.clone();
    let journeys = broken["paths"]["/v1/journeys"]["get"].as_object_mut().expect("journeys");
    let window = journeys["parameters"]
        .as_array_mut()
        .expect("parameters")
        .iter_mut()
        .find(|parameter| parameter["name"] == "window")
        .expect("window");
    window["schema"].as_object_mut().expect("schema").remove("maximum");
    let ok = journeys["responses"]["200"].as_object_mut().expect("200");
    ok["content"]["application/json"].as_object_mut().expect("json").remove("example");
    ok["headers"].as_object_mut().expect("headers").remove("RateLimit");
    let (cached, _) = document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .find(|(_, item)| item["get"]["responses"].get("304").is_some())
        .expect("an operation answering 304");
    let cached = cached.clone();
    broken["paths"][&cached]["get"]["responses"]["200"]["headers"]
        .as_object_mut()
        .expect("headers")
        .retain(|name, _| !name.eq_ignore_ascii_case("ETag"));
    let found = contract_breaches(&broken);
    let etag = format!("GET {cached} 200: header ETag not declared");
    for expected in [
        "GET /v1/journeys: parameter `window`: a number without minimum and maximum",
        "GET /v1/journeys: no example of its success response",
        "GET /v1/journeys 200: header RateLimit not declared",
        etag.as_str(),
    ] {
        assert!(found.iter().any(|breach| breach.starts_with(expected)), "{expected}: {found:#?}");
    }
    api.stop().await;
}

/// String literals given as a problem's code in the sources under `directory`: the first
/// argument of `Problem::bad_request` / `not_found` / `unavailable`, the second of
/// `Problem::new`, and the arms of the engines' `fn code`.
fn codes_made_in(directory: &Path, codes: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(directory).expect("source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            codes_made_in(&path, codes);
            continue;
        }
        if path.extension().is_none_or(|extension| extension != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("source file");
        // Test modules build problems of their own to check the mapping; skip them.
        let source = source.split("#[cfg(test)]").next().unwrap_or_default();
        let literal_after = |text: &str| -> Option<String> {
            let text = text.trim_start();
            let rest = text.strip_prefix('"')?;
            let code = &rest[..rest.find('"')?];
            code.chars().all(|c| c.is_ascii_lowercase() || c == '_').then(|| code.to_owned())
        };
        for constructor in ["Problem::bad_request(", "Problem::not_found(", "Problem::unavailable("]
        {
            for (at, _) in source.match_indices(constructor) {
                codes.extend(literal_after(&source[at + constructor.len()..]));
            }
        }
        for (at, _) in source.match_indices("Problem::new(") {
            let arguments = &source[at + "Problem::new(".len()..];
            if let Some(comma) = arguments.find(',') {
                codes.extend(literal_after(&arguments[comma + 1..]));
            }
        }
        if let Some(body) = source.split("pub fn code(&self)").nth(1) {
            let body = &body[..body.find("\n    }").unwrap_or(body.len())];
            for arm in body.split("=>").skip(1) {
                codes.extend(literal_after(arm));
            }
        }
    }
}

#[test]
fn every_problem_code_the_services_make_is_listed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut made = BTreeSet::new();
    for directory in
        ["services/api/src", "services/route/src", "services/search/src", "shared/runtime/src"]
    {
        codes_made_in(&root.join(directory), &mut made);
    }
    for expected in ["invalid_parameter", "unknown_station", "rate_limited", "invalid_cursor"] {
        assert!(made.contains(expected), "the scan finds {expected}: {made:?}");
    }
    // Engine codes the api never passes on (5xx become upstream_*).
    // The route service's realtime push (`POST /realtime/{feed}`) is not behind the api.
    let internal_only = [
        "search_index",
        "snapshot_unreadable",
        "index_loading",
        "not_ready",
        "query_timeout",
        "push_disabled",
        "unauthorized",
    ];
    let listed: BTreeSet<&str> = norikae_wire::PROBLEM_CODES.iter().copied().collect();
    let missing: Vec<&String> = made
        .iter()
        .filter(|code| !listed.contains(code.as_str()) && !internal_only.contains(&code.as_str()))
        .collect();
    assert!(missing.is_empty(), "codes made but not in norikae_wire::PROBLEM_CODES: {missing:?}");
    let document = openapi();
    let listed_in_document =
        &document["components"]["schemas"]["Problem"]["properties"]["code"]["enum"];
    assert_eq!(
        listed_in_document.as_array().map(Vec::len),
        Some(norikae_wire::PROBLEM_CODES.len()),
        "{listed_in_document}"
    );
}

#[tokio::test]
async fn cors_answers_preflights_without_a_key_and_exposes_the_headers() {
    let directory = tempfile::tempdir().expect("temp dir");
    // Keys required: a preflight must still pass.
    let mut config = api_config(&no_engines(), sqlite_url(&directory), false);
    config.cors.allowed_origins = OriginList(vec!["https://app.example".to_owned()]);
    let api = Api::start(config).await;
    let preflight = |origin: &'static str| {
        api.client
            .request(reqwest::Method::OPTIONS, format!("{}/v1/journeys", api.base))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "x-api-key")
    };
    let allowed = api.send(preflight("https://app.example")).await;
    assert!(allowed.status < 300, "preflight answered: {} {}", allowed.status, allowed.body);
    assert_eq!(allowed.header("access-control-allow-origin"), Some("https://app.example"));
    let methods = allowed.header("access-control-allow-methods").unwrap_or_default().to_owned();
    assert!(methods.contains("GET"), "{methods}");
    let headers = allowed.header("access-control-allow-headers").unwrap_or_default();
    assert!(headers.contains("x-api-key"), "{headers}");
    assert!(allowed.header("access-control-max-age").is_some());
    let other = api.send(preflight("https://elsewhere.example")).await;
    assert_eq!(other.header("access-control-allow-origin"), None, "not an allowed origin");

    // An actual request: refused for want of a key, readable by the page all the same.
    let refused = api
        .send(
            api.client
                .get(format!("{}/v1/status", api.base))
                .header("origin", "https://app.example"),
        )
        .await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.header("access-control-allow-origin"), Some("https://app.example"));
    let exposed =
        refused.header("access-control-expose-headers").unwrap_or_default().to_lowercase();
    for header in ["etag", "retry-after", "x-request-id", "ratelimit", "ratelimit-policy"] {
        assert!(exposed.split(',').any(|item| item.trim() == header), "{header}: {exposed}");
    }
    api.stop().await;

    // The default: no other origin.
    let directory = tempfile::tempdir().expect("temp dir");
    let api = Api::start(api_config(&no_engines(), sqlite_url(&directory), true)).await;
    let closed = api.send(preflight_on(&api)).await;
    assert_eq!(closed.header("access-control-allow-origin"), None);
    api.stop().await;
}

fn preflight_on(api: &Api) -> reqwest::RequestBuilder {
    api.client
        .request(reqwest::Method::OPTIONS, format!("{}/v1/status", api.base))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "GET")
}

#[tokio::test]
async fn the_docs_page_loads_nothing_from_elsewhere() {
    let directory = tempfile::tempdir().expect("temp dir");
    let api = Api::start(api_config(&no_engines(), sqlite_url(&directory), false)).await;
    let page = api.client.get(format!("{}/v1/docs", api.base)).send().await.expect("docs");
    assert_eq!(page.status(), 200);
    let policy = page
        .headers()
        .get("content-security-policy")
        .and_then(|value| value.to_str().ok())
        .expect("a Content-Security-Policy")
        .to_owned();
    assert!(policy.contains("default-src 'none'") && policy.contains("script-src 'self'"));
    assert!(!policy.contains("http") && !policy.contains('*'), "no other origin: {policy}");
    let html = page.text().await.expect("page");
    for external in ["http://", "https://", "\"//", "'//"] {
        assert!(!html.contains(external), "{external} in the page: {html}");
    }
    let script_path = html
        .split("<script src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a script")
        .to_owned();
    assert!(script_path.starts_with("/v1/docs/"), "{script_path}");
    let script = api.client.get(format!("{}{script_path}", api.base)).send().await.expect("script");
    assert_eq!(script.status(), 200);
    let headers = script.headers().clone();
    assert!(headers["content-type"].to_str().unwrap_or_default().contains("javascript"));
    assert!(headers["cache-control"].to_str().unwrap_or_default().contains("max-age=31536000"));
    let body = script.bytes().await.expect("script body");
    let vendored =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/redoc.standalone.js"))
            .expect("vendored script");
    assert_eq!(body.len(), vendored.len(), "the vendored script, whole");
    api.stop().await;
}

fn header_value<'a>(answer: &'a common::Answer, name: &str) -> &'a str {
    answer.header(name).unwrap_or_else(|| panic!("{name} missing: {:?}", answer.headers))
}

#[tokio::test]
async fn ratelimit_headers_report_buckets_and_quotas() {
    let document = openapi();
    let directory = tempfile::tempdir().expect("temp dir");
    let mut config = api_config(&engines(), sqlite_url(&directory), true);
    config.auth.anonymous_limit = ClientRate { requests: 1, per_secs: 60, burst: 2 };
    let database_url = config.database.url.clone();
    let api = Api::start(config).await;

    let first = api.get("/v1/alerts").await;
    assert_eq!(first.status, 200, "{}", first.body);
    check_documented(&document, "get", "/v1/alerts", &first);
    assert_eq!(header_value(&first, "ratelimit-policy"), "\"anonymous\";q=2;w=120");
    assert_eq!(header_value(&first, "ratelimit"), "\"anonymous\";r=1;t=60");
    let second = api.get("/v1/alerts").await;
    assert_eq!(header_value(&second, "ratelimit"), "\"anonymous\";r=0;t=120");
    let refused = api.get("/v1/alerts").await;
    assert_eq!(refused.status, 429);
    check_documented(&document, "get", "/v1/alerts", &refused);
    assert!(header_value(&refused, "ratelimit").starts_with("\"anonymous\";r=0;"));
    let retry_after: u64 = header_value(&refused, "retry-after").parse().expect("seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");

    // A key: its bucket and its daily quota.
    let db =
        norikae_api::store::Db::open(&DatabaseSettings { url: database_url, ..Default::default() })
            .expect("database");
    db.migrate().await.expect("migrations");
    let new = NewKey {
        name: "ratelimited".to_owned(),
        rate: Rate::parse("10/s").expect("rate"),
        burst: Some(5),
        daily_quota: Some(3),
        admin: false,
    };
    let secret = create_key(&db, &new).await.expect("key").1;
    for left in [2, 1, 0] {
        let answer = api.get_with_key("/v1/alerts", &secret).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(
            header_value(&answer, "ratelimit-policy"),
            "\"key\";q=5;w=1, \"daily\";q=3;w=86400"
        );
        let current = header_value(&answer, "ratelimit");
        assert!(current.starts_with("\"key\";r="), "{current}");
        assert!(current.contains(&format!("\"daily\";r={left};t=")), "{current}");
    }
    let over = api.get_with_key("/v1/alerts", &secret).await;
    assert_eq!((over.status, over.body["code"].as_str()), (429, Some("quota_exceeded")));
    check_documented(&document, "get", "/v1/alerts", &over);
    assert!(header_value(&over, "ratelimit").contains("\"daily\";r=0;t="));
    assert!(over.header("retry-after").is_some());
    db.close().await;
    api.stop().await;
}

fn decoded(encoding: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        "gzip" => {
            flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).expect("gzip");
        }
        "br" => {
            brotli::Decompressor::new(bytes, 4096).read_to_end(&mut out).expect("brotli");
        }
        _ => out.extend_from_slice(bytes),
    }
    out
}

/// Journey answers on the bundled feeds, as sent (identity, gzip, brotli): the figures of the
/// api's closing report (`cargo test -p norikae-api --test contract -- --nocapture
/// journey_answers_compress`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_answers_compress() {
    let document = openapi();
    let directory = tempfile::tempdir().expect("temp dir");
    let api = Api::start(api_config(&engines(), sqlite_url(&directory), true)).await;
    let journeys = [
        ("Meinohama → Tenjin (Kuko line)", "from=fukuoka:1&to=fukuoka:8&date=2019-06-05"),
        ("Meinohama → Fukuokakuko (Kuko line)", "from=fukuoka:1&to=fukuoka:13&date=2019-06-05"),
        ("Meinohama → Tenjin-minami (a change)", "from=fukuoka:1&to=fukuoka:35&date=2019-06-05"),
        ("Hashimoto → Hakata (a change)", "from=fukuoka:20&to=fukuoka:11&date=2019-06-05"),
        ("Okayama-eki → Tenmaya (buses)", "from=okaden:18_1&to=okaden:27_1&date=2025-06-04"),
    ];
    // Not reqwest: it decompresses on its own when the workspace turns its gzip feature on.
    let raw = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    println!("journey answers on the bundled feeds (08:00, a 1 h page, lang=en; bytes sent):");
    println!(
        "{:<40} {:>9} {:>9} {:>9} {:>7} {:>7}",
        "query", "identity", "gzip", "br", "gzip %", "br %"
    );
    for (label, places) in journeys {
        let path = format!("/v1/journeys?{places}&time=08:00&lang=en");
        let mut sizes = Vec::new();
        let mut bodies = Vec::new();
        for encoding in ["identity", "gzip", "br"] {
            let request = http::Request::get(format!("{}{path}", api.base))
                .header("accept-encoding", encoding)
                .body(http_body_util::Empty::<bytes::Bytes>::new())
                .expect("request");
            let response = raw.request(request).await.expect("journeys");
            let status = response.status().as_u16();
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned)
            };
            let sent = header("content-encoding").unwrap_or_else(|| "identity".to_owned());
            let vary = header("vary").unwrap_or_default().to_lowercase();
            let bytes = http_body_util::BodyExt::collect(response.into_body())
                .await
                .expect("body")
                .to_bytes();
            assert_eq!(status, 200, "{label}: {}", String::from_utf8_lossy(&bytes));
            assert_eq!(sent, encoding, "{label}: answered in {sent}");
            if encoding != "identity" {
                assert!(vary.contains("accept-encoding"), "{label}: Vary {vary}");
            }
            sizes.push(bytes.len());
            bodies.push(decoded(encoding, &bytes));
        }
        let identity: Value = serde_json::from_slice(&bodies[0]).expect("json");
        for body in &bodies[1..] {
            assert_eq!(serde_json::from_slice::<Value>(body).expect("json"), identity, "{label}");
        }
        let mut headers = reqwest::header::HeaderMap::new();
        headers
            .insert("content-type", reqwest::header::HeaderValue::from_static("application/json"));
        let answer = common::Answer { status: 200, headers, body: identity };
        check_documented(&document, "get", "/v1/journeys", &answer);
        assert!(sizes[1] * 3 < sizes[0] && sizes[2] <= sizes[1], "{label}: {sizes:?}");
        let percent = |size: usize| 100.0 * size as f64 / sizes[0] as f64;
        println!(
            "{label:<40} {:>9} {:>9} {:>9} {:>6.1}% {:>6.1}%",
            sizes[0],
            sizes[1],
            sizes[2],
            percent(sizes[1]),
            percent(sizes[2])
        );
    }
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kana_readings_and_arrive_by_pages_through_v1() {
    let document = openapi();
    let directory = tempfile::tempdir().expect("temp dir");
    let api = Api::start(api_config(&engines(), sqlite_url(&directory), true)).await;

    // ja-Hrkt: the feeds' kana readings, by lang= and by Accept-Language.
    let station = api.get("/v1/stations/fukuoka:8?lang=ja-Hrkt").await;
    assert_eq!(station.status, 200, "{}", station.body);
    check_documented(&document, "get", "/v1/stations/{id}", &station);
    assert_eq!(station.body["name"], "てんじん");
    let board = api
        .send(
            api.client
                .get(format!(
                    "{}/v1/stations/fukuoka:8/departures?date=2019-06-05&time=08:00",
                    api.base
                ))
                .header("accept-language", "ja-Hrkt, ja;q=0.5"),
        )
        .await;
    assert_eq!(board.status, 200, "{}", board.body);
    assert_eq!(board.body["station_name"], "てんじん");
    // zh-Hant on a feed without Chinese names: the feed's own names, never an error.
    let chinese = api.get("/v1/stations/fukuoka:8?lang=zh-Hant").await;
    assert_eq!((chinese.status, &chinese.body["name"]), (200, &Value::from("天神")));

    // Arrive-by pages: later, then earlier, is the first page again.
    let first = api
        .get("/v1/journeys?from=fukuoka:1&to=fukuoka:35&date=2019-06-05&time=09:00&arrive_by=true")
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    check_documented(&document, "get", "/v1/journeys", &first);
    let later = first.body["later"].as_str().expect("later cursor");
    let second =
        api.get(&format!("/v1/journeys?from=fukuoka:1&to=fukuoka:35&cursor={later}")).await;
    assert_eq!(second.status, 200, "{}", second.body);
    check_documented(&document, "get", "/v1/journeys", &second);
    assert_ne!(second.body["journeys"], first.body["journeys"]);
    let earlier = second.body["earlier"].as_str().expect("earlier cursor");
    let back =
        api.get(&format!("/v1/journeys?from=fukuoka:1&to=fukuoka:35&cursor={earlier}")).await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.body["journeys"], first.body["journeys"]);
    assert_eq!(back.body["window"], first.body["window"]);
    api.stop().await;
}
