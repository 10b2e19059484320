//! API answers → what the templates show: times as `HH:MM`, durations, fares and transfer
//! counts in the page's language, line colours checked for contrast, alerts reduced to what
//! is safe to print. Templates stay free of logic beyond loops and conditions.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Serialize;

use norikae_wire::route::{
    Fare, Place, RouteInfo, ServiceDayKind, StopRef, TimetableResponse, TransitLeg,
};
use norikae_wire::search::Station;
use norikae_wire::v1::{Alert, AlertedDepartureGroup, AlertedJourney, AlertedLeg, Effect};

use crate::i18n::Lang;

/// An RFC 3339 time from the API.
pub fn parse_time(text: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text).ok()
}

/// `HH:MM` of an RFC 3339 time (the text as is when it does not parse).
pub fn clock(text: &str) -> String {
    parse_time(text).map_or_else(|| text.to_owned(), |time| time.format("%H:%M").to_string())
}

/// Whole days from `base` to the local date of `text` (0 when either is unknown).
pub fn days_after(text: &str, base: NaiveDate) -> i64 {
    parse_time(text).map_or(0, |time| (time.date_naive() - base).num_days())
}

/// `1時間5分` / `1 h 5 min`; under a minute counts as one.
pub fn duration(secs: i64, lang: Lang) -> String {
    let minutes = (secs.max(0) + 59) / 60;
    let (hours, minutes) = (minutes / 60, minutes % 60);
    match (lang, hours) {
        (Lang::Ja, 0) => format!("{minutes}分"),
        (Lang::Ja, _) => format!("{hours}時間{minutes}分"),
        (Lang::En, 0) => format!("{minutes} min"),
        (Lang::En, _) => format!("{hours} h {minutes} min"),
    }
}

/// `350 m`, `1.2 km`.
pub fn distance(metres: f64) -> String {
    if metres < 1_000.0 {
        format!("{} m", (metres / 10.0).round() * 10.0)
    } else {
        format!("{:.1} km", metres / 1_000.0)
    }
}

/// `230円` / `¥230` for yen; `12.50 EUR` for other currencies.
pub fn fare(fare: &Fare, lang: Lang) -> String {
    if fare.currency.eq_ignore_ascii_case("JPY") {
        let yen = group_thousands(fare.total.round() as i64);
        match lang {
            Lang::Ja => format!("{yen}円"),
            Lang::En => format!("¥{yen}"),
        }
    } else {
        format!("{:.2} {}", fare.total, fare.currency)
    }
}

fn group_thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if value < 0 { format!("-{grouped}") } else { grouped }
}

pub fn transfers(count: u32, lang: Lang) -> String {
    match count {
        0 => lang.text("no_transfer").to_owned(),
        1 => lang.text("transfer_one").to_owned(),
        n => lang.fill("transfer_count", &[("n", &n.to_string())]),
    }
}

pub fn mode_name(mode: &str, lang: Lang) -> &'static str {
    let key = match mode {
        "bus" | "trolleybus" | "coach" => "mode_bus",
        "subway" | "metro" => "mode_subway",
        "rail" | "monorail" | "funicular" => "mode_rail",
        "tram" | "cable_tram" => "mode_tram",
        "ferry" => "mode_ferry",
        _ => "mode_other",
    };
    lang.text(key)
}

/// A `RRGGBB` colour from a feed, or `None` when it is not exactly six hex digits (so a
/// feed cannot inject CSS through it).
pub fn hex_colour(text: Option<&str>) -> Option<(u8, u8, u8)> {
    let text = text?.trim().trim_start_matches('#');
    if text.len() != 6 || !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |range: std::ops::Range<usize>| u8::from_str_radix(&text[range], 16).ok();
    Some((channel(0..2)?, channel(2..4)?, channel(4..6)?))
}

fn relative_luminance((red, green, blue): (u8, u8, u8)) -> f64 {
    let linear = |channel: u8| {
        let value = f64::from(channel) / 255.0;
        if value <= 0.039_28 { value / 12.92 } else { ((value + 0.055) / 1.055).powf(2.4) }
    };
    0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
}

