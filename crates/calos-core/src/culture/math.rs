//! Small numeric helpers shared by the analyzer's parts.

/// `x` rounded to `places` decimals (for display; never used in comparisons).
pub fn round_to(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// `part / whole`, or `None` when `whole` is not positive.
pub fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The `q`-quantile (0–1) of sorted values, interpolating between ranks.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let pos = q.clamp(0.0, 1.0) * last as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let (a, b) = (*sorted.get(lo)?, *sorted.get(hi)?);
    Some(a + (b - a) * (pos - lo as f64))
}

/// 0–100: 0 at or below `zero_at`, 100 at or above `full_at`, linear
/// between. Works in either direction (`zero_at > full_at` for "lower is better").
pub fn linear_score(x: f64, zero_at: f64, full_at: f64) -> f64 {
    if (full_at - zero_at).abs() < f64::EPSILON {
        return if x >= full_at { 100.0 } else { 0.0 };
    }
    ((x - zero_at) / (full_at - zero_at)).clamp(0.0, 1.0) * 100.0
}

/// A change between two windows as a word: `new`, `stopped`, `rising`,
/// `falling`, `steady` or `none`.
pub fn trend_word(recent: i64, before: i64, stopped_word: &'static str) -> &'static str {
    match (recent, before) {
        (0, 0) => "none",
        (_, 0) => "new",
        (0, _) => stopped_word,
        _ => {
            let r = recent as f64 / before as f64;
            if r >= 1.2 {
                "rising"
            } else if r <= 0.8 {
                "falling"
            } else {
                "steady"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_interpolates_and_handles_empty() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[4.0], 0.9), Some(4.0));
        assert_eq!(quantile(&[1.0, 2.0, 3.0], 0.5), Some(2.0));
        assert_eq!(quantile(&[0.0, 10.0], 0.9), Some(9.0));
    }

    #[test]
    fn linear_score_clamps_both_ways() {
        assert_eq!(linear_score(5.0, 0.0, 10.0), 50.0);
        assert_eq!(linear_score(20.0, 0.0, 10.0), 100.0);
        assert_eq!(linear_score(0.2, 0.1, 0.0), 0.0, "lower is better");
        assert_eq!(linear_score(0.0, 0.1, 0.0), 100.0);
    }

    #[test]
    fn trend_words() {
        assert_eq!(trend_word(0, 0, "stopped"), "none");
        assert_eq!(trend_word(5, 0, "stopped"), "new");
        assert_eq!(trend_word(0, 5, "stopped"), "stopped");
        assert_eq!(trend_word(130, 100, "stopped"), "rising");
        assert_eq!(trend_word(70, 100, "stopped"), "falling");
        assert_eq!(trend_word(100, 100, "stopped"), "steady");
    }
}
