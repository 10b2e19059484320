//! Service alerts (運行情報): what operators publish about delays and suspensions, for
//! agencies, routes and stations, in several languages, with GTFS-Realtime's cause and effect
//! and active periods.
//!
//! Written through the admin endpoints (each write one transaction), read from memory: the
//! [`AlertStore`] re-reads them every `auth.alert_refresh_ms` and right after a write, so
//! journeys and departure boards carry their alerts even while the database is down.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
// The alert as clients read it and the admin bodies that write it are `/v1` wire types (the
// app reads alerts too).
pub use norikae_wire::v1::{
    ActivePeriod, Alert, AlertPatch, Cause, Effect, InformedEntity, NewAlert, Translation,
};

use crate::store::{self, Db, StoreError, now_text, timestamp_text};

/// An alert as stored, with parsed periods for matching.
#[derive(Clone, Debug)]
pub struct StoredAlert {
    pub id: String,
    pub cause: Cause,
    pub effect: Effect,
    pub url: Option<String>,
    pub translations: BTreeMap<String, Translation>,
    pub active_periods: Vec<ActivePeriod>,
    pub informed: Vec<InformedEntity>,
    pub created_at: String,
    pub updated_at: String,
    pub ended_at: Option<String>,
    periods: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)>,
    ended: Option<DateTime<Utc>>,
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|time| time.with_timezone(&Utc))
}

impl StoredAlert {
    /// An alert's own members, without texts, periods or entities yet: how storage starts
    /// reading one back (then adds those and calls [`Self::finish`]).
    pub(crate) fn without_details(
        id: String,
        cause: Cause,
        effect: Effect,
        url: Option<String>,
        created_at: String,
        updated_at: String,
        ended_at: Option<String>,
    ) -> Self {
        Self {
            id,
            cause,
            effect,
            url,
            translations: BTreeMap::new(),
            active_periods: Vec::new(),
            informed: Vec::new(),
            created_at,
            updated_at,
            ended_at,
            periods: Vec::new(),
            ended: None,
        }
    }

    /// Parses the periods and the end time, for matching.
    pub(crate) fn finish(mut self) -> Self {
        self.periods = self
            .active_periods
            .iter()
            .filter_map(|period| {
                Some((parse_time(&period.start)?, period.end.as_deref().and_then(parse_time)))
            })
            .collect();
        self.ended = self.ended_at.as_deref().and_then(parse_time);
        self
    }

    /// Whether the alert applies at some moment of `[from, to]`. An ended alert applies
    /// nowhere any more: the operator has withdrawn it.
    pub fn active_during(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        if self.ended.is_some_and(|ended| ended <= Utc::now()) {
            return false;
        }
        if self.periods.is_empty() {
            return true;
        }
        self.periods.iter().any(|(start, end)| *start <= to && end.is_none_or(|end| end > from))
    }

    pub fn active_at(&self, time: DateTime<Utc>) -> bool {
        self.active_during(time, time)
    }

    pub fn informs_route(&self, route_id: &str, agency_id: &str) -> bool {
        self.informed.iter().any(|entity| {
            entity.route_id.as_deref() == Some(route_id)
                || entity.agency_id.as_deref() == Some(agency_id)
        })
    }

    pub fn informs_station(&self, station_id: &str) -> bool {
        self.informed.iter().any(|entity| entity.station_id.as_deref() == Some(station_id))
    }

    /// The client's view in `lang` (else Japanese, else the first language).
    pub fn render(&self, lang: Option<&str>) -> Alert {
        // The same rule as names (`zh-Hant` finds `zh-TW`, never `zh-CN`), else Japanese.
        let text = lang
            .and_then(|lang| {
                let tags = self.translations.keys().map(String::as_str);
                norikae_wire::lang::best_match(lang, tags)
            })
            .and_then(|index| self.translations.values().nth(index))
            .or_else(|| self.translations.get("ja"))
            .or_else(|| self.translations.values().next());
        Alert {
            id: self.id.clone(),
            cause: self.cause,
            effect: self.effect,
            header: text.map(|text| text.header.clone()).unwrap_or_default(),
            description: text.map(|text| text.description.clone()).unwrap_or_default(),
            url: self.url.clone(),
            translations: self.translations.clone(),
            active_periods: self.active_periods.clone(),
            informed: self.informed.clone(),
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
            ended_at: self.ended_at.clone(),
        }
    }
}

