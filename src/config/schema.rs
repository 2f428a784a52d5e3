//! The registry of every key duet knows, in the order `check-config`, the
//! README table and `config.ini.example` list them. Each key is declared in
//! the file of its section; this file only gathers them, looks them up by
//! name and suggests the nearest one for a typo.

use std::collections::HashMap;
use std::sync::LazyLock;

pub use super::spec::{KeySpec, Kind, ReloadClass, SectionSpec};
use super::suggest::closest;
use super::{
    attachments, discord, health, limits, logging, memory, orchestrator, pool, providers, routing,
};

/// Every section in the order `check-config` prints them.
pub const SECTION_SPECS: &[SectionSpec] = &[
    discord::SECTION,
    providers::SECTION,
    limits::SECTION,
    pool::SECTION,
    orchestrator::SECTION,
    memory::SECTION,
    routing::SECTION,
    attachments::SECTION,
    logging::SECTION,
    health::SECTION,
];

const SECTION_COUNT: usize = SECTION_SPECS.len();
const SECTION_NAMES: [&str; SECTION_COUNT] = section_names();
/// Section names in the order `check-config` prints them.
pub const SECTIONS: &[&str] = &SECTION_NAMES;

const KEY_COUNT: usize = key_count();
const ALL_KEYS: [KeySpec; KEY_COUNT] = all_keys();
/// Every key, section by section.
pub const KEYS: &[KeySpec] = &ALL_KEYS;

const fn section_names() -> [&'static str; SECTION_COUNT] {
    let mut out = [""; SECTION_COUNT];
    let mut i = 0;
    while i < SECTION_COUNT {
        out[i] = SECTION_SPECS[i].name;
        i += 1;
    }
    out
}

const fn key_count() -> usize {
    let (mut i, mut n) = (0, 0);
    while i < SECTION_SPECS.len() {
        n += SECTION_SPECS[i].keys.len();
        i += 1;
    }
    n
}

const fn all_keys() -> [KeySpec; KEY_COUNT] {
    let mut out = [discord::DISCORD_TOKEN; KEY_COUNT];
    let (mut i, mut n) = (0, 0);
    while i < SECTION_SPECS.len() {
        let keys = SECTION_SPECS[i].keys;
        let mut j = 0;
        while j < keys.len() {
            out[n] = keys[j];
            n += 1;
            j += 1;
        }
        i += 1;
    }
    out
}

/// Lowercase `section`/`key` to its spec.
static INDEX: LazyLock<HashMap<(String, String), &'static KeySpec>> = LazyLock::new(|| {
    KEYS.iter()
        .map(|spec| {
            let id = (
                spec.section.to_ascii_lowercase(),
                spec.key.to_ascii_lowercase(),
            );
            (id, spec)
        })
        .collect()
});

/// The spec of `section`/`key`, compared case-insensitively.
pub fn find(section: &str, key: &str) -> Option<&'static KeySpec> {
    let id = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
    INDEX.get(&id).copied()
}

/// The spec set by environment variable `name` (a key's name or an alias).
pub fn find_env(name: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|spec| spec.env_names().any(|n| n == name))
}

/// The canonical spelling of a section name.
pub fn canonical_section(section: &str) -> Option<&'static str> {
    SECTIONS
        .iter()
        .copied()
        .find(|s| s.eq_ignore_ascii_case(section))
}

/// The closest known key to a misspelt one, for "did you mean" warnings.
pub fn suggest(key: &str) -> Option<&'static KeySpec> {
    let wanted = key.to_ascii_uppercase();
    closest(&wanted, KEYS.iter().map(|spec| (spec.key, spec)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_unique_and_in_its_section() {
        for section in SECTION_SPECS {
            for spec in section.keys {
                assert_eq!(spec.section, section.name, "{}", spec.key);
            }
        }
        for (i, spec) in KEYS.iter().enumerate() {
            assert!(
                KEYS[i + 1..].iter().all(|other| other.key != spec.key),
                "{} is listed twice",
                spec.key
            );
        }
        assert_eq!(
            KEYS.len(),
            SECTION_SPECS.iter().map(|s| s.keys.len()).sum::<usize>()
        );
    }

    #[test]
    fn suggests_the_nearest_key_for_a_typo() {
        assert_eq!(
            suggest("OPENAI_MAX_CONECTIONS").unwrap().key,
            "OPENAI_MAX_CONNECTIONS"
        );
        assert_eq!(suggest("rate_limt").unwrap().key, "RATE_LIMIT");
        assert!(suggest("COMPLETELY_UNRELATED_NAME").is_none());
        assert!(suggest(&"A".repeat(10_000)).is_none());
    }

    #[test]
    fn keys_are_found_by_name_or_environment_alias() {
        assert_eq!(
            find("connectionpool", "openai_rpm").unwrap().key,
            "OPENAI_RPM"
        );
        assert_eq!(
            find_env("DISCORD_API_BASE_URL").unwrap().key,
            "API_BASE_URL"
        );
        assert!(find("Limits", "OPENAI_RPM").is_none());
    }
}
