//! The live entities of one source (a polled URL or a push endpoint): a full-dataset
//! message replaces them all, a differential one adds, replaces and deletes by entity id;
//! entities not renewed within the maximum age expire.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use crate::proto::feed_header::Incrementality;
use crate::proto::{FeedEntity, FeedMessage};

#[derive(Debug, Default)]
pub(crate) struct SourceStore {
    /// The GTFS feed (namespace) the source's ids belong to.
    pub feed: String,
    /// The live entities in the order they came. A full dataset's entities are kept in the
    /// message's own vector (New York's are about 20,000 large structs a message: not
    /// copied one by one into a hash map's scattered slots).
    entities: Vec<FeedEntity>,
    /// Per entity, when its data was produced (the header's timestamp when the producer
    /// gives one that is not in the future, else when it was received).
    produced_at: Vec<i64>,
    /// Positions in `entities` by entity id (hashed from the entity itself, so no id is
    /// copied).
    positions: HashTable<u32>,
    /// When a message was last applied (POSIX seconds), and its header's timestamp.
    pub last_applied: Option<i64>,
    pub header_timestamp: Option<u64>,
    pub incremental: bool,
    /// The overlay of this source's entities alone, kept until they change (or it ages), so
    /// that a message from one source does not rebuild every other source's part.
    pub partial: Option<std::sync::Arc<crate::overlay::Overlay>>,
}

/// What applying one message changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Applied {
    pub upserted: usize,
    pub deleted: usize,
    pub incremental: bool,
}

fn hash_id(id: &str) -> u64 {
    FxBuildHasher.hash_one(id)
}

fn position_u32(position: usize) -> u32 {
    u32::try_from(position).unwrap_or(u32::MAX)
}

impl SourceStore {
    pub fn new(feed: &str) -> Self {
        Self { feed: feed.to_owned(), ..Self::default() }
    }

    /// Applies `message`; the entities it replaced are handed to `replaced` to be dropped
    /// where the caller likes (freeing a large source's entities takes a while: not while
    /// the other sources wait for the lock).
    pub fn apply(
        &mut self,
        message: FeedMessage,
        now: i64,
        replaced: &mut Vec<Vec<FeedEntity>>,
    ) -> Applied {
        let incremental =
            message.header.incrementality.and_then(|value| Incrementality::try_from(value).ok())
                == Some(Incrementality::Differential);
        let produced = message
            .header
            .timestamp
            .and_then(|timestamp| i64::try_from(timestamp).ok())
            .filter(|&timestamp| timestamp <= now)
            .unwrap_or(now);
        self.last_applied = Some(now);
        self.partial = None;
        self.header_timestamp = message.header.timestamp;
        self.incremental = incremental;
        let mut applied = Applied { incremental, ..Applied::default() };
        let mut entities = message.entity;
        if !incremental {
            self.positions.clear();
            self.produced_at.clear();
            replaced.push(std::mem::take(&mut self.entities));
            if self.adopt(&mut entities, produced) {
                applied.upserted = self.entities.len();
                return applied;
            }
            // Deletions or repeated ids in a full dataset: entity by entity, as a
            // differential message is.
            self.positions.clear();
        }
        for entity in entities {
            if entity.is_deleted == Some(true) {
                applied.deleted += usize::from(self.remove(&entity.id));
                continue;
            }
            applied.upserted += 1;
            self.upsert(entity, produced);
        }
        applied
    }

    /// Takes a full dataset's `entities` as they are when none is a deletion and no id
    /// repeats (the usual case); else leaves them in `entities` and returns false.
    fn adopt(&mut self, entities: &mut Vec<FeedEntity>, produced: i64) -> bool {
        self.positions.reserve(entities.len(), |_| 0);
        for (position, entity) in entities.iter().enumerate() {
            let hash = hash_id(&entity.id);
            let repeated =
                self.positions.find(hash, |&at| entities[at as usize].id == entity.id).is_some();
            if entity.is_deleted == Some(true) || repeated {
                return false;
            }
            self.positions.insert_unique(hash, position_u32(position), |&at| {
                hash_id(&entities[at as usize].id)
            });
        }
        self.entities = std::mem::take(entities);
        self.produced_at = vec![produced; self.entities.len()];
        true
    }

    /// Adds an entity, or replaces the one with its id.
    fn upsert(&mut self, entity: FeedEntity, produced: i64) {
        let entities = &mut self.entities;
        let hash = hash_id(&entity.id);
        let found =
            self.positions.find(hash, |&position| entities[position as usize].id == entity.id);
        if let Some(&position) = found {
            entities[position as usize] = entity;
            self.produced_at[position as usize] = produced;
            return;
        }
        let position = position_u32(entities.len());
        entities.push(entity);
        self.produced_at.push(produced);
        self.positions
            .insert_unique(hash, position, |&position| hash_id(&entities[position as usize].id));
    }

