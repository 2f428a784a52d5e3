//! The testkit's process runner starts the very `duet` binary cargo built
//! for these tests.

use std::path::Path;

use duet_testkit::duet_process::duet_binary;

#[test]
fn the_testkit_runs_the_duet_binary_cargo_built_for_these_tests() {
    let cargo_built = Path::new(env!("CARGO_BIN_EXE_duet"));
    assert_eq!(
        duet_binary().canonicalize().unwrap(),
        cargo_built.canonicalize().unwrap()
    );
}
