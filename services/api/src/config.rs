//! The api service's configuration: HTTP (the shared runtime's), the database, the engines
//! it calls, and access control. Loaded by `norikae_runtime::load_config("api")`, so every
//! key can be set as `NORIKAE_<SECTION>__<KEY>` (or `NORIKAE_API__<SECTION>__<KEY>`).
//! Unknown keys are ignored on purpose: `norikae serve` shares one environment between the
//! services (the app's `NORIKAE_UPSTREAM__API_URL` lands in this `upstream` section too).

use std::time::Duration;

use norikae_runtime::{ClientRate, HttpSettings};
use serde::{Deserialize, Serialize};

/// Port the api service listens on by default.
pub const DEFAULT_PORT: u16 = 8081;

/// The embedded database when nothing else is configured: a SQLite file, created (with its
/// folder) on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/norikae.db";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub upstream: UpstreamSettings,
    pub auth: AuthSettings,
    pub cors: CorsSettings,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            http: HttpSettings::for_port(DEFAULT_PORT),
            database: DatabaseSettings::default(),
            upstream: UpstreamSettings::default(),
            auth: AuthSettings::default(),
            cors: CorsSettings::default(),
        }
    }
}

/// Section `cors`: which web pages on other origins may call the api from a browser. Mobile
/// apps and servers (the web app calls the api from its server) need none of it, so the
/// default allows no other origin; a browser client on its own origin is added here.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CorsSettings {
    /// Origins (`https://app.example.com`, scheme, host and port only) allowed to read
    /// answers, or `*` for any. A list, or one comma-separated string (what
    /// `NORIKAE_CORS__ALLOWED_ORIGINS` gives). Empty: no cross-origin access.
    pub allowed_origins: OriginList,
    /// How long a browser may cache a preflight answer (`Access-Control-Max-Age`).
    pub max_age_secs: u64,
}

impl Default for CorsSettings {
    fn default() -> Self {
        Self { allowed_origins: OriginList::default(), max_age_secs: 600 }
    }
}

/// A list of origins, read from a list or from one comma-separated string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "OriginText", into = "Vec<String>")]
pub struct OriginList(pub Vec<String>);

#[derive(Deserialize)]
#[serde(untagged)]
enum OriginText {
    List(Vec<String>),
    Text(String),
}

impl From<OriginText> for OriginList {
    fn from(text: OriginText) -> Self {
        let origins = match text {
            OriginText::List(origins) => origins,
            OriginText::Text(text) => text.split(',').map(str::to_owned).collect(),
        };
        Self(
            origins
                .into_iter()
                .map(|origin| origin.trim().trim_end_matches('/').to_owned())
                .filter(|origin| !origin.is_empty())
                .collect(),
        )
    }
}

impl From<OriginList> for Vec<String> {
    fn from(list: OriginList) -> Self {
        list.0
    }
}

impl CorsSettings {
    /// `*` alone, or origins that are `http(s)://host[:port]` and nothing more.
    pub fn validate(&self) -> anyhow::Result<()> {
        let origins = &self.allowed_origins.0;
        if origins.iter().any(|origin| origin == "*") {
            anyhow::ensure!(
                origins.len() == 1,
                "cors.allowed_origins: `*` allows every origin and cannot be listed with others"
            );
            return Ok(());
        }
        for origin in origins {
            let parsed = url::Url::parse(origin).map_err(|error| {
                anyhow::anyhow!("cors.allowed_origins: `{origin}` is not an origin: {error}")
            })?;
            let serialised = parsed.origin().ascii_serialization();
            anyhow::ensure!(
                matches!(parsed.scheme(), "http" | "https") && serialised == *origin,
                "cors.allowed_origins: `{origin}` is not an origin like https://app.example.com \
                 (scheme, host and port only; it would be `{serialised}`)"
            );
        }
        Ok(())
    }
}

