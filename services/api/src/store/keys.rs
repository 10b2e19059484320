//! `api_keys`: one row per key, found by the SHA-256 of its secret (never the secret).

use std::collections::HashMap;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, Record, StoreError, is_unique_violation, now_text};
use crate::key_records::{KeyRecord, Rate};

const KEY_COLUMNS: &str = "id, name, prefix, scopes, rate_requests, rate_period_secs, burst, daily_quota, created_at, revoked_at";

fn record_from_row(row: &AnyRow) -> Result<KeyRecord, StoreError> {
    let scopes: String = row.try_get("scopes")?;
    let rate_requests: i64 = row.try_get("rate_requests")?;
    let rate_period_secs: i64 = row.try_get("rate_period_secs")?;
    let burst: i64 = row.try_get("burst")?;
    let daily_quota: Option<i64> = row.try_get("daily_quota")?;
    Ok(KeyRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        scopes: scopes.split(',').filter(|scope| !scope.is_empty()).map(str::to_owned).collect(),
        rate: Rate {
            count: u32::try_from(rate_requests).unwrap_or(u32::MAX).max(1),
            period_secs: u32::try_from(rate_period_secs).unwrap_or(1).max(1),
        },
        burst: u32::try_from(burst).unwrap_or(u32::MAX),
        daily_quota: daily_quota.map(|quota| u64::try_from(quota).unwrap_or(0)),
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

/// Stores a new key under the hash of its secret; [`StoreError::Conflict`] when its name
/// (or id, or hash) is taken.
pub async fn insert(db: &Db, record: &KeyRecord, secret_hash: &str) -> Result<(), StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO api_keys (id, name, secret_hash, prefix, scopes, rate_requests, rate_period_secs, burst, daily_quota, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(record.id.clone())
    .bind(record.name.clone())
    .bind(secret_hash.to_owned())
    .bind(record.prefix.clone())
    .bind(record.scopes.join(","))
    .bind(i64::from(record.rate.count))
    .bind(i64::from(record.rate.period_secs))
    .bind(i64::from(record.burst))
    .bind(record.daily_quota.map(|quota| i64::try_from(quota).unwrap_or(i64::MAX)))
    .bind(record.created_at.clone())
    .execute(db.pool())
    .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(error) if is_unique_violation(&error) => Err(StoreError::Conflict {
            record: Record::Key,
            key: "name",
            value: record.name.clone(),
        }),
        Err(error) => Err(error.into()),
    }
}

/// Every key, oldest first.
pub async fn list(db: &Db) -> Result<Vec<KeyRecord>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, name"
    ));
    let rows = sqlx::query(sql).fetch_all(db.pool()).await?;
    rows.iter().map(record_from_row).collect()
}

/// Every key by the hash of its secret.
pub async fn all_by_hash(db: &Db) -> Result<HashMap<String, KeyRecord>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT secret_hash, {KEY_COLUMNS} FROM api_keys"));
    let rows = sqlx::query(sql).fetch_all(db.pool()).await?;
    let mut by_hash = HashMap::with_capacity(rows.len());
    for row in &rows {
        let hash: String = row.try_get("secret_hash")?;
        by_hash.insert(hash, record_from_row(row)?);
    }
    Ok(by_hash)
}

/// The key whose secret hashes to `secret_hash`, if any.
pub async fn by_hash(db: &Db, secret_hash: &str) -> Result<Option<KeyRecord>, StoreError> {
    let sql =
        sqlx::AssertSqlSafe(format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE secret_hash = $1"));
    let row = sqlx::query(sql).bind(secret_hash.to_owned()).fetch_optional(db.pool()).await?;
    row.as_ref().map(record_from_row).transpose()
}

/// Revokes the key with this id or name now and returns it; revoking twice keeps the first
/// time. [`StoreError::NotFound`] when no key has that id or name.
pub async fn revoke(db: &Db, id_or_name: &str) -> Result<KeyRecord, StoreError> {
    let mut transaction = db.begin().await?;
    sqlx::query(
        "UPDATE api_keys SET revoked_at = $1 WHERE (id = $2 OR name = $2) AND revoked_at IS NULL",
    )
    .bind(now_text())
    .bind(id_or_name.to_owned())
    .execute(&mut *transaction)
    .await?;
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1 OR name = $1"
    ));
    let row =
        sqlx::query(sql).bind(id_or_name.to_owned()).fetch_optional(&mut *transaction).await?;
    let Some(row) = row else {
        return Err(StoreError::NotFound {
            record: Record::Key,
            key: "id or name",
            value: id_or_name.to_owned(),
        });
    };
    let record = record_from_row(&row)?;
    transaction.commit().await?;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory_db;

    fn key(id: &str, name: &str) -> KeyRecord {
        KeyRecord {
            id: id.to_owned(),
            name: name.to_owned(),
            prefix: "nk_abcdefgh".to_owned(),
            scopes: vec!["read".to_owned(), "admin".to_owned()],
            rate: Rate { count: 20, period_secs: 60 },
            burst: 5,
            daily_quota: Some(1_000),
            created_at: now_text(),
            revoked_at: None,
        }
    }

    #[tokio::test]
    async fn keys_round_trip_by_hash_and_names_stay_unique() {
        let db = memory_db().await;
        let stored = key("k1", "web");
        insert(&db, &stored, "hash-1").await.expect("insert");
        assert_eq!(by_hash(&db, "hash-1").await.expect("read"), Some(stored.clone()));
        assert_eq!(by_hash(&db, "hash-2").await.expect("read"), None);
        assert_eq!(all_by_hash(&db).await.expect("all").get("hash-1"), Some(&stored));
        let taken = insert(&db, &key("k2", "web"), "hash-2").await.unwrap_err();
        assert!(
            matches!(&taken, StoreError::Conflict { record: Record::Key, key: "name", value } if value == "web"),
            "{taken:?}"
        );
        assert_eq!(list(&db).await.expect("list"), vec![stored]);
    }

    #[tokio::test]
    async fn revoking_keeps_the_first_time_and_names_an_unknown_key() {
        let db = memory_db().await;
        insert(&db, &key("k1", "web"), "hash-1").await.expect("insert");
        let first = revoke(&db, "web").await.expect("revoke by name");
        assert!(first.revoked_at.is_some());
        let again = revoke(&db, "k1").await.expect("revoke by id");
        assert_eq!(again.revoked_at, first.revoked_at);
        let unknown = revoke(&db, "nobody").await.unwrap_err();
        assert_eq!(unknown.to_string(), "no key has the id or name `nobody`");
    }
}
