//! `GET /stations/{id}/timetable?route=&direction=&date=&lang=`: a line's departures from a
//! station over one service day (時刻表), by hour, with markers for other headsigns.

use axum::Json;
use axum::extract::State;
use norikae_runtime::{Path, Problem, Query};
use norikae_wire::route as wire;

use super::{parse_date, resolve_route, resolve_station};
use crate::AppState;
use crate::engine::service_kind::ServiceKind;
use crate::error::Error;
use crate::render::Render;

/// Letters for headsigns whose first character another variant shares.
const FALLBACK_MARKERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

pub async fn timetable(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<wire::TimetableParams>,
) -> Result<Json<wire::TimetableResponse>, Problem> {
    let response = state
        .query(move |engine, _scratch| {
            let tt = &**engine.timetable();
            let station = resolve_station(tt, &id, "id")?;
            let route_id = params.route.as_deref().map(str::trim).filter(|id| !id.is_empty());
            let route_id = route_id.ok_or(Error::MissingParameter {
                field: "route",
                expected: "a line id like fukuoka:空港線",
            })?;
            let route = resolve_route(tt, route_id, "route")?;
            let date = parse_date(tt, params.date.as_deref())?;
            let timetable = engine.station_timetable(station, route, params.direction, date)?;
            let render = Render { lang: params.lang };

            let headsigns: Vec<String> = timetable
                .departures
                .iter()
                .map(|departure| render.headsign(engine, departure.trip))
                .collect();
            let (main, markers) = markers(&headsigns);
            let mut hours: Vec<wire::TimetableHour> = Vec::new();
            for (departure, headsign) in timetable.departures.iter().zip(headsigns) {
                let hour = departure.secs / 3600;
                let entry = wire::TimetableEntry {
                    minute: departure.secs % 3600 / 60,
                    marker: markers
                        .iter()
                        .find(|marker| marker.headsign == headsign)
                        .map(|marker| marker.marker.clone()),
                    headsign,
                    trip_id: tt.trips[departure.trip.idx()].id.clone(),
                    departure: render.time(tt, departure.unix),
                    platform: tt.stops[departure.stop.idx()].platform_code.clone(),
                };
                match hours.last_mut() {
                    Some(row) if row.hour == hour => row.departures.push(entry),
                    _ => hours.push(wire::TimetableHour { hour, departures: vec![entry] }),
                }
            }
            let station_data = &tt.stations[station.idx()];
            Ok(wire::TimetableResponse {
                station_id: station_data.id.clone(),
                station_name: match &render.lang {
                    Some(lang) => station_data.name.get(lang).to_owned(),
                    None => station_data.name.default.clone(),
                },
                route: render.route(tt, route),
                direction_id: timetable.direction_id,
                date: date.to_string(),
                service_day: match timetable.service {
                    ServiceKind::Weekday => wire::ServiceDayKind::Weekday,
                    ServiceKind::Saturday => wire::ServiceDayKind::Saturday,
                    ServiceKind::Holiday => wire::ServiceDayKind::Holiday,
                    ServiceKind::SaturdayAndHoliday => wire::ServiceDayKind::SaturdayAndHoliday,
                },
                holiday_name: timetable.holiday_name.map(str::to_owned),
                headsign: main,
                markers,
                hours,
                departures: u32::try_from(timetable.departures.len()).unwrap_or(u32::MAX),
            })
        })
        .await?;
    Ok(Json(response))
}

/// The headsign most departures show, and a marker for each other one (in order of first
/// appearance): its first character where no other variant starts with it, else a letter.
fn markers(headsigns: &[String]) -> (String, Vec<wire::TimetableMarker>) {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for headsign in headsigns {
        match counts.iter_mut().find(|(seen, _)| *seen == headsign.as_str()) {
            Some((_, count)) => *count += 1,
            None => counts.push((headsign.as_str(), 1)),
        }
    }
    // The most frequent; of equals, the first seen.
    let mut main: Option<(&str, usize)> = None;
    for &(headsign, count) in &counts {
        if main.is_none_or(|(_, best)| count > best) {
            main = Some((headsign, count));
        }
    }
    let main = main.map(|(headsign, _)| headsign.to_owned()).unwrap_or_default();
    let variants: Vec<&str> = counts
        .iter()
        .map(|(headsign, _)| *headsign)
        .filter(|headsign| *headsign != main.as_str())
        .collect();
    let initial_of = |text: &str| text.chars().next();
    let mut letters = FALLBACK_MARKERS.chars();
    let mut markers: Vec<wire::TimetableMarker> = Vec::new();
    for &variant in &variants {
        let initial = initial_of(variant);
        let shared = variants
            .iter()
            .copied()
            .chain(std::iter::once(main.as_str()))
            .any(|other| other != variant && initial_of(other) == initial);
        let marker = match initial {
            Some(initial) if !shared => initial.to_string(),
            _ => letters.next().map_or_else(|| "*".to_owned(), |letter| letter.to_string()),
        };
        markers.push(wire::TimetableMarker { marker, headsign: variant.to_owned() });
    }
    (main, markers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_main_headsign_has_no_marker_and_others_their_initial_or_a_letter() {
        let headsigns: Vec<String> =
            ["福岡空港", "福岡空港", "博多", "福岡空港", "福岡空港駅前", "姪浜"]
                .into_iter()
                .map(str::to_owned)
                .collect();
        let (main, markers) = markers(&headsigns);
        assert_eq!(main, "福岡空港");
        let pairs: Vec<(&str, &str)> = markers
            .iter()
            .map(|marker| (marker.headsign.as_str(), marker.marker.as_str()))
            .collect();
        assert_eq!(pairs, [("博多", "博"), ("福岡空港駅前", "A"), ("姪浜", "姪")]);
        assert_eq!(super::markers(&[]), (String::new(), Vec::new()));
    }
}