/// WCAG contrast ratio of two colours (1 to 21).
pub fn contrast_ratio(first: (u8, u8, u8), second: (u8, u8, u8)) -> f64 {
    let (first, second) = (relative_luminance(first), relative_luminance(second));
    let (light, dark) = if first > second { (first, second) } else { (second, first) };
    (light + 0.05) / (dark + 0.05)
}

fn css(colour: (u8, u8, u8)) -> String {
    format!("#{:02x}{:02x}{:02x}", colour.0, colour.1, colour.2)
}

/// A line's badge: name, colour and a text colour with enough contrast (the feed's own when
/// it reaches 4.5:1, else black or white, whichever contrasts more).
#[derive(Clone, Debug, Serialize)]
pub struct LineView {
    pub id: String,
    pub name: String,
    /// The long name when it adds to `name`.
    pub long_name: Option<String>,
    pub colour: String,
    pub text_colour: String,
    pub mode: &'static str,
    pub agency: String,
}

const DEFAULT_LINE_COLOUR: (u8, u8, u8) = (0x44, 0x55, 0x66);
const BLACK: (u8, u8, u8) = (0, 0, 0);
const WHITE: (u8, u8, u8) = (0xff, 0xff, 0xff);

impl LineView {
    pub fn new(route: &RouteInfo, lang: Lang) -> Self {
        let short = route.short_name.trim();
        let long = route.long_name.trim();
        let (name, long_name) = match (short.is_empty(), long.is_empty()) {
            (false, false) if short != long => (short.to_owned(), Some(long.to_owned())),
            (false, _) => (short.to_owned(), None),
            (true, false) => (long.to_owned(), None),
            (true, true) => (mode_name(&route.mode, lang).to_owned(), None),
        };
        let colour = hex_colour(route.color.as_deref()).unwrap_or(DEFAULT_LINE_COLOUR);
        let text_colour = hex_colour(route.text_color.as_deref())
            .filter(|text| contrast_ratio(colour, *text) >= 4.5)
            .unwrap_or_else(|| {
                if contrast_ratio(colour, WHITE) >= contrast_ratio(colour, BLACK) {
                    WHITE
                } else {
                    BLACK
                }
            });
        Self {
            id: route.id.clone(),
            name,
            long_name,
            colour: css(colour),
            text_colour: css(text_colour),
            mode: mode_name(&route.mode, lang),
            agency: route.agency_name.clone(),
        }
    }
}

/// An alert's effect in words: `significant delays` for `significant_delays`.
fn effect_words(effect: Effect) -> String {
    let text = serde_json::to_value(effect).ok();
    text.as_ref().and_then(serde_json::Value::as_str).unwrap_or_default().replace('_', " ")
}

/// An alert as printed: its link only when it is http(s).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AlertView {
    pub id: String,
    pub header: String,
    pub description: String,
    pub url: Option<String>,
    pub effect: String,
}

impl AlertView {
    pub fn new(alert: &Alert) -> Self {
        let url = alert
            .url
            .as_deref()
            .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
            .map(str::to_owned);
        Self {
            id: alert.id.clone(),
            header: alert.header.clone(),
            description: alert.description.clone(),
            url,
            effect: effect_words(alert.effect),
        }
    }

    pub fn list(alerts: &[Alert]) -> Vec<Self> {
        alerts.iter().map(Self::new).collect()
    }
}

/// A station as listed (suggestions, choices, nearby, headers).
#[derive(Clone, Debug, Serialize)]
pub struct StationView {
    pub id: String,
    pub name: String,
    /// The kana reading, when it differs from the name.
    pub reading: Option<String>,
    pub romaji: Option<String>,
    pub label: String,
    pub lines: Vec<String>,
    pub distance: Option<String>,
}

