//! How `bench verify` compares verify with its floor: round by round.
//!
//! Each round measures the floor and verify back to back (a few seconds
//! apart, in ABBA order), so the ratio within a round compares two windows
//! the machine ran at nearly the same speed. On a shared 2-core VM that speed
//! moves by ±20 % from one window to the next (the floor alone measured 11.6k
//! to 16.4k requests/s within one run), which a ratio of medians over three
//! rounds could not see through; the median of many rounds' own ratios can.
//! The quartiles of those ratios are printed with it, so a reader sees how
//! far one round's verdict could be trusted.

use std::time::Duration;

use crate::load::Figures;

/// One measured run and the server's CPU time over it.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub figures: Figures,
    /// Server process CPU (user + system) per request, µs.
    pub cpu_us_per_request: f64,
}

/// One round: the floor's run and verify's, back to back.
#[derive(Debug, Clone, Copy)]
pub struct Round {
    pub floor: Run,
    pub verify: Run,
}

impl Run {
    /// `figures` and the server's CPU time over the same window.
    pub fn new(figures: Figures, cpu: Duration) -> Run {
        Run {
            figures,
            cpu_us_per_request: cpu.as_secs_f64() * 1e6 / (figures.requests.max(1) as f64),
        }
    }
}

impl Round {
    pub fn throughput(&self) -> f64 {
        self.verify.figures.per_second / self.floor.figures.per_second.max(f64::EPSILON)
    }

    pub fn p99(&self) -> f64 {
        self.verify.figures.p99.as_secs_f64()
            / self.floor.figures.p99.as_secs_f64().max(f64::EPSILON)
    }

    pub fn cpu(&self) -> f64 {
        self.verify.cpu_us_per_request / self.floor.cpu_us_per_request.max(f64::EPSILON)
    }

    /// The spread of one ratio over `rounds`; `None` for no rounds.
    pub fn spread(rounds: &[Round], ratio: fn(&Round) -> f64) -> Option<Spread> {
        Spread::of(&rounds.iter().map(ratio).collect::<Vec<_>>())
    }
}

/// The median of some figures and the quartiles around it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub median: f64,
    /// First and third quartile: half of the figures lie between them.
    pub q1: f64,
    pub q3: f64,
}

impl Spread {
    /// `None` for no figures. NaN sorts last, so it can only move a quartile.
    pub fn of(figures: &[f64]) -> Option<Spread> {
        if figures.is_empty() {
            return None;
        }
        let mut sorted = figures.to_vec();
        sorted.sort_by(f64::total_cmp);
        Some(Spread {
            median: quantile(&sorted, 0.5),
            q1: quantile(&sorted, 0.25),
            q3: quantile(&sorted, 0.75),
        })
    }
}

/// The `q` quantile of sorted, non-empty figures, interpolated between the
/// two nearest (so the median of an even count is the mean of the middle two).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = q * (sorted.len() - 1) as f64;
    let below = at.floor() as usize;
    let above = at.ceil() as usize;
    sorted[below] + (sorted[above] - sorted[below]) * (at - below as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_quartiles() {
        let s = Spread::of(&[5.0, 1.0, 3.0, 2.0, 4.0]).unwrap();
        assert_eq!((s.q1, s.median, s.q3), (2.0, 3.0, 4.0));
        let even = Spread::of(&[0.8, 1.0, 0.9, 1.1]).unwrap();
        assert!((even.median - 0.95).abs() < 1e-12, "{even:?}");
        assert!((even.q1 - 0.875).abs() < 1e-12 && (even.q3 - 1.025).abs() < 1e-12);
        let one = Spread::of(&[0.93]).unwrap();
        assert_eq!((one.q1, one.median, one.q3), (0.93, 0.93, 0.93));
        assert_eq!(Spread::of(&[]), None);
    }

    #[test]
    fn one_wild_round_does_not_move_the_median() {
        let calm = Spread::of(&[0.92, 0.93, 0.94, 0.95, 0.93]).unwrap();
        let wild = Spread::of(&[0.92, 0.93, 0.94, 0.95, 0.40]).unwrap();
        assert!((calm.median - 0.93).abs() < 1e-12);
        assert!((wild.median - 0.93).abs() < 1e-12);
    }
}
