//! Invoice number formats such as `INV-{YYYY}-{SEQ:05}`.
//!
//! Tokens: `{YYYY}` (year of issue), `{YY}`, `{MM}` (month of issue),
//! `{SEQ}` or `{SEQ:N}` (the sequence, zero-padded to N digits, 1-12).
//! `{SEQ}` is required exactly once. A format with a year token numbers each
//! year from 1 (the counter's scope is the year); one without counts forever.

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use crate::InvalidValue;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NumberFormat(String);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Year4,
    Year2,
    Month,
    Seq(usize),
}

fn pieces(raw: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(open) = rest.find('{') {
        if rest[..open].contains('}') {
            return Err("has a stray '}'".to_owned());
        }
        if open > 0 {
            out.push(Piece::Text(&rest[..open]));
        }
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| "has an unclosed '{'".to_owned())?
            + open;
        let token = &rest[open + 1..close];
        out.push(match token {
            "YYYY" => Piece::Year4,
            "YY" => Piece::Year2,
            "MM" => Piece::Month,
            "SEQ" => Piece::Seq(1),
            t => match t.strip_prefix("SEQ:") {
                Some(width) => {
                    let n: usize = width
                        .parse()
                        .map_err(|_| format!("bad sequence width in {{{t}}}"))?;
                    if !(1..=12).contains(&n) {
                        return Err("sequence width must be 1-12".to_owned());
                    }
                    Piece::Seq(n)
                }
                None => return Err(format!("unknown token {{{t}}}")),
            },
        });
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return Err("has a stray '}'".to_owned());
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

impl NumberFormat {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let invalid = |why: String| InvalidValue::new("invoiceNumberFormat", why);
        let raw = raw.trim();
        if raw.is_empty() || raw.chars().count() > 40 {
            return Err(invalid("must be 1-40 characters".to_owned()));
        }
        if raw.chars().any(|c| c.is_control()) {
            return Err(invalid("must not contain control characters".to_owned()));
        }
        let parts = pieces(raw).map_err(|why| invalid(format!("{raw:?} {why}")))?;
        let seqs = parts.iter().filter(|p| matches!(p, Piece::Seq(_))).count();
        if seqs != 1 {
            return Err(invalid(format!(
                "{raw:?} must contain {{SEQ}} or {{SEQ:N}} exactly once"
            )));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn default_invoice() -> Self {
        Self("INV-{YYYY}-{SEQ:05}".to_owned())
    }

    pub fn default_credit_note() -> Self {
        Self("CN-{YYYY}-{SEQ:05}".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn parts(&self) -> Vec<Piece<'_>> {
        pieces(&self.0).unwrap_or_default()
    }

    /// The counter this format draws from when issuing at `at`: one per
    /// year when the number shows the year, else one for all time. `series`
    /// keeps invoices and credit notes on separate counters.
    pub fn counter_scope(&self, series: &str, at: DateTime<Utc>) -> String {
        let yearly = self
            .parts()
            .iter()
            .any(|p| matches!(p, Piece::Year4 | Piece::Year2));
        if yearly {
            format!("{series}:{}", at.year())
        } else {
            format!("{series}:all")
        }
    }

    /// The number for sequence value `seq` issued at `at`.
    pub fn render(&self, seq: i64, at: DateTime<Utc>) -> String {
        let mut out = String::new();
        for part in self.parts() {
            match part {
                Piece::Text(t) => out.push_str(t),
                Piece::Year4 => out.push_str(&format!("{:04}", at.year())),
                Piece::Year2 => out.push_str(&format!("{:02}", at.year().rem_euclid(100))),
                Piece::Month => out.push_str(&format!("{:02}", at.month())),
                Piece::Seq(width) => out.push_str(&format!("{seq:0width$}")),
            }
        }
        out
    }
}

impl TryFrom<String> for NumberFormat {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<NumberFormat> for String {
    fn from(value: NumberFormat) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn renders_the_documented_tokens() {
        let at = Utc.with_ymd_and_hms(2026, 3, 9, 0, 0, 0).unwrap();
        let f = NumberFormat::default_invoice();
        assert_eq!(f.render(7, at), "INV-2026-00007");
        assert_eq!(f.counter_scope("invoice", at), "invoice:2026");
        let g = NumberFormat::parse("ACME/{YY}{MM}/{SEQ}").unwrap();
        assert_eq!(g.render(123, at), "ACME/2603/123");
        let h = NumberFormat::parse("{SEQ:3}").unwrap();
        assert_eq!(h.render(5, at), "005");
        assert_eq!(h.counter_scope("invoice", at), "invoice:all");
    }

    #[test]
    fn refuses_formats_without_exactly_one_sequence() {
        for bad in [
            "INV-{YYYY}",
            "{SEQ}{SEQ}",
            "INV-{SEQ:0}",
            "INV-{FOO}-{SEQ}",
            "INV-{SEQ",
            "A}{SEQ}",
            "",
        ] {
            assert!(NumberFormat::parse(bad).is_err(), "{bad}");
        }
    }
}