impl StationView {
    pub fn new(station: &Station) -> Self {
        let reading = station
            .reading
            .as_deref()
            .map(str::trim)
            .filter(|reading| !reading.is_empty() && *reading != station.name)
            .map(str::to_owned);
        Self {
            id: station.id.clone(),
            name: station.name.clone(),
            reading,
            romaji: station.romaji.clone().filter(|romaji| !romaji.is_empty()),
            label: station.label.clone(),
            lines: station.lines.iter().take(6).cloned().collect(),
            distance: station.distance_m.map(distance),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct StopView {
    pub name: String,
    pub station_id: String,
    pub platform: Option<String>,
    pub time: String,
}

impl StopView {
    fn new(stop: &StopRef, time: &str) -> Self {
        Self {
            name: stop.name.clone(),
            station_id: stop.station_id.clone(),
            platform: stop.platform.clone().filter(|platform| !platform.trim().is_empty()),
            time: clock(time),
        }
    }
}

/// `/trips/{id}?date=&from=&to=` of a ride; `None` when the api sent no trip id.
fn trip_url(ride: &TransitLeg) -> Option<String> {
    let segment = norikae_runtime::path::encode_path_segment(&ride.trip_id)?;
    let pairs = [
        ("date".to_owned(), ride.service_date.clone()),
        ("from".to_owned(), ride.from.station_id.clone()),
        ("to".to_owned(), ride.to.station_id.clone()),
    ];
    Some(crate::handlers::url_with_query(&format!("/trips/{segment}"), &pairs))
}

/// One leg of a journey.
#[derive(Clone, Debug, Serialize)]
pub struct LegView {
    /// `transit` or `walk`.
    pub kind: &'static str,
    pub from: Option<StopView>,
    pub to: Option<StopView>,
    pub departure: String,
    pub arrival: String,
    pub duration: String,
    pub line: Option<LineView>,
    /// `岡山駅 行` / `towards Okayama Station`.
    pub headsign: Option<String>,
    /// `5 駅` / `5 stops` (stops ridden past the boarding one).
    pub stops: Option<String>,
    /// Stops between boarding and alighting, with their times.
    pub intermediate: Vec<StopView>,
    /// `徒歩5分（350 m）`.
    pub walk: Option<String>,
    pub alerts: Vec<AlertView>,
    /// What the realtime feeds say at boarding and alighting (`4分遅れ（08:07発）`, `運休`).
    pub live_departure: Option<String>,
    pub live_arrival: Option<String>,
    /// The page of the ride's trip (its run on the service date, the ride marked).
    pub trip_url: Option<String>,
}

impl LegView {
    pub fn new(leg: &AlertedLeg, lang: Lang) -> Self {
        match leg {
            AlertedLeg::Transit(alerted) => {
                let ride = &alerted.leg;
                let ridden = ride.stops.len().saturating_sub(1);
                let headsign = ride.headsign.trim();
                let intermediate = ride
                    .stops
                    .iter()
                    .skip(1)
                    .take(ridden.saturating_sub(1))
                    .map(|passed| {
                        let time = passed.departure.as_deref().or(passed.arrival.as_deref());
                        StopView::new(&passed.stop, time.unwrap_or_default())
                    })
                    .collect();
                Self {
                    kind: "transit",
                    from: Some(StopView::new(&ride.from, &ride.departure)),
                    to: Some(StopView::new(&ride.to, &ride.arrival)),
                    departure: clock(&ride.departure),
                    arrival: clock(&ride.arrival),
                    duration: duration(ride.duration_secs, lang),
                    line: Some(LineView::new(&ride.route, lang)),
                    headsign: (!headsign.is_empty())
                        .then(|| lang.fill("headsign", &[("headsign", headsign)])),
                    stops: Some(lang.count("stops_count", ridden)),
                    intermediate,
                    walk: None,
                    alerts: AlertView::list(&alerted.alerts),
                    live_departure: ride.realtime.as_ref().map(|live| {
                        live_text(
                            live.cancelled,
                            live.added,
                            live.departure_delay_secs,
                            &live.expected_departure,
                            "live_late",
                            live.departure_platform
                                .as_ref()
                                .and_then(|stop| stop.platform.as_deref()),
                            lang,
                        )
                    }),
                    // An added trip's arrival has no timetable to be on time against.
                    live_arrival: ride
                        .realtime
                        .as_ref()
                        .filter(|live| !live.cancelled && !live.added)
                        .map(|live| {
                            live_text(
                                false,
                                false,
                                live.arrival_delay_secs,
                                &live.expected_arrival,
                                "live_late_arrival",
                                live.arrival_platform
                                    .as_ref()
                                    .and_then(|stop| stop.platform.as_deref()),
                                lang,
                            )
                        }),
                    trip_url: trip_url(ride),
                }
            }
            AlertedLeg::Walk(walk) => {
                let place = |place: &Place, time: &str| match place {
                    Place::Stop(stop) => Some(StopView::new(stop, time)),
                    Place::Coordinates { .. } => None,
                };
                let walk_duration = duration(i64::from(walk.duration_secs), lang);
                Self {
                    kind: "walk",
                    from: place(&walk.from, &walk.departure),
                    to: place(&walk.to, &walk.arrival),
                    departure: clock(&walk.departure),
                    arrival: clock(&walk.arrival),
                    walk: Some(lang.fill(
                        "walk_detail",
                        &[
                            ("duration", &walk_duration),
                            ("distance", &distance(f64::from(walk.distance_m))),
                        ],
                    )),
                    duration: walk_duration,
                    line: None,
                    headsign: None,
                    stops: None,
                    intermediate: Vec::new(),
                    alerts: Vec::new(),
                    live_departure: None,
                    live_arrival: None,
                    trip_url: None,
                }
            }
        }
    }
}

/// A realtime state in words: cancelled, late by whole minutes (with the expected time), or
/// on time; a changed platform after it.
fn live_text(
    cancelled: bool,
    added: bool,
    delay_secs: i64,
    expected: &str,
    late_key: &str,
    platform: Option<&str>,
    lang: Lang,
) -> String {
    let state = if cancelled {
        lang.fill("live_cancelled", &[])
    } else if added {
        // The feed's own trip: no timetable to be late against.
        lang.fill("live_added", &[])
    } else if delay_secs >= 60 {
        let minutes = (delay_secs / 60).to_string();
        lang.fill(late_key, &[("minutes", &minutes), ("time", &clock(expected))])
    } else {
        lang.fill("live_on_time", &[])
    };
    match platform {
        Some(platform) => {
            format!("{state} {}", lang.fill("live_platform", &[("platform", platform)]))
        }
        None => state,
    }
}

/// One journey of the results.
#[derive(Clone, Debug, Serialize)]
pub struct JourneyView {
    pub number: usize,
    pub departure: String,
    pub arrival: String,
    /// Days the arrival is after the departure's date (`翌日` / `next day`).
    pub arrival_days_later: i64,
    pub duration: String,
    /// No vehicle: walking is the answer. The card shows the walk, without transfers or fare.
    pub on_foot: bool,
    /// `乗換なし` / `1 transfer`; `None` on foot (there is nothing to change).
    pub transfers: Option<String>,
    pub transfer_count: u32,
    pub fare: Option<String>,
    pub legs: Vec<LegView>,
    pub alert_count: usize,
}

impl JourneyView {
    pub fn new(number: usize, journey: &AlertedJourney, lang: Lang) -> Self {
        let legs: Vec<LegView> = journey.legs.iter().map(|leg| LegView::new(leg, lang)).collect();
        let departure_date = parse_time(&journey.departure).map(|time| time.date_naive());
        let on_foot = journey.vehicles() == 0;
        Self {
            number,
            departure: clock(&journey.departure),
            arrival: clock(&journey.arrival),
            arrival_days_later: departure_date.map_or(0, |date| days_after(&journey.arrival, date)),
            duration: duration(journey.duration_secs, lang),
            on_foot,
            transfers: (!on_foot).then(|| transfers(journey.transfers, lang)),
            transfer_count: journey.transfers,
            fare: journey.fare.as_ref().map(|journey_fare| fare(journey_fare, lang)),
            alert_count: legs.iter().map(|leg| leg.alerts.len()).sum(),
            legs,
        }
    }
}

/// One line and direction of a departure board.
#[derive(Clone, Debug, Serialize)]
pub struct BoardGroupView {
    pub line: LineView,
    pub headsign: String,
    pub departures: Vec<DepartureView>,
    pub alerts: Vec<AlertView>,
    /// GTFS `direction_id` of the group, for its timetable link.
    pub direction_id: Option<u8>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DepartureView {
    pub time: String,
    /// Only when the trip's headsign differs from its group's.
    pub headsign: Option<String>,
    pub platform: Option<String>,
    /// Days after the board's date (a departure after midnight).
    pub days_later: i64,
    /// What the realtime feeds say (`4分遅れ（08:07発）`, `運休`).
    pub live: Option<String>,
}

impl BoardGroupView {
    pub fn new(alerted: &AlertedDepartureGroup, board_date: Option<NaiveDate>, lang: Lang) -> Self {
        let group = &alerted.group;
        let headsign = group.headsign.trim();
        let departures = group
            .departures
            .iter()
            .map(|departure| {
                let own_headsign = departure.headsign.trim();
                DepartureView {
                    time: clock(&departure.departure),
                    headsign: (!own_headsign.is_empty() && own_headsign != headsign)
                        .then(|| lang.fill("headsign", &[("headsign", own_headsign)])),
                    platform: departure
                        .platform
                        .clone()
                        .or_else(|| departure.stop.platform.clone())
                        .filter(|platform| !platform.trim().is_empty()),
                    days_later: board_date
                        .map_or(0, |date| days_after(&departure.departure, date).max(0)),
                    live: departure.realtime.as_ref().map(|live| {
                        live_text(
                            live.cancelled,
                            false,
                            live.delay_secs,
                            &live.expected,
                            "live_late",
                            live.platform.as_deref(),
                            lang,
                        )
                    }),
                }
            })
            .collect();
        Self {
            line: LineView::new(&group.route, lang),
            headsign: if headsign.is_empty() {
                String::new()
            } else {
                lang.fill("headsign", &[("headsign", headsign)])
            },
            departures,
            alerts: AlertView::list(&alerted.alerts),
            direction_id: group.direction_id,
        }
    }
}

/// A station's timetable of one line and direction, as the page prints it.
#[derive(Clone, Debug, Serialize)]
pub struct TimetableView {
    pub line: LineView,
    pub headsign: String,
    /// 平日 / 土曜 / 休日 with the holiday's name.
    pub service_day: String,
    /// `service_day` as the API names it (`weekday`, `saturday`, `holiday`).
    pub service_kind: &'static str,
    pub rows: Vec<TimetableRowView>,
    pub markers: Vec<(String, String)>,
    pub count: String,
    /// Some hour is 24 or later.
    pub past_midnight: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct TimetableRowView {
    pub hour: u32,
    pub minutes: Vec<TimetableMinuteView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct TimetableMinuteView {
    /// `05`, `36`.
    pub minute: String,
    pub marker: Option<String>,
    /// For the title: the headsign and platform.
    pub title: String,
}

impl TimetableView {
    pub fn new(timetable: &TimetableResponse, lang: Lang) -> Self {
        let kind = match timetable.service_day {
            ServiceDayKind::Weekday => "weekday",
            ServiceDayKind::Saturday => "saturday",
            ServiceDayKind::Holiday => "holiday",
            ServiceDayKind::SaturdayAndHoliday => "saturday_and_holiday",
        };
        let mut service_day = lang.text(&format!("service_{kind}")).to_owned();
        if let Some(name) = &timetable.holiday_name {
            service_day = format!("{service_day}（{name}）");
        }
        let rows = timetable
            .hours
            .iter()
            .map(|hour| TimetableRowView {
                hour: hour.hour,
                minutes: hour
                    .departures
                    .iter()
                    .map(|entry| TimetableMinuteView {
                        minute: format!("{:02}", entry.minute),
                        marker: entry.marker.clone(),
                        title: match &entry.platform {
                            Some(platform) => format!(
                                "{} · {} {platform}",
                                lang.fill("headsign", &[("headsign", &entry.headsign)]),
                                lang.text("platform")
                            ),
                            None => lang.fill("headsign", &[("headsign", &entry.headsign)]),
                        },
                    })
                    .collect(),
            })
            .collect();
        Self {
            line: LineView::new(&timetable.route, lang),
            headsign: if timetable.headsign.trim().is_empty() {
                String::new()
            } else {
                lang.fill("timetable_of", &[("headsign", timetable.headsign.trim())])
            },
            service_day,
            service_kind: kind,
            rows,
            markers: timetable
                .markers
                .iter()
                .map(|marker| {
                    (
                        marker.marker.clone(),
                        lang.fill("headsign", &[("headsign", &marker.headsign)]),
                    )
                })
                .collect(),
            count: lang.count("timetable_count", timetable.departures),
            past_midnight: timetable.hours.iter().any(|hour| hour.hour >= 24),
        }
    }
}

#[cfg(test)]
mod tests {
    use norikae_wire::route::{TransitLeg, WalkLeg};
    use norikae_wire::v1::AlertedTransitLeg;

    use super::*;

    #[test]
    fn formats_times_durations_and_fares_per_language() {
        assert_eq!(clock("2019-06-05T08:03:00+09:00"), "08:03");
        assert_eq!(clock("garbage"), "garbage");
        let base = NaiveDate::from_ymd_opt(2019, 6, 5).unwrap();
        assert_eq!(days_after("2019-06-06T00:10:00+09:00", base), 1);
        assert_eq!(duration(65 * 60, Lang::Ja), "1時間5分");
        assert_eq!(duration(65 * 60, Lang::En), "1 h 5 min");
        assert_eq!(duration(30, Lang::En), "1 min");
        let yen = Fare { total: 1230.0, currency: "JPY".to_owned(), parts: Vec::new() };
        assert_eq!(fare(&yen, Lang::Ja), "1,230円");
        assert_eq!(fare(&yen, Lang::En), "¥1,230");
        assert_eq!(transfers(0, Lang::En), "Direct");
        assert_eq!(transfers(2, Lang::Ja), "乗換 2 回");
        assert_eq!(distance(347.0), "350 m");
        assert_eq!(distance(1_234.0), "1.2 km");
    }

    #[test]
    fn line_colours_are_sanitised_and_readable() {
        let route = |color: &str, text: &str| RouteInfo {
            short_name: "空港線".to_owned(),
            color: Some(color.to_owned()),
            text_color: Some(text.to_owned()),
            mode: "subway".to_owned(),
            ..RouteInfo::default()
        };
        // Yellow with white text is unreadable: black is chosen instead.
        let line = LineView::new(&route("FFD700", "FFFFFF"), Lang::Ja);
        assert_eq!(line.colour, "#ffd700");
        assert_eq!(line.text_colour, "#000000");
        // A colour that is not six hex digits cannot reach the style attribute.
        let line = LineView::new(&route("red;background:url(x)", "000000"), Lang::Ja);
        assert_eq!(line.colour, "#445566");
        assert!(contrast_ratio(hex_colour(Some("445566")).unwrap(), WHITE) >= 4.5);
        assert_eq!(line.text_colour, "#ffffff");
    }

    fn stop(station_id: &str, name: &str) -> StopRef {
        StopRef {
            id: format!("{station_id}_1"),
            name: name.to_owned(),
            station_id: station_id.to_owned(),
            ..StopRef::default()
        }
    }

    /// 天神南 → 天神 on foot, as the api answers it.
    fn on_foot(vehicles: Option<u32>) -> AlertedJourney {
        AlertedJourney {
            departure: "2019-10-16T14:23:58+09:00".to_owned(),
            arrival: "2019-10-16T14:31:58+09:00".to_owned(),
            duration_secs: 480,
            vehicles,
            transfers: 0,
            legs: vec![AlertedLeg::Walk(WalkLeg {
                from: Place::Stop(stop("fukuoka:35", "天神南")),
                to: Place::Stop(stop("fukuoka:8", "天神")),
                departure: "2019-10-16T14:23:58+09:00".to_owned(),
                arrival: "2019-10-16T14:31:58+09:00".to_owned(),
                duration_secs: 480,
                distance_m: 506,
                geometry: String::new(),
            })],
            fare: None,
        }
    }

    #[test]
    fn a_journey_on_foot_shows_the_walk_without_transfers_or_fare() {
        for (lang, walk) in [(Lang::En, "Walk 8 min (510 m)"), (Lang::Ja, "徒歩8分（510 m）")]
        {
            let view = JourneyView::new(1, &on_foot(Some(0)), lang);
            assert!(view.on_foot, "{lang:?}");
            assert_eq!((view.departure.as_str(), view.arrival.as_str()), ("14:23", "14:31"));
            assert_eq!(view.transfers, None, "no transfer count on foot ({lang:?})");
            assert_eq!(view.fare, None, "no fare on foot ({lang:?})");
            let [leg] = view.legs.as_slice() else { panic!("one leg: {view:?}") };
            assert_eq!((leg.kind, leg.walk.as_deref()), ("walk", Some(walk)));
            assert_eq!(leg.to.as_ref().map(|to| to.name.as_str()), Some("天神"));
        }
        // From an api that does not send `vehicles` yet, the legs tell.
        assert!(JourneyView::new(1, &on_foot(None), Lang::En).on_foot);
    }

    #[test]
    fn a_ride_is_not_on_foot_and_counts_its_transfers() {
        let ride = AlertedJourney {
            vehicles: None,
            legs: vec![AlertedLeg::Transit(AlertedTransitLeg {
                leg: TransitLeg {
                    from: stop("fukuoka:8", "天神"),
                    to: stop("fukuoka:9", "中洲川端"),
                    ..TransitLeg::default()
                },
                alerts: Vec::new(),
            })],
            fare: Some(Fare { total: 210.0, currency: "JPY".to_owned(), parts: Vec::new() }),
            ..on_foot(None)
        };
        let view = JourneyView::new(1, &ride, Lang::En);
        assert!(!view.on_foot);
        assert_eq!(view.transfers.as_deref(), Some("Direct"));
        assert_eq!(view.fare.as_deref(), Some("¥210"));
    }

    #[test]
    fn a_late_ride_and_a_cancelled_one_say_so() {
        let live = |cancelled: bool| norikae_wire::route::LegRealtime {
            expected_departure: "2019-06-05T08:07:00+09:00".to_owned(),
            expected_arrival: "2019-06-05T08:30:00+09:00".to_owned(),
            departure_delay_secs: 240,
            arrival_delay_secs: 30,
            cancelled,
            ..norikae_wire::route::LegRealtime::default()
        };
        let leg = |cancelled: bool| {
            AlertedLeg::Transit(AlertedTransitLeg {
                leg: TransitLeg {
                    from: stop("fukuoka:8", "天神"),
                    to: stop("fukuoka:9", "中洲川端"),
                    realtime: Some(live(cancelled)),
                    ..TransitLeg::default()
                },
                alerts: Vec::new(),
            })
        };
        let late = LegView::new(&leg(false), Lang::En);
        assert_eq!(late.live_departure.as_deref(), Some("4 min late (leaves 08:07)"));
        assert_eq!(late.live_arrival.as_deref(), Some("On time"), "under a minute is on time");
        let japanese = LegView::new(&leg(false), Lang::Ja);
        assert_eq!(japanese.live_departure.as_deref(), Some("4分遅れ（08:07発）"));
        let cancelled = LegView::new(&leg(true), Lang::Ja);
        assert_eq!(cancelled.live_departure.as_deref(), Some("運休"));
        assert_eq!(cancelled.live_arrival, None);
        let mut extra = leg(false);
        if let AlertedLeg::Transit(ride) = &mut extra {
            let live = ride.leg.realtime.as_mut().expect("the leg has realtime");
            (live.added, live.departure_delay_secs, live.arrival_delay_secs) = (true, 0, 0);
        }
        let added = LegView::new(&extra, Lang::Ja);
        assert_eq!(added.live_departure.as_deref(), Some("臨時便"), "the feed added the trip");
        assert_eq!(added.live_arrival, None, "no timetable to be on time against");
    }

    #[test]
    fn alert_links_must_be_http() {
        let alert = Alert {
            header: "運休".to_owned(),
            url: Some("javascript:alert(1)".to_owned()),
            ..Alert::default()
        };
        assert_eq!(AlertView::new(&alert).url, None);
    }
}
