//! The database each graded service gets: a SQLite file in its own folder (the default), or a
//! database of its own on a PostgreSQL server (`--database-url`).
//!
//! On PostgreSQL every service gets a fresh role and a database that role owns, so that one
//! submission can never see another's data, and both are dropped when the service is done.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use futures::future::BoxFuture;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, SqliteConnection};
use workbook::db::Backend;

use crate::run::users;

/// How long the grader waits for PostgreSQL to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the services' databases live.
#[derive(Debug, Clone)]
pub enum DatabaseServer {
    /// A SQLite file in each service's folder.
    Sqlite,
    /// A PostgreSQL server; `admin_url` may create roles and databases.
    Postgres { admin_url: String },
}

/// One service's database.
#[derive(Debug)]
pub struct ServiceDatabase {
    /// The service's `DATABASE_URL`.
    pub url: String,
    /// On PostgreSQL: the server's admin URL and the name of the role and database to drop.
    owned: Option<(String, String)>,
}

impl DatabaseServer {
    /// SQLite without a URL; PostgreSQL for a `postgres://` URL, once it answers.
    pub async fn from_url(url: Option<&str>) -> Result<Self> {
        let Some(url) = url else { return Ok(Self::Sqlite) };
        match Backend::of_url(url) {
            Ok(Backend::Postgres) => {
                admin_connection(url).await?.close().await?;
                Ok(Self::Postgres { admin_url: url.to_owned() })
            }
            _ => anyhow::bail!(
                "--database-url {url:?} is not a PostgreSQL URL: give one such as \
                 postgres://postgres@127.0.0.1:5432/postgres, or leave it out to grade on SQLite"
            ),
        }
    }

    /// For the scorecard.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite => "SQLite (a file per service)".to_owned(),
            Self::Postgres { admin_url } => {
                let server = PgConnectOptions::from_str(admin_url)
                    .map(|options| format!("{}:{}", options.get_host(), options.get_port()))
                    .unwrap_or_default();
                format!("PostgreSQL at {server} (a database per service)")
            }
        }
    }

    /// A fresh, empty database for a service that runs in `dir`.
    pub async fn create(&self, dir: &Path) -> Result<ServiceDatabase> {
        let admin_url = match self {
            Self::Sqlite => {
                let url = format!("sqlite://{}", dir.join("db.sqlite3").display());
                return Ok(ServiceDatabase { url, owned: None });
            }
            Self::Postgres { admin_url } => admin_url,
        };
        static CREATED: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "workbook_grader_{}_{}",
            std::process::id(),
            CREATED.fetch_add(1, Ordering::Relaxed)
        );
        let password = random_password();
        let mut admin = admin_connection(admin_url).await?;
        // A grader killed earlier with the same process id may have left these behind.
        drop_owned(&mut admin, &name).await?;
        for statement in [
            format!("CREATE ROLE {name} LOGIN PASSWORD '{password}'"),
            format!("CREATE DATABASE {name} OWNER {name}"),
            format!("REVOKE ALL ON DATABASE {name} FROM PUBLIC"),
        ] {
            run(&mut admin, statement).await?;
        }
        admin.close().await?;
        let url = PgConnectOptions::from_str(admin_url)?
            .username(&name)
            .password(&password)
            .database(&name)
            .to_url_lossy()
            .to_string();
        Ok(ServiceDatabase { url, owned: Some((admin_url.clone(), name)) })
    }
}

impl ServiceDatabase {
    /// Drops the service's role and database (nothing to do for a SQLite file, which goes
    /// with its folder). Best effort: a failure is a warning, never a lost grade.
    pub async fn remove(mut self) {
        if let Some((admin_url, name)) = self.owned.take() {
            remove_owned(admin_url, name).await;
        }
    }
}

impl Drop for ServiceDatabase {
    /// A check cut short by its time limit never reaches [`ServiceDatabase::remove`]: drop the
    /// database in the background then, so that it is not left on the server.
    fn drop(&mut self) {
        if let (Some((admin_url, name)), Ok(runtime)) =
            (self.owned.take(), tokio::runtime::Handle::try_current())
        {
            runtime.spawn(remove_owned(admin_url, name));
        }
    }
}

