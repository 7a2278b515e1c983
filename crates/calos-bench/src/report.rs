//! Small helpers every scenario's printout uses.

use std::time::Duration;

/// The machine's 1/5/15-minute load averages, printed beside each figure:
/// on a shared 2-core machine they say how much a figure can be trusted.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// A duration in milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
