//! The GTFS-Realtime ServiceAlerts the route engine has ingested (`GET /realtime/alerts`),
//! polled every `upstream.status_poll_secs` and joined with the database's alerts in the
//! [`AlertStore`], so that legs, departure boards and `/v1/alerts` show both, each with the
//! languages its feed gives. They are read-only here: the feed owns them.

use std::collections::BTreeMap;
use std::time::Duration;

use norikae_wire::route::{RealtimeAlert, RealtimeAlertsResponse};

use crate::alerts::{
    ActivePeriod, AlertStore, Cause, Effect, InformedEntity, StoredAlert, Translation,
};
use crate::store::{now_text, timestamp_text};
use crate::upstream::{Engine, Upstream};

/// The api's form of a realtime alert (id `rt:FEED:ENTITY`, so that it never collides with
/// a database alert's).
pub fn stored(alert: &RealtimeAlert) -> StoredAlert {
    let parse = |text: &str| serde_json::Value::String(text.to_owned());
    let cause: Cause = serde_json::from_value(parse(&alert.cause)).unwrap_or_default();
    let effect: Effect = serde_json::from_value(parse(&alert.effect)).unwrap_or_default();
    let now = now_text();
    let mut stored = StoredAlert::without_details(
        format!("rt:{}", alert.id),
        cause,
        effect,
        alert.url.clone(),
        now.clone(),
        now,
        None,
    );
    stored.translations = alert
        .translations
        .iter()
        .map(|text| {
            let translation =
                Translation { header: text.header.clone(), description: text.description.clone() };
            (text.language.clone(), translation)
        })
        .collect::<BTreeMap<_, _>>();
    let posix = |secs: u64| {
        i64::try_from(secs)
            .ok()
            .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
            .map(timestamp_text)
    };
    stored.active_periods = alert
        .active_periods
        .iter()
        .map(|&(start, end)| ActivePeriod {
            start: start
                .and_then(posix)
                .unwrap_or_else(|| timestamp_text(chrono::DateTime::UNIX_EPOCH)),
            end: end.and_then(posix),
        })
        .collect();
    let mut informed: Vec<InformedEntity> = Vec::new();
    for agency in &alert.agency_ids {
        informed
            .push(InformedEntity { agency_id: Some(agency.clone()), ..InformedEntity::default() });
    }
    for route in &alert.route_ids {
        informed
            .push(InformedEntity { route_id: Some(route.clone()), ..InformedEntity::default() });
    }
    for station in &alert.station_ids {
        informed.push(InformedEntity {
            station_id: Some(station.clone()),
            ..InformedEntity::default()
        });
    }
    stored.informed = informed;
    stored.finish()
}

/// Polls the route engine's realtime alerts into `alerts` every `interval`; an engine that
/// does not answer leaves the last ones in place (they expire in the engine, not here).
pub fn spawn_poll(
    alerts: AlertStore,
    upstream: Upstream,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let answer: Result<RealtimeAlertsResponse, _> = upstream
                .get_json(Engine::Route, "/realtime/alerts", &[] as &[(&str, String)], None)
                .await;
            match answer {
                Ok(answer) => alerts.install_realtime(answer.alerts.iter().map(stored).collect()),
                Err(problem) => tracing::debug!(%problem, "realtime alerts not polled"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_realtime_alert_keeps_its_languages_periods_and_entities() {
        let alert = RealtimeAlert {
            id: "fukuoka:alert-1".to_owned(),
            cause: "technical_problem".to_owned(),
            effect: "no_service".to_owned(),
            url: None,
            translations: vec![
                norikae_wire::route::RealtimeAlertText {
                    language: "ja".to_owned(),
                    header: "運休".to_owned(),
                    description: String::new(),
                },
                norikae_wire::route::RealtimeAlertText {
                    language: "en".to_owned(),
                    header: "Cancelled".to_owned(),
                    description: "A vehicle fault".to_owned(),
                },
            ],
            active_periods: vec![(Some(1_559_660_400), Some(1_559_790_000))],
            agency_ids: Vec::new(),
            route_ids: vec!["fukuoka:1".to_owned()],
            station_ids: vec!["fukuoka:8".to_owned()],
            trip_ids: Vec::new(),
        };
        let stored = stored(&alert);
        assert_eq!(stored.id, "rt:fukuoka:alert-1");
        assert_eq!((stored.cause, stored.effect), (Cause::TechnicalProblem, Effect::NoService));
        assert!(stored.informs_route("fukuoka:1", "fukuoka:other"));
        assert!(stored.informs_station("fukuoka:8"));
        let inside = chrono::DateTime::from_timestamp(1_559_700_000, 0).expect("time");
        let after = chrono::DateTime::from_timestamp(1_559_800_000, 0).expect("time");
        assert!(stored.active_at(inside) && !stored.active_at(after));
        assert_eq!(stored.render(Some("en")).header, "Cancelled");
        assert_eq!(stored.render(None).header, "運休", "Japanese first, as for every alert");
    }
}