/// Section `database`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// `sqlite://path/to/file.db` or `postgres://user:password@host:5432/name`.
    pub url: String,
    /// The PostgreSQL password, when it is kept apart from the URL (ECS: RDS's managed master
    /// secret as `NORIKAE_DATABASE__PASSWORD`, the rest of the URL in plain configuration).
    /// Replaces any password in `url`, encoded as a URL needs it.
    pub password: Option<String>,
    pub max_connections: u32,
    /// How long a request waits for a pooled connection before answering 503
    /// `database_unavailable`: short, so an outage is reported at once instead of piling up
    /// requests.
    pub acquire_timeout_ms: u64,
    /// Pooled connections idle longer than this are closed.
    pub idle_timeout_secs: u64,
}

impl std::fmt::Debug for DatabaseSettings {
    // The URL may hold a password: never log it.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DatabaseSettings")
            .field("url", &redact_url(&self.url))
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout_ms", &self.acquire_timeout_ms)
            .field("idle_timeout_secs", &self.idle_timeout_secs)
            .finish()
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: DEFAULT_DATABASE_URL.to_owned(),
            password: None,
            max_connections: 10,
            acquire_timeout_ms: 1_000,
            idle_timeout_secs: 300,
        }
    }
}

impl DatabaseSettings {
    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.acquire_timeout_ms)
    }

    /// The URL to connect with: `url`, with `password` in it when one is set. Refuses a
    /// password for anything but a `postgres://user@host/…` URL, naming the key.
    pub fn connect_url(&self) -> anyhow::Result<String> {
        let Some(password) = self.password.as_deref() else {
            return Ok(self.url.clone());
        };
        let not_postgres = || {
            anyhow::anyhow!(
                "database.password is set but database.url ({}) is not a postgres://user@host/name URL",
                redact_url(&self.url)
            )
        };
        if !(self.url.starts_with("postgres://") || self.url.starts_with("postgresql://")) {
            return Err(not_postgres());
        }
        let mut parsed = url::Url::parse(&self.url).map_err(|_| not_postgres())?;
        if parsed.username().is_empty() {
            return Err(not_postgres());
        }
        // Percent-encoded here: the url crate keeps a `%` as it is (it takes it for an escape).
        let encoded: String = password
            .bytes()
            .map(|byte| match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    char::from(byte).to_string()
                }
                _ => format!("%{byte:02X}"),
            })
            .collect();
        parsed.set_password(Some(&encoded)).map_err(|()| not_postgres())?;
        Ok(parsed.to_string())
    }
}

/// The URL with any password replaced by `***`, for logs and errors.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// The TLS parameters of a PostgreSQL `database.url`, checked before the first connection
/// rather than failing it over and over: `sslmode` one sqlx knows, and `sslrootcert` (say the
/// RDS CA bundle) a readable PEM file that a mode checking certificates uses: sqlx, unlike
/// libpq, ignores it under `require`, so that URL would trust any server.
fn check_postgres_tls(url: &str) -> anyhow::Result<()> {
    const MODES: [&str; 6] = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];
    let shown = redact_url(url);
    let parsed = url::Url::parse(url)
        .map_err(|error| anyhow::anyhow!("database.url ({shown}) is not a URL: {error}"))?;
    let parameter = |name: &str| {
        parsed.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
    };
    let mode = parameter("sslmode").unwrap_or_else(|| "prefer".to_owned());
    anyhow::ensure!(
        MODES.contains(&mode.as_str()),
        "database.url ({shown}): sslmode={mode} is not one of {}",
        MODES.join(", ")
    );
    let Some(root_cert) = parameter("sslrootcert") else { return Ok(()) };
    anyhow::ensure!(
        mode.starts_with("verify-"),
        "database.url ({shown}) names sslrootcert but sslmode={mode} does not check the \
         server's certificate against it: use sslmode=verify-full"
    );
    let pem = std::fs::read_to_string(&root_cert).map_err(|error| {
        anyhow::anyhow!("database.url ({shown}): sslrootcert {root_cert} cannot be read: {error}")
    })?;
    anyhow::ensure!(
        pem.contains("-----BEGIN CERTIFICATE-----"),
        "database.url ({shown}): sslrootcert {root_cert} holds no PEM certificate"
    );
    Ok(())
}

