//! The Redis of `DUET_TEST_REDIS_URL` for one test: a key prefix no other
//! test uses, and every key under it deleted when the value drops.

use std::net::SocketAddr;

/// Where a test keeps its keys.
pub struct TestRedis {
    pub url: String,
    pub prefix: String,
}

impl TestRedis {
    /// `None` (after printing why) when DUET_TEST_REDIS_URL is not set.
    pub fn from_env(test: &str) -> Option<TestRedis> {
        let Ok(url) = std::env::var("DUET_TEST_REDIS_URL") else {
            println!("skipped: DUET_TEST_REDIS_URL is not set (a Redis for tests)");
            return None;
        };
        let prefix = format!(
            "duet-test:{test}:{}:{:08x}:",
            std::process::id(),
            fastrand::u32(..)
        );
        Some(TestRedis { url, prefix })
    }

    /// The server's address, for a [`crate::tcp_proxy::TcpProxy`] in front of it.
    pub fn addr(&self) -> SocketAddr {
        let rest = self.url.split("://").nth(1).unwrap_or(&self.url);
        let host_port = rest.rsplit('@').next().unwrap_or(rest);
        let host_port = host_port.split('/').next().unwrap_or(host_port);
        let host_port = if host_port.contains(':') {
            host_port.to_string()
        } else {
            format!("{host_port}:6379")
        };
        std::net::ToSocketAddrs::to_socket_addrs(&host_port)
            .ok()
            .and_then(|mut addrs| addrs.next())
            .unwrap_or_else(|| panic!("DUET_TEST_REDIS_URL has no usable host:port"))
    }

    /// The URL with its host and port replaced by `addr` (a proxy).
    pub fn url_via(&self, addr: SocketAddr) -> String {
        format!("redis://{addr}")
    }

    fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url.as_str())
            .and_then(|client| client.get_connection())
            .expect("connect to DUET_TEST_REDIS_URL")
    }

    /// Every key under this test's prefix.
    pub fn keys(&self) -> Vec<String> {
        let mut conn = self.connection();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query(&mut conn)
            .expect("KEYS");
        keys
    }

    /// Runs one command on the test Redis.
    pub fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> T {
        cmd.query(&mut self.connection()).expect("a Redis command")
    }
}

impl Drop for TestRedis {
    /// Never panics (it may run while a failed test unwinds).
    fn drop(&mut self) {
        let Ok(mut conn) =
            redis::Client::open(self.url.as_str()).and_then(|client| client.get_connection())
        else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<i64, _> = redis::cmd("DEL").arg(&keys).query(&mut conn);
        }
    }
}
