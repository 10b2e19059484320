//! `GET /journeys`: journeys between two places.
//!
//! Parameters: `from`, `to` (station id, stop id, or `lat,lon`); `date` (`YYYY-MM-DD`, local
//! to the network) and `time` (`HH:MM[:SS]`), default now; `arrive_by` (the journeys arriving
//! by the time: those arriving in `(time - window, time]`, [`crate::arrivals`]); `window`
//! (seconds; journeys leaving in `[time, time + window)`, default 3600; `0` asks for the plain
//! depart-at, or arrive-by, Pareto set);
//! `max_transfers`; `min_transfer_secs` (slack added to every transfer); `max_walk_m`;
//! `wheelchair`; `exclude_routes`, `exclude_agencies`, `exclude_modes` (comma-separated ids or
//! modes); `via` (a station id); `cursor` (from `earlier` / `later` of a previous answer:
//! replaces `date`, `time` and `window`); `lang`.

use axum::Json;
use axum::extract::State;
use norikae_runtime::{Problem, Query};
use norikae_timetable::{Mode, Timetable};
use norikae_wire::route as wire;

use super::{parse_date, parse_time, resolve_station};
use crate::cursor::{Binding, CursorSigner, Page, PageKind};
use crate::engine::{Options, Place, Request, SearchKind};
use crate::error::Error;
use crate::render::Render;
use crate::{AppState, QuerySettings};

pub async fn journeys(
    State(state): State<AppState>,
    Query(params): Query<wire::JourneysParams>,
) -> Result<Json<wire::JourneysResponse>, Problem> {
    let settings = state.settings().clone();
    let cursors = state.cursors().clone();
    let overlay = state.realtime().realtime.overlay();
    let response = state
        .query(move |engine, scratch| {
            let tt = &**engine.timetable();
            let sort = params
                .sort
                .as_deref()
                .map(|text| {
                    wire::JourneySort::parse(text).ok_or_else(|| Error::InvalidParameter {
                        field: "sort",
                        reason: format!(
                            "`{text}` is not one of fastest, fewest_transfers, cheapest"
                        ),
                    })
                })
                .transpose()?;
            let day_end = day_end(&params)?;
            let built = build_request(tt, &params, &settings, &cursors)?;
            let render = Render { lang: params.lang.clone() };
            if let Some(day_end) = day_end {
                let request = Request { kind: SearchKind::DepartAt, ..built.request };
                let journey = match day_end {
                    DayEnd::First => engine.first_journey(&request, scratch)?,
                    DayEnd::Last => engine.last_journey(&request, scratch)?,
                };
                let journeys = journey
                    .iter()
                    .map(|journey| crate::render_live::journey(&render, engine, journey, &overlay))
                    .collect();
                return Ok(wire::JourneysResponse {
                    journeys,
                    window: None,
                    earlier: None,
                    later: None,
                });
            }
            let journeys = match (built.page_kind, &built.page) {
                (PageKind::Arrivals, Some(page)) => {
                    crate::arrivals::search(engine, &built.request, page, scratch, &overlay)?
                }
                _ => engine.search_live(&built.request, scratch, &overlay)?,
            };
            let mut journeys: Vec<wire::Journey> = journeys
                .iter()
                .map(|journey| crate::render_live::journey(&render, engine, journey, &overlay))
                .collect();
            if let Some(sort) = sort {
                sort_journeys(&mut journeys, sort);
            }
            let (window, earlier, later) = match built.page {
                Some(page) => {
                    let start = crate::engine::query::local_unix(tt, page.date, page.time_secs);
                    let end = start + i64::from(page.window_secs);
                    let later = page
                        .later()
                        .ok_or(Error::InvalidCursor { reason: "the next page starts too late" })?;
                    let kind = built.page_kind;
                    (
                        Some(wire::Window {
                            start: render.time(tt, start),
                            end: render.time(tt, end),
                        }),
                        Some(cursors.encode_kind(kind, &page.earlier(), &built.binding)),
                        Some(cursors.encode_kind(kind, &later, &built.binding)),
                    )
                }
                None => (None, None, None),
            };
            Ok(wire::JourneysResponse { journeys, window, earlier, later })
        })
        .await?;
    Ok(Json(response))
}

