//! [`TimetableSettings`]: where a service finds its snapshot (config section `timetable`,
//! `NORIKAE_TIMETABLE__SNAPSHOT`), shared by every service that loads one.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where the default `norikae serve` keeps the snapshot of the bundled feeds.
pub const DEFAULT_SNAPSHOT_PATH: &str = "data/snapshot/timetable.snapshot";

/// Section `timetable`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TimetableSettings {
    /// The snapshot file (written by `norikae import`).
    pub snapshot: PathBuf,
    /// How often the file is checked for a newer snapshot (and, until one loads, retried);
    /// 0 disables reloading.
    pub reload_interval_secs: u64,
}

impl Default for TimetableSettings {
    fn default() -> Self {
        Self { snapshot: PathBuf::from(DEFAULT_SNAPSHOT_PATH), reload_interval_secs: 10 }
    }
}
