//! The api's pool over TLS with the server's certificate checked (`sslmode=verify-full`), as
//! against RDS with `rds.force_ssl`: a PostgreSQL that accepts TLS connections only, with a
//! certificate for `localhost` from a CA of its own, named by NORIKAE_TEST_TLS_DATABASE_URL
//! (`.ci/run` starts one with `.ci/postgres-tls.sh` and always sets it). The test makes a
//! fresh database there, migrates it and queries it through [`Db`], and checks that the pool
//! refuses a server its root certificate does not vouch for, a host name the certificate
//! does not name, and a connection without TLS.

use norikae_api::DatabaseSettings;
use norikae_api::store::Db;

const URL_VARIABLE: &str = "NORIKAE_TEST_TLS_DATABASE_URL";

fn tls_database_url() -> Option<url::Url> {
    let Ok(value) = std::env::var(URL_VARIABLE) else {
        // Straight to stderr: the test harness would hide `eprintln!` of a passing test.
        let warning = format!(
            "\n!!! SKIPPED: {URL_VARIABLE} is not set, so the api's TLS connection to PostgreSQL \
             is NOT tested.\n!!! Run `bash .ci/postgres-tls.sh` (as root) and export \
             {URL_VARIABLE} with the URL it prints; .ci/run does.\n\n"
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr(), warning.as_bytes());
        return None;
    };
    Some(
        url::Url::parse(&value).unwrap_or_else(|error| panic!("{URL_VARIABLE}={value:?}: {error}")),
    )
}

/// `url` with its database, host or query parameters changed.
fn with_database(url: &url::Url, database: &str) -> url::Url {
    let mut changed = url.clone();
    changed.set_path(&format!("/{database}"));
    changed
}

fn with_host(url: &url::Url, host: &str) -> url::Url {
    let mut changed = url.clone();
    changed.set_host(Some(host)).expect("host");
    changed
}

fn with_parameter(url: &url::Url, name: &str, value: &str) -> url::Url {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| key != name)
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    let mut changed = url.clone();
    changed.query_pairs_mut().clear().extend_pairs(kept).append_pair(name, value);
    changed
}

/// The api's own pool on `url` (a short acquire timeout: failures are refusals, not waits).
fn pool(url: &url::Url) -> Db {
    Db::open(&DatabaseSettings {
        url: url.to_string(),
        acquire_timeout_ms: 5_000,
        ..DatabaseSettings::default()
    })
    .expect("the pool opens (lazily)")
}

/// A plain sqlx connection on `url` (same TLS parameters), for SQL the api's store does not
/// offer: creating the test database and reading the session's TLS state.
async fn raw(url: &url::Url) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url.as_str())
        .await
        .expect("a direct connection with the same TLS parameters")
}

async fn execute(pool: &sqlx::PgPool, sql: String) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(pool).await.expect("statement");
}

/// A root certificate of a CA that signed nothing on that server.
fn unrelated_ca(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.distinguished_name.push(rcgen::DnType::CommonName, "Some other CA");
    let path = dir.path().join("other-ca.pem");
    std::fs::write(&path, params.self_signed(&key).expect("certificate").pem()).expect("write");
    path
}

/// What a refused connection says, all causes included.
async fn refusal(url: &url::Url) -> String {
    match pool(url).migrate().await {
        Ok(()) => panic!("{url} was accepted"),
        Err(error) => {
            // The store's error and every cause below it.
            let mut text = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                text = format!("{text}: {cause}");
                source = cause.source();
            }
            text
        }
    }
}

#[tokio::test]
async fn the_api_pool_connects_with_verify_full_and_refuses_what_it_cannot_verify() {
    let Some(url) = tls_database_url() else { return };
    let verify_full =
        url.query_pairs().any(|(key, value)| key == "sslmode" && value == "verify-full");
    assert!(verify_full, "{URL_VARIABLE} must use sslmode=verify-full: {url}");

    // A fresh database, made over the same verified connection.
    let admin = raw(&url).await;
    let name = format!("norikae_tls_{}", uuid::Uuid::new_v4().simple());
    execute(&admin, format!("CREATE DATABASE {name}")).await;

    let database_url = with_database(&url, &name);
    let db = pool(&database_url);
    // The server takes TLS only (hostssl), so the api's pool got here encrypted and verified.
    db.migrate().await.expect("migrations over TLS with the certificate verified");
    db.close().await;
    let check = raw(&database_url).await;
    let (tls, tables): (bool, i64) = sqlx::query_as(
        "SELECT (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), \
                (SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public')",
    )
    .fetch_one(&check)
    .await
    .expect("a query on the migrated database");
    assert!(tls, "the connection is encrypted");
    assert!(tables > 1, "the migrations made the api's tables ({tables})");
    check.close().await;

    let dir = tempfile::tempdir().expect("temporary folder");
    let other_ca = unrelated_ca(&dir);
    let wrong_root = with_parameter(&url, "sslrootcert", &other_ca.display().to_string());
    let message = refusal(&wrong_root).await;
    assert!(message.to_lowercase().contains("certificate"), "wrong root certificate: {message}");

    // The certificate names `localhost` only.
    let message = refusal(&with_host(&url, "127.0.0.1")).await;
    assert!(message.to_lowercase().contains("certificate"), "host name not in it: {message}");

    // The server takes TLS only, like RDS with rds.force_ssl.
    let message = refusal(&with_parameter(&url, "sslmode", "disable")).await;
    assert!(message.contains("no encryption") || message.contains("pg_hba"), "{message}");

    execute(&admin, format!("DROP DATABASE {name} WITH (FORCE)")).await;
    admin.close().await;
}
