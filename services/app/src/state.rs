//! [`AppState`]: what the handlers share (the API client and the templates).

use std::sync::Arc;

use crate::Config;
use crate::client::ApiClient;
use crate::render::Templates;

#[derive(Clone, Debug)]
pub struct AppState {
    pub api: ApiClient,
    pub templates: Arc<Templates>,
}

impl AppState {
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        Ok(Self { api: ApiClient::new(&config.upstream)?, templates: Arc::new(Templates::new()?) })
    }
}
