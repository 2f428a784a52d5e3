//! What one configuration key is: its section, name, default, meaning, the
//! values it accepts and when a change takes effect. Every key is declared
//! once as a [`KeySpec`] constant in the file of its section; validation,
//! `check-config`, reload diffs, the README table and `config.ini.example`
//! all read these.

use std::time::Duration;

/// When a changed value takes effect in a running bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReloadClass {
    /// Applies to the next message after a reload.
    Live,
    /// A reload builds new provider clients (turns in flight finish on the old ones).
    RebuildProviders,
    /// Read once at start: a change is logged and waits for a restart.
    Restart,
}

impl ReloadClass {
    /// The word used in the README table.
    pub fn as_str(self) -> &'static str {
        match self {
            ReloadClass::Live => "live",
            ReloadClass::RebuildProviders => "providers",
            ReloadClass::Restart => "restart",
        }
    }
}

/// The values a key accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any text.
    Text,
    /// A token or key: never printed.
    Secret,
    /// A whole number in `min..=max`.
    Uint { min: u64, max: u64 },
    /// true/false, yes/no, on/off, 1/0.
    Bool,
    /// A duration in `min..=max` (seconds, or with a unit).
    Duration { min: Duration, max: Duration },
    /// One of these names (compared case-insensitively).
    Choice(&'static [&'static str]),
    /// Empty, or one of these names.
    OptChoice(&'static [&'static str]),
    /// Comma-separated Discord ids.
    Ids,
    /// Comma-separated words.
    List,
    /// An http:// or https:// URL.
    Url,
    /// Empty, or an http:// or https:// URL.
    OptUrl,
    /// A file path.
    Path,
    /// Empty, or a file path.
    OptPath,
    /// An IP address or `localhost`.
    Host,
}

impl Kind {
    /// What the key accepts, as the README's "Range" column and error messages say it.
    pub fn describe(self) -> String {
        match self {
            Kind::Text => "text".into(),
            Kind::Secret => "text (secret)".into(),
            Kind::Uint { min, max } => format!("{min} to {max}"),
            Kind::Bool => "true or false".into(),
            Kind::Duration { min, max } => {
                format!(
                    "duration, {} to {}",
                    format_duration(min),
                    format_duration(max)
                )
            }
            Kind::Choice(names) => names.join(", "),
            Kind::OptChoice(names) => format!("empty, {}", names.join(", ")),
            Kind::Ids => "comma-separated ids".into(),
            Kind::List => "comma-separated words".into(),
            Kind::Url => "http(s) URL".into(),
            Kind::OptUrl => "empty or http(s) URL".into(),
            Kind::Path => "file path".into(),
            Kind::OptPath => "empty or file path".into(),
            Kind::Host => "IP address or localhost".into(),
        }
    }
}

/// One known key.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub section: &'static str,
    pub key: &'static str,
    pub default: &'static str,
    pub secret: bool,
    /// Extra environment variable names accepted besides the key itself.
    pub env_aliases: &'static [&'static str],
    pub doc: &'static str,
    pub kind: Kind,
    pub reload: ReloadClass,
}

impl KeySpec {
    /// A key that applies live; adjust the rest with struct update syntax.
    pub const fn new(
        section: &'static str,
        key: &'static str,
        default: &'static str,
        kind: Kind,
        doc: &'static str,
    ) -> Self {
        Self {
            section,
            key,
            default,
            secret: matches!(kind, Kind::Secret),
            env_aliases: &[],
            doc,
            kind,
            reload: ReloadClass::Live,
        }
    }

    /// The same key with another reload class.
    pub const fn reload(self, reload: ReloadClass) -> Self {
        Self { reload, ..self }
    }

    /// Every environment variable that sets this key, the key's own name first.
    pub fn env_names(&self) -> impl Iterator<Item = &'static str> + use<> {
        std::iter::once(self.key).chain(self.env_aliases.iter().copied())
    }

    /// Whether `section`/`key` names this spec (case-insensitively).
    pub fn is(&self, section: &str, key: &str) -> bool {
        self.section.eq_ignore_ascii_case(section) && self.key.eq_ignore_ascii_case(key)
    }
}

/// The names of a choice table, so a key lists its allowed values from the
/// same table the typed reader maps them with.
pub const fn names<T: Copy, const N: usize>(choices: &[(&'static str, T); N]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = choices[i].0;
        i += 1;
    }
    out
}

/// `90s`, `10m`, `7d`, `250ms`: the largest unit that divides the duration.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    const UNITS: [(u128, &str); 4] = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1000, "s"),
    ];
    if ms == 0 {
        return "0".into();
    }
    for (size, unit) in UNITS {
        if ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

pub const HOUR: Duration = Duration::from_secs(3600);
pub const DAY: Duration = Duration::from_secs(86_400);

/// One section: its name, what it is for, and its keys.
#[derive(Debug, Clone, Copy)]
pub struct SectionSpec {
    pub name: &'static str,
    pub doc: &'static str,
    pub keys: &'static [KeySpec],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_in_their_largest_whole_unit() {
        assert_eq!(format_duration(Duration::ZERO), "0");
        assert_eq!(format_duration(Duration::from_millis(1)), "1ms");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_duration(HOUR), "1h");
        assert_eq!(format_duration(DAY * 3650), "3650d");
    }

    #[test]
    fn a_choice_table_gives_its_names_in_order() {
        const TABLE: [(&str, u8); 3] = [("a", 1), ("b", 2), ("c", 3)];
        const NAMES: [&str; 3] = names(&TABLE);
        assert_eq!(NAMES, ["a", "b", "c"]);
    }
}
