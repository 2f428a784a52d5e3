//! `[Discord] SHARD_COUNT`, `SHARD_IDS` and `SHARDS_PER_PROCESS`: how many
//! shards the bot has and which of them this process runs.
//!
//! The keys are checked when the configuration is read (a range past a fixed
//! count, a reversed range, `SHARD_IDS = auto` without an ordinal). What
//! depends on Discord's answer (`SHARD_COUNT = auto` takes `GET
//! /gateway/bot`'s recommended count) is checked by [`ShardSettings::plan`]
//! just before the shards start.

use std::collections::HashMap;

use super::reader::Reader;
use super::redact::shown_in_error;
use super::spec::{KeySpec, Kind, ReloadClass};

const S: &str = "Discord";

/// The largest shard count accepted (Discord's largest bots run a few thousand).
pub const MAX_SHARDS: u32 = 100_000;

/// The environment variable that gives a process its ordinal for `SHARD_IDS = auto`.
pub const ORDINAL_VAR: &str = "DUET_ORDINAL";

pub const SHARD_COUNT: KeySpec = KeySpec::new(
    S,
    "SHARD_COUNT",
    "auto",
    Kind::Text,
    "Shards the bot has in all: auto (Discord's recommended count from GET /gateway/bot) or a number from 1 to 100000. Every process of one bot must agree: set a number when several processes share the shards.",
)
.reload(ReloadClass::Restart);
pub const SHARD_IDS: KeySpec = KeySpec::new(
    S,
    "SHARD_IDS",
    "all",
    Kind::Text,
    "Shards this process runs: all, a range first-last (inclusive, e.g. 0-3 or 4-4), or auto (SHARDS_PER_PROCESS shards from the ordinal in DUET_ORDINAL or the HOSTNAME's trailing -N, as in a StatefulSet). DMs arrive on shard 0 only; slash commands are registered by the process that runs shard 0.",
)
.reload(ReloadClass::Restart);
pub const SHARDS_PER_PROCESS: KeySpec = KeySpec::new(
    S,
    "SHARDS_PER_PROCESS",
    "1",
    Kind::Uint { min: 1, max: 1024 },
    "With SHARD_IDS = auto: shards per process; process N runs shards N*SHARDS_PER_PROCESS onwards.",
)
.reload(ReloadClass::Restart);

/// `SHARD_COUNT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardCount {
    /// Discord's recommended count.
    Auto,
    Fixed(u32),
}

/// `SHARD_IDS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardIds {
    All,
    /// `first-last`, both included.
    Range {
        first: u32,
        last: u32,
    },
    /// From the process's ordinal and `SHARDS_PER_PROCESS`.
    Auto,
}

/// The three keys and the ordinal, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSettings {
    pub count: ShardCount,
    pub ids: ShardIds,
    pub per_process: u32,
    /// This process's ordinal (only looked for with `SHARD_IDS = auto`).
    pub ordinal: Option<u32>,
}

impl Default for ShardSettings {
    fn default() -> Self {
        Self {
            count: ShardCount::Auto,
            ids: ShardIds::All,
            per_process: 1,
            ordinal: None,
        }
    }
}

/// The shards this process runs: `first..=last` of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardPlan {
    pub first: u32,
    pub last: u32,
    pub total: u32,
}

impl ShardPlan {
    pub fn ids(&self) -> std::ops::RangeInclusive<u32> {
        self.first..=self.last
    }

