//! API keys: their records, rates and hashes, and what the `norikae keys` commands do
//! (create, list, revoke), over [`crate::store::keys`]. [`crate::keys::KeyStore`] checks
//! them on every request.

use std::num::NonZeroU32;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use governor::Quota;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::{self, Db, StoreError, now_text};

/// Prefix of every secret, so a leaked one is recognisable.
pub const SECRET_PREFIX: &str = "nk_";
/// Characters of the secret kept for display (after the prefix).
const DISPLAY_PREFIX_CHARS: usize = 8;

pub const SCOPE_READ: &str = "read";
pub const SCOPE_ADMIN: &str = "admin";

/// A rate: `count` requests per `period_secs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    pub count: u32,
    pub period_secs: u32,
}

impl Rate {
    /// `20/s`, `600/m`, `10000/h`, `100/d` (also `20/sec`, `20/second`, `20/min`, `20/hour`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let (count, unit) = text
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not a rate like 20/s or 600/m"))?;
        let count: u32 = count
            .trim()
            .parse()
            .ok()
            .filter(|count| *count > 0)
            .ok_or_else(|| format!("`{text}`: the count must be a positive whole number"))?;
        let period_secs = match unit.trim() {
            "s" | "sec" | "second" => 1,
            "m" | "min" | "minute" => 60,
            "h" | "hour" => 3_600,
            "d" | "day" => 86_400,
            other => return Err(format!("`{text}`: unknown unit `{other}` (use s, m, h or d)")),
        };
        Ok(Self { count, period_secs })
    }

    pub(crate) fn quota(self, burst: u32) -> Quota {
        let interval = Duration::from_secs(u64::from(self.period_secs)) / self.count;
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        Quota::with_period(interval.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst)
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.period_secs {
            1 => "s",
            60 => "m",
            3_600 => "h",
            86_400 => "d",
            _ => return write!(formatter, "{}/{}s", self.count, self.period_secs),
        };
        write!(formatter, "{}/{unit}", self.count)
    }
}

/// One key as stored (never the secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub rate: Rate,
    pub burst: u32,
    pub daily_quota: Option<u64>,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

impl KeyRecord {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|held| held == scope)
    }
}

/// What `norikae keys create` asks for.
#[derive(Clone, Debug)]
pub struct NewKey {
    pub name: String,
    pub rate: Rate,
    /// Defaults to the rate's count (a second's worth for `20/s`).
    pub burst: Option<u32>,
    pub daily_quota: Option<u64>,
    pub admin: bool,
}

/// Hex SHA-256 of a secret: what the database stores and what a request is looked up by.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Creates a key; returns it and its secret (shown once, never stored).
pub async fn create_key(db: &Db, new: &NewKey) -> Result<(KeyRecord, String), KeyError> {
    let mut random = [0u8; 32];
    rand::rng().fill_bytes(&mut random);
    let secret = format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(random));
    insert_key(db, new, secret).await
}

/// Characters after `nk_` a supplied secret needs at least (a generated one has 43).
pub const MIN_SUPPLIED_SECRET_CHARS: usize = 32;

/// What [`register_key`] did.
#[derive(Clone, Debug)]
pub enum Registered {
    /// A new key holds the secret.
    Created(KeyRecord),
    /// A key that is not revoked holds this secret already; nothing changed.
    AlreadyRegistered(KeyRecord),
}

/// Registers a secret made elsewhere (for example a Secrets Manager secret that a client is
/// given as well): stores its hash as a new key. Idempotent: when a key that is not revoked
/// already holds the secret, it is returned unchanged, so a deployment can run this at every
/// start. The secret must look like a generated one: `nk_` and at least
/// [`MIN_SUPPLIED_SECRET_CHARS`] URL-safe characters (`A-Z a-z 0-9 - _`), 200 at most.
pub async fn register_key(db: &Db, new: &NewKey, secret: &str) -> Result<Registered, KeyError> {
    let body = secret.strip_prefix(SECRET_PREFIX).ok_or(KeyError::InvalidSecret)?;
    let url_safe =
        body.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if !url_safe || body.len() < MIN_SUPPLIED_SECRET_CHARS || secret.len() > 200 {
        return Err(KeyError::InvalidSecret);
    }
    if let Some(record) = store::keys::by_hash(db, &hash_secret(secret)).await? {
        if record.revoked_at.is_some() {
            return Err(KeyError::SecretRevoked(record.name));
        }
        return Ok(Registered::AlreadyRegistered(record));
    }
    let (record, _secret) = insert_key(db, new, secret.to_owned()).await?;
    Ok(Registered::Created(record))
}

async fn insert_key(
    db: &Db,
    new: &NewKey,
    secret: String,
) -> Result<(KeyRecord, String), KeyError> {
    let name = new.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(KeyError::InvalidName);
    }
    if name.starts_with(SECRET_PREFIX) {
        return Err(KeyError::InvalidName);
    }
    let mut id_bytes = [0u8; 6];
    rand::rng().fill_bytes(&mut id_bytes);
    let id: String = id_bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    let mut scopes = vec![SCOPE_READ.to_owned()];
    if new.admin {
        scopes.push(SCOPE_ADMIN.to_owned());
    }
    let record = KeyRecord {
        id,
        name: name.to_owned(),
        prefix: secret[..SECRET_PREFIX.len() + DISPLAY_PREFIX_CHARS].to_owned(),
        scopes,
        rate: new.rate,
        burst: new.burst.unwrap_or(new.rate.count).max(1),
        daily_quota: new.daily_quota,
        created_at: now_text(),
        revoked_at: None,
    };
    match store::keys::insert(db, &record, &hash_secret(&secret)).await {
        Ok(()) => Ok((record, secret)),
        Err(StoreError::Conflict { .. }) => Err(KeyError::NameTaken(name.to_owned())),
        Err(error) => Err(error.into()),
    }
}

pub async fn list_keys(db: &Db) -> Result<Vec<KeyRecord>, KeyError> {
    Ok(store::keys::list(db).await?)
}

/// Revokes the key with this id or name; returns it. Revoking twice keeps the first time.
pub async fn revoke_key(db: &Db, id_or_name: &str) -> Result<KeyRecord, KeyError> {
    match store::keys::revoke(db, id_or_name).await {
        Ok(record) => Ok(record),
        Err(StoreError::NotFound { .. }) => Err(KeyError::Unknown(id_or_name.to_owned())),
        Err(error) => Err(error.into()),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("a key named `{0}` already exists")]
    NameTaken(String),
    #[error("a key name must be 1 to 100 characters and must not start with `nk_`")]
    InvalidName,
    #[error("no key has the id or name `{0}`")]
    Unknown(String),
    #[error(
        "a supplied secret must be `nk_` and at least {MIN_SUPPLIED_SECRET_CHARS} URL-safe characters \
         (A-Z a-z 0-9 - _), 200 characters at most"
    )]
    InvalidSecret,
    #[error("the supplied secret belongs to the revoked key `{0}`; make a new secret")]
    SecretRevoked(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_print() {
        assert_eq!(Rate::parse("20/s").expect("rate"), Rate { count: 20, period_secs: 1 });
        assert_eq!(Rate::parse("600/min").expect("rate"), Rate { count: 600, period_secs: 60 });
        assert_eq!(Rate::parse("5/h").expect("rate").to_string(), "5/h");
        assert!(Rate::parse("0/s").is_err());
        assert!(Rate::parse("20").is_err());
        assert!(Rate::parse("20/fortnight").is_err());
    }

    #[test]
    fn hashes_are_hex_sha256() {
        let hash = hash_secret("nk_example");
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, hash_secret("nk_example2"));
    }
}
