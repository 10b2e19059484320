//! Page cursors: opaque, URL-safe strings naming the window of a page: departures
//! `[start, start + window)` of a depart-at range, or arrivals `(start, start + window]` of an
//! arrive-by search ([`PageKind`]). Pages are consecutive windows, so "later" continues exactly
//! after this page and "earlier" ends exactly before it: every journey is on exactly one page.
//!
//! A cursor is signed (HMAC-SHA256 with the first of the configured keys; any of them is
//! accepted, so keys can rotate) over the page and a *binding* of the request it belongs to
//! (the places, the options, the snapshot's content hash): a forged cursor, one from another
//! request and one from before a timetable switch are all rejected as `invalid_cursor`. The
//! page read from a cursor is checked against the same limits as `date`, `time` and `window`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Datelike, NaiveDate};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::{Options, Place};
use crate::error::Error;

/// A page: departures from local `time_secs` after midnight of `date`, for `window_secs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub date: NaiveDate,
    pub time_secs: u32,
    pub window_secs: u32,
}

const DAY: u32 = 86_400;

/// What a page's window holds; a cursor keeps it, so paging needs no `arrive_by`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageKind {
    /// Journeys leaving in `[start, start + window)` (depart-at range searches).
    Departures,
    /// Journeys arriving in `(start, start + window]` (arrive-by searches).
    Arrivals,
}

impl Page {
    /// The same window with `time_secs` within `0..86400` (moving the date as needed).
    pub fn normalized(mut self) -> Self {
        while self.time_secs >= DAY {
            let Some(next) = self.date.succ_opt() else { break };
            self.date = next;
            self.time_secs -= DAY;
        }
        self
    }

    /// The page right after this one (`None` if its start does not fit a `u32`).
    pub fn later(self) -> Option<Self> {
        let time_secs = self.time_secs.checked_add(self.window_secs)?;
        Some(Self { time_secs, ..self }.normalized())
    }

    /// The page right before this one.
    pub fn earlier(self) -> Self {
        let mut page = self;
        let mut time = i64::from(page.time_secs) - i64::from(page.window_secs);
        while time < 0 {
            let Some(previous) = page.date.pred_opt() else { break };
            page.date = previous;
            time += i64::from(DAY);
        }
        page.time_secs = u32::try_from(time.max(0)).unwrap_or(0);
        page
    }
}

/// What a cursor is bound to: a digest of the request's places and options and of the
/// snapshot answering it. A cursor only pages the request it was issued for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding([u8; 32]);

impl Binding {
    pub fn new(from: Place, to: Place, options: &Options, snapshot_hash: &str) -> Self {
        let mut digest = Sha256::new();
        let mut field = |name: &str, value: &[u8]| {
            // Length-prefixed, so that no two requests give the same bytes.
            digest.update((name.len() as u64).to_le_bytes());
            digest.update(name.as_bytes());
            digest.update((value.len() as u64).to_le_bytes());
            digest.update(value);
        };
        field("version", b"1");
        field("snapshot", snapshot_hash.as_bytes());
        field("from", &place_bytes(from));
        field("to", &place_bytes(to));
        let Options {
            max_transfers,
            min_transfer_secs,
            max_walk_m,
            wheelchair,
            exclude_routes,
            exclude_agencies,
            exclude_modes,
            via,
            coordinate_radius_m,
        } = options;
        field("max_transfers", &[*max_transfers]);
        field("min_transfer_secs", &min_transfer_secs.to_le_bytes());
        field("max_walk_m", &max_walk_m.to_le_bytes());
        field("wheelchair", &[u8::from(*wheelchair)]);
        let indices = |ids: &mut dyn Iterator<Item = u32>| -> Vec<u8> {
            let mut sorted: Vec<u32> = ids.collect();
            sorted.sort_unstable();
            sorted.dedup();
            sorted.iter().flat_map(|id| id.to_le_bytes()).collect()
        };
        field("exclude_routes", &indices(&mut exclude_routes.iter().map(|route| route.0)));
        field("exclude_agencies", &indices(&mut exclude_agencies.iter().map(|agency| agency.0)));
        let mut modes: Vec<String> = exclude_modes.iter().map(|mode| format!("{mode:?}")).collect();
        modes.sort_unstable();
        modes.dedup();
        field("exclude_modes", modes.join(",").as_bytes());
        field("via", &via.map_or(u64::MAX, |station| u64::from(station.0)).to_le_bytes());
        field("coordinate_radius_m", &coordinate_radius_m.to_le_bytes());
        Self(digest.finalize().into())
    }
}