async fn remove_owned(admin_url: String, name: String) {
    let dropped = async {
        let mut admin = admin_connection(&admin_url).await?;
        drop_owned(&mut admin, &name).await?;
        admin.close().await?;
        anyhow::Ok(())
    };
    if let Err(err) = dropped.await {
        eprintln!("warning: could not drop the PostgreSQL database and role {name}: {err:#}");
    }
}

/// The folder of the SQLite file `database_url` names, which a second service on the same
/// database must be able to write: SQLite keeps its `-wal` and `-shm` files beside the file.
/// `None` for a database server.
pub fn sqlite_folder(database_url: &str) -> Option<PathBuf> {
    let file = database_url.strip_prefix("sqlite://")?;
    Path::new(file).parent().map(Path::to_owned)
}

/// Runs one statement on a service's database (SQLite or PostgreSQL), through a connection of
/// the grader's own.
pub async fn execute(database_url: &str, statement: &'static str) -> Result<()> {
    match Backend::of_url(database_url)? {
        Backend::Sqlite => {
            on_sqlite(database_url, move |connection| {
                Box::pin(async move {
                    sqlx::query(statement).execute(connection).await?;
                    Ok(())
                })
            })
            .await
        }
        Backend::Postgres => {
            let mut connection = PgConnection::connect(database_url).await?;
            sqlx::query(statement).execute(&mut connection).await?;
            connection.close().await?;
            Ok(())
        }
    }
}

/// Runs `work` on a connection of the grader's own to a service's SQLite file. The file lies in
/// the service's folder, where the service may have swapped it for a link: the grader opens it
/// with the rights of the folder's owner ([`users::as_owner_of`]), so that a link leads it
/// nowhere the service could not go itself.
pub async fn on_sqlite<T, F>(database_url: &str, work: F) -> Result<T>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
{
    let folder = sqlite_folder(database_url)
        .with_context(|| format!("{database_url} is not a SQLite file's URL"))?;
    let url = database_url.to_owned();
    users::as_owner_of(&folder, move || async move {
        let mut connection = SqliteConnection::connect(&url).await?;
        let outcome = work(&mut connection).await;
        connection.close().await?;
        outcome
    })
    .await?
}

async fn admin_connection(admin_url: &str) -> Result<PgConnection> {
    let options = PgConnectOptions::from_str(admin_url)
        .with_context(|| format!("--database-url {admin_url:?} is not a PostgreSQL URL"))?;
    tokio::time::timeout(CONNECT_TIMEOUT, options.connect())
        .await
        .map_err(|_| anyhow::anyhow!("no answer within {} s", CONNECT_TIMEOUT.as_secs()))
        .and_then(|connected| Ok(connected?))
        .with_context(|| {
            format!(
                "cannot reach PostgreSQL at {admin_url}: start the server, or leave out \
                 --database-url to grade on SQLite"
            )
        })
}

/// Drops database and role `name`, closing any connection still open to the database.
async fn drop_owned(admin: &mut PgConnection, name: &str) -> Result<()> {
    run(admin, format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    run(admin, format!("DROP ROLE IF EXISTS {name}")).await
}

/// One statement, with the simple protocol: `CREATE DATABASE` may not run in a transaction.
async fn run(admin: &mut PgConnection, statement: String) -> Result<()> {
    let context = format!("the grader's `{statement}`");
    sqlx::raw_sql(AssertSqlSafe(statement)).execute(&mut *admin).await.context(context)?;
    Ok(())
}

/// A password nobody can guess (names and passwords are built from digits and letters only,
/// so they need no quoting in SQL).
fn random_password() -> String {
    use std::hash::{BuildHasher, RandomState};
    let state = RandomState::new();
    format!("{:016x}{:016x}", state.hash_one(1), state.hash_one(std::time::SystemTime::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_file_is_shared_through_its_folder_and_a_server_needs_none() {
        let folder = sqlite_folder("sqlite:///tmp/grader-run-x/04-invalidation/db.sqlite3");
        assert_eq!(folder, Some(PathBuf::from("/tmp/grader-run-x/04-invalidation")));
        assert_eq!(sqlite_folder("postgres://someone:secret@127.0.0.1:5432/theirs"), None);
    }
}
