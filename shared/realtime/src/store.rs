//! The live entities of one source (a polled URL or a push endpoint): a full-dataset
//! message replaces them all, a differential one adds, replaces and deletes by entity id;
//! entities not renewed within the maximum age expire.

use rustc_hash::FxHashMap;

use crate::proto::feed_header::Incrementality;
use crate::proto::{FeedEntity, FeedMessage};

#[derive(Debug, Default)]
pub(crate) struct SourceStore {
    /// The GTFS feed (namespace) the source's ids belong to.
    pub feed: String,
    entities: FxHashMap<String, Stored>,
    /// When a message was last applied (POSIX seconds), and its header's timestamp.
    pub last_applied: Option<i64>,
    pub header_timestamp: Option<u64>,
    pub incremental: bool,
    /// The overlay of this source's entities alone, kept until they change (or it ages), so
    /// that a message from one source does not rebuild every other source's part.
    pub partial: Option<std::sync::Arc<crate::overlay::Overlay>>,
}

#[derive(Debug)]
struct Stored {
    entity: FeedEntity,
    /// When the data was produced (the header's timestamp when the producer gives one
    /// that is not in the future, else when it was received).
    at: i64,
}

/// What applying one message changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Applied {
    pub upserted: usize,
    pub deleted: usize,
    pub incremental: bool,
}

impl SourceStore {
    pub fn new(feed: &str) -> Self {
        Self { feed: feed.to_owned(), ..Self::default() }
    }

    pub fn apply(&mut self, message: FeedMessage, now: i64) -> Applied {
        let incremental =
            message.header.incrementality.and_then(|value| Incrementality::try_from(value).ok())
                == Some(Incrementality::Differential);
        let produced = message
            .header
            .timestamp
            .and_then(|timestamp| i64::try_from(timestamp).ok())
            .filter(|&timestamp| timestamp <= now)
            .unwrap_or(now);
        if !incremental {
            self.entities.clear();
        }
        let mut applied = Applied { incremental, ..Applied::default() };
        for entity in message.entity {
            if entity.is_deleted == Some(true) {
                applied.deleted += usize::from(self.entities.remove(&entity.id).is_some());
                continue;
            }
            applied.upserted += 1;
            self.entities.insert(entity.id.clone(), Stored { entity, at: produced });
        }
        self.last_applied = Some(now);
        self.partial = None;
        self.header_timestamp = message.header.timestamp;
        self.incremental = incremental;
        applied
    }

    /// Drops the entities older than `max_age_secs`; how many.
    pub fn expire(&mut self, now: i64, max_age_secs: i64) -> usize {
        let before = self.entities.len();
        self.entities.retain(|_, stored| now - stored.at <= max_age_secs);
        let expired = before - self.entities.len();
        if expired > 0 {
            self.partial = None;
        }
        expired
    }

    pub fn entities(&self) -> impl Iterator<Item = &FeedEntity> {
        self.entities.values().map(|stored| &stored.entity)
    }

    pub fn len(&self) -> usize {
        self.entities.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::FeedHeader;

    fn message(incremental: bool, timestamp: u64, entities: &[(&str, bool)]) -> FeedMessage {
        FeedMessage {
            header: FeedHeader {
                gtfs_realtime_version: "2.0".to_owned(),
                incrementality: Some(if incremental { 1 } else { 0 }),
                timestamp: Some(timestamp),
                feed_version: None,
            },
            entity: entities
                .iter()
                .map(|&(id, deleted)| FeedEntity {
                    id: id.to_owned(),
                    is_deleted: Some(deleted),
                    ..FeedEntity::default()
                })
                .collect(),
        }
    }

    #[test]
    fn full_replaces_differential_merges_and_old_entities_expire() {
        let mut store = SourceStore::new("fukuoka");
        store.apply(message(false, 1000, &[("a", false), ("b", false)]), 1000);
        assert_eq!(store.len(), 2);
        store.apply(message(false, 1010, &[("c", false)]), 1010);
        let ids: Vec<&str> = store.entities().map(|entity| entity.id.as_str()).collect();
        assert_eq!(ids, ["c"], "a full dataset replaces everything");
        let applied = store.apply(message(true, 1020, &[("d", false), ("c", true)]), 1020);
        assert_eq!(applied, Applied { upserted: 1, deleted: 1, incremental: true });
        store.apply(message(true, 1100, &[("e", false)]), 1100);
        assert_eq!(store.len(), 2);
        assert_eq!(store.expire(1200, 120), 1, "d (from 1020) is older than 120 s at 1200");
        let ids: Vec<&str> = store.entities().map(|entity| entity.id.as_str()).collect();
        assert_eq!(ids, ["e"]);
        // A header timestamp in the future counts as now.
        store.apply(message(false, 9_999, &[("f", false)]), 1300);
        assert_eq!(store.expire(1300, 0), 0);
    }
}
