//! Typed configuration: defaults in code, then an optional TOML file, then environment
//! variables (what ECS task definitions set), validated at start-up.
//!
//! Layers, later ones win:
//! 1. the service's `Default` (HTTP defaults come from `http_defaults.toml`);
//! 2. the TOML file named by `NORIKAE_CONFIG`, if set;
//! 3. `NORIKAE_<SECTION>__<KEY>`, e.g. `NORIKAE_HTTP__IDLE_TIMEOUT_SECS=75`;
//! 4. `NORIKAE_<SERVICE>__<SECTION>__<KEY>`, e.g. `NORIKAE_ROUTE__HTTP__PORT=9083`, so that each
//!    service of the all-in-one `norikae serve` can be set apart.

use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The services' side of the timing rules, shared with the deployment checks in `ecs/`.
pub const HTTP_DEFAULTS_TOML: &str = include_str!("http_defaults.toml");

/// Settings of a service's HTTP server (section `http`). Every key must be present when
/// deserialised: the config layers start from [`HttpSettings::default`], which reads
/// `http_defaults.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpSettings {
    pub port: u16,
    /// Keep-alive idle timeout: longer than the balancer's, so the balancer closes first.
    pub idle_timeout_secs: u64,
    /// The load balancer's idle timeout (ALB default 60 s).
    pub lb_idle_timeout_secs: u64,
    /// How long requests are still served after SIGTERM while `/health/ready` says 503.
    pub drain_delay_secs: u64,
    /// How long in-flight requests may take to finish once the listener is closed.
    pub shutdown_timeout_secs: u64,
    /// ECS stopTimeout: the process is killed this long after SIGTERM.
    pub stop_timeout_secs: u64,
    pub request_timeout_secs: u64,
    pub max_body_bytes: usize,
    /// Requests in flight before new ones are shed with 503 and `Retry-After`.
    pub max_in_flight: usize,
    /// `/metrics` answers loopback clients only (404 to others): for a service listening on
    /// every interface without a balancer rule keeping `/metrics` off the public side.
    #[serde(default)]
    pub metrics_loopback_only: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        // The embedded file is part of the build and covered by a test; a broken edit fails
        // the test suite rather than a running service.
        toml_defaults().expect("http_defaults.toml is valid")
    }
}

fn toml_defaults() -> Result<HttpSettings, figment::Error> {
    Figment::from(Toml::string(HTTP_DEFAULTS_TOML)).extract()
}

impl HttpSettings {
    /// The defaults, listening on `port`.
    pub fn for_port(port: u16) -> Self {
        Self { port, ..Self::default() }
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    pub fn drain_delay(&self) -> Duration {
        Duration::from_secs(self.drain_delay_secs)
    }

    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// Checks the rules that keep a service behind a balancer healthy; the message names the
    /// settings and their values.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.idle_timeout_secs <= self.lb_idle_timeout_secs {
            return Err(ConfigError::IdleTimeoutNotAboveBalancer {
                idle: self.idle_timeout_secs,
                balancer: self.lb_idle_timeout_secs,
            });
        }
        let drain_and_shutdown = self.drain_delay_secs.saturating_add(self.shutdown_timeout_secs);
        if drain_and_shutdown >= self.stop_timeout_secs {
            return Err(ConfigError::ShutdownNotInsideStopTimeout {
                drain: self.drain_delay_secs,
                shutdown: self.shutdown_timeout_secs,
                stop: self.stop_timeout_secs,
            });
        }
        if self.request_timeout_secs == 0 {
            return Err(ConfigError::Zero { key: "http.request_timeout_secs" });
        }
        if self.max_in_flight == 0 {
            return Err(ConfigError::Zero { key: "http.max_in_flight" });
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error(
        "http.idle_timeout_secs ({idle} s) must be longer than http.lb_idle_timeout_secs \
         ({balancer} s): a service that closes an idle keep-alive connection while the load \
         balancer reuses it causes 502s"
    )]
    IdleTimeoutNotAboveBalancer { idle: u64, balancer: u64 },
    #[error(
        "http.drain_delay_secs ({drain} s) + http.shutdown_timeout_secs ({shutdown} s) must be \
         shorter than http.stop_timeout_secs ({stop} s), the time between SIGTERM and SIGKILL"
    )]
    ShutdownNotInsideStopTimeout { drain: u64, shutdown: u64, stop: u64 },
    #[error("{key} must be greater than zero")]
    Zero { key: &'static str },
}

/// Loads a service's configuration through the layers described in the module docs.
pub fn load_config<T>(service: &str) -> anyhow::Result<T>
where
    T: Serialize + DeserializeOwned + Default,
{
    figment_for(service, T::default()).extract().map_err(|errors| {
        let described: Vec<String> = errors.into_iter().map(|error| describe(&error)).collect();
        anyhow::anyhow!("invalid configuration for the {service} service: {}", described.join("; "))
    })
}

