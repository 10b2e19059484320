//! [`AppState`]: what the handlers share.

use crate::alerts::AlertStore;
use crate::keys::KeyStore;
use crate::store::Db;
use crate::upstream::Upstream;
use crate::versions::VersionTracker;

#[derive(Clone, Debug)]
pub struct AppState {
    pub upstream: Upstream,
    pub db: Db,
    pub keys: KeyStore,
    pub alerts: AlertStore,
    pub versions: VersionTracker,
    /// Public endpoints answer without a key (admin ones never do).
    pub open_access: bool,
}
