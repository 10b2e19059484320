//! The realtime side of rendering: a journey's rides and a board's departures checked
//! against the current realtime overlay when they are answered (expected times, delays,
//! cancellations, skipped stops, platform changes). A journey found on the timetable's
//! times is re-checked here every time it is rendered, so a delay that came after the
//! search (or a page cursor followed later) shows on its legs.

use norikae_realtime::Overlay;
use norikae_wire::route as wire;

use crate::engine::departures::Departure;
use crate::engine::{Engine, Journey, Leg};
use crate::render::Render;

/// Renders `journey` with its rides' realtime state from `overlay`.
pub fn journey(
    render: &Render,
    engine: &Engine,
    journey: &Journey,
    overlay: &Overlay,
) -> wire::Journey {
    let mut rendered = render.journey(engine, journey);
    let tt = &**engine.timetable();
    let any_added =
        journey.legs.iter().any(|leg| matches!(leg, Leg::Transit { added: Some(_), .. }));
    if !any_added && (!overlay.fits(tt) || overlay.num_trips() == 0) {
        return rendered;
    }
    let rides = journey.legs.iter().filter(|leg| leg.is_transit());
    let wire_rides = rendered.legs.iter_mut().filter_map(|leg| match leg {
        wire::Leg::Transit(ride) => Some(ride),
        wire::Leg::Walk(_) => None,
    });
    for (leg, ride) in rides.zip(wire_rides) {
        let Leg::Transit {
            trip,
            board_position,
            alight_position,
            service_day,
            departure,
            arrival,
            ref added,
            ..
        } = *leg
        else {
            continue;
        };
        if added.is_some() {
            // A trip the feed added: its times are the feed's, with no schedule to be late
            // against (its route's board and the trip page do not know it).
            ride.realtime = Some(wire::LegRealtime {
                expected_departure: render.time(tt, departure),
                expected_arrival: render.time(tt, arrival),
                departure_delay_secs: 0,
                arrival_delay_secs: 0,
                cancelled: false,
                added: true,
                skips_boarding: false,
                skips_alighting: false,
                departure_platform: None,
                arrival_platform: None,
            });
            continue;
        }
        if !overlay.fits(tt) {
            continue;
        }
        let Some(live) = overlay.trip(trip, service_day) else { continue };
        let scheduled = tt.stop_times_of_trip(trip);
        // The leg's times are the ones searched (expected ones when the search had this
        // overlay, the timetable's otherwise): the service day's start places both.
        let day_origin = tt.service_day_start(tt.date_of_day(service_day)).timestamp();
        let (board, alight) = (live.stops.get(board_position), live.stops.get(alight_position));
        let expected_departure = board
            .map_or(day_origin + i64::from(scheduled[board_position].departure), |stop| {
                day_origin + i64::from(stop.departure)
            });
        let expected_arrival = alight
            .map_or(day_origin + i64::from(scheduled[alight_position].arrival), |stop| {
                day_origin + i64::from(stop.arrival)
            });
        ride.realtime = Some(wire::LegRealtime {
            expected_departure: render.time(tt, expected_departure),
            expected_arrival: render.time(tt, expected_arrival),
            departure_delay_secs: live.departure_delay(scheduled, board_position).unwrap_or(0),
            arrival_delay_secs: live.arrival_delay(scheduled, alight_position).unwrap_or(0),
            cancelled: live.cancelled,
            added: false,
            skips_boarding: board.is_some_and(|stop| stop.skipped()),
            skips_alighting: alight.is_some_and(|stop| stop.skipped()),
            departure_platform: live
                .assigned_stop(board_position)
                .map(|stop| render.stop(tt, stop)),
            arrival_platform: live.assigned_stop(alight_position).map(|stop| render.stop(tt, stop)),
        });
    }
    rendered
}

/// A board departure's realtime state (with its timetabled time: `departure`).
pub fn departure(
    render: &Render,
    engine: &Engine,
    departure: &Departure,
) -> Option<wire::DepartureRealtime> {
    let tt = &**engine.timetable();
    let live = departure.realtime?;
    Some(wire::DepartureRealtime {
        expected: render.time(tt, live.expected),
        delay_secs: live.expected - departure.departure,
        cancelled: live.cancelled,
        skipped: live.skipped,
        platform: live.assigned_stop.map(|stop| {
            let data = &tt.stops[stop.idx()];
            data.platform_code.clone().unwrap_or_else(|| render.stop(tt, stop).name)
        }),
    })
}
