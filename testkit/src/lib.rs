//! duet's test doubles, shared by the integration tests and the load
//! harness: a mock LLM server ([`mock_llm`], its Responses API in [`mock_responses`]), a fake Discord
//! ([`fake_discord`]), provider clients pointed at the mock ([`clients`]),
//! the real `duet run` as a child process pointed at both
//! ([`duet_process`]), a schema of its own per test on the test PostgreSQL
//! ([`postgres`]) and a TCP proxy that cuts connections ([`tcp_proxy`]).
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
