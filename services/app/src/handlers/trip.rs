//! `GET /trips/{id}?date=&from=&to=`: one run of a trip, every stop with its times and
//! platform, the ride between the stations `from` and `to` (a journey leg's) marked, and the
//! alerts on it. Journey results link each ride here.

use axum::extract::{Path, RawQuery, State};
use chrono::NaiveDate;
use http::StatusCode;
use serde::Serialize;

use super::{NETWORK_TZ, Ui, query_pairs};
use crate::AppState;
use crate::errors::ErrorView;
use crate::render::Page;
use crate::view::{AlertView, LineView, clock, days_after};

#[derive(Serialize)]
struct TripPage {
    title: String,
    line: LineView,
    headsign: Option<String>,
    runs_on: String,
    stops: Vec<TripStopView>,
    alerts: Vec<AlertView>,
}

#[derive(Serialize)]
struct TripStopView {
    name: String,
    station_id: String,
    platform: Option<String>,
    arrival: Option<String>,
    departure: Option<String>,
    /// The time is on the day after the service date.
    next_day: bool,
    pickup: bool,
    drop_off: bool,
    /// Between the boarding and the alighting station of the journey that linked here.
    ridden: bool,
}

pub async fn trip(
    ui: Ui,
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Page {
    let lang = ui.lang;
    let api = ui.api(&state);
    let pairs = query_pairs(query.as_deref().unwrap_or_default());
    let param = |name: &str| super::last_value(&pairs, name);
    let date = param("date")
        .unwrap_or_else(|| chrono::Utc::now().with_timezone(&NETWORK_TZ).date_naive().to_string());
    let run = match api.trip(&id, &date, lang.code()).await {
        Ok(run) => run,
        Err(error) => return ui.error_page(&state, &ErrorView::from_api(&error, lang, &[], &date)),
    };
    let trip = &run.trip;
    let service_date = NaiveDate::parse_from_str(&trip.service_date, "%Y-%m-%d").ok();
    let (from, to) = (param("from"), param("to"));
    let boarding = from.as_ref().and_then(|from| {
        trip.stops.iter().position(|stop| stop.stop.station_id == *from && stop.pickup)
    });
    let alighting = to.as_ref().and_then(|to| {
        let after = boarding.map_or(0, |boarding| boarding + 1);
        trip.stops
            .iter()
            .skip(after)
            .position(|stop| stop.stop.station_id == *to && stop.drop_off)
            .map(|position| position + after)
    });
    let stops = trip
        .stops
        .iter()
        .enumerate()
        .map(|(position, stop)| {
            let time = stop.departure.as_deref().or(stop.arrival.as_deref()).unwrap_or_default();
            let departure = stop.departure.as_deref().map(clock);
            // A stop the vehicle leaves the minute it arrives shows one time.
            let arrival = stop.arrival.as_deref().map(clock).filter(|arrival| {
                departure.as_ref().is_none_or(|departure| departure != arrival)
            });
            TripStopView {
                name: stop.stop.name.clone(),
                station_id: stop.stop.station_id.clone(),
                platform: stop.stop.platform.clone().filter(|platform| !platform.trim().is_empty()),
                arrival,
                departure,
                next_day: service_date.is_some_and(|date| days_after(time, date) > 0),
                pickup: stop.pickup,
                drop_off: stop.drop_off,
                ridden: matches!((boarding, alighting), (Some(first), Some(last)) if (first..=last).contains(&position)),
            }
        })
        .collect();
    let line = LineView::new(&trip.route, lang);
    let headsign = trip.headsign.trim();
    let headsign = (!headsign.is_empty()).then(|| lang.fill("headsign", &[("headsign", headsign)]));
    let page = TripPage {
        title: match &headsign {
            Some(headsign) => format!("{} {headsign}", line.name),
            None => line.name.clone(),
        },
        line,
        headsign,
        runs_on: lang.fill("trip_date", &[("date", &trip.service_date)]),
        stops,
        alerts: AlertView::list(&run.alerts),
    };
    ui.page(&state, StatusCode::OK, "trip.html", &page)
}