/// 始発 or 終電.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DayEnd {
    First,
    Last,
}

/// Whether `first` or `last` asks for the first or last journey of the day, refusing what
/// does not go with them.
fn day_end(params: &wire::JourneysParams) -> Result<Option<DayEnd>, Error> {
    let day_end = match (params.first.unwrap_or(false), params.last.unwrap_or(false)) {
        (false, false) => return Ok(None),
        (true, true) => {
            return Err(Error::InvalidParameter {
                field: "last",
                reason: "`first` and `last` exclude each other".to_owned(),
            });
        }
        (true, false) => DayEnd::First,
        (false, true) => DayEnd::Last,
    };
    let name = if day_end == DayEnd::First { "first" } else { "last" };
    if params.cursor.is_some() {
        return Err(Error::InvalidParameter {
            field: "cursor",
            reason: format!("`{name}` answers one journey and takes no cursor"),
        });
    }
    if params.arrive_by == Some(true) {
        return Err(Error::InvalidParameter {
            field: "arrive_by",
            reason: format!("`{name}` searches the whole service day; leave out `arrive_by`"),
        });
    }
    Ok(Some(day_end))
}

/// Orders journeys by `sort`, keeping the departure order among equals (a stable sort).
pub fn sort_journeys(journeys: &mut [wire::Journey], sort: wire::JourneySort) {
    match sort {
        wire::JourneySort::Fastest => {
            journeys.sort_by_key(|journey| (journey.duration_secs, journey.transfers));
        }
        wire::JourneySort::FewestTransfers => {
            journeys.sort_by_key(|journey| (journey.transfers, journey.duration_secs));
        }
        wire::JourneySort::Cheapest => {
            // On foot is free; a ride without a fare comes after every priced one.
            let price = |journey: &wire::Journey| match (&journey.fare, journey.vehicles) {
                (Some(fare), _) => fare.total,
                (None, 0) => 0.0,
                (None, _) => f64::INFINITY,
            };
            journeys.sort_by(|a, b| {
                price(a).total_cmp(&price(b)).then(a.duration_secs.cmp(&b.duration_secs))
            });
        }
    }
}

/// What the parameters ask for.
#[derive(Debug)]
pub struct BuiltRequest {
    pub request: Request,
    /// The page (range and arrive-by searches).
    pub page: Option<Page>,
    /// What the page's window holds (departures without a page).
    pub page_kind: PageKind,
    /// What this request's cursors are bound to.
    pub binding: Binding,
}