/// One configuration error as an operator needs it: the key, what is wrong, and where the
/// bad value came from (the exact environment variable or file).
fn describe(error: &figment::Error) -> String {
    let key = error.path.join(".").to_lowercase();
    let origin = error.metadata.as_ref().map(|metadata| {
        let name = metadata.name.to_string();
        // Env providers are named "`PREFIX` environment variable(s)".
        let env_prefix = name.contains("environment").then(|| name.split('`').nth(1)).flatten();
        match (env_prefix, &metadata.source) {
            (Some(prefix), _) => {
                let variable = error.path.join("__").to_uppercase();
                format!("environment variable {prefix}{variable}")
            }
            (None, Some(source)) => source.to_string(),
            (None, None) => name,
        }
    });
    match origin {
        Some(origin) => format!("{key}: {} (from {origin})", error.kind),
        None => format!("{key}: {}", error.kind),
    }
}

/// The layered figment, for callers that need to inspect or extend it.
pub fn figment_for<T: Serialize>(service: &str, defaults: T) -> Figment {
    let mut figment = Figment::from(Serialized::defaults(defaults));
    if let Ok(path) = std::env::var("NORIKAE_CONFIG") {
        // A file holds shared sections at the top and per-service overrides in
        // `[<service>.<section>]` tables; the service's table wins.
        let file = Figment::from(Toml::file_exact(path));
        figment = figment.merge(file.clone()).merge(file.focus(service));
    }
    let service_prefix = format!("NORIKAE_{}__", service.to_ascii_uppercase());
    figment
        .merge(Env::prefixed("NORIKAE_").split("__").ignore(&["config"]))
        .merge(Env::prefixed(&service_prefix).split("__"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_parse_and_pass_their_own_rules() {
        let settings = toml_defaults().expect("http_defaults.toml parses");
        assert_eq!(settings.idle_timeout_secs, 75);
        assert_eq!(settings.lb_idle_timeout_secs, 60);
        assert!(settings.validate().is_ok());
    }

    #[test]
    fn idle_timeout_at_or_below_the_balancer_is_refused_with_both_values() {
        let settings =
            HttpSettings { idle_timeout_secs: 60, lb_idle_timeout_secs: 60, ..Default::default() };
        let message = settings.validate().unwrap_err().to_string();
        assert!(message.contains("http.idle_timeout_secs (60 s)"), "{message}");
        assert!(message.contains("http.lb_idle_timeout_secs (60 s)"), "{message}");
    }

    #[test]
    fn drain_plus_shutdown_must_fit_inside_stop_timeout() {
        let settings = HttpSettings {
            drain_delay_secs: 10,
            shutdown_timeout_secs: 20,
            stop_timeout_secs: 30,
            ..Default::default()
        };
        let message = settings.validate().unwrap_err().to_string();
        assert!(message.contains("(10 s)") && message.contains("(20 s)"), "{message}");
        assert!(message.contains("http.stop_timeout_secs (30 s)"), "{message}");
    }

    #[derive(Debug, Default, Serialize, Deserialize)]
    struct TestConfig {
        http: HttpSettings,
    }

    #[test]
    fn environment_overrides_defaults_and_service_overrides_environment() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("NORIKAE_HTTP__IDLE_TIMEOUT_SECS", "90");
            jail.set_env("NORIKAE_HTTP__PORT", "9000");
            jail.set_env("NORIKAE_ROUTE__HTTP__PORT", "9083");
            let route: TestConfig = load_config("route").map_err(|e| e.to_string())?;
            assert_eq!(route.http.port, 9083);
            assert_eq!(route.http.idle_timeout_secs, 90);
            let search: TestConfig = load_config("search").map_err(|e| e.to_string())?;
            assert_eq!(search.http.port, 9000);
            Ok(())
        });
    }

    #[test]
    fn a_bad_value_names_the_variable() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("NORIKAE_HTTP__IDLE_TIMEOUT_SECS", "soon");
            let error = load_config::<TestConfig>("api").unwrap_err();
            let chain = format!("{error:#}");
            assert!(chain.contains("idle_timeout_secs"), "{chain}");
            assert!(chain.contains("NORIKAE_HTTP__IDLE_TIMEOUT_SECS"), "{chain}");
            Ok(())
        });
    }

    #[test]
    fn config_file_sections_and_service_tables_apply() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "norikae.toml",
                "[http]\nidle_timeout_secs = 120\n[api.http]\nport = 7001\n",
            )?;
            jail.set_env("NORIKAE_CONFIG", "norikae.toml");
            let api: TestConfig = load_config("api").map_err(|e| e.to_string())?;
            assert_eq!(api.http.idle_timeout_secs, 120);
            assert_eq!(api.http.port, 7001);
            Ok(())
        });
    }
}
