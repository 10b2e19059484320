//! [`AppState`]: what the handlers share (the API client and the templates).

use std::sync::Arc;

use norikae_runtime::ClientLimiter;

use crate::Config;
use crate::client::ApiClient;
use crate::render::Templates;

#[derive(Clone, Debug)]
pub struct AppState {
    pub api: ApiClient,
    pub templates: Arc<Templates>,
    /// One token bucket per client address (see [`crate::limits`]).
    pub limiter: ClientLimiter,
    pub trusted_proxies: usize,
}

impl AppState {
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            api: ApiClient::new(&config.upstream)?,
            templates: Arc::new(Templates::new()?),
            limiter: ClientLimiter::new(config.limits.per_client),
            trusted_proxies: config.limits.trusted_proxies,
        })
    }
}
