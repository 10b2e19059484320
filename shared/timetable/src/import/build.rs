//! Merging parsed feeds into one compiled [`Timetable`]: namespaced ids, shared stops,
//! service bitsets, trips with interpolated times, non-overtaking trip patterns, stations and
//! the stop → pattern index. Walking links are built by [`super::walking`].

use chrono::{Datelike, NaiveDate};
use rustc_hash::FxHashMap;

use super::Progress;
use super::parse::{NO_TIME, RawFeed, RawStopTime, Translations};
use super::shapes::{MAX_STOP_OFFSET_M, ShapeStore};
use crate::error::{Error, Result};
use crate::geo::distance_m;
use crate::index::IdIndex;
use crate::model::*;
use crate::warnings::Warnings;

/// Bitsets cover at most this many days; calendars running further are cut (with a warning).
const MAX_DAYS: i64 = 10 * 366;

/// Marks a stop a feed names but nobody defines.
const NO_STOP: StopIdx = StopIdx(u32::MAX);

/// Stops of different feeds with the same id closer than this are one stop.
const SHARED_STOP_TOLERANCE_M: f64 = 5.0;

fn localized(
    translations: &Translations,
    table: &str,
    field: &str,
    record_id: &str,
    text: &str,
) -> LocalizedText {
    LocalizedText {
        default: text.to_owned(),
        translations: translations.lookup(table, field, record_id, text),
    }
}

fn reading_of(text: &LocalizedText) -> Option<String> {
    text.translations
        .iter()
        .find(|(lang, _)| {
            lang.eq_ignore_ascii_case("ja-Hrkt") || lang.eq_ignore_ascii_case("ja-Kana")
        })
        .map(|(_, reading)| reading.clone())
}

/// A trip with its stop times, before patterns are formed.
struct TripDraft {
    trip: Trip,
    /// Range into the flat stop/rule/time arrays.
    start: u32,
    len: u32,
    /// Index into the shape cuts, or [`NO_SHAPE_CUT`].
    shape_cut: u32,
}

struct Flat {
    stops: Vec<StopIdx>,
    rules: Vec<StopRules>,
    times: Vec<StopTime>,
    drafts: Vec<TripDraft>,
}

impl Flat {
    fn stops_of(&self, draft: &TripDraft) -> &[StopIdx] {
        &self.stops[draft.start as usize..(draft.start + draft.len) as usize]
    }

    fn rules_of(&self, draft: &TripDraft) -> &[StopRules] {
        &self.rules[draft.start as usize..(draft.start + draft.len) as usize]
    }
}

/// The parts of a timetable before walking links.
pub(crate) struct Built {
    pub timetable: Timetable,
    /// Per feed: local stop position → merged stop.
    pub stop_maps: Vec<Vec<StopIdx>>,
    /// The parsed feeds, their stop times dropped.
    pub feeds: Vec<RawFeed>,
}

pub(crate) fn build(
    mut feeds: Vec<RawFeed>,
    walking: WalkingSettings,
    progress: &dyn Progress,
    warnings: &mut Warnings,
) -> Result<Built> {
    let (agencies, agency_maps, tz) = build_agencies(&feeds)?;
    let (mut stops, stop_maps) = build_stops(&feeds, warnings);
    let (routes, route_maps) = build_routes(&feeds, &agency_maps, &agencies, warnings);
    let services = build_services(&feeds, warnings)?;

    let bar = progress.start("trips", feeds.iter().map(|feed| feed.trips.len() as u64).sum());
    let mut flat =
        Flat { stops: Vec::new(), rules: Vec::new(), times: Vec::new(), drafts: Vec::new() };
    let mut feed_counts = Vec::with_capacity(feeds.len());
    let mut shapes = ShapeStore::new();
    for (feed_position, feed) in feeds.iter_mut().enumerate() {
        shapes.start_feed(feed);
        let trips_before = flat.drafts.len();
        let times_before = flat.times.len();
        build_trips(
            feed,
            &stop_maps[feed_position],
            &route_maps[feed_position],
            services.base[feed_position],
            &stops,
            &mut flat,
            &mut shapes,
            warnings,
        );
        feed.stop_times = Vec::new();
        feed.shape_points = Vec::new();
        bar.set_position(flat.drafts.len() as u64);
        feed_counts.push(FeedCounts {
            agencies: feed.agencies.len() as u32,
            stops: feed.stops.len() as u32,
            routes: feed.routes.len() as u32,
            trips: (flat.drafts.len() - trips_before) as u32,
            stop_times: (flat.times.len() - times_before) as u64,
        });
        warnings.merge(std::mem::take(&mut feed.warnings));
    }
    bar.finish();
    if flat.drafts.is_empty() {
        return Err(Error::NothingToRoute {
            reason: "no trip has two or more usable stop times".to_owned(),
        });
    }

    let bar = progress.start("patterns", flat.drafts.len() as u64);
    let patterns = build_patterns(flat);
    bar.finish();

    let stop_pattern_index =
        build_stop_pattern_index(stops.len(), &patterns.patterns, &patterns.pattern_stops);
    let stations = build_stations(&mut stops, &routes, &patterns, &services, walking);

    let feeds_out = feeds
        .iter()
        .enumerate()
        .map(|(position, feed)| {
            let (first_date, last_date) = services.feed_range[position];
            Feed {
                name: feed.name.clone(),
                source: feed.source.clone(),
                publisher_name: feed.info.publisher_name.clone(),
                publisher_url: feed.info.publisher_url.clone(),
                version: feed.info.version.clone(),
                lang: feed.info.lang.clone(),
                first_date,
                last_date,
                counts: feed_counts[position].clone(),
            }
        })
        .collect();
    let fares = build_fares(&feeds, &agency_maps, &route_maps);
    let num_stops = stops.len();
    let trip_services: Vec<ServiceIdx> = patterns.trips.iter().map(|trip| trip.service).collect();
    let mut timetable = Timetable {
        meta: Meta {
            format_version: FORMAT_VERSION,
            content_hash: String::new(),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            timezone: tz.name().to_owned(),
            first_date: services.first_date,
            num_days: services.num_days,
            walking,
            warnings: Vec::new(),
        },
        feeds: feeds_out,
        agencies,
        stops,
        stations,
        routes,
        patterns: patterns.patterns,
        trips: patterns.trips,
        fares,
        pattern_stops: patterns.pattern_stops.into(),
        pattern_stop_rules: patterns.pattern_stop_rules.into(),
        stop_times: patterns.stop_times.into(),
        trip_services: trip_services.into(),
        service_days: services.bits.into(),
        service_words: services.words,
        stop_pattern_offsets: stop_pattern_index.0.into(),
        patterns_at_stop: stop_pattern_index.1.into(),
        footpath_offsets: vec![0u32; num_stops + 1].into(),
        footpaths: Vec::new().into(),
        min_transfer_secs: vec![walking.default_min_transfer_secs; num_stops].into(),
        transfer_rules: Vec::new(),
        shape_offsets: shapes.offsets.into(),
        shape_points: shapes.points.into(),
        trip_shape_cuts: patterns.trip_shape_cuts.into(),
        shape_cuts: shapes.cuts.into(),
        stop_segments: shapes.stop_segments.into(),
        tz,
        index: IdIndex::default(),
    };
    timetable.index = IdIndex::build(&timetable);
    Ok(Built { timetable, stop_maps, feeds })
}

