//! Money as integers. Prices are whole minor units (cents); per-unit usage
//! prices can be smaller than a cent ($0.001 per API request), so they are held
//! in micro-units (millionths of the major unit). Percentages are basis points.

use serde::{Deserialize, Serialize};

use crate::InvalidValue;

/// ISO-4217 style currency code, three upper-case ASCII letters.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let code = raw.trim().to_ascii_uppercase();
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(code))
        } else {
            Err(InvalidValue::new(
                "currency",
                "must be a three-letter currency code such as USD",
            ))
        }
    }

    pub fn usd() -> Self {
        Self("USD".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Currency {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.0
    }
}

/// Micro-units per minor unit for two-decimal currencies.
pub const MICROS_PER_MINOR: i64 = 10_000;

/// Converts micro-units to minor units, rounding half away from zero
/// (the rule invoices document).
pub fn micros_to_minor_rounded(micros: i128) -> i64 {
    let per = i128::from(MICROS_PER_MINOR);
    let half = per / 2;
    let rounded = if micros >= 0 {
        (micros + half) / per
    } else {
        (micros - half) / per
    };
    i64::try_from(rounded).unwrap_or(if rounded > 0 { i64::MAX } else { i64::MIN })
}

/// Divides a minor-unit amount, rounding half away from zero.
pub fn div_round(amount: i128, divisor: i128) -> i128 {
    if divisor == 0 {
        return 0;
    }
    let half = divisor / 2;
    if (amount >= 0) == (divisor > 0) {
        (amount + half) / divisor
    } else {
        (amount - half) / divisor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_is_normalised_and_checked() {
        assert_eq!(Currency::parse(" usd ").unwrap().as_str(), "USD");
        assert!(Currency::parse("US").is_err());
        assert!(Currency::parse("U$D").is_err());
        assert!(Currency::parse("").is_err());
    }

    #[test]
    fn micros_round_half_away_from_zero() {
        assert_eq!(micros_to_minor_rounded(5_000), 1);
        assert_eq!(micros_to_minor_rounded(4_999), 0);
        assert_eq!(micros_to_minor_rounded(-5_000), -1);
        assert_eq!(micros_to_minor_rounded(1_000_000), 100);
    }

    #[test]
    fn div_round_rounds_half_up() {
        assert_eq!(div_round(31_200, 12), 2_600);
        assert_eq!(div_round(7, 2), 4);
        assert_eq!(div_round(-7, 2), -4);
        assert_eq!(div_round(5, 0), 0);
    }
}
