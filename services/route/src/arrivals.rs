//! Arrive-by pages: the journeys arriving in a window `(start, start + window]`, the way a
//! depart-at range page holds those leaving in its window, so that an arrive-by answer pages
//! with `earlier` / `later` cursors too.
//!
//! The engine answers one deadline at a time (the Pareto set of departure and vehicles for
//! arriving by it), so the page is built from a few of those, latest deadline first: the answer
//! for a deadline holds, for every journey arriving between its latest arrival and the
//! deadline, one at least as good on departure, arrival and vehicles; so the next deadline is
//! one second before that latest arrival, until no ride arrives inside the window. The union,
//! reduced to its Pareto set over (departure, arrival, vehicles), is the page. A walk all the
//! way (origin and destination a walk apart) is offered once, arriving at the window's end,
//! with the rides that beat it.

use norikae_timetable::Timetable;

use crate::cursor::Page;
use crate::engine::query::local_unix;
use crate::engine::{Engine, Journey, Request, Scratch, SearchKind};
use crate::error::Error;

/// Most deadlines one page asks for (a page holds about as many rides as it needs deadlines;
/// the query's deadline stops a slow page long before).
const MAX_DEADLINES: usize = 1_000;

/// Unix seconds of the window `(start, end]` of an arrivals `page`.
pub fn window(timetable: &Timetable, page: &Page) -> (i64, i64) {
    let start = local_unix(timetable, page.date, page.time_secs);
    (start, start + i64::from(page.window_secs))
}

/// The journeys of `request` (its places and options) arriving in the arrivals `page`, sorted
/// by departure, then arrival.
pub fn search(
    engine: &Engine,
    request: &Request,
    page: &Page,
    scratch: &mut Scratch,
    overlay: &std::sync::Arc<norikae_realtime::Overlay>,
) -> Result<Vec<Journey>, Error> {
    let (start, end) = window(engine.timetable(), page);
    let mut found: Vec<Journey> = Vec::new();
    let mut walk: Option<Journey> = None;
    // The deadline as seconds after the page's date (it only moves back, never below start).
    let mut deadline_secs = page.time_secs + page.window_secs;
    let mut deadline = end;
    for _ in 0..MAX_DEADLINES {
        let at_deadline = Request {
            date: page.date,
            time_secs: deadline_secs,
            kind: SearchKind::ArriveBy,
            ..request.clone()
        };
        let mut latest_ride_arrival: Option<i64> = None;
        for journey in engine.search_live(&at_deadline, scratch, overlay)? {
            if journey.vehicles() == 0 {
                // The walk arriving at the window's end (the first deadline's) only.
                if deadline == end && walk.is_none() {
                    walk = Some(journey);
                }
                continue;
            }
            if journey.arrival <= start {
                continue;
            }
            latest_ride_arrival = latest_ride_arrival.max(Some(journey.arrival));
            found.push(journey);
        }
        let Some(latest) = latest_ride_arrival else { break };
        let next = latest - 1;
        if next <= start {
            break;
        }
        // `next` is below `deadline` (every arrival is by the deadline) and above start.
        let back = u32::try_from(deadline - next).unwrap_or(u32::MAX);
        deadline_secs = deadline_secs.saturating_sub(back);
        deadline = next;
    }
    found.extend(walk);
    Ok(pareto(found))
}

/// The journeys no other one beats on departure (later), arrival (earlier) and vehicles
/// (fewer), one per equal (departure, arrival, vehicles), by departure then arrival.
fn pareto(mut journeys: Vec<Journey>) -> Vec<Journey> {
    journeys.sort_by_key(|journey| (journey.departure, journey.arrival, journey.vehicles()));
    journeys.dedup_by_key(|journey| (journey.departure, journey.arrival, journey.vehicles()));
    let kept: Vec<bool> = journeys
        .iter()
        .enumerate()
        .map(|(index, journey)| {
            !journeys
                .iter()
                .enumerate()
                .any(|(other, rival)| other != index && rival.weakly_dominates(journey))
        })
        .collect();
    journeys.into_iter().zip(kept).filter_map(|(journey, kept)| kept.then_some(journey)).collect()
}
