//! `GET /trips/{id}?date=&lang=`: one run of a trip on a service date, every stop with its
//! times, platform and boarding rules, the route, the headsign and the geometry of the whole
//! run (what a journey leg's or a departure's `trip_id` and `service_date` call).

use axum::Json;
use axum::extract::State;
use norikae_runtime::{Path, Problem, Query};
use norikae_timetable::{Accessibility, Timetable, TripIdx};
use norikae_wire::polyline;
use norikae_wire::route as wire;

use super::parse_date;
use crate::AppState;
use crate::engine::Engine;
use crate::error::Error;
use crate::render::Render;

pub async fn trip(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<wire::TripParams>,
) -> Result<Json<wire::TripResponse>, Problem> {
    let response = state
        .query(move |engine, _scratch| {
            let tt = &**engine.timetable();
            let trip = resolve_trip(tt, &id)?;
            let date = parse_date(tt, params.date.as_deref())?;
            let runs = tt.day_index(date).is_some_and(|day| tt.trip_runs(trip, day));
            if !runs {
                return Err(Error::TripNotRunning {
                    id,
                    date,
                    first: tt.meta.first_date,
                    last: tt.date_of_day(tt.meta.num_days.saturating_sub(1)),
                });
            }
            Ok(render_trip(engine, &Render { lang: params.lang }, trip, date))
        })
        .await?;
    Ok(Json(response))
}

/// The trip with `id` (`FEED:trip_id`): 400 for what cannot be a trip id, 404 for one the
/// timetable does not have.
fn resolve_trip(tt: &Timetable, id: &str) -> Result<TripIdx, Error> {
    let well_formed = id.split_once(':').is_some_and(|(feed, trip)| {
        !feed.is_empty() && !trip.is_empty() && !id.chars().any(char::is_control)
    });
    if !well_formed {
        return Err(Error::InvalidParameter {
            field: "id",
            reason: format!("`{id}` is not a trip id like FEED:TRIP_ID"),
        });
    }
    tt.trip_by_id(id).ok_or_else(|| Error::UnknownTrip { id: id.to_owned() })
}

fn render_trip(
    engine: &Engine,
    render: &Render,
    trip: TripIdx,
    date: chrono::NaiveDate,
) -> wire::TripResponse {
    let tt = &**engine.timetable();
    let data = &tt.trips[trip.idx()];
    let day_start = tt.service_day_start(date).timestamp();
    let stops = tt.pattern_stops(data.pattern);
    let rules = tt.pattern_stop_rules(data.pattern);
    let times = tt.stop_times_of_trip(trip);
    let last = stops.len() - 1;
    let trip_stops = stops
        .iter()
        .zip(rules)
        .zip(times)
        .enumerate()
        .map(|(position, ((&stop, rule), time))| wire::TripStop {
            stop: render.stop(tt, stop),
            station_name: render.text(&tt.stations[tt.stops[stop.idx()].station.idx()].name),
            arrival: (position != 0).then(|| render.time(tt, day_start + i64::from(time.arrival))),
            departure: (position != last)
                .then(|| render.time(tt, day_start + i64::from(time.departure))),
            pickup: rule.pickup(),
            drop_off: rule.drop_off(),
        })
        .collect();
    wire::TripResponse {
        trip_id: data.id.clone(),
        service_date: date.to_string(),
        route: render.route(tt, data.route),
        headsign: render.headsign(engine, trip),
        short_name: data.short_name.clone(),
        direction_id: data.direction_id,
        wheelchair: match data.wheelchair_accessible {
            Accessibility::Accessible => "accessible",
            Accessibility::NotAccessible => "not_accessible",
            Accessibility::Unknown => "unknown",
        }
        .to_owned(),
        stops: trip_stops,
        geometry: polyline::encode(&tt.trip_path(trip, 0, last)),
    }
}
