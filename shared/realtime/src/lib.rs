//! norikae-realtime: GTFS-Realtime on top of the compiled timetable.
//!
//! A running route service keeps one [`Realtime`]: each GTFS-Realtime message it polls or is
//! pushed (TripUpdates, ServiceAlerts, VehiclePositions; full-dataset or differential) is
//! [decoded](decode::decode) with a size limit, its entities stored per source, and from all
//! sources' live entities an immutable [`Overlay`] is [built](overlay::build) against the
//! timetable: per trip instance (trip + service day) the expected arrival and departure at
//! every stop with delays propagated downstream, cancellations, skipped stops and platform
//! changes; trips added by the feed; alerts resolved to routes, stops and trips. The overlay
//! is swapped in atomically (like the timetable), so queries read one consistent overlay
//! and never wait for an update. Messages that arrive together (a poll round of several
//! sources) are applied as one batch: decoded and built in parallel, merged and swapped
//! once ([`Realtime::apply_batch`]).
//!
//! Bad input never panics and never replaces the last good overlay: a malformed or
//! oversized message is refused whole ([`Error`]); unknown trips and stops are skipped,
//! times going backwards clamped, each counted in [`Counters`].
//!
//! [`sim`] makes feeds from a timetable (random delays with a seed, a cancelled trip, an
//! alert) for tests and the `norikae realtime-sim` demo server.

pub mod alerts;
pub mod decode;
pub mod error;
pub mod live;
pub mod overlay;
pub mod proto;
pub mod sim;
mod store;

pub use alerts::{RealtimeAlert, Translations};
pub use decode::{DEFAULT_MAX_BYTES, decode};
pub use error::Error;
pub use live::{ApplyReport, Counters, Message, Realtime, SourceStatus};
pub use overlay::{AddedTrip, Overlay, OverlayStats, StopRealtime, TripKey, TripRealtime};