/// Section `upstream`: the search and route engines this service calls.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UpstreamSettings {
    pub search_url: String,
    pub route_url: String,
    /// Idle keep-alive connections to the engines are closed after this long. It must stay
    /// below the engines' own idle timeout (`engine_idle_timeout_secs`) and below the
    /// internal balancer's (`http.lb_idle_timeout_secs`), so this side always closes first and
    /// never sends a request on a connection the other side is closing.
    pub pool_idle_timeout_secs: u64,
    /// The engines' keep-alive idle timeout (their `http.idle_timeout_secs`).
    pub engine_idle_timeout_secs: u64,
    pub pool_max_idle_per_host: usize,
    pub connect_timeout_ms: u64,
    /// Longest wait for an engine's answer; past it the client gets 504 `upstream_timeout`.
    pub timeout_ms: u64,
    /// How often the route engine's `/status` is polled to record timetable versions.
    pub status_poll_secs: u64,
}

impl Default for UpstreamSettings {
    fn default() -> Self {
        Self {
            search_url: "http://127.0.0.1:8082".to_owned(),
            route_url: "http://127.0.0.1:8083".to_owned(),
            pool_idle_timeout_secs: 30,
            engine_idle_timeout_secs: 75,
            pool_max_idle_per_host: 64,
            connect_timeout_ms: 1_000,
            timeout_ms: 8_000,
            status_poll_secs: 5,
        }
    }
}

/// Section `auth`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// No key needed for the public endpoints (local development; `norikae serve` turns it
    /// on unless `NORIKAE_AUTH__OPEN_ACCESS` says otherwise). A key that is sent anyway is
    /// still checked and limited. Admin endpoints always need a key with the `admin` scope.
    pub open_access: bool,
    /// How often the key table is re-read into memory (new keys are also looked up on a miss).
    pub key_refresh_ms: u64,
    /// How often counted usage is written to the database (retried until it is).
    pub usage_flush_ms: u64,
    /// How often alerts are re-read into memory (admin writes refresh at once).
    pub alert_refresh_ms: u64,
    /// Proxies in front of the api that append to `X-Forwarded-For` (the balancer is one):
    /// the client is the right-most hop they did not write. 0: the socket peer is the client.
    pub trusted_proxies: usize,
    /// Requests without a key (open access), per client address.
    pub anonymous_limit: ClientRate,
    /// Requests with a key this instance does not know (guesses, typos, revoked-and-forgotten
    /// keys), per client address; past it they get 429 without a database lookup.
    pub unknown_key_limit: ClientRate,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            open_access: false,
            key_refresh_ms: 5_000,
            usage_flush_ms: 2_000,
            alert_refresh_ms: 5_000,
            trusted_proxies: 1,
            anonymous_limit: ClientRate { requests: 20, per_secs: 1, burst: 40 },
            unknown_key_limit: ClientRate { requests: 10, per_secs: 60, burst: 10 },
        }
    }
}

