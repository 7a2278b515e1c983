//! Server-side SVG charts (charts-rs) over plain data, so the same charts can
//! go into pages, e-mails and PDF reports. Text in the data (tier and feature
//! names come from plans and from customers' telemetry) is escaped by
//! charts-rs; the pages embed these as `<img>`, so an SVG can never run script.

use charts_rs::{BarChart, HeatmapChart, HorizontalBarChart, LineChart, Series};

/// Light or dark colours; the pages pick one with `prefers-color-scheme`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    #[default]
    Light,
    Dark,
}

impl Theme {
    pub fn parse(raw: Option<&str>) -> Theme {
        match raw {
            Some("dark") => Theme::Dark,
            _ => Theme::Light,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

pub type ChartResult = charts_rs::Result<String>;

/// Longest label drawn; longer customer-supplied names are cut.
const MAX_LABEL: usize = 28;

fn label(raw: &str) -> String {
    if raw.chars().count() <= MAX_LABEL {
        raw.to_owned()
    } else {
        let cut: String = raw.chars().take(MAX_LABEL - 1).collect();
        format!("{cut}…")
    }
}

/// Chart values are `f32`; counts and money beyond its exact range only
/// lose precision in the drawing, never in the figures shown as text.
fn value(v: i64) -> f32 {
    v as f32
}

fn labelled(mut series: Series) -> Series {
    series.label_show = true;
    series
}

/// Monthly recurring revenue per tier, in major units.
pub fn revenue_by_tier(rows: &[(String, i64)], currency: &str, theme: Theme) -> ChartResult {
    let names = rows.iter().map(|(n, _)| label(n)).collect();
    let data = rows
        .iter()
        .map(|(_, minor)| value(*minor) / 100.0)
        .collect();
    let chart_series = labelled(Series::new(format!("MRR ({currency})"), data));
    let mut chart = BarChart::new_with_theme(vec![chart_series], names, theme.name());
    chart.width = 560.0;
    chart.height = 280.0;
    chart.legend.show = Some(false);
    chart.radius = Some(4.0);
    chart.svg()
}

/// Events per feature, largest first.
pub fn feature_usage(rows: &[(String, i64)], theme: Theme) -> ChartResult {
    // charts-rs draws the first category at the bottom; reverse so the
    // largest bar is on top.
    let names = rows.iter().rev().map(|(n, _)| label(n)).collect();
    let data = rows.iter().rev().map(|(_, c)| value(*c)).collect();
    let chart_series = labelled(Series::new("events".into(), data));
    let mut chart = HorizontalBarChart::new_with_theme(vec![chart_series], names, theme.name());
    chart.width = 560.0;
    chart.height = (80 + 28 * rows.len().max(1)) as f32;
    chart.legend.show = Some(false);
    chart.svg()
}

pub const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Events per weekday (rows, Monday first) and hour of day (columns, UTC).
pub fn activity_heatmap(grid: &[[i64; 24]; 7], theme: Theme) -> ChartResult {
    let hours = (0..24).map(|h| format!("{h:02}")).collect();
    // charts-rs draws the first row at the bottom: list Sunday first so
    // Monday reads at the top.
    let days = WEEKDAYS.iter().rev().map(|d| (*d).to_owned()).collect();
    let mut cells = Vec::with_capacity(7 * 24);
    for (day, row) in grid.iter().enumerate() {
        for (hour, count) in row.iter().enumerate() {
            if *count > 0 {
                cells.push(((6 - day.min(6)) * 24 + hour, value(*count)));
            }
        }
    }
    let max = grid.iter().flatten().copied().max().unwrap_or(0).max(1);
    let mut chart = HeatmapChart::new_with_theme(cells, hours, days, theme.name());
    chart.width = 760.0;
    chart.height = 300.0;
    chart.heatmap_series.min = 0.0;
    chart.heatmap_series.max = value(max);
    chart.svg()
}

/// Events per day.
pub fn events_over_time(days: &[(String, i64)], theme: Theme) -> ChartResult {
    let names = days.iter().map(|(d, _)| d.clone()).collect();
    let data = days.iter().map(|(_, c)| value(*c)).collect();
    let mut chart = LineChart::new_with_theme(
        vec![Series::new("events".into(), data)],
        names,
        theme.name(),
    );
    chart.width = 760.0;
    chart.height = 260.0;
    chart.legend.show = Some(false);
    chart.svg()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_in_the_svg() {
        let rows = vec![("<script>alert(1)</script>".to_owned(), 5)];
        let svg = feature_usage(&rows, Theme::Light).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(!svg.contains("<script>"), "{svg}");
    }

    #[test]
    fn long_labels_are_cut() {
        assert_eq!(label(&"x".repeat(40)).chars().count(), MAX_LABEL);
        assert_eq!(label("short"), "short");
    }

    #[test]
    fn every_chart_renders_empty_and_full() {
        let mut grid = [[0i64; 24]; 7];
        assert!(activity_heatmap(&grid, Theme::Dark).is_ok());
        grid[2][14] = 9;
        let svg = activity_heatmap(&grid, Theme::Light).unwrap();
        assert!(svg.contains("Wed"));
        let rev = revenue_by_tier(&[("Pro".into(), 2900)], "USD", Theme::Light).unwrap();
        assert!(rev.contains("Pro"));
        let line = events_over_time(&[("05-01".into(), 3), ("05-02".into(), 7)], Theme::Light);
        assert!(line.unwrap().contains("05-02"));
    }
}
