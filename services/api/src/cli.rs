//! `norikae keys create | list | revoke`: API keys in the database the api service uses
//! (`NORIKAE_DATABASE__URL`, the same configuration layers as the service).

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::config::{Config, redact_url};
use crate::keys::{self, KeyError, NewKey, Rate};
use crate::store::{self, Db};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print its secret (shown this once; only its hash is stored).
    Create(CreateArgs),
    /// List the keys (never their secrets) with today's usage.
    List,
    /// Revoke a key by id or name; requests with it are refused with 403 from then on.
    Revoke {
        /// The key's id or name.
        key: String,
    },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// A name to recognise the key by (unique).
    #[arg(long)]
    pub name: String,
    /// Request rate: `20/s`, `600/m`, `10000/h`.
    #[arg(long, default_value = "20/s", value_parser = Rate::parse)]
    pub rate: Rate,
    /// Requests allowed at once above the rate (default: the rate's count).
    #[arg(long)]
    pub burst: Option<u32>,
    /// Requests per UTC day; none given means no daily quota.
    #[arg(long)]
    pub daily: Option<u64>,
    /// Also grant the `admin` scope (alerts).
    #[arg(long)]
    pub admin: bool,
    /// Register the secret held by this environment variable instead of making one (a secret
    /// a deployment gives the client too, e.g. from Secrets Manager); it is never printed.
    /// Nothing changes when a key already holds it.
    #[arg(long, value_name = "VARIABLE")]
    pub secret_env: Option<String>,
}

/// Runs a `norikae keys` command; prints to stdout.
pub async fn run(command: KeysCommand) -> anyhow::Result<()> {
    let config: Config = norikae_runtime::load_config("api")?;
    let db = Db::open(&config.database)?;
    db.migrate().await.with_context(|| {
        format!("cannot open the database {}", redact_url(&config.database.url))
    })?;
    let outcome = execute(&db, command).await;
    db.close().await;
    println!("{}", outcome?);
    Ok(())
}

/// The command's output text.
pub async fn execute(db: &Db, command: KeysCommand) -> anyhow::Result<String> {
    match command {
        KeysCommand::Create(args) => {
            let new = NewKey {
                name: args.name,
                rate: args.rate,
                burst: args.burst,
                daily_quota: args.daily,
                admin: args.admin,
            };
            if let Some(variable) = &args.secret_env {
                let secret = std::env::var(variable).map_err(|error| {
                    anyhow::anyhow!("--secret-env {variable}: the variable is not usable ({error})")
                })?;
                let registered =
                    keys::register_key(db, &new, secret.trim()).await.map_err(describe)?;
                return Ok(match registered {
                    keys::Registered::Created(record) => format!(
                        "created key {} ({}) from {variable}, scopes {}, rate {} burst {}, daily quota {}",
                        record.id,
                        record.name,
                        record.scopes.join(","),
                        record.rate,
                        record.burst,
                        record
                            .daily_quota
                            .map_or_else(|| "none".to_owned(), |quota| quota.to_string()),
                    ),
                    keys::Registered::AlreadyRegistered(record) => format!(
                        "key {} ({}) already holds the secret in {variable}; nothing changed",
                        record.id, record.name
                    ),
                });
            }
            let (record, secret) = keys::create_key(db, &new).await.map_err(describe)?;
            Ok(format!(
                "created key {} ({}), scopes {}, rate {} burst {}, daily quota {}\n\
                 secret (shown once, store it now):\n{secret}",
                record.id,
                record.name,
                record.scopes.join(","),
                record.rate,
                record.burst,
                record.daily_quota.map_or_else(|| "none".to_owned(), |quota| quota.to_string()),
            ))
        }
        KeysCommand::List => {
            let records = keys::list_keys(db).await.map_err(describe)?;
            let usage = store::usage::on_day(db, chrono::Utc::now().date_naive()).await?;
            let mut lines = vec![format!(
                "{:<12} {:<20} {:<11} {:<10} {:>8} {:>6} {:>10} {:>10} {:<20} {}",
                "ID",
                "NAME",
                "PREFIX",
                "SCOPES",
                "RATE",
                "BURST",
                "DAILY",
                "TODAY",
                "CREATED",
                "REVOKED"
            )];
            for record in records {
                lines.push(format!(
                    "{:<12} {:<20} {:<11} {:<10} {:>8} {:>6} {:>10} {:>10} {:<20} {}",
                    record.id,
                    record.name,
                    record.prefix,
                    record.scopes.join(","),
                    record.rate.to_string(),
                    record.burst,
                    record.daily_quota.map_or_else(|| "-".to_owned(), |quota| quota.to_string()),
                    usage.get(&record.id).copied().unwrap_or(0),
                    record.created_at,
                    record.revoked_at.as_deref().unwrap_or("-"),
                ));
            }
            Ok(lines.join("\n"))
        }
        KeysCommand::Revoke { key } => {
            let record = keys::revoke_key(db, &key).await.map_err(describe)?;
            Ok(format!(
                "revoked key {} ({}) at {}",
                record.id,
                record.name,
                record.revoked_at.as_deref().unwrap_or("?")
            ))
        }
    }
}

fn describe(error: KeyError) -> anyhow::Error {
    anyhow::anyhow!("{error}")
}