    pub fn len(&self) -> u32 {
        self.last - self.first + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// Shard 0 receives DMs, and its process registers the slash commands.
    pub fn runs_shard_zero(&self) -> bool {
        self.first == 0
    }
}

/// Why the shards cannot start as configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error(
        "SHARD_IDS = {first}-{last} is outside the bot's {total} shard(s) (ids run from 0 to {}); lower SHARD_IDS or raise SHARD_COUNT",
        .total - 1
    )]
    RangeOutsideCount { first: u32, last: u32, total: u32 },
    #[error(
        "SHARD_COUNT = {total} is fewer than the {recommended} shards Discord recommends for this bot (it would close sessions with 4011, sharding required); set SHARD_COUNT to {recommended} or more, or to auto"
    )]
    TooFewShards { total: u32, recommended: u32 },
    #[error(
        "SHARD_IDS = auto: ordinal {ordinal} with SHARDS_PER_PROCESS = {per_process} starts at shard {first}, but the bot has {total} shard(s); run fewer replicas or raise SHARD_COUNT"
    )]
    OrdinalBeyondCount {
        ordinal: u32,
        per_process: u32,
        first: u64,
        total: u32,
    },
    #[error(
        "SHARD_IDS = auto needs this process's ordinal: set {ORDINAL_VAR} or run with a HOSTNAME ending in -N (a StatefulSet pod name)"
    )]
    NoOrdinal,
    #[error("Discord recommends 0 shards, which cannot be right; set SHARD_COUNT")]
    NoShards,
}

impl ShardSettings {
    pub(super) fn read(r: &mut Reader) -> Self {
        let count_text = r.text(&SHARD_COUNT);
        let count = parse_shard_count(&count_text).unwrap_or_else(|| {
            r.error(
                &SHARD_COUNT,
                format!(
                    "expected auto or a whole number from 1 to {MAX_SHARDS}; got {:?}",
                    shown_in_error(&SHARD_COUNT, &count_text)
                ),
            );
            ShardCount::Auto
        });
        let ids_text = r.text(&SHARD_IDS);
        let ids = parse_shard_ids(&ids_text).unwrap_or_else(|| {
            r.error(
                &SHARD_IDS,
                format!(
                    "expected all, auto or a range first-last such as 0-3 (first <= last, both included); got {:?}",
                    shown_in_error(&SHARD_IDS, &ids_text)
                ),
            );
            ShardIds::All
        });
        let per_process = u32::try_from(r.uint(&SHARDS_PER_PROCESS)).unwrap_or(1);
        if let (ShardCount::Fixed(total), ShardIds::Range { first, last }) = (count, ids)
            && last >= total
        {
            let error = ShardError::RangeOutsideCount { first, last, total };
            r.error(&SHARD_IDS, error.to_string());
        }
        Self {
            count,
            ids,
            per_process,
            ordinal: None,
        }
    }

    /// Looks for the ordinal `SHARD_IDS = auto` needs in `env`, recording a
    /// problem when it is missing or malformed.
    pub(super) fn find_ordinal(&mut self, r: &mut Reader, env: &HashMap<String, String>) {
        if self.ids != ShardIds::Auto {
            return;
        }
        match ordinal_from_env(env) {
            Ok(Some(ordinal)) => self.ordinal = Some(ordinal),
            Ok(None) => r.error(&SHARD_IDS, ShardError::NoOrdinal.to_string()),
            Err(message) => r.error(&SHARD_IDS, message),
        }
    }

    /// The shards to run, given Discord's `recommended` count; checks that
    /// the range lies inside the count and the count is not below Discord's.
    pub fn plan(&self, recommended: u32) -> Result<ShardPlan, ShardError> {
        let total = match self.count {
            ShardCount::Auto if recommended == 0 => return Err(ShardError::NoShards),
            ShardCount::Auto => recommended,
            ShardCount::Fixed(total) if total < recommended => {
                return Err(ShardError::TooFewShards { total, recommended });
            }
            ShardCount::Fixed(total) => total,
        };
        let (first, last) = match self.ids {
            ShardIds::All => (0, total - 1),
            ShardIds::Range { first, last } => (first, last),
            ShardIds::Auto => {
                let ordinal = self.ordinal.ok_or(ShardError::NoOrdinal)?;
                let first = u64::from(ordinal) * u64::from(self.per_process);
                let Some(first) = u32::try_from(first).ok().filter(|f| *f < total) else {
                    return Err(ShardError::OrdinalBeyondCount {
                        ordinal,
                        per_process: self.per_process,
                        first,
                        total,
                    });
                };
                // The last replica may get fewer shards than the others.
                let last = first.saturating_add(self.per_process - 1).min(total - 1);
                (first, last)
            }
        };
        if last >= total || first > last {
            return Err(ShardError::RangeOutsideCount { first, last, total });
        }
        Ok(ShardPlan { first, last, total })
    }
}