/// The engine request the parameters ask for, the page (range searches) and the binding of
/// its cursors.
pub fn build_request(
    timetable: &Timetable,
    params: &wire::JourneysParams,
    settings: &QuerySettings,
    cursors: &CursorSigner,
) -> Result<BuiltRequest, Error> {
    let from = parse_place(timetable, params.from.as_deref(), "from")?;
    let to = parse_place(timetable, params.to.as_deref(), "to")?;
    let arrive_by = params.arrive_by.unwrap_or(false);
    let max_transfers = params.max_transfers.unwrap_or(settings.default_max_transfers);
    if max_transfers > settings.max_transfers_limit {
        return Err(Error::InvalidParameter {
            field: "max_transfers",
            reason: format!("at most {}", settings.max_transfers_limit),
        });
    }
    let max_items = settings.max_exclusions;
    let options = Options {
        max_transfers,
        min_transfer_secs: params.min_transfer_secs.unwrap_or(0).min(3_600),
        max_walk_m: params.max_walk_m.unwrap_or(settings.default_max_walk_m),
        wheelchair: params.wheelchair.unwrap_or(false),
        exclude_routes: parse_list(
            params.exclude_routes.as_deref(),
            "exclude_routes",
            max_items,
            |id| timetable.route_by_id(id),
        )?,
        exclude_agencies: parse_list(
            params.exclude_agencies.as_deref(),
            "exclude_agencies",
            max_items,
            |id| timetable.agency_by_id(id),
        )?,
        exclude_modes: parse_list(
            params.exclude_modes.as_deref(),
            "exclude_modes",
            max_items,
            Mode::parse,
        )?,
        via: params.via.as_deref().map(|id| resolve_station(timetable, id, "via")).transpose()?,
        coordinate_radius_m: settings.coordinate_radius_m,
    };
    let binding = Binding::new(from, to, &options, &timetable.meta.content_hash);
    let (date, time_secs, kind, page, page_kind) = if let Some(cursor) = &params.cursor {
        let (page_kind, page) =
            cursors.decode_with_kind(cursor, &binding, settings.max_window_secs)?;
        match page_kind {
            PageKind::Departures => (
                page.date,
                page.time_secs,
                SearchKind::Range { window_secs: page.window_secs },
                Some(page),
                page_kind,
            ),
            // Arrivals by the window's end (the page's searches: `crate::arrivals`).
            PageKind::Arrivals => (
                page.date,
                page.time_secs + page.window_secs,
                SearchKind::ArriveBy,
                Some(page),
                page_kind,
            ),
        }
    } else {
        let date = parse_date(timetable, params.date.as_deref())?;
        let time_secs = parse_time(timetable, params.time.as_deref())?;
        let window = params.window.unwrap_or(settings.default_window_secs);
        if window > settings.max_window_secs {
            return Err(Error::InvalidParameter {
                field: "window",
                reason: format!("at most {} seconds", settings.max_window_secs),
            });
        }
        if arrive_by && window == 0 {
            (date, time_secs, SearchKind::ArriveBy, None, PageKind::Arrivals)
        } else if arrive_by {
            // Arrivals in (time - window, time]: the page starts a window before the time.
            let page = Page { date, time_secs, window_secs: window }.earlier().normalized();
            (date, time_secs, SearchKind::ArriveBy, Some(page), PageKind::Arrivals)
        } else if window == 0 {
            (date, time_secs, SearchKind::DepartAt, None, PageKind::Departures)
        } else {
            let page = Page { date, time_secs, window_secs: window }.normalized();
            (
                page.date,
                page.time_secs,
                SearchKind::Range { window_secs: window },
                Some(page),
                PageKind::Departures,
            )
        }
    };
    let request = Request { from, to, date, time_secs, kind, options };
    Ok(BuiltRequest { request, page, page_kind, binding })
}

/// A station id, a stop id, or `lat,lon`.
fn parse_place(
    timetable: &Timetable,
    text: Option<&str>,
    field: &'static str,
) -> Result<Place, Error> {
    let text =
        text.map(str::trim).filter(|text| !text.is_empty()).ok_or(Error::MissingParameter {
            field,
            expected: "a station id, a stop id or `lat,lon`",
        })?;
    if let Some((lat, lon)) = text.split_once(',')
        && let (Ok(lat), Ok(lon)) = (lat.trim().parse::<f64>(), lon.trim().parse::<f64>())
    {
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
            return Err(Error::InvalidParameter {
                field,
                reason: format!("`{text}` is not a valid `lat,lon`"),
            });
        }
        return Ok(Place::Coordinates { lat, lon });
    }
    if let Some(station) = timetable.station_by_id(text) {
        return Ok(Place::Station(station));
    }
    if let Some(stop) = timetable.stop_by_id(text) {
        return Ok(Place::Stop(stop));
    }
    Err(Error::UnknownStation { id: text.to_owned(), field })
}

/// A comma-separated list, each item resolved, without repeats, at most `max_items` of them.
fn parse_list<T: PartialEq>(
    text: Option<&str>,
    field: &'static str,
    max_items: usize,
    resolve: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, Error> {
    let Some(text) = text else { return Ok(Vec::new()) };
    let mut items = Vec::new();
    for item in text.split(',').map(str::trim).filter(|item| !item.is_empty()) {
        let resolved = resolve(item).ok_or_else(|| Error::InvalidParameter {
            field,
            reason: format!("unknown `{item}`"),
        })?;
        if items.contains(&resolved) {
            continue;
        }
        if items.len() == max_items {
            return Err(Error::InvalidParameter {
                field,
                reason: format!("at most {max_items} items"),
            });
        }
        items.push(resolved);
    }
    Ok(items)
}