impl Config {
    /// Checks the rules start-up enforces; the message names the keys and their values.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.http.validate()?;
        let upstream = &self.upstream;
        anyhow::ensure!(
            upstream.pool_idle_timeout_secs < upstream.engine_idle_timeout_secs,
            "upstream.pool_idle_timeout_secs ({} s) must be shorter than \
             upstream.engine_idle_timeout_secs ({} s): a pooled connection the engine closes \
             while it is reused fails the request",
            upstream.pool_idle_timeout_secs,
            upstream.engine_idle_timeout_secs
        );
        anyhow::ensure!(
            upstream.pool_idle_timeout_secs < self.http.lb_idle_timeout_secs,
            "upstream.pool_idle_timeout_secs ({} s) must be shorter than \
             http.lb_idle_timeout_secs ({} s), the internal balancer's idle timeout",
            upstream.pool_idle_timeout_secs,
            self.http.lb_idle_timeout_secs
        );
        anyhow::ensure!(upstream.timeout_ms > 0, "upstream.timeout_ms must be greater than zero");
        anyhow::ensure!(
            upstream.connect_timeout_ms > 0,
            "upstream.connect_timeout_ms must be greater than zero"
        );
        for (key, value) in [
            ("upstream.search_url", &upstream.search_url),
            ("upstream.route_url", &upstream.route_url),
        ] {
            let parsed = url::Url::parse(value)
                .map_err(|error| anyhow::anyhow!("{key} ({value}) is not a URL: {error}"))?;
            anyhow::ensure!(
                matches!(parsed.scheme(), "http" | "https"),
                "{key} ({value}) must be an http:// or https:// URL"
            );
        }
        let database = &self.database;
        anyhow::ensure!(
            database.url.starts_with("sqlite:")
                || database.url.starts_with("postgres://")
                || database.url.starts_with("postgresql://"),
            "database.url ({}) must start with sqlite: or postgres://",
            redact_url(&database.url)
        );
        database.connect_url()?;
        if !database.url.starts_with("sqlite:") {
            check_postgres_tls(&database.url)?;
        }
        anyhow::ensure!(
            database.max_connections > 0,
            "database.max_connections must be greater than zero"
        );
        anyhow::ensure!(
            database.acquire_timeout_ms > 0,
            "database.acquire_timeout_ms must be greater than zero"
        );
        anyhow::ensure!(
            self.auth.key_refresh_ms > 0,
            "auth.key_refresh_ms must be greater than zero"
        );
        anyhow::ensure!(
            self.auth.usage_flush_ms > 0,
            "auth.usage_flush_ms must be greater than zero"
        );
        anyhow::ensure!(
            self.auth.alert_refresh_ms > 0,
            "auth.alert_refresh_ms must be greater than zero"
        );
        self.auth.anonymous_limit.validate("auth.anonymous_limit")?;
        self.auth.unknown_key_limit.validate("auth.unknown_key_limit")?;
        self.cors.validate()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Config::default().validate().expect("defaults pass");
    }

    #[test]
    fn pool_idle_timeout_must_stay_below_engines_and_balancer() {
        let mut config = Config::default();
        config.upstream.pool_idle_timeout_secs = 80;
        let message = config.validate().unwrap_err().to_string();
        assert!(message.contains("upstream.pool_idle_timeout_secs (80 s)"), "{message}");
        config.upstream.pool_idle_timeout_secs = 60;
        let message = config.validate().unwrap_err().to_string();
        assert!(message.contains("http.lb_idle_timeout_secs (60 s)"), "{message}");
    }

    #[test]
    fn client_limits_must_not_be_zero() {
        let mut config = Config::default();
        config.auth.unknown_key_limit.burst = 0;
        let message = config.validate().unwrap_err().to_string();
        assert!(message.contains("auth.unknown_key_limit.burst"), "{message}");
    }

    #[test]
    fn a_separate_password_goes_into_the_url_encoded() {
        let settings = DatabaseSettings {
            url: "postgres://norikae@db.example:5432/norikae?sslmode=verify-full".to_owned(),
            password: Some("p@ss:w/rd?#%".to_owned()),
            ..DatabaseSettings::default()
        };
        let url = settings.connect_url().expect("url");
        assert_eq!(
            url,
            "postgres://norikae:p%40ss%3Aw%2Frd%3F%23%25@db.example:5432/norikae?sslmode=verify-full"
        );
        // It replaces a password in the URL; without one set the URL is used as it is.
        let replaced = DatabaseSettings {
            url: "postgres://norikae:old@db/norikae".to_owned(),
            password: Some("new".to_owned()),
            ..DatabaseSettings::default()
        };
        assert_eq!(replaced.connect_url().expect("url"), "postgres://norikae:new@db/norikae");
        let plain = DatabaseSettings {
            url: "postgres://u:p@db/n".to_owned(),
            ..DatabaseSettings::default()
        };
        assert_eq!(plain.connect_url().expect("url"), "postgres://u:p@db/n");
        assert!(!format!("{settings:?}").contains("p@ss"), "{settings:?}");
    }

    #[test]
    fn a_separate_password_needs_a_postgres_url_with_a_user() {
        for url in ["sqlite://data/norikae.db", "postgres://db.example/norikae"] {
            let mut config = Config::default();
            config.database.url = url.to_owned();
            config.database.password = Some("secret".to_owned());
            let message = config.validate().unwrap_err().to_string();
            assert!(message.contains("database.password is set"), "{url}: {message}");
            assert!(!message.contains("secret"), "{message}");
        }
    }

    #[test]
    fn database_tls_parameters_are_checked_before_connecting() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let bundle = dir.path().join("bundle.pem");
        std::fs::write(&bundle, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
            .expect("bundle");
        let not_pem = dir.path().join("not.pem");
        std::fs::write(&not_pem, "<html>").expect("file");
        let with_url = |url: String| {
            let mut config = Config::default();
            config.database.url = url;
            config.validate().map_err(|error| error.to_string())
        };
        let base = "postgres://norikae:hunter2@db.example:5432/norikae";
        let bundle = bundle.display();
        assert_eq!(with_url(format!("{base}?sslmode=verify-full&sslrootcert={bundle}")), Ok(()));
        assert_eq!(with_url(format!("{base}?sslmode=require")), Ok(()));
        assert_eq!(with_url(base.to_owned()), Ok(()));
        for (url, expected) in [
            (format!("{base}?sslmode=verify_full"), "sslmode=verify_full is not one of"),
            (format!("{base}?sslmode=require&sslrootcert={bundle}"), "use sslmode=verify-full"),
            (format!("{base}?sslmode=verify-full&sslrootcert=/nonexistent.pem"), "cannot be read"),
            (
                format!("{base}?sslmode=verify-ca&sslrootcert={}", not_pem.display()),
                "holds no PEM certificate",
            ),
        ] {
            let message = with_url(url.clone()).expect_err(&url);
            assert!(message.contains(expected), "{url}: {message}");
            assert!(message.contains("database.url"), "{message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
    }

    #[test]
    fn cors_origins_come_as_a_list_or_comma_separated_and_are_checked() {
        let list: OriginList =
            serde_json::from_str("\"https://a.example, http://localhost:3000/\"").expect("text");
        assert_eq!(list.0, ["https://a.example", "http://localhost:3000"]);
        let mut config = Config::default();
        config.cors.allowed_origins = list;
        config.validate().expect("origins");
        for (origins, expected) in [
            (vec!["https://a.example/app"], "scheme, host and port only"),
            (vec!["a.example"], "is not an origin"),
            (vec!["*", "https://a.example"], "cannot be listed with others"),
        ] {
            config.cors.allowed_origins =
                OriginList(origins.iter().map(|o| (*o).to_owned()).collect());
            let message = config.validate().unwrap_err().to_string();
            assert!(message.contains(expected), "{origins:?}: {message}");
        }
        config.cors.allowed_origins = OriginList(vec!["*".to_owned()]);
        config.validate().expect("any origin");
    }

    #[test]
    fn database_url_password_is_never_printed() {
        let settings = DatabaseSettings {
            url: "postgres://norikae:hunter2@db:5432/norikae".to_owned(),
            ..DatabaseSettings::default()
        };
        let printed = format!("{settings:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("***"), "{printed}");
    }
}
