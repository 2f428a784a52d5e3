//! The operator documentation is generated from the key specs: the README's
//! key table and `config.ini.example` must match them exactly. Run with
//! `DUET_UPDATE_DOCS=1` to rewrite both files after changing a key.

use std::path::{Path, PathBuf};

use duet::config::docs::{example_ini, with_current_table};
use duet::config::schema::KEYS;

fn path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(path(name)).unwrap()
}

fn updating() -> bool {
    std::env::var_os("DUET_UPDATE_DOCS").is_some_and(|v| v == "1")
}

#[test]
fn config_ini_example_is_generated_from_the_key_specs() {
    let expected = example_ini();
    if updating() {
        std::fs::write(path("config.ini.example"), &expected).unwrap();
    }
    let example = read("config.ini.example");
    for spec in KEYS {
        let line = format!("{} = {}", spec.key, spec.default);
        assert!(
            example.lines().any(|l| l.trim_end() == line.trim_end()),
            "config.ini.example lacks `{line}`"
        );
    }
    assert!(
        example == expected,
        "config.ini.example differs from the key specs; run `DUET_UPDATE_DOCS=1 cargo test --test config_docs`"
    );
}

#[test]
fn the_readme_key_table_is_generated_from_the_key_specs() {
    let readme = read("README.md");
    let expected = with_current_table(&readme).expect("README.md has the config-table markers");
    if updating() {
        std::fs::write(path("README.md"), &expected).unwrap();
    }
    let readme = read("README.md");
    for spec in KEYS {
        let row = format!("| `{}` |", spec.key);
        assert!(
            readme.contains(&row),
            "README.md has no row for {}",
            spec.key
        );
    }
    assert!(
        readme == expected,
        "the README key table differs from the key specs; run `DUET_UPDATE_DOCS=1 cargo test --test config_docs`"
    );
}