fn place_bytes(place: Place) -> Vec<u8> {
    match place {
        Place::Station(station) => [&[0u8][..], &station.0.to_le_bytes()].concat(),
        Place::Stop(stop) => [&[1u8][..], &stop.0.to_le_bytes()].concat(),
        Place::Coordinates { lat, lon } => {
            [&[2u8][..], &lat.to_bits().to_le_bytes(), &lon.to_bits().to_le_bytes()].concat()
        }
    }
}

/// The keys cursors are signed with (setting `query.cursor_keys`, env
/// `NORIKAE_QUERY__CURSOR_KEYS`: a list, or one string of comma-separated keys). The first
/// signs; all are accepted. Never printed.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "KeysText", into = "Vec<String>")]
pub struct CursorKeys(Vec<String>);

/// Shortest key accepted (bytes): an HMAC-SHA256 key shorter than the hash guards less.
pub const MIN_CURSOR_KEY_BYTES: usize = 32;

impl CursorKeys {
    pub fn new(keys: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self(keys.into_iter().map(Into::into).collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every key long enough (the error names the setting and the key's position, not the key).
    pub fn validate(&self) -> Result<(), String> {
        for (position, key) in self.0.iter().enumerate() {
            if key.len() < MIN_CURSOR_KEY_BYTES {
                return Err(format!(
                    "query.cursor_keys: key {} is {} bytes; at least {MIN_CURSOR_KEY_BYTES} needed",
                    position + 1,
                    key.len()
                ));
            }
        }
        Ok(())
    }
}

impl fmt::Debug for CursorKeys {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "CursorKeys({} redacted)", self.0.len())
    }
}

impl From<CursorKeys> for Vec<String> {
    fn from(keys: CursorKeys) -> Self {
        keys.0
    }
}

/// A list, or one string of comma-separated keys (what an environment variable gives).
#[derive(Deserialize)]
#[serde(untagged)]
enum KeysText {
    List(Vec<String>),
    Text(String),
}

impl From<KeysText> for CursorKeys {
    fn from(text: KeysText) -> Self {
        let keys = match text {
            KeysText::List(keys) => keys,
            KeysText::Text(text) => text.split(',').map(str::to_owned).collect(),
        };
        Self(
            keys.into_iter()
                .map(|key| key.trim().to_owned())
                .filter(|key| !key.is_empty())
                .collect(),
        )
    }
}

type HmacSha256 = Hmac<Sha256>;

/// Version byte, date (days from the common era), time, window, then the tag.
const PAYLOAD_BYTES: usize = 1 + 4 + 4 + 4;
const TAG_BYTES: usize = 32;
/// The version byte of a departures page (as every cursor issued before arrive-by pages).
const FORMAT_VERSION: u8 = 1;
/// The version byte of an arrivals page.
const ARRIVALS_FORMAT_VERSION: u8 = 2;
/// Longest cursor text looked at (a real one is 60 characters).
const MAX_CURSOR_CHARS: usize = 128;

/// Signs and checks cursors.
#[derive(Clone)]
pub struct CursorSigner {
    keys: Vec<Vec<u8>>,
}

impl fmt::Debug for CursorSigner {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "CursorSigner({} keys)", self.keys.len())
    }
}

