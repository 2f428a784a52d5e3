//! Test doubles shared by the integration tests: a mock LLM server and a fake
//! Discord, and the real `duet run` as a child process pointed at them.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support code"
)]

pub mod clients;
pub mod duet_process;
pub mod fake_discord;
pub mod mock_llm;
