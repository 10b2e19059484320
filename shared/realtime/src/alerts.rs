//! ServiceAlerts, resolved against the timetable: texts with their languages, when they
//! are active, and whom they inform (ids in `FEED:ID` form, as everywhere in Norikae).

use norikae_timetable::Timetable;

use crate::proto::alert::{Cause, Effect, SeverityLevel};
use crate::proto::{Alert, TranslatedString};

/// `(language, text)` pairs; the language is empty where the feed gives none.
pub type Translations = Vec<(String, String)>;

/// One ServiceAlert entity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RealtimeAlert {
    /// `FEED:entity_id`.
    pub id: String,
    pub header: Translations,
    pub description: Translations,
    pub url: Translations,
    /// GTFS-RT cause and effect, lower case (`strike`, `significant_delays`, …).
    pub cause: String,
    pub effect: String,
    /// `info`, `warning`, `severe` or `unknown`.
    pub severity: String,
    /// Active periods in POSIX seconds (`None`: open on that side); empty: always.
    pub active: Vec<(Option<u64>, Option<u64>)>,
    pub agency_ids: Vec<String>,
    pub route_ids: Vec<String>,
    pub stop_ids: Vec<String>,
    /// Stations of `stop_ids` (a stop informs its station's board).
    pub station_ids: Vec<String>,
    pub trip_ids: Vec<String>,
}

impl RealtimeAlert {
    /// Whether it is active at `now` (POSIX seconds).
    pub fn active_at(&self, now: u64) -> bool {
        self.active.is_empty()
            || self.active.iter().any(|&(start, end)| {
                start.is_none_or(|start| start <= now) && end.is_none_or(|end| now < end)
            })
    }

    /// The header in `lang` (exact, then primary subtag), else the first.
    pub fn header_in(&self, lang: &str) -> Option<&str> {
        pick(&self.header, lang)
    }

    pub fn description_in(&self, lang: &str) -> Option<&str> {
        pick(&self.description, lang)
    }
}

fn pick<'a>(texts: &'a Translations, lang: &str) -> Option<&'a str> {
    let primary = lang.split('-').next().unwrap_or(lang);
    texts
        .iter()
        .find(|(tag, _)| tag.eq_ignore_ascii_case(lang))
        .or_else(|| texts.iter().find(|(tag, _)| tag.eq_ignore_ascii_case(primary)))
        .or_else(|| texts.first())
        .map(|(_, text)| text.as_str())
}

pub(crate) fn resolve(
    timetable: &Timetable,
    feed: &str,
    entity_id: &str,
    alert: &Alert,
) -> RealtimeAlert {
    let mut resolved = RealtimeAlert {
        id: format!("{feed}:{entity_id}"),
        header: translations(alert.header_text.as_ref()),
        description: translations(alert.description_text.as_ref()),
        url: translations(alert.url.as_ref()),
        cause: alert
            .cause
            .and_then(|value| Cause::try_from(value).ok())
            .unwrap_or(Cause::UnknownCause)
            .as_str_name()
            .to_ascii_lowercase(),
        effect: alert
            .effect
            .and_then(|value| Effect::try_from(value).ok())
            .unwrap_or(Effect::UnknownEffect)
            .as_str_name()
            .to_ascii_lowercase(),
        severity:
            match alert.severity_level.and_then(|value| SeverityLevel::try_from(value).ok()) {
                Some(SeverityLevel::Info) => "info",
                Some(SeverityLevel::Warning) => "warning",
                Some(SeverityLevel::Severe) => "severe",
                _ => "unknown",
            }
            .to_owned(),
        active: alert.active_period.iter().map(|range| (range.start, range.end)).collect(),
        ..RealtimeAlert::default()
    };
    let push = |list: &mut Vec<String>, id: String| {
        if !list.contains(&id) {
            list.push(id);
        }
    };
    for informed in &alert.informed_entity {
        if let Some(agency) = &informed.agency_id {
            push(&mut resolved.agency_ids, format!("{feed}:{agency}"));
        }
        if let Some(route) = &informed.route_id {
            push(&mut resolved.route_ids, format!("{feed}:{route}"));
        }
        if let Some(stop) = &informed.stop_id {
            let stop_id = format!("{feed}:{stop}");
            if let Some(station) = timetable.station_by_id(&stop_id) {
                push(&mut resolved.station_ids, timetable.stations[station.idx()].id.clone());
            }
            // The snapshot's id for a stop shared by feeds (the first feed's).
            let canonical = timetable
                .stop_by_id(&stop_id)
                .map_or(stop_id, |stop| timetable.stops[stop.idx()].id.clone());
            push(&mut resolved.stop_ids, canonical);
        }
        if let Some(trip) = informed.trip.as_ref().and_then(|trip| trip.trip_id.as_ref()) {
            push(&mut resolved.trip_ids, format!("{feed}:{trip}"));
        }
    }
    resolved
}

fn translations(text: Option<&TranslatedString>) -> Translations {
    text.map(|text| {
        text.translation
            .iter()
            .map(|translation| {
                (translation.language.clone().unwrap_or_default(), translation.text.clone())
            })
            .collect()
    })
    .unwrap_or_default()
}