/// Why an alert write was refused.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// The content is not valid; `field` names the member at fault.
    #[error("{field}: {detail}")]
    Invalid { field: String, detail: String },
    /// Storage failed, or (`StoreError::NotFound`) no alert has the id.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks an alert's content; the error names the member at fault.
fn validate(
    url: Option<&str>,
    translations: &BTreeMap<String, Translation>,
    periods: &[ActivePeriod],
    informed: &[InformedEntity],
) -> Result<(), AlertError> {
    let invalid =
        |field: &str, detail: String| AlertError::Invalid { field: field.to_owned(), detail };
    if let Some(url) = url.filter(|url| !url.is_empty()) {
        let parsed =
            url::Url::parse(url).map_err(|_| invalid("url", format!("`{url}` is not a URL")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid("url", "url must be http:// or https://".to_owned()));
        }
    }
    if translations.is_empty() {
        return Err(invalid(
            "translations",
            "at least one language is required, e.g. {\"ja\": {\"header\": \"…\"}}".to_owned(),
        ));
    }
    for (lang, text) in translations {
        let valid_lang = (2..=8).contains(&lang.len())
            && lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid_lang {
            return Err(invalid("translations", format!("`{lang}` is not a language tag")));
        }
        if text.header.trim().is_empty() || text.header.chars().count() > 500 {
            return Err(invalid(
                &format!("translations.{lang}.header"),
                "a header of 1 to 500 characters is required".to_owned(),
            ));
        }
        if text.description.chars().count() > 10_000 {
            return Err(invalid(
                &format!("translations.{lang}.description"),
                "at most 10000 characters".to_owned(),
            ));
        }
    }
    for (position, period) in periods.iter().enumerate() {
        let field = format!("active_periods[{position}]");
        let start = parse_time(&period.start).ok_or_else(|| {
            invalid(
                &format!("{field}.start"),
                format!("`{}` is not an RFC 3339 time", period.start),
            )
        })?;
        if let Some(end_text) = &period.end {
            let end = parse_time(end_text).ok_or_else(|| {
                invalid(&format!("{field}.end"), format!("`{end_text}` is not an RFC 3339 time"))
            })?;
            if end <= start {
                return Err(invalid(&format!("{field}.end"), "end must be after start".to_owned()));
            }
        }
    }
    if informed.is_empty() {
        return Err(invalid(
            "informed",
            "name at least one agency_id, route_id or station_id".to_owned(),
        ));
    }
    if informed.len() > 500 {
        return Err(invalid("informed", "at most 500 entities".to_owned()));
    }
    for (position, entity) in informed.iter().enumerate() {
        let ids = [&entity.agency_id, &entity.route_id, &entity.station_id];
        let given: Vec<&String> = ids.iter().filter_map(|id| id.as_ref()).collect();
        let field = format!("informed[{position}]");
        if given.len() != 1 {
            return Err(invalid(
                &field,
                "each entity names exactly one of agency_id, route_id, station_id".to_owned(),
            ));
        }
        let id = given[0];
        let well_formed =
            id.split_once(':').is_some_and(|(feed, rest)| !feed.is_empty() && !rest.is_empty())
                && id.len() <= 200;
        if !well_formed {
            return Err(invalid(&field, format!("`{id}` is not an id like FEED:ID")));
        }
    }
    Ok(())
}

