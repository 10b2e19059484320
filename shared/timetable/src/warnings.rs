//! [`Warnings`]: input problems that do not stop an import, counted by kind with a few
//! examples each (the examples name feed, file, line and field).

use std::collections::BTreeMap;

/// How many examples of each kind are kept.
const EXAMPLES_PER_KIND: usize = 5;

#[derive(Clone, Debug, Default)]
pub struct Warnings {
    kinds: BTreeMap<&'static str, WarningKind>,
}

#[derive(Clone, Debug, Default)]
pub struct WarningKind {
    pub count: u64,
    pub examples: Vec<String>,
}

impl Warnings {
    /// Counts one warning of `kind`; `example` is built only when it will be kept.
    pub fn add(&mut self, kind: &'static str, example: impl FnOnce() -> String) {
        let entry = self.kinds.entry(kind).or_default();
        entry.count += 1;
        if entry.examples.len() < EXAMPLES_PER_KIND {
            let example = example();
            tracing::debug!(kind, example = %example, "import warning");
            entry.examples.push(example);
        }
    }

    pub fn count(&self, kind: &str) -> u64 {
        self.kinds.get(kind).map_or(0, |entry| entry.count)
    }

    pub fn examples(&self, kind: &str) -> &[String] {
        self.kinds.get(kind).map_or(&[], |entry| entry.examples.as_slice())
    }

    pub fn total(&self) -> u64 {
        self.kinds.values().map(|entry| entry.count).sum()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &WarningKind)> {
        self.kinds.iter().map(|(kind, entry)| (*kind, entry))
    }

    pub fn merge(&mut self, other: Warnings) {
        for (kind, other_entry) in other.kinds {
            let entry = self.kinds.entry(kind).or_default();
            entry.count += other_entry.count;
            let room = EXAMPLES_PER_KIND.saturating_sub(entry.examples.len());
            entry.examples.extend(other_entry.examples.into_iter().take(room));
        }
    }

    /// `(kind, count)` pairs for [`crate::Meta::warnings`].
    pub fn counts(&self) -> Vec<(String, u64)> {
        self.kinds.iter().map(|(kind, entry)| ((*kind).to_owned(), entry.count)).collect()
    }
}
