//! The calendar month an invoice bills (`YYYY-MM`, UTC).

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::InvalidValue;

/// A calendar month in UTC: the period one invoice covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InvoiceMonth {
    year: i32,
    month: u32,
}

/// The JSON of an [`InvoiceMonth`]: `YYYY-MM`.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for InvoiceMonth {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[0-9]{4}-[0-9]{2}$"))
            .description(Some("A calendar month, YYYY-MM."))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for InvoiceMonth {}

impl InvoiceMonth {
    /// Parses `YYYY-MM` (years 2000-9999).
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let bad = || InvalidValue::new("month", format!("must be YYYY-MM, not {raw:?}"));
        let (y, m) = raw.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(2000..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Self { year, month })
    }

    /// The month containing `t`.
    pub fn of(t: DateTime<Utc>) -> Self {
        Self {
            year: t.year(),
            month: t.month(),
        }
    }

    /// Refuses a month that has not started yet at `now` (nothing to bill).
    pub fn parse_not_future(raw: &str, now: DateTime<Utc>) -> Result<Self, InvalidValue> {
        let month = Self::parse(raw)?;
        if month > Self::of(now) {
            return Err(InvalidValue::new(
                "month",
                format!(
                    "{month} is in the future: invoices can be generated up to the current month ({})",
                    Self::of(now)
                ),
            ));
        }
        Ok(month)
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// The first day of the next month.
    pub fn next_first_day(self) -> NaiveDate {
        self.next().first_day()
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn previous(self) -> Self {
        if self.month == 1 {
            Self {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Self {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// Midnight UTC of the first day.
    pub fn start(self) -> DateTime<Utc> {
        midnight(self.first_day())
    }

    /// Midnight UTC of the next month's first day (exclusive end).
    pub fn end(self) -> DateTime<Utc> {
        midnight(self.next_first_day())
    }

    pub fn days(self) -> i64 {
        (self.next_first_day() - self.first_day()).num_days()
    }

    /// Every day of the month, in order.
    pub fn each_day(self) -> impl Iterator<Item = NaiveDate> {
        let first = self.first_day();
        (0..self.days()).filter_map(move |i| first.checked_add_signed(chrono::Duration::days(i)))
    }
}

/// Midnight UTC at the start of `day`.
pub fn midnight(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
}

impl fmt::Display for InvoiceMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl TryFrom<String> for InvoiceMonth {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<InvoiceMonth> for String {
    fn from(value: InvoiceMonth) -> Self {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_bounds_months() {
        let m = InvoiceMonth::parse("2024-02").unwrap();
        assert_eq!(m.days(), 29, "leap year");
        assert_eq!(m.to_string(), "2024-02");
        assert_eq!(
            InvoiceMonth::parse("2025-12").unwrap().next().to_string(),
            "2026-01"
        );
        assert_eq!(
            InvoiceMonth::parse("2026-01")
                .unwrap()
                .previous()
                .to_string(),
            "2025-12"
        );
        for bad in [
            "2024-13", "2024-00", "24-01", "2024/01", "2024-1", "", "abcd-ef",
        ] {
            assert!(InvoiceMonth::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn future_months_are_refused() {
        let now = Utc.with_ymd_and_hms(2026, 10, 15, 12, 0, 0).unwrap();
        assert!(InvoiceMonth::parse_not_future("2026-10", now).is_ok());
        assert!(InvoiceMonth::parse_not_future("2026-09", now).is_ok());
        let err = InvoiceMonth::parse_not_future("2026-11", now).unwrap_err();
        assert!(err.message.contains("future"), "{err}");
    }
}
