//! A PostgreSQL schema of its own for one test, on the server named by
//! `DUET_TEST_DATABASE_URL`, dropped (with everything in it) when the
//! [`TestSchema`] goes, even when the test panics.
//!
//! Without the variable, [`TestSchema::create`] prints
//! `skipped: <reason>` and gives `None`: the test returns and passes.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio_postgres::{Client, NoTls};

/// The variable naming the test server, e.g.
/// `postgres://postgres@127.0.0.1:5432/test`.
pub const DATABASE_URL_VAR: &str = "DUET_TEST_DATABASE_URL";

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A schema that exists until this value is dropped.
pub struct TestSchema {
    /// The server URL with `search_path` set to this schema: what duet's
    /// `DATABASE_URL` gets.
    pub url: String,
    /// The server URL as given.
    pub base_url: String,
    pub name: String,
}

/// The test server's URL, or `None` after printing why the test is skipped.
pub fn test_database_url(test: &str) -> Option<String> {
    match std::env::var(DATABASE_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            println!(
                "skipped: the PostgreSQL part of {test}: set {DATABASE_URL_VAR} (e.g. postgres://postgres@127.0.0.1:5432/test)"
            );
            None
        }
    }
}

/// `base` with `options=-csearch_path=<schema>` added to its query, and
/// the schema's name as `application_name` (so its sessions can be found).
pub fn url_with_schema(base: &str, schema: &str) -> String {
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-csearch_path%3D{schema}&application_name={schema}")
}

/// A plain connection to `url` (its task runs in the background).
pub async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|error| panic!("cannot connect to the test PostgreSQL: {error}"));
    tokio::spawn(connection);
    client
}

impl TestSchema {
    /// Creates `duet_test_<label>_<pid>_<n>`, or skips (see the module doc).
    pub async fn create(label: &str) -> Option<TestSchema> {
        let base_url = test_database_url(label)?;
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let label: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(30)
            .collect();
        let name = format!("duet_test_{label}_{}_{n}", std::process::id());
        let client = connect(&base_url).await;
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
            ))
            .await
            .expect("create the test schema");
        Some(TestSchema {
            url: url_with_schema(&base_url, &name),
            base_url,
            name,
        })
    }

    /// The server's address (its first host and port), for a proxy in front of it.
    pub fn server_address(&self) -> std::net::SocketAddr {
        let config: tokio_postgres::Config = self.base_url.parse().expect("a PostgreSQL URL");
        let host = match config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
            _ => "127.0.0.1".to_string(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let host = if host == "localhost" {
            "127.0.0.1".into()
        } else {
            host
        };
        format!("{host}:{port}").parse().expect("a numeric host")
    }

    /// This schema's URL with the server reached at `address` (a proxy).
    pub fn url_via(&self, address: std::net::SocketAddr) -> String {
        let config: tokio_postgres::Config = self.base_url.parse().expect("a PostgreSQL URL");
        let user = config.get_user().unwrap_or("postgres");
        let password = config
            .get_password()
            .map(|p| format!(":{}", String::from_utf8_lossy(p)))
            .unwrap_or_default();
        let database = config.get_dbname().unwrap_or("postgres");
        url_with_schema(
            &format!("postgres://{user}{password}@{address}/{database}"),
            &self.name,
        )
    }

    /// A connection whose tables are this schema's.
    pub async fn client(&self) -> Client {
        connect(&self.url).await
    }

    /// `SELECT count(*)` of `sql` (which selects a count) with one text argument.
    pub async fn count(&self, sql: &str, arg: &str) -> i64 {
        let row = self
            .client()
            .await
            .query_one(sql, &[&arg])
            .await
            .unwrap_or_else(|error| panic!("{sql}: {error}"));
        row.get(0)
    }
}

impl Drop for TestSchema {
    /// Drops the schema from a thread of its own (drop cannot await, and
    /// the test's runtime may be a single thread that is blocked here).
    fn drop(&mut self) {
        let (url, name) = (self.base_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                if let Ok((client, connection)) = tokio_postgres::connect(&url, NoTls).await {
                    tokio::spawn(connection);
                    // Sessions still open on the schema (a handle the test
                    // kept, a transaction a dropped call left) would block it.
                    let _ = client
                        .batch_execute(&format!(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                             WHERE application_name = '{name}' AND pid <> pg_backend_pid();
                             SET lock_timeout = '10s';
                             DROP SCHEMA IF EXISTS {name} CASCADE"
                        ))
                        .await;
                }
            });
        });
        let _ = dropped.join();
    }
}