fn normalise_periods(periods: &[ActivePeriod]) -> Vec<ActivePeriod> {
    periods
        .iter()
        .map(|period| ActivePeriod {
            start: parse_time(&period.start).map_or_else(|| period.start.clone(), timestamp_text),
            end: period
                .end
                .as_deref()
                .map(|end| parse_time(end).map_or_else(|| end.to_owned(), timestamp_text)),
        })
        .collect()
}

/// The alerts in memory. See the module docs.
#[derive(Clone)]
pub struct AlertStore {
    db: Db,
    /// The alerts, with the number of the read they came from.
    alerts: Arc<RwLock<(u64, Arc<Vec<StoredAlert>>)>>,
    /// Numbers the reads in the order they start.
    reads: Arc<AtomicU64>,
    /// The route engine's GTFS-Realtime ServiceAlerts (see [`crate::realtime_alerts`]).
    realtime: Arc<RwLock<Arc<Vec<StoredAlert>>>>,
}

impl std::fmt::Debug for AlertStore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("AlertStore").finish_non_exhaustive()
    }
}

/// Alerts that ended longer ago than this are not kept in memory (they still are in the
/// database and in `/v1/alerts?active=false`).
const KEEP_ENDED_DAYS: i64 = 7;

impl AlertStore {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            alerts: Arc::new(RwLock::new((0, Arc::new(Vec::new())))),
            reads: Arc::new(AtomicU64::new(0)),
            realtime: Arc::new(RwLock::new(Arc::new(Vec::new()))),
        }
    }

    /// The alerts in memory: not ended, or ended within a week; then the realtime feeds'.
    pub fn current(&self) -> Arc<Vec<StoredAlert>> {
        let stored =
            self.alerts.read().unwrap_or_else(std::sync::PoisonError::into_inner).1.clone();
        let realtime =
            self.realtime.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        if realtime.is_empty() {
            return stored;
        }
        Arc::new(stored.iter().chain(realtime.iter()).cloned().collect())
    }

    /// Replaces the realtime feeds' alerts.
    pub fn install_realtime(&self, alerts: Vec<StoredAlert>) {
        *self.realtime.write().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Arc::new(alerts);
    }

    /// Re-reads the recent alerts from the database. A read that started before a write
    /// committed may finish after the read that follows the write (the periodic refresh
    /// racing an admin write): only a read that started later than the one in memory
    /// replaces it, so an ended alert never comes back from a stale read.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let read = self.reads.fetch_add(1, Ordering::SeqCst) + 1;
        let cutoff = timestamp_text(Utc::now() - chrono::Duration::days(KEEP_ENDED_DAYS));
        let alerts = store::alerts::load(&self.db, Some(&cutoff), None).await?;
        self.install(read, alerts);
        Ok(())
    }

    /// Keeps `alerts`, from read number `read`, unless a later read's are in memory already.
    fn install(&self, read: u64, alerts: Vec<StoredAlert>) {
        let mut current = self.alerts.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if read > current.0 {
            *current = (read, Arc::new(alerts));
        }
    }

    pub fn spawn_refresh(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                if !store.db.is_migrated() {
                    continue;
                }
                if let Err(error) = store.refresh().await {
                    tracing::warn!(error = %error, "alerts not refreshed; using the ones in memory");
                }
            }
        })
    }

    /// Every alert, newest first (at most `limit`), from the database.
    pub async fn all(&self, limit: i64) -> Result<Vec<StoredAlert>, StoreError> {
        let mut alerts = store::alerts::load(&self.db, None, Some(limit)).await?;
        alerts.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
        Ok(alerts)
    }

    pub async fn create(&self, new: NewAlert) -> Result<StoredAlert, AlertError> {
        validate(new.url.as_deref(), &new.translations, &new.active_periods, &new.informed)?;
        let now = now_text();
        let mut alert = StoredAlert::without_details(
            uuid::Uuid::new_v4().simple().to_string(),
            new.cause,
            new.effect,
            new.url.filter(|url| !url.is_empty()),
            now.clone(),
            now,
            None,
        );
        alert.translations = new.translations;
        alert.active_periods = normalise_periods(&new.active_periods);
        alert.informed = dedup(new.informed);
        let alert = alert.finish();
        store::alerts::insert(&self.db, &alert).await?;
        self.refresh_after_write().await;
        Ok(alert)
    }

    pub async fn update(&self, id: &str, patch: AlertPatch) -> Result<StoredAlert, AlertError> {
        let alert = store::alerts::update(&self.db, id, |mut alert| {
            if let Some(cause) = patch.cause {
                alert.cause = cause;
            }
            if let Some(effect) = patch.effect {
                alert.effect = effect;
            }
            if let Some(url) = patch.url {
                alert.url = Some(url).filter(|url| !url.is_empty());
            }
            let children_changed = patch.translations.is_some()
                || patch.active_periods.is_some()
                || patch.informed.is_some();
            if let Some(translations) = patch.translations {
                alert.translations = translations;
            }
            if let Some(periods) = patch.active_periods {
                alert.active_periods = periods;
            }
            if let Some(informed) = patch.informed {
                alert.informed = informed;
            }
            validate(
                alert.url.as_deref(),
                &alert.translations,
                &alert.active_periods,
                &alert.informed,
            )?;
            alert.active_periods = normalise_periods(&alert.active_periods);
            alert.informed = dedup(alert.informed);
            alert.updated_at = now_text();
            Ok::<_, AlertError>(store::alerts::Changed { alert: alert.finish(), children_changed })
        })
        .await?;
        self.refresh_after_write().await;
        Ok(alert)
    }

    /// Ends an alert now (ending an ended alert changes nothing).
    pub async fn end(&self, id: &str) -> Result<StoredAlert, AlertError> {
        let alert = store::alerts::end(&self.db, id).await?;
        self.refresh_after_write().await;
        Ok(alert)
    }

    async fn refresh_after_write(&self) {
        if let Err(error) = self.refresh().await {
            tracing::warn!(error = %error, "alerts not re-read after a write; the next refresh will");
        }
    }
}

