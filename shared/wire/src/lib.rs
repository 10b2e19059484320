//! norikae-wire: every JSON type that crosses a service boundary, in one crate that the
//! serving and the consuming service both depend on, so no service links another's crate
//! to speak to it (the services are separate processes that talk HTTP in production).
//!
//! - [`route`]: what the route engine serves (`/journeys`, `/stations/{id}/departures`,
//!   `/status`) and the api reads.
//! - [`search`]: what the search engine serves (`/stations`, `/stations/nearby`,
//!   `/stations/{id}`) and the api passes through to `/v1` unchanged.
//! - [`v1`]: the public `/v1` shapes the api builds from the engines' answers (journeys and
//!   departure boards with their alerts, the status) and the app reads.
//! - [`lang`]: language tags and the one rule every service matches them by.
//! - [`polyline`]: the encoded-polyline format of the `geometry` members.
//! - [`ProblemBody`]: the `application/problem+json` body of every error answer.
//!
//! Plain data (`Serialize + Deserialize`, `utoipa::ToSchema` for the api's OpenAPI document),
//! no behaviour beyond small derived values, with two exceptions that are part of the wire
//! formats themselves: [`lang`] (how a `lang=` or `Accept-Language` tag picks among the
//! texts' language keys, which every service must do alike, and which the timetable crate
//! uses for the same reason) and [`polyline`] (the encoding of the `geometry` strings). A
//! type lives here once: where the api's public shape differs from an engine's (members
//! added, renamed), both are here, each documented.

pub mod lang;
pub mod polyline;
pub mod route;
pub mod search;
pub mod v1;

mod problem;

pub use problem::{PROBLEM_CODES, ProblemBody};
