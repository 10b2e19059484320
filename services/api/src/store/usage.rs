//! `api_key_usage`: requests counted per key and UTC day, over every api instance.

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::Row;

use super::{Db, StoreError};

/// Requests counted per key for `day` (UTC).
pub async fn on_day(db: &Db, day: NaiveDate) -> Result<HashMap<String, u64>, StoreError> {
    let rows = sqlx::query("SELECT key_id, requests FROM api_key_usage WHERE day = $1")
        .bind(day.to_string())
        .fetch_all(db.pool())
        .await?;
    let mut usage = HashMap::new();
    for row in rows {
        let key_id: String = row.try_get("key_id")?;
        let requests: i64 = row.try_get("requests")?;
        usage.insert(key_id, u64::try_from(requests).unwrap_or(0));
    }
    Ok(usage)
}

/// Adds each `(key id, day) → count` of `batch` in one transaction (a failure writes
/// nothing, so the batch can be retried whole) and returns each row's new total, other
/// instances' counts included: every row is an atomic increment.
pub async fn add(
    db: &Db,
    batch: &HashMap<(String, NaiveDate), u64>,
) -> Result<HashMap<(String, NaiveDate), u64>, StoreError> {
    let mut transaction = db.begin().await?;
    let mut totals = HashMap::with_capacity(batch.len());
    for ((key_id, day), count) in batch {
        let total: i64 = sqlx::query_scalar(
            "INSERT INTO api_key_usage (key_id, day, requests) VALUES ($1, $2, $3) \
             ON CONFLICT (key_id, day) DO UPDATE SET requests = api_key_usage.requests + excluded.requests \
             RETURNING requests",
        )
        .bind(key_id.clone())
        .bind(day.to_string())
        .bind(i64::try_from(*count).unwrap_or(i64::MAX))
        .fetch_one(&mut *transaction)
        .await?;
        totals.insert((key_id.clone(), *day), u64::try_from(total).unwrap_or(0));
    }
    transaction.commit().await?;
    Ok(totals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory_db;

    #[tokio::test]
    async fn batches_add_up_per_key_and_day() {
        let db = memory_db().await;
        for id in ["k1", "k2"] {
            let key = crate::key_records::KeyRecord {
                id: id.to_owned(),
                name: id.to_owned(),
                prefix: "nk_abcdefgh".to_owned(),
                scopes: vec!["read".to_owned()],
                rate: crate::key_records::Rate { count: 1, period_secs: 1 },
                burst: 1,
                daily_quota: None,
                created_at: crate::store::now_text(),
                revoked_at: None,
            };
            crate::store::keys::insert(&db, &key, id).await.expect("key");
        }
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).expect("date");
        let yesterday = today.pred_opt().expect("date");
        let first =
            HashMap::from([(("k1".to_owned(), today), 3), (("k1".to_owned(), yesterday), 2)]);
        let totals = add(&db, &first).await.expect("first batch");
        assert_eq!(totals, first);
        let second = HashMap::from([(("k1".to_owned(), today), 4), (("k2".to_owned(), today), 1)]);
        let totals = add(&db, &second).await.expect("second batch");
        assert_eq!(totals.get(&("k1".to_owned(), today)), Some(&7));
        assert_eq!(
            on_day(&db, today).await.expect("usage"),
            HashMap::from([("k1".to_owned(), 7), ("k2".to_owned(), 1)])
        );
        assert_eq!(
            on_day(&db, yesterday).await.expect("usage"),
            HashMap::from([("k1".to_owned(), 2)])
        );
    }
}
