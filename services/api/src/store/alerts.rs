//! `alerts` and its child tables (`alert_translations`, `alert_active_periods`,
//! `alert_informed_entities`): each write is one transaction over the alert and its children.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{Db, Record, StoreError, now_text};
use crate::alerts::{ActivePeriod, Cause, Effect, InformedEntity, StoredAlert, Translation};

/// A cause or effect as stored: its snake_case name.
fn enum_text<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn enum_from_text<T: for<'de> Deserialize<'de>>(text: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

fn unknown_alert(id: &str) -> StoreError {
    StoreError::NotFound { record: Record::Alert, key: "id", value: id.to_owned() }
}

/// Stores a new alert with its texts, periods and entities.
pub async fn insert(db: &Db, alert: &StoredAlert) -> Result<(), StoreError> {
    let mut transaction = db.begin().await?;
    sqlx::query("INSERT INTO alerts (id, cause, effect, url, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(alert.id.clone())
        .bind(enum_text(alert.cause))
        .bind(enum_text(alert.effect))
        .bind(alert.url.clone())
        .bind(alert.created_at.clone())
        .bind(alert.updated_at.clone())
        .execute(&mut *transaction)
        .await?;
    insert_children(&mut transaction, alert).await?;
    transaction.commit().await?;
    Ok(())
}

/// What a change made of an alert: the alert to store, and whether its texts, periods or
/// entities changed (else only the `alerts` row is written).
#[derive(Debug)]
pub struct Changed {
    pub alert: StoredAlert,
    pub children_changed: bool,
}

/// Reads the alert `id`, applies `change` and stores the result, all in one transaction: a
/// `change` that fails writes nothing and its error is returned. An unknown `id` is
/// [`StoreError::NotFound`].
pub async fn update<E: From<StoreError>>(
    db: &Db,
    id: &str,
    change: impl FnOnce(StoredAlert) -> Result<Changed, E>,
) -> Result<StoredAlert, E> {
    let mut transaction = db.begin().await?;
    let alert = load_one(&mut transaction, id).await?.ok_or_else(|| unknown_alert(id))?;
    let Changed { alert, children_changed } = change(alert)?;
    sqlx::query(
        "UPDATE alerts SET cause = $1, effect = $2, url = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(enum_text(alert.cause))
    .bind(enum_text(alert.effect))
    .bind(alert.url.clone())
    .bind(alert.updated_at.clone())
    .bind(alert.id.clone())
    .execute(&mut *transaction)
    .await
    .map_err(StoreError::from)?;
    if children_changed {
        for table in ["alert_translations", "alert_active_periods", "alert_informed_entities"] {
            let sql = sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE alert_id = $1"));
            sqlx::query(sql)
                .bind(alert.id.clone())
                .execute(&mut *transaction)
                .await
                .map_err(StoreError::from)?;
        }
        insert_children(&mut transaction, &alert).await?;
    }
    transaction.commit().await.map_err(StoreError::from)?;
    Ok(alert)
}

/// Ends the alert `id` now and returns it; ending an ended alert changes nothing. An
/// unknown `id` is [`StoreError::NotFound`].
pub async fn end(db: &Db, id: &str) -> Result<StoredAlert, StoreError> {
    let mut transaction = db.begin().await?;
    let mut alert = load_one(&mut transaction, id).await?.ok_or_else(|| unknown_alert(id))?;
    if alert.ended_at.is_none() {
        let now = now_text();
        sqlx::query("UPDATE alerts SET ended_at = $1, updated_at = $1 WHERE id = $2")
            .bind(now.clone())
            .bind(alert.id.clone())
            .execute(&mut *transaction)
            .await?;
        alert.ended_at = Some(now.clone());
        alert.updated_at = now;
    }
    transaction.commit().await?;
    Ok(alert.finish())
}

async fn insert_children(
    transaction: &mut Transaction<'static, Any>,
    alert: &StoredAlert,
) -> Result<(), StoreError> {
    for (lang, text) in &alert.translations {
        sqlx::query("INSERT INTO alert_translations (alert_id, lang, header, description) VALUES ($1, $2, $3, $4)")
            .bind(alert.id.clone())
            .bind(lang.clone())
            .bind(text.header.clone())
            .bind(text.description.clone())
            .execute(&mut **transaction)
            .await?;
    }
    for (position, period) in alert.active_periods.iter().enumerate() {
        sqlx::query("INSERT INTO alert_active_periods (alert_id, position, start_at, end_at) VALUES ($1, $2, $3, $4)")
            .bind(alert.id.clone())
            .bind(position as i64)
            .bind(period.start.clone())
            .bind(period.end.clone())
            .execute(&mut **transaction)
            .await?;
    }
    for (position, entity) in alert.informed.iter().enumerate() {
        sqlx::query(
            "INSERT INTO alert_informed_entities (alert_id, position, agency_id, route_id, station_id) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(alert.id.clone())
        .bind(position as i64)
        .bind(entity.agency_id.clone())
        .bind(entity.route_id.clone())
        .bind(entity.station_id.clone())
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
}

/// An `alerts` row, without its texts, periods and entities. A cause or effect this code
/// does not know (written by a newer version) reads as unknown.
fn alert_from_row(row: &AnyRow) -> Result<StoredAlert, StoreError> {
    let cause: String = row.try_get("cause")?;
    let effect: String = row.try_get("effect")?;
    Ok(StoredAlert::without_details(
        row.try_get("id")?,
        enum_from_text(&cause).unwrap_or(Cause::UnknownCause),
        enum_from_text(&effect).unwrap_or(Effect::UnknownEffect),
        row.try_get("url")?,
        row.try_get("created_at")?,
        row.try_get("updated_at")?,
        row.try_get("ended_at")?,
    ))
}

/// Alerts not ended before `ended_after` (all when `None`), newest first, at most `limit`,
/// with their texts, periods and entities, in three more queries.
pub async fn load(
    db: &Db,
    ended_after: Option<&str>,
    limit: Option<i64>,
) -> Result<Vec<StoredAlert>, StoreError> {
    let mut connection = db.pool().acquire().await?;
    let rows = match ended_after {
        Some(cutoff) => {
            sqlx::query("SELECT id, cause, effect, url, created_at, updated_at, ended_at FROM alerts WHERE ended_at IS NULL OR ended_at > $1 ORDER BY created_at DESC, id DESC LIMIT $2")
                .bind(cutoff.to_owned())
                .bind(limit.unwrap_or(100_000))
                .fetch_all(&mut *connection)
                .await?
        }
        None => {
            sqlx::query("SELECT id, cause, effect, url, created_at, updated_at, ended_at FROM alerts ORDER BY created_at DESC, id DESC LIMIT $1")
                .bind(limit.unwrap_or(100_000))
                .fetch_all(&mut *connection)
                .await?
        }
    };
    let mut alerts: Vec<StoredAlert> = rows.iter().map(alert_from_row).collect::<Result<_, _>>()?;
    if alerts.is_empty() {
        return Ok(alerts);
    }
    let positions: HashMap<String, usize> =
        alerts.iter().enumerate().map(|(position, alert)| (alert.id.clone(), position)).collect();
    // The child tables are read whole per table (small: alerts are few) and matched here.
    let translations =
        sqlx::query("SELECT alert_id, lang, header, description FROM alert_translations")
            .fetch_all(&mut *connection)
            .await?;
    for row in translations {
        let alert_id: String = row.try_get("alert_id")?;
        if let Some(&position) = positions.get(&alert_id) {
            let lang: String = row.try_get("lang")?;
            let text = Translation {
                header: row.try_get("header")?,
                description: row.try_get("description")?,
            };
            alerts[position].translations.insert(lang, text);
        }
    }
    let periods = sqlx::query(
        "SELECT alert_id, start_at, end_at FROM alert_active_periods ORDER BY alert_id, position",
    )
    .fetch_all(&mut *connection)
    .await?;
    for row in periods {
        let alert_id: String = row.try_get("alert_id")?;
        if let Some(&position) = positions.get(&alert_id) {
            let period =
                ActivePeriod { start: row.try_get("start_at")?, end: row.try_get("end_at")? };
            alerts[position].active_periods.push(period);
        }
    }
    let entities = sqlx::query(
        "SELECT alert_id, agency_id, route_id, station_id FROM alert_informed_entities ORDER BY alert_id, position",
    )
    .fetch_all(&mut *connection)
    .await?;
    for row in entities {
        let alert_id: String = row.try_get("alert_id")?;
        if let Some(&position) = positions.get(&alert_id) {
            let entity = InformedEntity {
                agency_id: row.try_get("agency_id")?,
                route_id: row.try_get("route_id")?,
                station_id: row.try_get("station_id")?,
            };
            alerts[position].informed.push(entity);
        }
    }
    Ok(alerts.into_iter().map(StoredAlert::finish).collect())
}

async fn load_one(
    transaction: &mut Transaction<'static, Any>,
    id: &str,
) -> Result<Option<StoredAlert>, StoreError> {
    let row = sqlx::query(
        "SELECT id, cause, effect, url, created_at, updated_at, ended_at FROM alerts WHERE id = $1",
    )
    .bind(id.to_owned())
    .fetch_optional(&mut **transaction)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut alert = alert_from_row(&row)?;
    let translations =
        sqlx::query("SELECT lang, header, description FROM alert_translations WHERE alert_id = $1")
            .bind(id.to_owned())
            .fetch_all(&mut **transaction)
            .await?;
    for row in translations {
        let lang: String = row.try_get("lang")?;
        alert.translations.insert(
            lang,
            Translation {
                header: row.try_get("header")?,
                description: row.try_get("description")?,
            },
        );
    }
    let periods = sqlx::query(
        "SELECT start_at, end_at FROM alert_active_periods WHERE alert_id = $1 ORDER BY position",
    )
    .bind(id.to_owned())
    .fetch_all(&mut **transaction)
    .await?;
    for row in periods {
        alert
            .active_periods
            .push(ActivePeriod { start: row.try_get("start_at")?, end: row.try_get("end_at")? });
    }
    let entities = sqlx::query(
        "SELECT agency_id, route_id, station_id FROM alert_informed_entities WHERE alert_id = $1 ORDER BY position",
    )
    .bind(id.to_owned())
    .fetch_all(&mut **transaction)
    .await?;
    for row in entities {
        alert.informed.push(InformedEntity {
            agency_id: row.try_get("agency_id")?,
            route_id: row.try_get("route_id")?,
            station_id: row.try_get("station_id")?,
        });
    }
    Ok(Some(alert.finish()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::store::memory_db;

    fn alert(id: &str, created_at: &str) -> StoredAlert {
        let mut alert = StoredAlert::without_details(
            id.to_owned(),
            Cause::Weather,
            Effect::SignificantDelays,
            None,
            created_at.to_owned(),
            created_at.to_owned(),
            None,
        );
        alert.translations = BTreeMap::from([(
            "ja".to_owned(),
            Translation { header: "遅延".to_owned(), description: "大雨".to_owned() },
        )]);
        alert.active_periods = vec![ActivePeriod {
            start: "2026-12-06T00:00:00Z".to_owned(),
            end: Some("2026-12-07T00:00:00Z".to_owned()),
        }];
        alert.informed = vec![
            InformedEntity { route_id: Some("fukuoka:1".to_owned()), ..Default::default() },
            InformedEntity { station_id: Some("fukuoka:8".to_owned()), ..Default::default() },
        ];
        alert.finish()
    }

    /// The members storage keeps (the parsed periods follow from them).
    fn stored_members(alert: &StoredAlert) -> impl PartialEq + std::fmt::Debug {
        (
            (alert.id.clone(), alert.cause, alert.effect, alert.url.clone()),
            (alert.translations.clone(), alert.active_periods.clone(), alert.informed.clone()),
            (alert.created_at.clone(), alert.updated_at.clone(), alert.ended_at.clone()),
        )
    }

    #[tokio::test]
    async fn alerts_round_trip_with_their_details_newest_first() {
        let db = memory_db().await;
        let older = alert("a1", "2026-12-01T00:00:00Z");
        let newer = alert("a2", "2026-12-02T00:00:00Z");
        insert(&db, &older).await.expect("insert");
        insert(&db, &newer).await.expect("insert");
        let loaded = load(&db, None, None).await.expect("load");
        let members: Vec<_> = loaded.iter().map(stored_members).collect();
        assert_eq!(members, vec![stored_members(&newer), stored_members(&older)]);
        assert!(loaded[0].active_at(chrono::DateTime::from(
            chrono::DateTime::parse_from_rfc3339("2026-12-06T12:00:00Z").expect("time")
        )));
        assert_eq!(load(&db, None, Some(1)).await.expect("load").len(), 1);
    }

    #[tokio::test]
    async fn updates_are_one_transaction_and_unknown_ids_are_not_found() {
        let db = memory_db().await;
        insert(&db, &alert("a1", "2026-12-01T00:00:00Z")).await.expect("insert");
        // A change that fails writes nothing.
        let refused = update(&db, "a1", |mut alert| {
            alert.cause = Cause::Strike;
            Err::<Changed, StoreError>(StoreError::NotMigrated)
        })
        .await;
        assert!(matches!(refused, Err(StoreError::NotMigrated)), "{refused:?}");
        assert_eq!(load(&db, None, None).await.expect("load")[0].cause, Cause::Weather);
        let changed = update(&db, "a1", |mut alert| {
            alert.cause = Cause::Strike;
            alert.informed.truncate(1);
            Ok::<_, StoreError>(Changed { alert, children_changed: true })
        })
        .await
        .expect("update");
        let loaded = load(&db, None, None).await.expect("load");
        assert_eq!(stored_members(&loaded[0]), stored_members(&changed));
        assert_eq!(loaded[0].informed.len(), 1);

        let ended = end(&db, "a1").await.expect("end");
        assert!(ended.ended_at.is_some());
        let again = end(&db, "a1").await.expect("end again");
        assert_eq!(again.ended_at, ended.ended_at, "ending twice keeps the first time");
        let cutoff = "2100-01-01T00:00:00Z";
        assert!(load(&db, Some(cutoff), None).await.expect("load").is_empty());

        for missing in [
            end(&db, "nope").await.map(|_| ()),
            update(&db, "nope", |alert| {
                Ok::<_, StoreError>(Changed { alert, children_changed: false })
            })
            .await
            .map(|_| ()),
        ] {
            let error = missing.unwrap_err();
            assert!(
                matches!(&error, StoreError::NotFound { record: Record::Alert, key: "id", value } if value == "nope"),
                "{error:?}"
            );
            assert_eq!(error.to_string(), "no alert has the id `nope`");
        }
    }
}
