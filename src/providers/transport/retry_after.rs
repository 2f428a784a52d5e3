//! How long a provider's response asks us to wait before trying again, read
//! from its headers. We honour the most precise one: `retry-after-ms`, then
//! `retry-after` in seconds or as an HTTP date, then OpenAI's
//! `x-ratelimit-reset-*` Go durations such as `6m0s`. The retry loop that
//! uses these waits is in `send.rs`; the backoff for when no header says
//! anything is in `backoff.rs`.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// Waits longer than this from a header are treated as this long; the
/// request deadline then decides whether waiting is worth it at all.
pub const MAX_HEADER_WAIT: Duration = Duration::from_secs(3600);

/// The wait a response asks for, from its headers; `None` when it says nothing usable.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let wait = text("retry-after-ms")
        .and_then(parse_millis)
        .or_else(|| text("retry-after").and_then(|v| parse_retry_after(v, now)))
        .or_else(|| openai_reset(headers))?;
    Some(wait.min(MAX_HEADER_WAIT))
}

fn parse_millis(value: &str) -> Option<Duration> {
    let millis: f64 = value.trim().parse().ok()?;
    Duration::try_from_secs_f64(millis / 1000.0).ok()
}

/// `retry-after`: delay seconds (integer or decimal) or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = SystemTime::from(date);
    // A date in the past means "now".
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// OpenAI's reset headers: the one whose `remaining` is 0, else the shorter.
fn openai_reset(headers: &HeaderMap) -> Option<Duration> {
    let reset = |kind: &str| {
        headers
            .get(format!("x-ratelimit-reset-{kind}"))
            .and_then(|v| v.to_str().ok())
            .and_then(parse_go_duration)
    };
    let exhausted = |kind: &str| {
        headers
            .get(format!("x-ratelimit-remaining-{kind}"))
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() == "0")
    };
    let (requests, tokens) = (reset("requests"), reset("tokens"));
    match (exhausted("requests"), exhausted("tokens")) {
        (true, true) => requests.max(tokens),
        (true, false) if requests.is_some() => requests,
        (false, true) if tokens.is_some() => tokens,
        _ => match (requests, tokens) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        },
    }
}

/// A Go duration as OpenAI sends it: `<number><unit>` pairs with units
/// `h`, `m`, `s`, `ms` (also `us`/`µs`, `ns`), e.g. `6m0s`, `20ms`, `1h2m3.5s`.
pub fn parse_go_duration(value: &str) -> Option<Duration> {
    let mut rest = value.trim();
    if rest.is_empty() {
        return None;
    }
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    let mut seconds = 0.0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        // Longer units first: "ms" must not be read as "m" followed by "s".
        let (unit_seconds, unit_len) = [
            ("ms", 1e-3),
            ("us", 1e-6),
            ("µs", 1e-6),
            ("ns", 1e-9),
            ("h", 3600.0),
            ("m", 60.0),
            ("s", 1.0),
        ]
        .iter()
        .find(|(unit, _)| rest.starts_with(unit))
        .map(|(unit, factor)| (*factor, unit.len()))?;
        seconds += number * unit_seconds;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn go_durations_parse_milliseconds_before_minutes() {
        assert_eq!(parse_go_duration("20ms"), Some(Duration::from_millis(20)));
        assert_eq!(parse_go_duration("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(parse_go_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_go_duration("1h2m3.5s"),
            Some(Duration::from_secs_f64(3723.5))
        );
        assert_eq!(parse_go_duration("0"), Some(Duration::ZERO));
    }

    #[test]
    fn go_duration_garbage_is_none_not_a_panic() {
        for bad in ["", "ms", "5", "5x", "1.2.3s", "-1s", "m5"] {
            assert_eq!(parse_go_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn retry_after_ms_wins_over_seconds() {
        let map = headers(&[("retry-after", "5"), ("retry-after-ms", "300")]);
        assert_eq!(
            retry_after(&map, SystemTime::now()),
            Some(Duration::from_millis(300))
        );
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_470);
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        // 2015-10-21 07:28:00 UTC is 1_445_412_480.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:20:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn openai_reset_uses_the_exhausted_window() {
        let map = headers(&[
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", "20ms"),
            ("x-ratelimit-remaining-tokens", "1000"),
            ("x-ratelimit-reset-tokens", "6m0s"),
        ]);
        assert_eq!(
            retry_after(&map, SystemTime::now()),
            Some(Duration::from_millis(20))
        );
        let tokens = headers(&[
            ("x-ratelimit-remaining-tokens", "0"),
            ("x-ratelimit-reset-requests", "20ms"),
            ("x-ratelimit-reset-tokens", "1s"),
        ]);
        assert_eq!(
            retry_after(&tokens, SystemTime::now()),
            Some(Duration::from_secs(1))
        );
    }

    #[test]
    fn absurd_values_do_not_overflow() {
        let huge = "9".repeat(400);
        assert_eq!(parse_go_duration(&format!("{huge}h")), None);
        let map = headers(&[("retry-after-ms", &huge), ("retry-after", "99999999999")]);
        assert_eq!(retry_after(&map, SystemTime::now()), Some(MAX_HEADER_WAIT));
        assert_eq!(parse_millis("-5"), None);
    }

    #[test]
    fn no_usable_header_means_none() {
        let map = headers(&[("retry-after", "later")]);
        assert_eq!(retry_after(&map, SystemTime::now()), None);
    }
}
