//! How figures read on the pages: money, percentages, dates.

use chrono::{DateTime, Utc};

/// `123456` minor units of USD → `$1,234.56`; other currencies by code.
pub fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let units = group(abs / 100);
    let cents = abs % 100;
    match currency {
        "USD" => format!("{sign}${units}.{cents:02}"),
        other => format!("{sign}{units}.{cents:02} {other}"),
    }
}

/// Thousands separators.
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

pub fn date_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// "3 h ago", "5 d ago", or "never".
pub fn ago(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    let Some(t) = t else {
        return "never".to_owned();
    };
    let secs = (now - t).num_seconds().max(0);
    match secs {
        0..=59 => "just now".to_owned(),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        _ => format!("{} d ago", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn money_reads_well() {
        assert_eq!(money(123_456, "USD"), "$1,234.56");
        assert_eq!(money(0, "USD"), "$0.00");
        assert_eq!(money(-2_900, "EUR"), "-29.00 EUR");
        assert_eq!(group(1_000_000), "1,000,000");
    }

    #[test]
    fn ago_reads_well() {
        let now = Utc::now();
        assert_eq!(ago(None, now), "never");
        assert_eq!(ago(Some(now - Duration::hours(3)), now), "3 h ago");
        assert_eq!(ago(Some(now - Duration::days(4)), now), "4 d ago");
    }
}
