//! Walking links as the searches read them: per stop (or, for the links kept after
//! alighting, per pattern stop), sorted by duration, packed in 4 bytes where they fit. Built
//! once per snapshot by [`super::network::Network`].

use norikae_timetable::{Footpath, StopIdx};

/// A walking link as the search reads it: 8 bytes (the relaxation loop streams through
/// hundreds of thousands per query); the distance is kept apart.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WalkLink {
    pub to: StopIdx,
    pub duration_secs: u32,
}

/// Bits of the stop in a packed walking link (the duration takes the rest).
const PACKED_STOP_BITS: u32 = 20;

/// Walking links per stop in one direction, sorted by duration, compact: the distances are
/// read only to check a walking limit shorter than the longest link, or to record a walk.
#[derive(Debug, Default)]
pub(crate) struct WalkLinks {
    offsets: Vec<u32>,
    /// The links when they do not fit `packed` (empty otherwise).
    pub(crate) links: Vec<WalkLink>,
    /// The links in 4 bytes each (stop in the low [`PACKED_STOP_BITS`] bits, duration above),
    /// when every stop and duration fits: half the memory the relaxation reads (its first
    /// read of a stop's links is usually a cache miss). Empty otherwise.
    pub(crate) packed: Vec<u32>,
    pub(crate) distances_m: Vec<u32>,
    pub(crate) longest_m: u32,
}

impl WalkLinks {
    /// From links sliced by `offsets` (stop `s`'s at `offsets[s]..offsets[s + 1]`), each
    /// stop's sorted by duration.
    pub(crate) fn build(offsets: &[u32], footpaths: &[Footpath]) -> Self {
        debug_assert!(offsets.windows(2).all(|pair| {
            footpaths[pair[0] as usize..pair[1] as usize]
                .windows(2)
                .all(|links| links[0].duration_secs <= links[1].duration_secs)
        }));
        let fits = |footpath: &Footpath| {
            footpath.to.0 < 1 << PACKED_STOP_BITS
                && footpath.duration_secs < 1 << (32 - PACKED_STOP_BITS)
        };
        let (links, packed) = if footpaths.iter().all(fits) {
            let packed = footpaths
                .iter()
                .map(|footpath| footpath.to.0 | footpath.duration_secs << PACKED_STOP_BITS)
                .collect();
            (Vec::new(), packed)
        } else {
            let links = footpaths
                .iter()
                .map(|footpath| WalkLink { to: footpath.to, duration_secs: footpath.duration_secs })
                .collect();
            (links, Vec::new())
        };
        Self {
            offsets: offsets.to_vec(),
            links,
            packed,
            distances_m: footpaths.iter().map(|footpath| footpath.distance_m).collect(),
            longest_m: footpaths.iter().map(|footpath| footpath.distance_m).max().unwrap_or(0),
        }
    }

    /// Positions of the links of `slot` (a stop; for alighting links, a pattern stop).
    #[inline]
    pub(crate) fn range(&self, slot: usize) -> std::ops::Range<usize> {
        self.offsets[slot] as usize..self.offsets[slot + 1] as usize
    }

    /// How many links there are.
    pub(crate) fn len(&self) -> usize {
        self.distances_m.len()
    }

    #[inline]
    pub(crate) fn unpack(packed: u32) -> WalkLink {
        WalkLink {
            to: StopIdx(packed & ((1 << PACKED_STOP_BITS) - 1)),
            duration_secs: packed >> PACKED_STOP_BITS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn footpath(to: u32, duration_secs: u32) -> Footpath {
        Footpath { to: StopIdx(to), duration_secs, distance_m: duration_secs }
    }

    fn links_of(walk_links: &WalkLinks, stop: u32) -> Vec<(u32, u32)> {
        let range = walk_links.range(stop as usize);
        if walk_links.packed.is_empty() {
            walk_links.links[range].iter().map(|link| (link.to.0, link.duration_secs)).collect()
        } else {
            walk_links.packed[range]
                .iter()
                .map(|&link| WalkLinks::unpack(link))
                .map(|link| (link.to.0, link.duration_secs))
                .collect()
        }
    }

    #[test]
    fn walking_links_read_back_the_same_packed_or_not() {
        let offsets = [0, 2, 3];
        let short = [footpath(1, 60), footpath((1 << 20) - 1, 4095), footpath(0, 900)];
        let packed = WalkLinks::build(&offsets, &short);
        assert!(!packed.packed.is_empty(), "short links and small stop numbers pack");
        assert_eq!(links_of(&packed, 0), [(1, 60), ((1 << 20) - 1, 4095)]);
        assert_eq!(links_of(&packed, 1), [(0, 900)]);
        // A link too long (or a stop number too large) to pack keeps all links at 8 bytes.
        for long in [
            [footpath(1, 60), footpath(2, 4096), footpath(0, 900)],
            [footpath(1, 60), footpath(1 << 20, 120), footpath(0, 900)],
        ] {
            let wide = WalkLinks::build(&offsets, &long);
            assert!(wide.packed.is_empty());
            let expected: Vec<(u32, u32)> =
                long[..2].iter().map(|link| (link.to.0, link.duration_secs)).collect();
            assert_eq!(links_of(&wide, 0), expected);
        }
    }
}
