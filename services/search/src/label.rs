//! Disambiguation labels: a short text per station that tells same-named stations apart.
//!
//! A station is first described by its lines (rail) or its agencies (bus), plus its
//! locality where the feed gives one. Within a group of stations whose names fold to the
//! same text, stations whose labels still collide are described by agencies *and* lines,
//! and if that is not enough either, by the side of the group they lie on ("north side").

use std::collections::HashMap;

use norikae_timetable::LocalizedText;

use crate::normalize::{compact, fold, is_japanese};
use crate::record::StationRecord;

/// Lines listed in a label before "+N".
const MAX_LINES_IN_LABEL: usize = 3;

/// Labels for every record, parallel to `records`: `default` in the feed's language and an
/// `en` translation when any name of the station has one.
pub fn labels(records: &[StationRecord]) -> Vec<LocalizedText> {
    let languages: [Option<&str>; 2] = [None, Some("en")];
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    for (position, record) in records.iter().enumerate() {
        groups.entry(compact(&fold(&record.name.default))).or_default().push(position);
    }
    let mut labels: Vec<LocalizedText> = Vec::with_capacity(records.len());
    for record in records {
        let mut label = LocalizedText::new(describe(record, None, Detail::Primary));
        if record.name.translation("en").is_some() {
            label
                .translations
                .push(("en".to_owned(), describe(record, Some("en"), Detail::Primary)));
        }
        labels.push(label);
    }
    for members in groups.values().filter(|members| members.len() > 1) {
        for language in languages {
            disambiguate_group(records, members, language, &mut labels);
        }
    }
    labels
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Detail {
    Primary,
    Full,
}

fn label_text(label: &LocalizedText, language: Option<&str>) -> String {
    match language {
        None => label.default.clone(),
        Some(language) => label.translation(language).unwrap_or(&label.default).to_owned(),
    }
}

fn set_label_text(label: &mut LocalizedText, language: Option<&str>, text: String) {
    match language {
        None => label.default = text,
        Some(language) => {
            if let Some((_, existing)) =
                label.translations.iter_mut().find(|(tag, _)| tag == language)
            {
                *existing = text;
            } else {
                label.default = text;
            }
        }
    }
}

fn disambiguate_group(
    records: &[StationRecord],
    members: &[usize],
    language: Option<&str>,
    labels: &mut [LocalizedText],
) {
    let colliding = |labels: &[LocalizedText]| -> Vec<usize> {
        let mut count: HashMap<String, usize> = HashMap::new();
        for &member in members {
            *count.entry(label_text(&labels[member], language)).or_default() += 1;
        }
        members
            .iter()
            .copied()
            .filter(|&member| count[&label_text(&labels[member], language)] > 1)
            .collect()
    };
    for member in colliding(labels) {
        set_label_text(
            &mut labels[member],
            language,
            describe(&records[member], language, Detail::Full),
        );
    }
    let still_colliding = colliding(labels);
    if still_colliding.is_empty() {
        return;
    }
    let centre_lat = still_colliding.iter().map(|&member| records[member].lat).sum::<f64>()
        / still_colliding.len() as f64;
    let centre_lon = still_colliding.iter().map(|&member| records[member].lon).sum::<f64>()
        / still_colliding.len() as f64;
    for member in still_colliding {
        let record = &records[member];
        let japanese = uses_japanese(record, language);
        let side = side_of(
            record.lat - centre_lat,
            (record.lon - centre_lon) * centre_lat.to_radians().cos(),
            japanese,
        );
        let text = label_text(&labels[member], language);
        let joined = if text.is_empty() { side } else { format!("{text} · {side}") };
        set_label_text(&mut labels[member], language, joined);
    }
}

fn uses_japanese(record: &StationRecord, language: Option<&str>) -> bool {
    match language {
        None => record.name.default.chars().any(is_japanese),
        Some(language) => language.starts_with("ja"),
    }
}

fn side_of(north: f64, east: f64, japanese: bool) -> String {
    let (japanese_word, english_word) = if north.abs() < 1e-9 && east.abs() < 1e-9 {
        ("同位置", "same place")
    } else {
        let angle = east.atan2(north).to_degrees().rem_euclid(360.0);
        let sector = ((angle + 22.5) / 45.0) as usize % 8;
        [
            ("北側", "north side"),
            ("北東側", "north-east side"),
            ("東側", "east side"),
            ("南東側", "south-east side"),
            ("南側", "south side"),
            ("南西側", "south-west side"),
            ("西側", "west side"),
            ("北西側", "north-west side"),
        ][sector]
    };
    if japanese { japanese_word.to_owned() } else { english_word.to_owned() }
}

fn text_in(text: &LocalizedText, language: Option<&str>) -> String {
    match language {
        None => text.default.clone(),
        Some(language) => text.get(language).to_owned(),
    }
}

fn describe(record: &StationRecord, language: Option<&str>, detail: Detail) -> String {
    let japanese = uses_japanese(record, language);
    let separator = if japanese { "・" } else { ", " };
    let lines = {
        let mut names: Vec<String> = record
            .lines
            .iter()
            .take(MAX_LINES_IN_LABEL)
            .map(|line| text_in(line, language))
            .collect();
        if record.lines.len() > MAX_LINES_IN_LABEL {
            names.push(format!("+{}", record.lines.len() - MAX_LINES_IN_LABEL));
        }
        names.join(separator)
    };
    let agencies = record
        .agencies
        .iter()
        .map(|agency| text_in(agency, language))
        .collect::<Vec<_>>()
        .join(separator);
    let mut parts: Vec<String> = Vec::new();
    let primary = if record.rail && !lines.is_empty() { &lines } else { &agencies };
    match detail {
        Detail::Primary => parts.push(primary.clone()),
        Detail::Full => {
            parts.push(agencies.clone());
            parts.push(lines.clone());
        }
    }
    if let Some(locality) = &record.locality {
        parts.push(locality.clone());
    }
    parts.retain(|part| !part.is_empty());
    parts.dedup();
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bus_stop(name: &str, agency: &str, line: &str, lat: f64) -> StationRecord {
        StationRecord {
            id: format!("test:{name}{lat}"),
            name: LocalizedText::new(name),
            lat,
            lon: 133.9,
            lines: vec![LocalizedText::new(line)],
            agencies: vec![LocalizedText::new(agency)],
            ..StationRecord::default()
        }
    }

    #[test]
    fn same_named_stations_get_different_labels() {
        let records = vec![
            bus_stop("中央町", "両備バス", "西大寺線", 34.60),
            bus_stop("中央町", "岡電バス", "大学病院線", 34.70),
            bus_stop("中央町", "両備バス", "西大寺線", 34.80),
        ];
        let labels = labels(&records);
        assert_ne!(labels[0].default, labels[1].default);
        assert_ne!(labels[0].default, labels[2].default);
        assert!(labels[0].default.contains("南側"), "{:?}", labels[0]);
        assert_eq!(labels[1].default, "岡電バス");
    }
}
