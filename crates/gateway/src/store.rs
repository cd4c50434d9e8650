//! Durable storage: one append-only table of the changes the gateway accepted, each kept as
//! the signed request it received. On start the gateway replays them through the
//! [`Registry`](crate::Registry)'s checks, so a row changed behind its back is found then, and
//! verifiers find it again in the signatures. SQLite (embedded, the default) or PostgreSQL.

use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::Path;
use std::str::FromStr;

pub use healthpass_network::log::{Change, ChangeKind};
use healthpass_trust::tlog::NoteSignature;

/// Why storage failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL is neither `sqlite:` nor `postgres:`.
    #[error("database URL must start with sqlite: or postgres: (got {0:?})")]
    Url(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A row that no version of this gateway could have written.
    #[error("row {version} is not a valid change: {problem}")]
    Corrupt {
        /// The row's version.
        version: i64,
        /// What is wrong.
        problem: String,
    },
}

/// The change log, in SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub enum Store {
    /// Embedded SQLite (WAL, synchronous=FULL: an acknowledged change survives a crash).
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
}

type Row = (i64, String, String, String, Vec<u8>);

/// Runs `$body` with `$pool` bound to the store's pool, whichever database it is: the queries
/// are the same text for both (numbered `$N` parameters, which SQLite reads too), only the
/// pool types differ.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            Store::Sqlite($pool) => $body,
            Store::Postgres($pool) => $body,
        }
    };
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
            Ok(Store::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            // As SQLite creates its file: the database is made on first start (this needs the
            // CREATEDB privilege; without it, create the database beforehand).
            if !sqlx::Postgres::database_exists(url).await? {
                sqlx::Postgres::create_database(url).await?;
            }
            let pool = PgPoolOptions::new().max_connections(8).connect(url).await?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            Ok(Store::Postgres(pool))
        } else {
            Err(StoreError::Url(url.chars().take(16).collect()))
        }
    }

    /// Every change, in version order.
    pub async fn changes(&self) -> Result<Vec<Change>, StoreError> {
        self.changes_between(1, u64::MAX).await
    }

    /// The changes of versions `from..to` (`to` exclusive), in version order.
    pub async fn changes_between(&self, from: u64, to: u64) -> Result<Vec<Change>, StoreError> {
        const SELECT: &str = "SELECT version, kind, country, accepted_at, body FROM changes \
                              WHERE version >= $1 AND version < $2 ORDER BY version";
        let bound = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let rows: Vec<Row> = on_pool!(self, pool => {
            sqlx::query_as(SELECT)
                .bind(bound(from))
                .bind(bound(to))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|(version, kind, country, accepted_at, body)| {
                let corrupt = |problem: &str| StoreError::Corrupt {
                    version,
                    problem: problem.into(),
                };
                Ok(Change {
                    version: u64::try_from(version).map_err(|_| corrupt("negative version"))?,
                    kind: ChangeKind::parse(&kind).ok_or_else(|| corrupt("unknown kind"))?,
                    country,
                    accepted_at: accepted_at
                        .parse()
                        .map_err(|_| corrupt("unreadable time"))?,
                    body,
                })
            })
            .collect()
    }

    /// Appends one change durably (committed before this returns). A second change with the
    /// same version fails: two writers cannot both think they were accepted.
    pub async fn append(&self, change: &Change) -> Result<(), StoreError> {
        let version = i64::try_from(change.version).map_err(|_| StoreError::Corrupt {
            version: i64::MAX,
            problem: "version out of range".into(),
        })?;
        let accepted_at = change.accepted_at.to_string();
        const INSERT: &str = "INSERT INTO changes (version, kind, country, accepted_at, body) \
                              VALUES ($1, $2, $3, $4, $5)";
        on_pool!(self, pool => {
            sqlx::query(INSERT)
                .bind(version)
                .bind(change.kind.as_str())
                .bind(&change.country)
                .bind(&accepted_at)
                .bind(&change.body)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}

impl Store {
    /// Keeps a witness's cosignature of the checkpoint of `size` (replacing one of the same
    /// witness key for that size), committed before this returns.
    pub async fn put_cosignature(
        &self,
        size: u64,
        signature: &NoteSignature,
    ) -> Result<(), StoreError> {
        const UPSERT: &str = "INSERT INTO cosignatures (size, name, key_id, signature) \
                              VALUES ($1, $2, $3, $4) ON CONFLICT (size, name, key_id) \
                              DO UPDATE SET signature = excluded.signature";
        let size = i64::try_from(size).map_err(|_| StoreError::Corrupt {
            version: i64::MAX,
            problem: "size out of range".into(),
        })?;
        on_pool!(self, pool => {
            sqlx::query(UPSERT)
                .bind(size)
                .bind(&signature.name)
                .bind(i64::from(signature.key_id))
                .bind(&signature.signature)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The cosignatures kept for sizes of at least `min_size`, by size.
    pub async fn cosignatures(
        &self,
        min_size: u64,
    ) -> Result<Vec<(u64, NoteSignature)>, StoreError> {
        const SELECT: &str = "SELECT size, name, key_id, signature FROM cosignatures \
                              WHERE size >= $1 ORDER BY size, name, key_id";
        let min = i64::try_from(min_size).unwrap_or(i64::MAX);
        let rows: Vec<(i64, String, i64, Vec<u8>)> =
            on_pool!(self, pool => sqlx::query_as(SELECT).bind(min).fetch_all(pool).await?);
        rows.into_iter()
            .map(|(size, name, key_id, signature)| {
                let corrupt = |problem: &str| StoreError::Corrupt {
                    version: size,
                    problem: problem.into(),
                };
                Ok((
                    u64::try_from(size).map_err(|_| corrupt("negative cosignature size"))?,
                    NoteSignature {
                        name,
                        key_id: u32::try_from(key_id)
                            .map_err(|_| corrupt("key id out of range"))?,
                        signature,
                    },
                ))
            })
            .collect()
    }
}

/// The environment variable naming the PostgreSQL server test suites also run against
/// (`postgres://user@host:port`); `.ci/run` sets it.
pub const TEST_POSTGRES_ENV: &str = "HEALTHPASS_TEST_POSTGRES";

/// Test support: the databases a test runs against. SQLite under `dir`, always; and a fresh
/// PostgreSQL database when [`TEST_POSTGRES_ENV`] names a server.
#[doc(hidden)]
pub fn test_database_urls(dir: &Path) -> Vec<String> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut urls = vec![format!("sqlite://{}", dir.join("gateway.db").display())];
    if let Ok(server) = std::env::var(TEST_POSTGRES_ENV) {
        let unique = format!(
            "hp_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            jiff::Timestamp::now().as_nanosecond() % 1_000_000_000
        );
        urls.push(format!("{}/{unique}", server.trim_end_matches('/')));
    }
    urls
}

/// Test support: drops a PostgreSQL database a test made (nothing for SQLite).
#[doc(hidden)]
pub async fn drop_test_database(url: &str) {
    if url.starts_with("postgres") {
        let _ = sqlx::Postgres::force_drop_database(url).await;
    }
}
