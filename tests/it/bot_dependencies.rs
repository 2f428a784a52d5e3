//! The bot's own `[dependencies]` hold nothing that only the test doubles
//! need: those belong to `testkit/Cargo.toml`, so the shipped binary does
//! not carry a test CA generator, a TLS server or WebSocket serving.

use std::path::Path;

/// Crates only the doubles use: rcgen makes the mock's TLS CA, tokio-rustls
/// serves TLS (reqwest brings its own client side).
const TEST_ONLY: &[&str] = &["rcgen", "tokio-rustls"];

/// The entries of the root manifest's `[dependencies]` table, one per line.
fn bot_dependencies() -> Vec<String> {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("the root Cargo.toml");
    manifest
        .lines()
        .skip_while(|line| line.trim() != "[dependencies]")
        .skip(1)
        .take_while(|line| !line.starts_with('['))
        .filter(|line| line.contains('='))
        .map(str::to_string)
        .collect()
}

fn name(entry: &str) -> &str {
    entry.split('=').next().unwrap_or_default().trim()
}

#[test]
fn the_bot_depends_on_no_crate_only_the_test_doubles_need() {
    let dependencies = bot_dependencies();
    assert!(
        dependencies.iter().any(|d| name(d) == "serenity"),
        "the [dependencies] table was not found: {dependencies:?}"
    );
    for entry in &dependencies {
        assert!(!TEST_ONLY.contains(&name(entry)), "{entry}");
        // axum serves the health endpoints; WebSockets are the fake Discord's.
        if name(entry) == "axum" {
            assert!(!entry.contains("\"ws\""), "{entry}");
        }
    }
}