    /// Removes the entity with this id; whether there was one.
    fn remove(&mut self, id: &str) -> bool {
        let entities = &self.entities;
        let Ok(entry) = self
            .positions
            .find_entry(hash_id(id), |&position| entities[position as usize].id == id)
        else {
            return false;
        };
        let (position, _) = entry.remove();
        let (position, last) = (position as usize, self.entities.len() - 1);
        self.entities.swap_remove(position);
        self.produced_at.swap_remove(position);
        if position < last {
            // The last entity moved into the gap: its index entry follows it.
            let moved = hash_id(&self.entities[position].id);
            if let Some(slot) = self.positions.find_mut(moved, |&at| at as usize == last) {
                *slot = position_u32(position);
            }
        }
        true
    }

    /// Drops the entities older than `max_age_secs`; how many.
    pub fn expire(&mut self, now: i64, max_age_secs: i64) -> usize {
        let before = self.entities.len();
        let kept: Vec<bool> = self.produced_at.iter().map(|&at| now - at <= max_age_secs).collect();
        let mut flags = kept.iter().copied();
        self.entities.retain(|_| flags.next().unwrap_or(false));
        let mut flags = kept.iter().copied();
        self.produced_at.retain(|_| flags.next().unwrap_or(false));
        let expired = before - self.entities.len();
        if expired > 0 {
            self.partial = None;
            let entities = &self.entities;
            self.positions.clear();
            for (position, entity) in entities.iter().enumerate() {
                self.positions.insert_unique(hash_id(&entity.id), position_u32(position), |&at| {
                    hash_id(&entities[at as usize].id)
                });
            }
        }
        expired
    }

    pub fn entities(&self) -> impl Iterator<Item = &FeedEntity> {
        self.entities.iter()
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

    impl SourceStore {
        fn apply_now(&mut self, message: FeedMessage, now: i64) -> Applied {
            self.apply(message, now, &mut Vec::new())
        }
    }

    #[test]
    fn full_replaces_differential_merges_and_old_entities_expire() {
        let mut store = SourceStore::new("fukuoka");
        store.apply_now(message(false, 1000, &[("a", false), ("b", false)]), 1000);
        assert_eq!(store.len(), 2);
        store.apply_now(message(false, 1010, &[("c", false)]), 1010);
        let ids: Vec<&str> = store.entities().map(|entity| entity.id.as_str()).collect();
        assert_eq!(ids, ["c"], "a full dataset replaces everything");
        let applied = store.apply_now(message(true, 1020, &[("d", false), ("c", true)]), 1020);
        assert_eq!(applied, Applied { upserted: 1, deleted: 1, incremental: true });
        store.apply_now(message(true, 1100, &[("e", false)]), 1100);
        assert_eq!(store.len(), 2);
        assert_eq!(store.expire(1200, 120), 1, "d (from 1020) is older than 120 s at 1200");
        let ids: Vec<&str> = store.entities().map(|entity| entity.id.as_str()).collect();
        assert_eq!(ids, ["e"]);
        // Deleting one moves the last into its place; the ids still find their entities.
        store.apply_now(message(true, 1300, &[("f", false), ("g", false), ("h", false)]), 1300);
        let applied = store.apply_now(message(true, 1300, &[("e", true), ("g", false)]), 1300);
        assert_eq!(applied, Applied { upserted: 1, deleted: 1, incremental: true });
        let mut ids: Vec<&str> = store.entities().map(|entity| entity.id.as_str()).collect();
        ids.sort_unstable();
        assert_eq!(ids, ["f", "g", "h"], "g replaced, not added");
        let applied =
            store.apply_now(message(true, 1300, &[("h", true), ("f", true), ("g", true)]), 1300);
        assert_eq!(applied.deleted, 3);
        assert_eq!(store.len(), 0);
        // A full dataset repeating an id, or deleting one, keeps the later entity once.
        let applied =
            store.apply_now(message(false, 1300, &[("x", false), ("y", true), ("x", false)]), 1300);
        assert_eq!(applied, Applied { upserted: 2, deleted: 0, incremental: false });
        let ids: Vec<&str> = store.entities().map(|entity| entity.id.as_str()).collect();
        assert_eq!(ids, ["x"]);
        // A header timestamp in the future counts as now.
        store.apply_now(message(false, 9_999, &[("f", false)]), 1300);
        assert_eq!(store.expire(1300, 0), 0);
    }
}