type AgencyMaps = Vec<FxHashMap<String, AgencyIdx>>;

fn build_agencies(feeds: &[RawFeed]) -> Result<(Vec<Agency>, AgencyMaps, chrono_tz::Tz)> {
    let mut agencies: Vec<Agency> = Vec::new();
    let mut maps = Vec::with_capacity(feeds.len());
    let mut zone: Option<(chrono_tz::Tz, String, String)> = None;
    for (feed_position, feed) in feeds.iter().enumerate() {
        let mut map = FxHashMap::default();
        for agency in &feed.agencies {
            let id = format!("{}:{}", feed.name, agency.id);
            let parsed: chrono_tz::Tz = agency.timezone.parse().map_err(|_| {
                Error::UnknownTimezone { agency: id.clone(), timezone: agency.timezone.clone() }
            })?;
            match &zone {
                None => zone = Some((parsed, agency.timezone.clone(), id.clone())),
                Some((first, first_name, first_agency)) if *first != parsed => {
                    return Err(Error::TimezoneMismatch {
                        first_agency: first_agency.clone(),
                        first: first_name.clone(),
                        second_agency: id,
                        second: agency.timezone.clone(),
                    });
                }
                Some(_) => {}
            }
            map.insert(agency.id.clone(), AgencyIdx::from(agencies.len()));
            agencies.push(Agency {
                name: localized(
                    &feed.translations,
                    "agency",
                    "agency_name",
                    &agency.id,
                    &agency.name,
                ),
                id,
                feed: FeedIdx::from(feed_position),
                url: agency.url.clone(),
                timezone: agency.timezone.clone(),
                lang: agency.lang.clone(),
                phone: agency.phone.clone(),
                fare_url: agency.fare_url.clone(),
            });
        }
        maps.push(map);
    }
    let (tz, _, _) = zone.ok_or(Error::NothingToRoute { reason: "no agency".to_owned() })?;
    Ok((agencies, maps, tz))
}