impl CursorSigner {
    /// Signs with the configured keys, or, with none, with a random key of this process (its
    /// cursors do not survive a restart nor work on another instance: logged as a warning).
    pub fn new(keys: &CursorKeys) -> Self {
        if keys.is_empty() {
            tracing::warn!(
                "no query.cursor_keys configured: page cursors are signed with a random key of this process and stop working after a restart or on another instance"
            );
            return Self { keys: vec![rand::random::<[u8; 32]>().to_vec()] };
        }
        Self { keys: keys.0.iter().map(|key| key.as_bytes().to_vec()).collect() }
    }

    fn mac(key: &[u8], payload: &[u8], binding: &Binding) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
        mac.update(payload);
        mac.update(&binding.0);
        mac
    }

    /// The cursor of the departures `page` for the request `binding` stands for.
    pub fn encode(&self, page: &Page, binding: &Binding) -> String {
        self.encode_kind(PageKind::Departures, page, binding)
    }

    /// The cursor of `page`, of `kind`, for the request `binding` stands for.
    pub fn encode_kind(&self, kind: PageKind, page: &Page, binding: &Binding) -> String {
        let mut bytes = Vec::with_capacity(PAYLOAD_BYTES + TAG_BYTES);
        bytes.push(match kind {
            PageKind::Departures => FORMAT_VERSION,
            PageKind::Arrivals => ARRIVALS_FORMAT_VERSION,
        });
        bytes.extend_from_slice(&page.date.num_days_from_ce().to_le_bytes());
        bytes.extend_from_slice(&page.time_secs.to_le_bytes());
        bytes.extend_from_slice(&page.window_secs.to_le_bytes());
        let tag = Self::mac(&self.keys[0], &bytes, binding).finalize().into_bytes();
        bytes.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The page of a cursor this service issued for the request `binding` stands for, within
    /// the limits (`max_window_secs`); [`Error::InvalidCursor`] otherwise.
    pub fn decode(
        &self,
        cursor: &str,
        binding: &Binding,
        max_window_secs: u32,
    ) -> Result<Page, Error> {
        self.decode_with_kind(cursor, binding, max_window_secs).map(|(_, page)| page)
    }

    /// [`CursorSigner::decode`], with what the page's window holds.
    pub fn decode_with_kind(
        &self,
        cursor: &str,
        binding: &Binding,
        max_window_secs: u32,
    ) -> Result<(PageKind, Page), Error> {
        let not_issued = Error::InvalidCursor { reason: "not a cursor this service issued" };
        let cursor = cursor.trim();
        if cursor.len() > MAX_CURSOR_CHARS {
            return Err(not_issued);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| Error::InvalidCursor { reason: "not a cursor this service issued" })?;
        let kind = match bytes.first() {
            Some(&FORMAT_VERSION) => PageKind::Departures,
            Some(&ARRIVALS_FORMAT_VERSION) => PageKind::Arrivals,
            _ => return Err(not_issued),
        };
        if bytes.len() != PAYLOAD_BYTES + TAG_BYTES {
            return Err(not_issued);
        }
        let (payload, tag) = bytes.split_at(PAYLOAD_BYTES);
        let signed =
            self.keys.iter().any(|key| Self::mac(key, payload, binding).verify_slice(tag).is_ok());
        if !signed {
            return Err(Error::InvalidCursor {
                reason: "not issued for this request or this timetable (ask again without `cursor`)",
            });
        }
        let word = |at: usize| {
            let mut word = [0u8; 4];
            word.copy_from_slice(&payload[at..at + 4]);
            word
        };
        let date = NaiveDate::from_num_days_from_ce_opt(i32::from_le_bytes(word(1)))
            .ok_or(Error::InvalidCursor { reason: "no such date" })?;
        let page = Page {
            date,
            time_secs: u32::from_le_bytes(word(5)),
            window_secs: u32::from_le_bytes(word(9)),
        };
        // A signed cursor holds what this service issued; the limits hold again all the same
        // (they may have been lowered since, and a leaked key must not lift them).
        if page.window_secs == 0 || page.window_secs > max_window_secs {
            return Err(Error::InvalidCursor { reason: "window outside the limits" });
        }
        if page.time_secs >= DAY {
            return Err(Error::InvalidCursor { reason: "time outside the day" });
        }
        Ok((kind, page))
    }
}

