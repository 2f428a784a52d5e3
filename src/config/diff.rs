//! What a reload changes, grouped by when each change takes effect: the
//! typed answer to "must the provider clients be rebuilt?" and "which
//! changes wait for a restart?", read from each key's reload class.

use super::schema::KEYS;
use super::spec::{KeySpec, ReloadClass};
use super::typed::Config;

/// The keys whose value differs between two configurations, by reload class.
#[derive(Debug, Clone, Default)]
pub struct ReloadDiff {
    /// Apply to the next message.
    pub live: Vec<&'static KeySpec>,
    /// Need new provider clients.
    pub providers: Vec<&'static KeySpec>,
    /// Logged; take effect after a restart.
    pub restart: Vec<&'static KeySpec>,
}

impl ReloadDiff {
    /// Compares every key's effective raw value.
    pub fn between(old: &Config, new: &Config) -> Self {
        let mut diff = ReloadDiff::default();
        for spec in KEYS {
            let id = (spec.section, spec.key);
            let before = old.resolved.get(&id).map(|r| &r.value);
            let after = new.resolved.get(&id).map(|r| &r.value);
            if before == after {
                continue;
            }
            match spec.reload {
                ReloadClass::Live => diff.live.push(spec),
                ReloadClass::RebuildProviders => diff.providers.push(spec),
                ReloadClass::Restart => diff.restart.push(spec),
            }
        }
        diff
    }

    pub fn is_empty(&self) -> bool {
        self.live.is_empty() && self.providers.is_empty() && self.restart.is_empty()
    }

    /// Whether new provider clients are needed.
    pub fn rebuilds_providers(&self) -> bool {
        !self.providers.is_empty()
    }

    /// Names of the changed keys that wait for a restart.
    pub fn restart_keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.restart.iter().map(|spec| spec.key)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;

    use super::*;

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("config.ini"), &HashMap::new()).expect("valid")
    }

    fn names(specs: &[&KeySpec]) -> Vec<&'static str> {
        specs.iter().map(|spec| spec.key).collect()
    }

    #[test]
    fn changes_are_grouped_by_when_they_take_effect() {
        let old = config("[Limits]\nRATE_LIMIT = 5\n");
        let new = config(
            "[Limits]\nRATE_LIMIT = 6\n[ConnectionPool]\nOPENAI_RPM = 9\n\
             [Default]\nGPT_MODEL = other\nSYSTEM_MESSAGE = hi\n[Health]\nHEALTH_PORT = 9\n",
        );
        let diff = ReloadDiff::between(&old, &new);
        assert_eq!(names(&diff.live), ["SYSTEM_MESSAGE", "RATE_LIMIT"]);
        assert_eq!(names(&diff.providers), ["GPT_MODEL", "OPENAI_RPM"]);
        assert_eq!(diff.restart_keys().collect::<Vec<_>>(), ["HEALTH_PORT"]);
        assert!(diff.rebuilds_providers());
    }

    #[test]
    fn an_unchanged_configuration_has_an_empty_diff() {
        let text = "[Limits]\nRATE_LIMIT = 5\n";
        let diff = ReloadDiff::between(&config(text), &config(text));
        assert!(diff.is_empty() && !diff.rebuilds_providers());
    }
}