fn build_stops(feeds: &[RawFeed], warnings: &mut Warnings) -> (Vec<Stop>, Vec<Vec<StopIdx>>) {
    let mut stops: Vec<Stop> = Vec::new();
    let mut maps = Vec::with_capacity(feeds.len());
    // Raw stop id → merged stops that have it (for stops shared between feeds).
    let mut by_raw_id: FxHashMap<&str, Vec<StopIdx>> = FxHashMap::default();
    for (feed_position, feed) in feeds.iter().enumerate() {
        let feed_idx = FeedIdx::from(feed_position);
        let mut map = Vec::with_capacity(feed.stops.len());
        for raw in &feed.stops {
            let zone = raw.zone_id.as_ref().map(|zone| format!("{}:{zone}", feed.name));
            let shared = by_raw_id.get(raw.id.as_str()).and_then(|candidates| {
                candidates.iter().copied().find(|candidate| {
                    let stop = &stops[candidate.idx()];
                    stop.location_type == raw.location_type
                        && !stop.feeds.contains(&feed_idx)
                        && distance_m(stop.lat, stop.lon, raw.lat, raw.lon)
                            <= SHARED_STOP_TOLERANCE_M
                })
            });
            if let Some(existing) = shared {
                let stop = &mut stops[existing.idx()];
                stop.aliases.push(format!("{}:{}", feed.name, raw.id));
                stop.feeds.push(feed_idx);
                if let Some(zone) = zone {
                    stop.zone_ids.push(zone);
                }
                map.push(existing);
                continue;
            }
            let stop_idx = StopIdx::from(stops.len());
            by_raw_id.entry(raw.id.as_str()).or_default().push(stop_idx);
            let name = localized(&feed.translations, "stops", "stop_name", &raw.id, &raw.name);
            stops.push(Stop {
                id: format!("{}:{}", feed.name, raw.id),
                aliases: Vec::new(),
                code: raw.code.clone(),
                reading: reading_of(&name),
                name,
                lat: raw.lat,
                lon: raw.lon,
                location_type: raw.location_type,
                parent: None,
                station: StationIdx(u32::MAX),
                platform_code: raw.platform_code.clone(),
                wheelchair_boarding: raw.wheelchair_boarding,
                zone_ids: zone.into_iter().collect(),
                feeds: vec![feed_idx],
            });
            map.push(stop_idx);
        }
        for missing in &feed.missing_stop_ids {
            // Another feed's stop with this id (the Okayama feeds share one id space).
            let found =
                by_raw_id.get(missing.as_str()).and_then(|candidates| candidates.first().copied());
            match found {
                Some(stop) => {
                    warnings.add("stop_from_other_feed", || {
                        format!(
                            "{}/stop_times.txt: stop {missing:?} is not in its stops.txt; using {}",
                            feed.name,
                            stops[stop.idx()].id
                        )
                    });
                    map.push(stop);
                }
                None => {
                    warnings.add("unknown_stop", || {
                        format!(
                            "{}/stop_times.txt: unknown stop {missing:?}; its stop times skipped",
                            feed.name
                        )
                    });
                    map.push(NO_STOP);
                }
            }
        }
        for (local, raw) in feed.stops.iter().enumerate() {
            let Some(parent_id) = &raw.parent_id else { continue };
            match feed.stop_ids.get(parent_id) {
                Some(&parent_local) if (parent_local as usize) < feed.stops.len() && parent_local as usize != local => {
                    let child = map[local];
                    if stops[child.idx()].parent.is_none() {
                        stops[child.idx()].parent = Some(map[parent_local as usize]);
                    }
                }
                _ => warnings.add("unknown_parent_station", || {
                    format!("{}/stops.txt: stop {:?}: parent_station {parent_id:?} is not another stop; ignored", feed.name, raw.id)
                }),
            }
        }
        maps.push(map);
    }
    (stops, maps)
}

type RouteMaps = Vec<Vec<RouteIdx>>;

fn build_routes(
    feeds: &[RawFeed],
    agency_maps: &AgencyMaps,
    agencies: &[Agency],
    warnings: &mut Warnings,
) -> (Vec<Route>, RouteMaps) {
    let mut routes = Vec::new();
    let mut maps = Vec::with_capacity(feeds.len());
    for (feed_position, feed) in feeds.iter().enumerate() {
        let first_agency = agencies
            .iter()
            .position(|agency| agency.feed.idx() == feed_position)
            .map(AgencyIdx::from);
        let mut map = Vec::with_capacity(feed.routes.len());
        for raw in &feed.routes {
            let agency = match &raw.agency_id {
                Some(agency_id) => agency_maps[feed_position].get(agency_id).copied().or_else(|| {
                    warnings.add("unknown_agency", || {
                        format!("{}/routes.txt: route {:?}: unknown agency_id {agency_id:?}; first agency used", feed.name, raw.id)
                    });
                    first_agency
                }),
                None => {
                    if feed.agencies.len() > 1 {
                        warnings.add("unknown_agency", || {
                            format!("{}/routes.txt: route {:?}: agency_id empty in a feed with several agencies; first agency used", feed.name, raw.id)
                        });
                    }
                    first_agency
                }
            };
            map.push(RouteIdx::from(routes.len()));
            routes.push(Route {
                id: format!("{}:{}", feed.name, raw.id),
                agency: agency.unwrap_or_default(),
                short_name: localized(
                    &feed.translations,
                    "routes",
                    "route_short_name",
                    &raw.id,
                    &raw.short_name,
                ),
                long_name: localized(
                    &feed.translations,
                    "routes",
                    "route_long_name",
                    &raw.id,
                    &raw.long_name,
                ),
                desc: raw.desc.clone(),
                route_type: raw.route_type,
                mode: Mode::from_route_type(raw.route_type),
                color: raw.color.clone(),
                text_color: raw.text_color.clone(),
                url: raw.url.clone(),
            });
        }
        maps.push(map);
    }
    (routes, maps)
}

pub(crate) struct Services {
    pub first_date: NaiveDate,
    pub num_days: u32,
    pub words: u32,
    pub bits: Vec<u64>,
    /// Per feed: global index of its first service.
    pub base: Vec<u32>,
    pub feed_range: Vec<(NaiveDate, NaiveDate)>,
}

