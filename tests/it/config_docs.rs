//! Every configuration key is documented where operators look.

use std::path::Path;

use duet::config::schema::KEYS;

fn read(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
}

#[test]
fn config_ini_example_documents_every_key_with_its_default() {
    let example = read("config.ini.example");
    for spec in KEYS {
        let line = format!("{} = {}", spec.key, spec.default);
        assert!(
            example.lines().any(|l| l.trim_end() == line.trim_end()),
            "config.ini.example lacks `{line}`"
        );
    }
}

#[test]
fn the_readme_names_every_key() {
    let readme = read("README.md");
    for spec in KEYS {
        assert!(
            readme.contains(spec.key),
            "README.md does not mention {}",
            spec.key
        );
    }
}