#[cfg(test)]
mod tests {
    use norikae_timetable::StationIdx;
    use proptest::prelude::*;

    use super::*;

    fn binding(station: u32) -> Binding {
        Binding::new(
            Place::Station(StationIdx(station)),
            Place::Station(StationIdx(2)),
            &Options::default(),
            "hash",
        )
    }

    fn signer(key: &str) -> CursorSigner {
        CursorSigner::new(&CursorKeys::new([key]))
    }

    const KEY: &str = "an example cursor key of 32 bytes or more";

    #[test]
    fn pages_chain_without_gaps_across_midnight() {
        let date = NaiveDate::from_ymd_opt(2025, 6, 2).expect("valid date");
        let page = Page { date, time_secs: 23 * 3600, window_secs: 3600 };
        let later = page.later().expect("fits");
        assert_eq!((later.date, later.time_secs), (date.succ_opt().expect("date"), 0));
        assert_eq!(later.earlier(), page);
        assert_eq!(Page { time_secs: u32::MAX, ..page }.later(), None);
    }

    #[test]
    fn cursors_round_trip_for_their_request_only() {
        let date = NaiveDate::from_ymd_opt(2025, 6, 2).expect("valid date");
        let page = Page { date, time_secs: 8 * 3600, window_secs: 3600 };
        let signer = signer(KEY);
        let cursor = signer.encode(&page, &binding(1));
        assert_eq!(signer.decode(&cursor, &binding(1), 6 * 3600).expect("round trip"), page);
        for rejected in [
            signer.decode(&cursor, &binding(3), 6 * 3600),
            signer.decode(&cursor, &binding(1), 1800),
            signer.decode("garbage!", &binding(1), 6 * 3600),
            self::signer("another key, also 32 bytes or longer").decode(
                &cursor,
                &binding(1),
                6 * 3600,
            ),
        ] {
            assert!(matches!(rejected, Err(Error::InvalidCursor { .. })), "{rejected:?}");
        }
        // An arrivals page keeps its kind; the version byte is signed, so it cannot be swapped.
        let arrivals = signer.encode_kind(PageKind::Arrivals, &page, &binding(1));
        assert_eq!(
            signer.decode_with_kind(&arrivals, &binding(1), 6 * 3600).expect("round trip"),
            (PageKind::Arrivals, page)
        );
        let mut swapped = URL_SAFE_NO_PAD.decode(&arrivals).expect("base64");
        swapped[0] = FORMAT_VERSION;
        let swapped = signer.decode(&URL_SAFE_NO_PAD.encode(swapped), &binding(1), 6 * 3600);
        assert!(matches!(swapped, Err(Error::InvalidCursor { .. })), "{swapped:?}");
        // Rotation: a cursor signed with the old key is accepted while that key is listed.
        let rotated =
            CursorSigner::new(&CursorKeys::new(["a new key, also 32 bytes or longer", KEY]));
        assert_eq!(rotated.decode(&cursor, &binding(1), 6 * 3600).expect("old key"), page);
    }

    #[test]
    fn keys_come_as_a_list_or_comma_separated_and_are_never_printed() {
        let keys: CursorKeys = serde_json::from_str("\"first, second\"").expect("text");
        assert_eq!(keys, CursorKeys::new(["first", "second"]));
        let keys: CursorKeys = serde_json::from_str("[\"first\"]").expect("list");
        assert_eq!(keys, CursorKeys::new(["first"]));
        assert!(!format!("{keys:?}").contains("first"));
        assert!(keys.validate().unwrap_err().contains("query.cursor_keys"));
    }

    proptest! {
        #[test]
        fn decoding_any_text_never_panics(text in ".{0,200}") {
            let _ = signer(KEY).decode(&text, &binding(1), 6 * 3600);
        }

        #[test]
        fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = signer(KEY).decode(&URL_SAFE_NO_PAD.encode(bytes), &binding(1), 6 * 3600);
        }
    }
}