fn build_services(feeds: &[RawFeed], warnings: &mut Warnings) -> Result<Services> {
    let dates = feeds.iter().flat_map(|feed| {
        feed.calendars.iter().flat_map(|calendar| [calendar.start, calendar.end]).chain(
            feed.calendar_dates.iter().filter(|(_, _, added)| *added).map(|(_, date, _)| *date),
        )
    });
    let (Some(first_date), Some(mut last_date)) = (dates.clone().min(), dates.max()) else {
        return Err(Error::NothingToRoute {
            reason: "no service runs on any day (calendar files are empty)".to_owned(),
        });
    };
    if (last_date - first_date).num_days() >= MAX_DAYS {
        let cut = first_date + chrono::Days::new(MAX_DAYS as u64 - 1);
        warnings.add("calendar_truncated", || {
            format!("services run from {first_date} to {last_date}; days after {cut} are dropped")
        });
        last_date = cut;
    }
    let num_days = (last_date - first_date).num_days() as u32 + 1;
    let words = num_days.div_ceil(64);
    let total_services: usize = feeds.iter().map(|feed| feed.services.len()).sum();
    let mut bits = vec![0u64; total_services * words as usize];
    let mut base = Vec::with_capacity(feeds.len());
    let mut feed_range = Vec::with_capacity(feeds.len());
    let mut next_base = 0u32;
    let day_of = |date: NaiveDate| -> Option<usize> {
        let day = (date - first_date).num_days();
        (0..i64::from(num_days)).contains(&day).then_some(day as usize)
    };
    for feed in feeds {
        base.push(next_base);
        for calendar in &feed.calendars {
            let service = (next_base + calendar.service) as usize;
            let mut date = calendar.start.max(first_date);
            while date <= calendar.end.min(last_date) {
                if calendar.weekdays[date.weekday().num_days_from_monday() as usize]
                    && let Some(day) = day_of(date)
                {
                    bits[service * words as usize + day / 64] |= 1 << (day % 64);
                }
                date = date.succ_opt().unwrap_or(date);
                if date == NaiveDate::MAX {
                    break;
                }
            }
        }
        for &(service, date, added) in &feed.calendar_dates {
            let Some(day) = day_of(date) else { continue };
            let word = &mut bits[(next_base + service) as usize * words as usize + day / 64];
            if added {
                *word |= 1 << (day % 64);
            } else {
                *word &= !(1 << (day % 64));
            }
        }
        for (union, parts) in &feed.service_unions {
            for word in 0..words as usize {
                let combined = parts.iter().fold(0u64, |acc, part| {
                    acc | bits[(next_base + part) as usize * words as usize + word]
                });
                bits[(next_base + union) as usize * words as usize + word] = combined;
            }
        }
        let feed_bits = &bits[next_base as usize * words as usize
            ..(next_base as usize + feed.services.len()) * words as usize];
        let runs_on = |day: u32| {
            feed_bits
                .chunks(words as usize)
                .any(|service| service[(day / 64) as usize] & (1 << (day % 64)) != 0)
        };
        let first_day = (0..num_days).find(|day| runs_on(*day));
        let last_day = (0..num_days).rev().find(|day| runs_on(*day));
        let range = match (first_day, last_day) {
            (Some(first), Some(last)) => (
                first_date + chrono::Days::new(u64::from(first)),
                first_date + chrono::Days::new(u64::from(last)),
            ),
            _ => {
                warnings.add("feed_without_service_days", || {
                    format!("feed {}: no service runs on any day", feed.name)
                });
                (first_date, first_date)
            }
        };
        feed_range.push(range);
        next_base += feed.services.len() as u32;
    }
    Ok(Services { first_date, num_days, words, bits, base, feed_range })
}

/// Fills missing arrival/departure times of one trip (copying the other time of the stop,
/// then interpolating by distance between the nearest timed stops). `false` when the trip
/// cannot be timed (first or last stop without a time).
fn complete_times(rows: &mut [RawStopTime], positions: &[(f64, f64)]) -> bool {
    for row in rows.iter_mut() {
        if row.arrival == NO_TIME {
            row.arrival = row.departure;
        }
        if row.departure == NO_TIME {
            row.departure = row.arrival;
        }
    }
    let last = rows.len() - 1;
    if rows[0].departure == NO_TIME || rows[last].arrival == NO_TIME {
        return false;
    }
    let mut previous_timed = 0;
    for position in 1..rows.len() {
        if rows[position].arrival == NO_TIME {
            continue;
        }
        if position > previous_timed + 1 {
            // Cumulative distance from the previous timed stop: shape_dist_traveled when the
            // feed gives it for the whole gap, else straight lines between stops.
            let gap = &rows[previous_timed..=position];
            let by_shape = gap.iter().all(|row| row.shape_dist.is_finite())
                && gap.windows(2).all(|pair| pair[1].shape_dist >= pair[0].shape_dist);
            let mut cumulative = vec![0.0f64; gap.len()];
            for step in 1..gap.len() {
                let length = if by_shape {
                    f64::from(gap[step].shape_dist - gap[step - 1].shape_dist)
                } else {
                    let (lat_a, lon_a) = positions[previous_timed + step - 1];
                    let (lat_b, lon_b) = positions[previous_timed + step];
                    let meters = distance_m(lat_a, lon_a, lat_b, lon_b);
                    if meters.is_finite() { meters } else { 0.0 }
                };
                cumulative[step] = cumulative[step - 1] + length;
            }
            let gap_len = gap.len();
            let total = cumulative[gap_len - 1];
            let start_time = f64::from(rows[previous_timed].departure);
            let span =
                f64::from(rows[position].arrival.saturating_sub(rows[previous_timed].departure));
            for step in 1..gap_len - 1 {
                let fraction = if total > 0.0 {
                    cumulative[step] / total
                } else {
                    step as f64 / (gap_len - 1) as f64
                };
                let time = (start_time + span * fraction).round() as u32;
                rows[previous_timed + step].arrival = time;
                rows[previous_timed + step].departure = time;
            }
        }
        previous_timed = position;
    }
    true
}