/// `auto` or a count from 1 to [`MAX_SHARDS`].
pub fn parse_shard_count(text: &str) -> Option<ShardCount> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("auto") {
        return Some(ShardCount::Auto);
    }
    parse_number(text)
        .filter(|n| (1..=MAX_SHARDS).contains(n))
        .map(ShardCount::Fixed)
}

/// `all`, `auto`, `first-last` (first <= last) or one id `n` (= `n-n`).
pub fn parse_shard_ids(text: &str) -> Option<ShardIds> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("all") {
        return Some(ShardIds::All);
    }
    if text.eq_ignore_ascii_case("auto") {
        return Some(ShardIds::Auto);
    }
    let (first, last) = match text.split_once('-') {
        Some((first, last)) => (parse_number(first)?, parse_number(last)?),
        None => {
            let only = parse_number(text)?;
            (only, only)
        }
    };
    (first <= last && last < MAX_SHARDS).then_some(ShardIds::Range { first, last })
}

/// This process's ordinal: `DUET_ORDINAL`, else the number after the last
/// `-` of `HOSTNAME` (a StatefulSet names its pods `name-0`, `name-1`, …).
/// A `DUET_ORDINAL` that is not a number is an error.
pub fn ordinal_from_env(env: &HashMap<String, String>) -> Result<Option<u32>, String> {
    if let Some(value) = env.get(ORDINAL_VAR) {
        return parse_number(value).map(Some).ok_or_else(|| {
            format!("{ORDINAL_VAR} must be a whole number (this replica's index from 0)")
        });
    }
    Ok(env.get("HOSTNAME").and_then(|host| ordinal_of_host(host)))
}

/// The trailing `-N` of a host name (`duet-3` → 3).
pub fn ordinal_of_host(host: &str) -> Option<u32> {
    let (_, suffix) = host.trim().rsplit_once('-')?;
    parse_number(suffix)
}

