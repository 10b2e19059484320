//! [`UnknownKeys`]: the negative cache of key hashes the database did not know. A repeated
//! guess (or a client stuck on a mistyped key) costs no database query; the cache survives
//! the periodic key refresh (a random 256-bit secret guessed before it was created is not a
//! case to serve) and forgets its oldest hash past its capacity.

use std::collections::{HashMap, HashSet, VecDeque};

/// Hashes kept: 64 hex characters each, so about 2 MB at most.
pub const UNKNOWN_KEYS_CAPACITY: usize = 10_000;

#[derive(Debug)]
pub struct UnknownKeys {
    capacity: usize,
    hashes: HashSet<String>,
    /// Oldest first, for eviction.
    order: VecDeque<String>,
}

impl Default for UnknownKeys {
    fn default() -> Self {
        Self::with_capacity(UNKNOWN_KEYS_CAPACITY)
    }
}

impl UnknownKeys {
    pub fn with_capacity(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), hashes: HashSet::new(), order: VecDeque::new() }
    }

    pub fn contains(&self, hash: &str) -> bool {
        self.hashes.contains(hash)
    }

    pub fn insert(&mut self, hash: String) {
        if self.hashes.contains(&hash) {
            return;
        }
        while self.hashes.len() >= self.capacity {
            let Some(oldest) = self.order.pop_front() else { break };
            self.hashes.remove(&oldest);
        }
        self.order.push_back(hash.clone());
        self.hashes.insert(hash);
    }

    /// Drops the hashes that are keys now (after a refresh read the table).
    pub fn forget_known<V>(&mut self, known: &HashMap<String, V>) {
        if self.hashes.iter().any(|hash| known.contains_key(hash)) {
            self.hashes.retain(|hash| !known.contains_key(hash));
            self.order.retain(|hash| !known.contains_key(hash));
        }
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_oldest_first_and_known_keys_leave() {
        let mut unknown = UnknownKeys::with_capacity(2);
        unknown.insert("a".to_owned());
        unknown.insert("b".to_owned());
        unknown.insert("c".to_owned());
        assert_eq!(unknown.len(), 2);
        assert!(!unknown.contains("a") && unknown.contains("b") && unknown.contains("c"));
        let known = HashMap::from([("b".to_owned(), ())]);
        unknown.forget_known(&known);
        assert!(!unknown.contains("b") && unknown.contains("c"));
    }
}