fn dedup(entities: Vec<InformedEntity>) -> Vec<InformedEntity> {
    let mut seen = HashSet::new();
    entities.into_iter().filter(|entity| seen.insert(entity.clone())).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An alert active at all times about `informed`, for the tests of what carries alerts.
    pub(crate) fn alert_about(id: &str, informed: InformedEntity) -> StoredAlert {
        StoredAlert { id: id.to_owned(), informed: vec![informed], ..alert(Vec::new()) }
    }

    fn alert(periods: Vec<ActivePeriod>) -> StoredAlert {
        StoredAlert {
            translations: BTreeMap::from([
                (
                    "ja".to_owned(),
                    Translation { header: "遅延".to_owned(), description: String::new() },
                ),
                (
                    "en".to_owned(),
                    Translation { header: "Delays".to_owned(), description: String::new() },
                ),
            ]),
            active_periods: periods,
            informed: vec![InformedEntity {
                route_id: Some("fukuoka:1".to_owned()),
                ..Default::default()
            }],
            ..StoredAlert::without_details(
                "a".to_owned(),
                Cause::Weather,
                Effect::SignificantDelays,
                None,
                now_text(),
                now_text(),
                None,
            )
        }
        .finish()
    }

    fn at(text: &str) -> DateTime<Utc> {
        parse_time(text).expect("time")
    }

    #[tokio::test]
    async fn a_read_started_before_another_never_replaces_it() {
        let directory = tempfile::tempdir().expect("temp dir");
        let settings = crate::config::DatabaseSettings {
            url: format!("sqlite://{}", directory.path().join("alerts.db").display()),
            ..Default::default()
        };
        let store = AlertStore::new(Db::open(&settings).expect("pool"));
        // The periodic refresh starts its read (1), an admin write commits and re-reads (2),
        // then the periodic read, which missed the write, finishes last.
        let (stale, fresh) = (
            store.reads.fetch_add(1, Ordering::SeqCst) + 1,
            store.reads.fetch_add(1, Ordering::SeqCst) + 1,
        );
        store.install(fresh, Vec::new());
        store.install(stale, vec![alert(Vec::new())]);
        assert!(store.current().is_empty(), "the stale read brought an ended alert back");
        store.install(store.reads.fetch_add(1, Ordering::SeqCst) + 1, vec![alert(Vec::new())]);
        assert_eq!(store.current().len(), 1, "a later read replaces the alerts");
    }

    #[test]
    fn periods_decide_when_an_alert_applies() {
        let bounded = alert(vec![ActivePeriod {
            start: "2019-06-05T08:00:00+09:00".to_owned(),
            end: Some("2019-06-05T10:00:00+09:00".to_owned()),
        }]);
        assert!(bounded.active_at(at("2019-06-05T09:00:00+09:00")));
        assert!(!bounded.active_at(at("2019-06-05T10:00:00+09:00")));
        assert!(
            bounded.active_during(at("2019-06-05T07:30:00+09:00"), at("2019-06-05T08:10:00+09:00"))
        );
        assert!(
            !bounded
                .active_during(at("2019-06-05T06:00:00+09:00"), at("2019-06-05T07:59:00+09:00"))
        );
        let always = alert(Vec::new());
        assert!(always.active_at(at("2030-01-01T00:00:00Z")));
    }

    #[test]
    fn renders_the_requested_language_or_japanese() {
        let alert = alert(Vec::new());
        assert_eq!(alert.render(Some("en")).header, "Delays");
        assert_eq!(alert.render(Some("ko")).header, "遅延");
        assert_eq!(alert.render(None).header, "遅延");
        // Script subtags: the same rule as names; one script never stands in for the other.
        assert_eq!(alert.render(Some("en-GB")).header, "Delays");
        let mut chinese = alert;
        for (tag, header) in [("zh-TW", "延誤"), ("zh-Hans", "延误")] {
            let text = Translation { header: header.to_owned(), description: String::new() };
            chinese.translations.insert(tag.to_owned(), text);
        }
        assert_eq!(chinese.render(Some("zh-Hant")).header, "延誤");
        assert_eq!(chinese.render(Some("zh-HK")).header, "延誤");
        assert_eq!(chinese.render(Some("zh-CN")).header, "延误");
        chinese.translations.remove("zh-TW");
        assert_eq!(chinese.render(Some("zh-Hant")).header, "遅延", "not the simplified text");
    }

    fn invalid_field(error: AlertError) -> String {
        match error {
            AlertError::Invalid { field, .. } => field,
            AlertError::Store(error) => panic!("not a validation error: {error}"),
        }
    }

    #[test]
    fn validation_names_the_member() {
        let translations = BTreeMap::from([(
            "ja".to_owned(),
            Translation { header: "運休".to_owned(), description: String::new() },
        )]);
        let informed =
            vec![InformedEntity { station_id: Some("fukuoka:8".to_owned()), ..Default::default() }];
        assert!(validate(None, &translations, &[], &informed).is_ok());
        let both = vec![InformedEntity {
            station_id: Some("fukuoka:8".to_owned()),
            route_id: Some("fukuoka:1".to_owned()),
            ..Default::default()
        }];
        assert_eq!(
            validate(None, &translations, &[], &both).map_err(invalid_field),
            Err("informed[0]".to_owned())
        );
        let backwards = [ActivePeriod {
            start: "2025-01-02T00:00:00Z".to_owned(),
            end: Some("2025-01-01T00:00:00Z".to_owned()),
        }];
        assert_eq!(
            validate(None, &translations, &backwards, &informed).map_err(invalid_field),
            Err("active_periods[0].end".to_owned())
        );
        assert_eq!(
            validate(None, &BTreeMap::new(), &[], &informed).map_err(invalid_field),
            Err("translations".to_owned())
        );
        assert_eq!(
            validate(Some("ftp://x"), &translations, &[], &informed).map_err(invalid_field),
            Err("url".to_owned())
        );
    }
}