/// Digits only (surrounding spaces allowed), within `u32`.
fn parse_number(text: &str) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn settings(count: ShardCount, ids: ShardIds) -> ShardSettings {
        ShardSettings {
            count,
            ids,
            ..ShardSettings::default()
        }
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn counts_and_ranges_parse_in_their_documented_forms() {
        assert_eq!(parse_shard_count(" AUTO "), Some(ShardCount::Auto));
        assert_eq!(parse_shard_count("16"), Some(ShardCount::Fixed(16)));
        assert_eq!(parse_shard_count("0"), None);
        assert_eq!(parse_shard_count("-1"), None);
        assert_eq!(parse_shard_ids("all"), Some(ShardIds::All));
        assert_eq!(parse_shard_ids("Auto"), Some(ShardIds::Auto));
        assert_eq!(
            parse_shard_ids("4-7"),
            Some(ShardIds::Range { first: 4, last: 7 })
        );
        assert_eq!(
            parse_shard_ids("3"),
            Some(ShardIds::Range { first: 3, last: 3 })
        );
        assert_eq!(parse_shard_ids("7-4"), None);
        assert_eq!(parse_shard_ids("4..7"), None);
        assert_eq!(parse_shard_ids(""), None);
    }

    #[test]
    fn a_range_is_inclusive_at_both_ends() {
        let plan = settings(ShardCount::Fixed(10), ShardIds::Range { first: 4, last: 7 })
            .plan(1)
            .unwrap();
        assert_eq!(plan.ids().collect::<Vec<_>>(), [4, 5, 6, 7]);
        assert_eq!(plan.len(), 4);
        assert!(!plan.runs_shard_zero());
    }

    #[test]
    fn all_runs_every_shard_of_the_recommended_count() {
        let plan = ShardSettings::default().plan(3).unwrap();
        assert_eq!((plan.first, plan.last, plan.total), (0, 2, 3));
        assert!(plan.runs_shard_zero());
    }

    #[test]
    fn a_range_past_the_count_says_so() {
        let error = settings(ShardCount::Auto, ShardIds::Range { first: 1, last: 2 })
            .plan(2)
            .unwrap_err();
        assert_eq!(
            error,
            ShardError::RangeOutsideCount {
                first: 1,
                last: 2,
                total: 2
            }
        );
        assert!(error.to_string().contains("ids run from 0 to 1"), "{error}");
    }

    #[test]
    fn a_count_below_discords_recommendation_is_refused() {
        let error = settings(ShardCount::Fixed(2), ShardIds::All)
            .plan(4)
            .unwrap_err();
        assert!(error.to_string().contains("4011"), "{error}");
        assert!(
            settings(ShardCount::Fixed(6), ShardIds::All)
                .plan(4)
                .is_ok()
        );
    }

    #[test]
    fn auto_ids_come_from_the_ordinal_and_the_last_replica_may_run_fewer() {
        let mut s = settings(ShardCount::Fixed(5), ShardIds::Auto);
        s.per_process = 2;
        s.ordinal = Some(1);
        assert_eq!(s.plan(1).unwrap().ids().collect::<Vec<_>>(), [2, 3]);
        s.ordinal = Some(2);
        assert_eq!(s.plan(1).unwrap().ids().collect::<Vec<_>>(), [4]);
        s.ordinal = Some(3);
        assert!(matches!(
            s.plan(1),
            Err(ShardError::OrdinalBeyondCount { first: 6, .. })
        ));
        s.ordinal = None;
        assert_eq!(s.plan(1), Err(ShardError::NoOrdinal));
    }

    #[test]
    fn the_ordinal_comes_from_duet_ordinal_or_the_pod_name() {
        assert_eq!(
            ordinal_from_env(&env(&[("DUET_ORDINAL", "3")])),
            Ok(Some(3))
        );
        assert_eq!(
            ordinal_from_env(&env(&[("HOSTNAME", "duet-12"), ("DUET_ORDINAL", "2")])),
            Ok(Some(2))
        );
        assert_eq!(
            ordinal_from_env(&env(&[("HOSTNAME", "duet-12")])),
            Ok(Some(12))
        );
        assert_eq!(ordinal_from_env(&env(&[("HOSTNAME", "laptop")])), Ok(None));
        assert_eq!(ordinal_from_env(&env(&[])), Ok(None));
        assert!(ordinal_from_env(&env(&[("DUET_ORDINAL", "one")])).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

        /// Arbitrary text never panics.
        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            let _ = parse_shard_count(&text);
            let _ = parse_shard_ids(&text);
            let _ = ordinal_of_host(&text);
        }

        /// Every range written `a-b` parses to itself when a <= b.
        #[test]
        fn written_ranges_parse_back(a in 0u32..MAX_SHARDS, b in 0u32..MAX_SHARDS) {
            let parsed = parse_shard_ids(&format!("{a}-{b}"));
            if a <= b {
                prop_assert_eq!(parsed, Some(ShardIds::Range { first: a, last: b }));
            } else {
                prop_assert_eq!(parsed, None);
            }
        }

        /// A plan, when there is one, lies inside the count and is never
        /// below Discord's recommendation; replicas by ordinal never overlap.
        #[test]
        fn plans_stay_inside_the_count(
            count in prop_oneof![Just(None), (1u32..200).prop_map(Some)],
            first in 0u32..250,
            width in 0u32..50,
            auto in any::<bool>(),
            ordinal in proptest::option::of(0u32..100),
            per_process in 1u32..20,
            recommended in 0u32..200,
        ) {
            let s = ShardSettings {
                count: count.map_or(ShardCount::Auto, ShardCount::Fixed),
                ids: if auto { ShardIds::Auto } else { ShardIds::Range { first, last: first + width } },
                per_process,
                ordinal,
            };
            if let Ok(plan) = s.plan(recommended) {
                prop_assert!(plan.first <= plan.last);
                prop_assert!(plan.last < plan.total);
                prop_assert!(plan.total >= recommended);
                prop_assert!(plan.len() <= per_process.max(width + 1));
                if let (true, Some(o)) = (auto, ordinal) {
                    let next = ShardSettings { ordinal: Some(o + 1), ..s };
                    if let Ok(after) = next.plan(recommended) {
                        prop_assert!(after.first > plan.last);
                    }
                }
            }
        }
    }
}
