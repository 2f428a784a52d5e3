//! Turning one raw value into a number, duration, boolean, list or URL. Every
//! conversion is checked: a value too large for its type is `None`, never a
//! wrapped number or a panic.

use std::time::Duration;

/// true/yes/on/1 and false/no/off/0, in any case.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// A whole number without sign; `None` past `u64::MAX`.
pub fn parse_uint(value: &str) -> Option<u64> {
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// Plain seconds (`90`, `0.5`) or a number with a unit (`250ms`, `5s`, `10m`,
/// `2h`, `7d`), computed in integer nanoseconds; `None` when malformed or
/// longer than `Duration` can hold.
pub fn parse_duration(value: &str) -> Option<Duration> {
    const NANOS_PER_SECOND: u128 = 1_000_000_000;
    let value = value.trim();
    let split = value
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let per_unit: u128 = match unit.trim() {
        "" | "s" => NANOS_PER_SECOND,
        "ms" => 1_000_000,
        "m" => 60 * NANOS_PER_SECOND,
        "h" => 3600 * NANOS_PER_SECOND,
        "d" => 86_400 * NANOS_PER_SECOND,
        _ => return None,
    };
    let number = number.trim();
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return None;
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut nanos = whole.checked_mul(per_unit)?;
    // Digits past the 18th cannot change a nanosecond count; dropping them keeps the maths in range.
    let fraction = &fraction[..fraction.len().min(18)];
    if !fraction.is_empty() {
        let scale = 10u128.checked_pow(u32::try_from(fraction.len()).ok()?)?;
        let part: u128 = fraction.parse().ok()?;
        nanos = nanos.checked_add(part.checked_mul(per_unit)? / scale)?;
    }
    let seconds = u64::try_from(nanos / NANOS_PER_SECOND).ok()?;
    let sub = u32::try_from(nanos % NANOS_PER_SECOND).ok()?;
    Some(Duration::new(seconds, sub))
}

/// Comma-separated items, trimmed, empty ones skipped.
pub fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}

/// Comma-separated Discord ids; `None` when one is not a number.
pub fn parse_ids(value: &str) -> Option<Vec<u64>> {
    split_list(value).iter().map(|id| parse_uint(id)).collect()
}

/// An absolute http(s) URL with a host.
pub fn parse_http_url(value: &str) -> Option<url::Url> {
    url::Url::parse(value.trim())
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
}

/// An IP address or `localhost`.
pub fn parse_host(value: &str) -> Option<String> {
    let host = value.trim();
    (host == "localhost" || host.parse::<std::net::IpAddr>().is_ok()).then(|| host.to_string())
}

/// Ranges are far below `usize::MAX` on every supported target.
pub(super) fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_plain_seconds_and_units() {
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("0.25"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration(".5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5ms"), Some(Duration::from_micros(1500)));
        assert_eq!(parse_duration("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("-1"), None);
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("."), None);
        assert_eq!(parse_duration("1e3"), None);
    }

    #[test]
    fn durations_too_long_for_the_type_are_rejected_not_wrapped() {
        assert_eq!(parse_duration("18446744073709551616"), None);
        assert_eq!(parse_duration("213503982334602d"), None);
        assert_eq!(
            parse_duration("99999999999999999999999999999999999999999d"),
            None
        );
        assert_eq!(
            parse_duration("18446744073709551615"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse_duration("0.0000000001999999999999999999999"),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn whole_numbers_reject_signs_and_overflow() {
        assert_eq!(parse_uint(" 42 "), Some(42));
        assert_eq!(parse_uint("+5"), None);
        assert_eq!(parse_uint("18446744073709551616"), None);
        assert_eq!(parse_uint(""), None);
    }

    #[test]
    fn booleans_accept_the_usual_spellings() {
        for yes in ["true", "YES", "on", "1"] {
            assert_eq!(parse_bool(yes), Some(true));
        }
        for no in ["False", "no", "OFF", "0"] {
            assert_eq!(parse_bool(no), Some(false));
        }
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn lists_trim_spaces_and_skip_empty_items() {
        assert_eq!(split_list(" general , bots,, "), vec!["general", "bots"]);
        assert!(split_list("").is_empty());
        assert_eq!(parse_ids("1, 2"), Some(vec![1, 2]));
        assert_eq!(parse_ids("1, two"), None);
    }
}