#[allow(clippy::too_many_arguments)]
fn build_trips(
    feed: &RawFeed,
    stop_map: &[StopIdx],
    route_map: &[RouteIdx],
    service_base: u32,
    stops: &[Stop],
    flat: &mut Flat,
    shapes: &mut ShapeStore,
    warnings: &mut Warnings,
) {
    let mut frequencies: FxHashMap<u32, Vec<(u32, u32, u32)>> = FxHashMap::default();
    for frequency in &feed.frequencies {
        frequencies.entry(frequency.trip).or_default().push((
            frequency.start,
            frequency.end,
            frequency.headway,
        ));
    }
    let mut has_times = vec![false; feed.trips.len()];
    let mut rows: Vec<RawStopTime> = Vec::new();
    let mut positions: Vec<(f64, f64)> = Vec::new();
    let mut trip_stops: Vec<StopIdx> = Vec::new();
    for group in feed.stop_times.chunk_by(|a, b| a.trip == b.trip) {
        let raw_trip = &feed.trips[group[0].trip as usize];
        has_times[group[0].trip as usize] = true;
        rows.clear();
        for row in group.iter().filter(|row| stop_map[row.stop as usize] != NO_STOP) {
            if rows.last().is_some_and(|last: &RawStopTime| last.sequence == row.sequence) {
                warnings.add("duplicate_stop_sequence", || {
                    format!("{}/stop_times.txt: trip {:?}: stop_sequence {} repeated; later row skipped", feed.name, raw_trip.id, row.sequence)
                });
                continue;
            }
            rows.push(*row);
        }
        if rows.len() < 2 {
            warnings.add("trip_too_short", || {
                format!(
                    "{}/stop_times.txt: trip {:?} has fewer than two stops; skipped",
                    feed.name, raw_trip.id
                )
            });
            continue;
        }
        positions.clear();
        positions.extend(rows.iter().map(|row| {
            let stop = &stops[stop_map[row.stop as usize].idx()];
            (stop.lat, stop.lon)
        }));
        if !complete_times(&mut rows, &positions) {
            warnings.add("trip_without_times", || {
                format!(
                    "{}/stop_times.txt: trip {:?}: first or last stop has no time; trip skipped",
                    feed.name, raw_trip.id
                )
            });
            continue;
        }
        let decreasing = rows.iter().any(|row| row.departure < row.arrival)
            || rows.windows(2).any(|pair| pair[1].arrival < pair[0].departure);
        if decreasing {
            warnings.add("times_decrease", || {
                let row = rows.windows(2).find(|pair| pair[1].arrival < pair[0].departure || pair[0].departure < pair[0].arrival);
                let sequence = row.map_or(0, |pair| pair[1].sequence);
                format!("{}/stop_times.txt: trip {:?}: time goes backwards at stop_sequence {sequence}; trip skipped", feed.name, raw_trip.id)
            });
            continue;
        }
        let shape_cut = match raw_trip.shape {
            Some(shape) => {
                trip_stops.clear();
                trip_stops.extend(rows.iter().map(|row| stop_map[row.stop as usize]));
                let cut = shapes.cut_for(feed, shape, &rows, &trip_stops, &positions);
                if cut == NO_SHAPE_CUT {
                    warnings.add("shape_does_not_fit", || {
                        format!(
                            "{}/shapes.txt: trip {:?}: its stops do not lie along its shape \
                             (within {MAX_STOP_OFFSET_M} m, in order); drawn stop to stop",
                            feed.name, raw_trip.id
                        )
                    });
                }
                cut
            }
            None => NO_SHAPE_CUT,
        };
        let starts: Vec<(String, i64)> = match frequencies.get(&group[0].trip) {
            None => vec![(format!("{}:{}", feed.name, raw_trip.id), 0)],
            Some(windows) => {
                let first_departure = i64::from(rows[0].departure);
                let mut starts = Vec::new();
                for &(start, end, headway) in windows {
                    let mut departure = start;
                    while departure < end {
                        let (hours, minutes, seconds) =
                            (departure / 3600, departure / 60 % 60, departure % 60);
                        starts.push((
                            format!(
                                "{}:{}@{hours:02}:{minutes:02}:{seconds:02}",
                                feed.name, raw_trip.id
                            ),
                            i64::from(departure) - first_departure,
                        ));
                        departure += headway;
                    }
                }
                starts
            }
        };
        for (trip_id, shift) in starts {
            let start = flat.times.len() as u32;
            for row in &rows {
                flat.stops.push(stop_map[row.stop as usize]);
                flat.rules.push(row.rules);
                let shifted = |time: u32| (i64::from(time) + shift).max(0) as u32;
                flat.times.push(StopTime {
                    arrival: shifted(row.arrival),
                    departure: shifted(row.departure),
                });
            }
            flat.drafts.push(TripDraft {
                trip: Trip {
                    id: trip_id,
                    route: route_map[raw_trip.route as usize],
                    pattern: PatternIdx(0),
                    service: ServiceIdx(service_base + raw_trip.service),
                    headsign: localized(
                        &feed.translations,
                        "trips",
                        "trip_headsign",
                        &raw_trip.id,
                        &raw_trip.headsign,
                    ),
                    short_name: raw_trip.short_name.clone(),
                    direction_id: raw_trip.direction_id,
                    block_id: raw_trip.block_id.clone(),
                    wheelchair_accessible: raw_trip.wheelchair_accessible,
                },
                start,
                len: rows.len() as u32,
                shape_cut,
            });
        }
    }
    for (position, trip) in feed.trips.iter().enumerate() {
        if !has_times[position] {
            warnings.add("trip_without_stop_times", || {
                format!("{}/trips.txt: trip {:?} has no stop times; skipped", feed.name, trip.id)
            });
        }
    }
}

