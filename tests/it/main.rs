//! duet's integration tests: one test binary, one module per area, so
//! serenity, reqwest and the test doubles (the `duet-testkit` crate) are
//! linked once rather than once per file.
//!
//! Two files in `tests/` stay binaries of their own because they own
//! process-wide state: `memory_footprint.rs` installs a counting global
//! allocator (any other test's allocations would skew its figure) and
//! `providers_secrets.rs` installs the global TRACE subscriber whose every
//! line it checks; `ops_signals.rs` sends real signals to its own process.
//! The load harness's smoke test is in `bench/tests/`.

mod architecture;
mod bot_dependencies;
mod chat_pipeline;
mod cli_ask;
mod cli_chat;
mod cli_check_config;
mod cli_route;
mod config_docs;
mod coord_failover;
mod coord_limits;
mod coord_lock;
mod coord_processes;
mod deploy_files;
mod discord_attachments;
mod discord_commands;
mod discord_lifecycle;
mod discord_messages;
mod discord_pipeline;
mod discord_settings;
mod discord_shards;
mod duet_binary;
mod memory_postgres;
mod memory_settings;
mod memory_store;
mod ops_health;
mod ops_logging;
mod ops_reload;
mod ops_shutdown;
mod ops_startup;
mod providers_failover;
mod providers_faults;
mod providers_pool;
mod providers_responses;
mod providers_retry;
mod providers_setup_faults;
mod providers_wire;
mod render_split;
mod routing_eval;
mod routing_table;
mod routing_web_tool;
mod scale_out;
mod web_openai_search;
