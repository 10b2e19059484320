//! `timetable_versions`: one row per timetable the route engine was seen answering from.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, StoreError};
use crate::versions::TimetableVersion;

/// Records `version` unless it is the newest recorded already (same hash); returns the
/// `recent` newest versions, newest first. One transaction, so two instances polling at
/// once record a new timetable once.
pub async fn record(
    db: &Db,
    version: &TimetableVersion,
    recent: i64,
) -> Result<Vec<TimetableVersion>, StoreError> {
    let mut transaction = db.begin().await?;
    let newest: Option<String> =
        sqlx::query("SELECT hash FROM timetable_versions ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut *transaction)
            .await?
            .map(|row| row.try_get("hash"))
            .transpose()?;
    if newest.as_deref() != Some(version.hash.as_str()) {
        sqlx::query(
            "INSERT INTO timetable_versions (hash, feeds, stations, stops, routes, trips, service_start, service_end, created_at, activated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(version.hash.clone())
        .bind(serde_json::to_string(&version.feeds).unwrap_or_else(|_| "[]".to_owned()))
        .bind(version.stations as i64)
        .bind(version.stops as i64)
        .bind(version.routes as i64)
        .bind(version.trips as i64)
        .bind(version.service_start.clone())
        .bind(version.service_end.clone())
        .bind(version.created_at.clone())
        .bind(version.activated_at.clone())
        .execute(&mut *transaction)
        .await?;
        tracing::info!(hash = %version.hash, "new timetable version recorded");
    }
    let rows = sqlx::query(
        "SELECT hash, feeds, stations, stops, routes, trips, service_start, service_end, created_at, activated_at \
         FROM timetable_versions ORDER BY id DESC LIMIT $1",
    )
    .bind(recent)
    .fetch_all(&mut *transaction)
    .await?;
    transaction.commit().await?;
    rows.iter().map(version_from_row).collect()
}

/// A row as a version; a `feeds` column that is not the JSON written here reads as no feeds.
fn version_from_row(row: &AnyRow) -> Result<TimetableVersion, StoreError> {
    let feeds: String = row.try_get("feeds")?;
    let count =
        |column: &str| row.try_get::<i64, _>(column).map(|value| u64::try_from(value).unwrap_or(0));
    Ok(TimetableVersion {
        hash: row.try_get("hash")?,
        feeds: serde_json::from_str(&feeds).unwrap_or_default(),
        stations: count("stations")?,
        stops: count("stops")?,
        routes: count("routes")?,
        trips: count("trips")?,
        service_start: row.try_get("service_start")?,
        service_end: row.try_get("service_end")?,
        created_at: row.try_get("created_at")?,
        activated_at: row.try_get("activated_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory_db;
    use crate::versions::FeedDates;

    fn version(hash: &str) -> TimetableVersion {
        TimetableVersion {
            hash: hash.to_owned(),
            feeds: vec![FeedDates {
                name: "fukuoka".to_owned(),
                start_date: "2026-12-01".to_owned(),
                end_date: "2027-03-31".to_owned(),
            }],
            stations: 10,
            stops: 20,
            routes: 3,
            trips: 400,
            service_start: "2026-12-01".to_owned(),
            service_end: "2027-03-31".to_owned(),
            created_at: "2026-12-01T00:00:00Z".to_owned(),
            activated_at: "2026-12-02T00:00:00Z".to_owned(),
        }
    }

    #[tokio::test]
    async fn a_version_is_recorded_once_per_change_newest_first() {
        let db = memory_db().await;
        assert_eq!(record(&db, &version("h1"), 10).await.expect("record"), vec![version("h1")]);
        let mut seen_again = version("h1");
        seen_again.activated_at = "2026-12-03T00:00:00Z".to_owned();
        assert_eq!(record(&db, &seen_again, 10).await.expect("record"), vec![version("h1")]);
        let recent = record(&db, &version("h2"), 10).await.expect("record");
        assert_eq!(recent, vec![version("h2"), version("h1")]);
        // Back to the first timetable: a new activation.
        let recent = record(&db, &version("h1"), 2).await.expect("record");
        assert_eq!(recent, vec![version("h1"), version("h2")]);
        assert_eq!(record(&db, &version("h3"), 1).await.expect("record").len(), 1);
    }
}