pub(crate) struct Patterns {
    pub patterns: Vec<Pattern>,
    pub trips: Vec<Trip>,
    pub pattern_stops: Vec<StopIdx>,
    pub pattern_stop_rules: Vec<StopRules>,
    pub stop_times: Vec<StopTime>,
    /// Per trip (parallel to `trips`): its shape cut.
    pub trip_shape_cuts: Vec<u32>,
}

/// `a` never runs after `b` at any stop (so `b` may follow `a` in a pattern).
fn not_after(a: &[StopTime], b: &[StopTime]) -> bool {
    a.iter().zip(b).all(|(a, b)| a.arrival <= b.arrival && a.departure <= b.departure)
}

fn build_patterns(mut flat: Flat) -> Patterns {
    // Group trips by (route, stops, rules), in order of first appearance.
    let mut group_of: FxHashMap<(RouteIdx, &[StopIdx], &[u8]), usize> = FxHashMap::default();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (position, draft) in flat.drafts.iter().enumerate() {
        let key = (
            draft.trip.route,
            flat.stops_of(draft),
            bytemuck::cast_slice::<StopRules, u8>(flat.rules_of(draft)),
        );
        let group = *group_of.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[group].push(position);
    }
    drop(group_of);

    let mut out = Patterns {
        patterns: Vec::new(),
        trips: Vec::with_capacity(flat.drafts.len()),
        pattern_stops: Vec::new(),
        pattern_stop_rules: Vec::new(),
        stop_times: Vec::with_capacity(flat.times.len()),
        trip_shape_cuts: Vec::with_capacity(flat.drafts.len()),
    };
    let (flat_stops, flat_rules, flat_times) = (&flat.stops, &flat.rules, &flat.times);
    let times_of =
        |draft: &TripDraft| &flat_times[draft.start as usize..(draft.start + draft.len) as usize];
    let owned_drafts = &mut flat.drafts;
    for mut group in groups {
        group.sort_by(|&a, &b| {
            times_of(&owned_drafts[a])
                .iter()
                .map(|time| (time.departure, time.arrival))
                .cmp(times_of(&owned_drafts[b]).iter().map(|time| (time.departure, time.arrival)))
        });
        // Split so that no trip overtakes another: each trip joins the first sub-pattern whose
        // last trip is nowhere later than it.
        let mut sub_patterns: Vec<Vec<usize>> = Vec::new();
        for trip in group {
            let times = times_of(&owned_drafts[trip]);
            let fits = sub_patterns.iter_mut().find(|sub| {
                let last = sub.last().copied().unwrap_or(trip);
                not_after(times_of(&owned_drafts[last]), times)
            });
            match fits {
                Some(sub) => sub.push(trip),
                None => sub_patterns.push(vec![trip]),
            }
        }
        for sub in sub_patterns {
            let pattern_idx = PatternIdx::from(out.patterns.len());
            let first = &owned_drafts[sub[0]];
            let route = first.trip.route;
            let stops_start = out.pattern_stops.len() as u32;
            let range = first.start as usize..(first.start + first.len) as usize;
            out.pattern_stops.extend_from_slice(&flat_stops[range.clone()]);
            out.pattern_stop_rules.extend_from_slice(&flat_rules[range]);
            let trips_start = out.trips.len() as u32;
            let stop_times_start = out.stop_times.len() as u32;
            for trip in &sub {
                out.stop_times.extend_from_slice(times_of(&owned_drafts[*trip]));
                let mut compiled =
                    std::mem::replace(&mut owned_drafts[*trip].trip, placeholder_trip());
                compiled.pattern = pattern_idx;
                out.trips.push(compiled);
                out.trip_shape_cuts.push(owned_drafts[*trip].shape_cut);
            }
            out.patterns.push(Pattern {
                route,
                stops: stops_start..out.pattern_stops.len() as u32,
                trips: trips_start..out.trips.len() as u32,
                stop_times_start,
            });
        }
    }
    out
}

fn placeholder_trip() -> Trip {
    Trip {
        id: String::new(),
        route: RouteIdx(0),
        pattern: PatternIdx(0),
        service: ServiceIdx(0),
        headsign: LocalizedText::default(),
        short_name: None,
        direction_id: None,
        block_id: None,
        wheelchair_accessible: Accessibility::Unknown,
    }
}

fn build_stop_pattern_index(
    num_stops: usize,
    patterns: &[Pattern],
    pattern_stops: &[StopIdx],
) -> (Vec<u32>, Vec<PatternAtStop>) {
    let mut counts = vec![0u32; num_stops + 1];
    for stop in pattern_stops {
        counts[stop.idx() + 1] += 1;
    }
    for position in 1..counts.len() {
        counts[position] += counts[position - 1];
    }
    let offsets = counts.clone();
    let mut cursor = counts;
    let mut entries =
        vec![PatternAtStop { pattern: PatternIdx(0), position: 0 }; pattern_stops.len()];
    for (pattern_position, pattern) in patterns.iter().enumerate() {
        for (position, stop) in pattern_stops
            [pattern.stops.start as usize..pattern.stops.end as usize]
            .iter()
            .enumerate()
        {
            let slot = &mut cursor[stop.idx()];
            entries[*slot as usize] = PatternAtStop {
                pattern: PatternIdx::from(pattern_position),
                position: position as u32,
            };
            *slot += 1;
        }
    }
    (offsets, entries)
}

