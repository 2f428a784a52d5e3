//! duet's test doubles, shared by the integration tests and the load
//! harness: a mock LLM server ([`mock_llm`], its Responses API in [`mock_responses`]), a fake Discord
//! ([`fake_discord`]), provider clients pointed at the mock ([`clients`]),
//! and the real `duet run` as a child process pointed at both
//! ([`duet_process`]), a TCP proxy that can cut connections
//! ([`tcp_proxy`]), a test's own key prefix in Redis ([`test_redis`]) and
//! a schema of its own per test on the test PostgreSQL ([`postgres`]).
//!
//! The crates only these doubles need (rcgen, tokio-rustls, hyper-util's
//! server, axum's WebSocket) are dependencies of this crate, not of the bot.

pub mod clients;
pub mod duet_process;
pub mod fake_discord;
pub mod mock_llm;
pub mod mock_responses;
pub mod postgres;
pub mod tcp_proxy;
pub mod test_redis;