/// Groups stops into stations (by parent_station, else same-name stops within walking
/// distance) and fills in each station's routes, agencies and departures per day.
fn build_stations(
    stops: &mut [Stop],
    routes: &[Route],
    patterns: &Patterns,
    services: &Services,
    walking: WalkingSettings,
) -> Vec<Station> {
    // The top of each stop's parent chain (a station, or a stop without parent).
    // A chain that does not end within 8 steps (a cycle) counts the stop as its own root.
    let root_of = |stops: &[Stop], stop: usize| -> usize {
        let mut current = stop;
        for _ in 0..8 {
            match stops[current].parent {
                Some(parent) if stops[current].location_type != LocationType::Station => {
                    current = parent.idx()
                }
                _ => return current,
            }
        }
        stop
    };
    let roots: Vec<usize> = (0..stops.len()).map(|stop| root_of(stops, stop)).collect();
    let mut station_of_root: FxHashMap<usize, StationIdx> = FxHashMap::default();
    let mut stations: Vec<Station> = Vec::new();
    let new_station = |stations: &mut Vec<Station>, id: String, stop: &Stop| {
        stations.push(Station {
            id,
            name: stop.name.clone(),
            reading: stop.reading.clone(),
            lat: stop.lat,
            lon: stop.lon,
            stops: Vec::new(),
            other_stops: Vec::new(),
            routes: Vec::new(),
            agencies: Vec::new(),
            departures_per_day: 0,
            locality: None,
        });
        StationIdx::from(stations.len() - 1)
    };
    // Parent stations first.
    for (position, stop) in stops.iter().enumerate() {
        if stop.location_type == LocationType::Station {
            let station = new_station(&mut stations, stop.id.clone(), stop);
            station_of_root.insert(position, station);
        }
    }
    // Roots without a parent station: cluster same-name stops within walking distance.
    let mut by_name: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
    let mut unnamed = Vec::new();
    for (position, &root) in roots.iter().enumerate() {
        if root != position || station_of_root.contains_key(&root) {
            continue;
        }
        if stops[position].name.default.is_empty() {
            unnamed.push(position);
        } else {
            by_name.entry(stops[position].name.default.as_str()).or_default().push(position);
        }
    }
    let mut clusters: Vec<Vec<usize>> = unnamed.into_iter().map(|stop| vec![stop]).collect();
    let mut names: Vec<&str> = by_name.keys().copied().collect();
    names.sort_unstable();
    for name in names {
        let members = &by_name[name];
        // Single-link clustering with a union-find over the same-name stops.
        let mut leader: Vec<usize> = (0..members.len()).collect();
        fn find(leader: &mut [usize], mut item: usize) -> usize {
            while leader[item] != item {
                leader[item] = leader[leader[item]];
                item = leader[item];
            }
            item
        }
        for a in 0..members.len() {
            for b in a + 1..members.len() {
                let (stop_a, stop_b) = (&stops[members[a]], &stops[members[b]]);
                if distance_m(stop_a.lat, stop_a.lon, stop_b.lat, stop_b.lon)
                    <= walking.max_link_distance_m
                {
                    let (root_a, root_b) = (find(&mut leader, a), find(&mut leader, b));
                    leader[root_a.max(root_b)] = root_a.min(root_b);
                }
            }
        }
        let mut cluster_of: FxHashMap<usize, usize> = FxHashMap::default();
        for (member, &stop) in members.iter().enumerate() {
            let group = find(&mut leader, member);
            let cluster = *cluster_of.entry(group).or_insert_with(|| {
                clusters.push(Vec::new());
                clusters.len() - 1
            });
            clusters[cluster].push(stop);
        }
    }
    for cluster in clusters {
        let Some(&smallest) = cluster.iter().min_by(|a, b| stops[**a].id.cmp(&stops[**b].id))
        else {
            continue;
        };
        let station = new_station(&mut stations, stops[smallest].id.clone(), &stops[smallest]);
        let count = cluster.len() as f64;
        stations[station.idx()].lat =
            cluster.iter().map(|stop| stops[*stop].lat).sum::<f64>() / count;
        stations[station.idx()].lon =
            cluster.iter().map(|stop| stops[*stop].lon).sum::<f64>() / count;
        if stations[station.idx()].reading.is_none() {
            stations[station.idx()].reading =
                cluster.iter().find_map(|stop| stops[*stop].reading.clone());
        }
        for stop in cluster {
            station_of_root.insert(stop, station);
        }
    }
    for (position, stop) in stops.iter_mut().enumerate() {
        let station = station_of_root[&roots[position]];
        stop.station = station;
        if stop.location_type == LocationType::Stop {
            stations[station.idx()].stops.push(StopIdx::from(position));
        } else if stop.location_type != LocationType::Station || roots[position] != position {
            stations[station.idx()].other_stops.push(StopIdx::from(position));
        }
    }

    // Routes and departures: per pattern, the stations it serves and departures it offers.
    // Each service's days within its own feed's typical week, as Monday-first weekday bits
    // (feeds of one network may cover different periods).
    let words = services.words as usize;
    let mut day_masks: Vec<u8> = Vec::with_capacity(services.bits.len() / words.max(1));
    for (feed_position, &(feed_first, feed_last)) in services.feed_range.iter().enumerate() {
        let week = typical_week(services, feed_first, feed_last);
        let end = services
            .base
            .get(feed_position + 1)
            .copied()
            .unwrap_or((services.bits.len() / words.max(1)) as u32);
        for service in services.base[feed_position]..end {
            let service_words =
                &services.bits[service as usize * words..(service as usize + 1) * words];
            let mask = week.iter().fold(0u8, |mask, day| {
                let weekday = (services.first_date + chrono::Days::new(u64::from(*day)))
                    .weekday()
                    .num_days_from_monday();
                if service_words[(*day / 64) as usize] & (1 << (day % 64)) != 0 {
                    mask | (1 << weekday)
                } else {
                    mask
                }
            });
            day_masks.push(mask);
        }
    }
    let mut departures = vec![[0u32; 7]; stations.len()];
    for pattern in &patterns.patterns {
        let mut trips_per_day = [0u32; 7];
        for trip in &patterns.trips[pattern.trips.start as usize..pattern.trips.end as usize] {
            let mask = day_masks[trip.service.idx()];
            for (slot, count) in trips_per_day.iter_mut().enumerate() {
                *count += u32::from(mask >> slot & 1);
            }
        }
        let range = pattern.stops.start as usize..pattern.stops.end as usize;
        let last = range.end - 1;
        for position in range {
            let station = stops[patterns.pattern_stops[position].idx()].station.idx();
            stations[station].routes.push(pattern.route);
            if position != last && patterns.pattern_stop_rules[position].pickup() {
                for (slot, count) in trips_per_day.iter().enumerate() {
                    departures[station][slot] += count;
                }
            }
        }
    }
    for (station, per_day) in stations.iter_mut().zip(departures) {
        station.stops.sort_unstable();
        station.other_stops.sort_unstable();
        station.routes.sort_unstable();
        station.routes.dedup();
        station.agencies = station.routes.iter().map(|route| routes[route.idx()].agency).collect();
        station.agencies.sort_unstable();
        station.agencies.dedup();
        station.departures_per_day = per_day.into_iter().max().unwrap_or(0);
    }
    stations
}

/// Day numbers of a feed's typical week: its first full Monday-to-Sunday week, or its first
/// seven days when it covers no full week.
fn typical_week(services: &Services, feed_first: NaiveDate, feed_last: NaiveDate) -> Vec<u32> {
    let first = (feed_first - services.first_date).num_days().max(0) as u32;
    let last = ((feed_last - services.first_date).num_days().max(0) as u32)
        .min(services.num_days.saturating_sub(1));
    let offset = (7 - feed_first.weekday().num_days_from_monday()) % 7;
    let start = if first + offset + 6 <= last { first + offset } else { first };
    (start..(start + 7).min(last + 1)).collect()
}

fn build_fares(feeds: &[RawFeed], agency_maps: &AgencyMaps, route_maps: &RouteMaps) -> Fares {
    let mut fares = Fares::default();
    for (feed_position, feed) in feeds.iter().enumerate() {
        let base = fares.attributes.len() as u32;
        for raw in &feed.fare_attributes {
            fares.attributes.push(FareAttribute {
                id: format!("{}:{}", feed.name, raw.id),
                feed: FeedIdx::from(feed_position),
                price: raw.price,
                currency: raw.currency.clone(),
                payment_method: raw.payment_method,
                transfers: raw.transfers,
                agency: raw
                    .agency_id
                    .as_ref()
                    .and_then(|agency| agency_maps[feed_position].get(agency).copied()),
                transfer_duration_secs: raw.transfer_duration_secs,
            });
        }
        let zone =
            |zone: &Option<String>| zone.as_ref().map(|zone| format!("{}:{zone}", feed.name));
        for rule in &feed.fare_rules {
            fares.rules.push(FareRule {
                fare: FareIdx(base + rule.fare),
                route: rule.route.map(|route| route_maps[feed_position][route as usize]),
                origin_zone: zone(&rule.origin_zone),
                destination_zone: zone(&rule.destination_zone),
                contains_zone: zone(&rule.contains_zone),
            });
        }
    }
    fares
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(arrival: u32, departure: u32) -> RawStopTime {
        RawStopTime {
            trip: 0,
            sequence: 0,
            stop: 0,
            arrival,
            departure,
            shape_dist: f32::NAN,
            rules: StopRules::BOTH,
        }
    }

    #[test]
    fn missing_intermediate_times_are_interpolated_by_distance() {
        let mut rows =
            vec![row(100, 100), row(NO_TIME, NO_TIME), row(NO_TIME, NO_TIME), row(400, 400)];
        // Equal spacing along a meridian: 0, 1, 2, 3 km.
        let positions: Vec<(f64, f64)> =
            (0..4).map(|step| (f64::from(step) * 0.008_993, 0.0)).collect();
        assert!(complete_times(&mut rows, &positions));
        let times: Vec<u32> = rows.iter().map(|row| row.arrival).collect();
        assert_eq!(times, vec![100, 200, 300, 400]);
    }

    #[test]
    fn a_trip_without_a_last_time_cannot_be_timed() {
        let mut rows = vec![row(100, 100), row(NO_TIME, NO_TIME)];
        assert!(!complete_times(&mut rows, &[(0.0, 0.0), (0.0, 0.0)]));
    }
}
