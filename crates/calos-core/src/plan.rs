//! Plans (tiers) are data: prices, trial length, a limit per meter, feature
//! flags, verification interval and usage prices for overage. The seed's five
//! tiers are the defaults an install starts with; admins edit them by API.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::license::BillingPeriod;
use crate::money::Currency;
use crate::InvalidValue;

/// Slug naming a plan (`pro`, `self_hosted`): 1-40 of a-z, 0-9, `_`, `-`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PlanSlug(String);

impl PlanSlug {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let ok = !raw.is_empty()
            && raw.len() <= 40
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidValue::new(
                "tier",
                "must be a plan slug of a-z, 0-9, '_' or '-' (at most 40)",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PlanSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PlanSlug {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PlanSlug> for String {
    fn from(value: PlanSlug) -> Self {
        value.0
    }
}

/// Something a plan limits, counted per billing period.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Meter {
    Transcripts,
    PosTransactions,
    CryptoCharges,
    Locations,
    ApiRequests,
    Seats,
    Domains,
}

impl Meter {
    pub const ALL: [Meter; 7] = [
        Meter::Transcripts,
        Meter::PosTransactions,
        Meter::CryptoCharges,
        Meter::Locations,
        Meter::ApiRequests,
        Meter::Seats,
        Meter::Domains,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Meter::Transcripts => "transcripts",
            Meter::PosTransactions => "pos_transactions",
            Meter::CryptoCharges => "crypto_charges",
            Meter::Locations => "locations",
            Meter::ApiRequests => "api_requests",
            Meter::Seats => "seats",
            Meter::Domains => "domains",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == raw)
            .ok_or_else(|| InvalidValue::new("meter", format!("unknown meter {raw:?}")))
    }

    /// The name of the feature a meter stands for when its limit is not 0.
    pub fn feature_name(self) -> &'static str {
        match self {
            Meter::Transcripts => "transcripts",
            Meter::PosTransactions => "pos",
            Meter::CryptoCharges => "crypto",
            Meter::Locations => "locations",
            Meter::ApiRequests => "api",
            Meter::Seats => "seats",
            Meter::Domains => "domains",
        }
    }
}

/// A plan's limit on one meter. JSON: `null` is unlimited, a number is the
/// allowance per billing period, and `0` means the meter is not included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Option<u64>", into = "Option<u64>")]
pub enum Limit {
    Unlimited,
    Max(u64),
}

/// The JSON of a [`Limit`]: a whole number from 0, or `null` (unlimited).
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Limit {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
            .minimum(Some(0))
            .description(Some(
                "The allowance per billing period; 0: not included; null: unlimited.",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Limit {}

impl Limit {
    pub fn is_included(self) -> bool {
        self != Limit::Max(0)
    }

    /// Percent of the allowance used, or `None` where there is no finite allowance.
    pub fn percent_used(self, used: u64) -> Option<f64> {
        match self {
            Limit::Max(max) if max > 0 => Some(used as f64 * 100.0 / max as f64),
            _ => None,
        }
    }
}

impl From<Option<u64>> for Limit {
    fn from(value: Option<u64>) -> Self {
        value.map_or(Limit::Unlimited, Limit::Max)
    }
}

impl From<Limit> for Option<u64> {
    fn from(value: Limit) -> Self {
        match value {
            Limit::Unlimited => None,
            Limit::Max(n) => Some(n),
        }
    }
}

/// A kind of billable usage with its own price; several may share a meter
/// (both POS channels draw on `pos_transactions`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageType {
    Transcript,
    PosInPerson,
    PosOnline,
    Crypto,
    Location,
    ApiRequest,
}

impl UsageType {
    pub const ALL: [UsageType; 6] = [
        UsageType::Transcript,
        UsageType::PosInPerson,
        UsageType::PosOnline,
        UsageType::Crypto,
        UsageType::Location,
        UsageType::ApiRequest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UsageType::Transcript => "transcript",
            UsageType::PosInPerson => "pos_in_person",
            UsageType::PosOnline => "pos_online",
            UsageType::Crypto => "crypto",
            UsageType::Location => "location",
            UsageType::ApiRequest => "api_request",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|u| u.as_str() == raw)
            .ok_or_else(|| InvalidValue::new("usageType", format!("unknown usage type {raw:?}")))
    }

    /// The meter whose allowance this usage draws on.
    pub fn meter(self) -> Meter {
        match self {
            UsageType::Transcript => Meter::Transcripts,
            UsageType::PosInPerson | UsageType::PosOnline => Meter::PosTransactions,
            UsageType::Crypto => Meter::CryptoCharges,
            UsageType::Location => Meter::Locations,
            UsageType::ApiRequest => Meter::ApiRequests,
        }
    }
}

/// How one unit of billable usage is priced. Unit prices are micro-units
/// (1e-6 of the currency's major unit), percentages are basis points.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum PricingModel {
    #[serde(rename_all = "camelCase")]
    PerUnit { unit_micros: i64 },
    #[serde(rename_all = "camelCase")]
    Percentage { basis_points: i64 },
    #[serde(rename_all = "camelCase")]
    PercentagePlusFixed {
        basis_points: i64,
        fixed_micros: i64,
    },
}

/// A plan: everything a license on it is entitled to and what it costs.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Plan {
    pub slug: PlanSlug,
    pub name: String,
    pub currency: Currency,
    pub price_monthly_minor: i64,
    pub price_annual_minor: i64,
    /// Default trial length offered when a license is created on this plan.
    pub trial_days: u32,
    /// How often deployments must phone home; 0 means never (offline plans).
    pub verification_interval_hours: u32,
    pub limits: BTreeMap<Meter, Limit>,
    pub features: BTreeMap<String, bool>,
    pub usage_prices: BTreeMap<UsageType, PricingModel>,
}

impl Plan {
    /// Checks the invariants the API must not let an admin break.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        if self.name.trim().is_empty() || self.name.chars().count() > 80 {
            return Err(InvalidValue::new("name", "must be 1-80 characters"));
        }
        if self.price_monthly_minor < 0 || self.price_annual_minor < 0 {
            return Err(InvalidValue::new("price", "prices must not be negative"));
        }
        if self.trial_days > crate::license::MAX_TRIAL_DAYS {
            return Err(InvalidValue::new(
                "trialDays",
                format!("must be at most {}", crate::license::MAX_TRIAL_DAYS),
            ));
        }
        if self.verification_interval_hours > 24 * 366 {
            return Err(InvalidValue::new(
                "verificationIntervalHours",
                "must be at most one year",
            ));
        }
        for key in self.features.keys() {
            let ok = !key.is_empty()
                && key.len() <= 40
                && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !ok {
                return Err(InvalidValue::new(
                    "features",
                    format!("bad flag name {key:?}"),
                ));
            }
        }
        for model in self.usage_prices.values() {
            let negative = match *model {
                PricingModel::PerUnit { unit_micros } => unit_micros < 0,
                PricingModel::Percentage { basis_points } => basis_points < 0,
                PricingModel::PercentagePlusFixed {
                    basis_points,
                    fixed_micros,
                } => basis_points < 0 || fixed_micros < 0,
            };
            if negative {
                return Err(InvalidValue::new(
                    "usagePrices",
                    "prices must not be negative",
                ));
            }
        }
        Ok(())
    }

    /// The limit on a meter; a meter the plan does not mention is unlimited.
    pub fn limit(&self, meter: Meter) -> Limit {
        self.limits.get(&meter).copied().unwrap_or(Limit::Unlimited)
    }

    /// Whether the plan is paid at all (free tiers never produce revenue).
    pub fn is_paid(&self) -> bool {
        self.price_monthly_minor > 0 || self.price_annual_minor > 0
    }

    /// The price of one billing period in minor units.
    pub fn price_for(&self, period: BillingPeriod) -> i64 {
        match period {
            BillingPeriod::Monthly => self.price_monthly_minor,
            BillingPeriod::Annual => self.price_annual_minor,
        }
    }

    /// The features a license on this plan may use: its true flags plus every
    /// meter whose limit is not 0.
    pub fn entitled_features(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .features
            .iter()
            .filter(|(_, on)| **on)
            .map(|(name, _)| name.clone())
            .collect();
        for meter in Meter::ALL {
            if self.limit(meter).is_included() {
                out.push(meter.feature_name().to_owned());
            }
        }
        out
    }
}

fn flags(names: &[&str]) -> BTreeMap<String, bool> {
    const ALL_FLAGS: [&str; 8] = [
        "whiteLabel",
        "multiDomain",
        "apiAccess",
        "prioritySupport",
        "quickbooksSync",
        "sla",
        "airGapped",
        "fullSourceCode",
    ];
    ALL_FLAGS
        .iter()
        .map(|f| ((*f).to_owned(), names.contains(f)))
        .collect()
}

/// The seed's usage price table: transcript $0.05, POS in person 2.6% + $0.10,
/// POS online 2.9% + $0.30, crypto 1.5%, location $10, API request $0.001.
pub fn seed_usage_prices() -> BTreeMap<UsageType, PricingModel> {
    BTreeMap::from([
        (
            UsageType::Transcript,
            PricingModel::PerUnit {
                unit_micros: 50_000,
            },
        ),
        (
            UsageType::PosInPerson,
            PricingModel::PercentagePlusFixed {
                basis_points: 260,
                fixed_micros: 100_000,
            },
        ),
        (
            UsageType::PosOnline,
            PricingModel::PercentagePlusFixed {
                basis_points: 290,
                fixed_micros: 300_000,
            },
        ),
        (
            UsageType::Crypto,
            PricingModel::Percentage { basis_points: 150 },
        ),
        (
            UsageType::Location,
            PricingModel::PerUnit {
                unit_micros: 10_000_000,
            },
        ),
        (
            UsageType::ApiRequest,
            PricingModel::PerUnit { unit_micros: 1_000 },
        ),
    ])
}

fn limits(values: [Option<u64>; 7]) -> BTreeMap<Meter, Limit> {
    Meter::ALL
        .into_iter()
        .zip(values)
        .map(|(m, v)| (m, Limit::from(v)))
        .collect()
}

/// The seed's five tiers, as the plans a new installation starts with.
pub fn default_plans() -> Vec<Plan> {
    let plan = |slug: &str, name: &str, monthly: i64, annual: i64, trial: u32, hours: u32| Plan {
        slug: PlanSlug(slug.to_owned()),
        name: name.to_owned(),
        currency: Currency::usd(),
        price_monthly_minor: monthly,
        price_annual_minor: annual,
        trial_days: trial,
        verification_interval_hours: hours,
        limits: limits([None; 7]),
        features: flags(&[]),
        usage_prices: seed_usage_prices(),
    };
    // Order of the limits: transcripts, pos, crypto, locations, api, seats, domains.
    vec![
        plan("development", "Development", 0, 0, 0, 0),
        Plan {
            limits: limits([
                Some(5),
                Some(100),
                Some(0),
                Some(1),
                Some(100),
                None,
                Some(1),
            ]),
            ..plan("community", "Community", 0, 0, 0, 24)
        },
        Plan {
            limits: limits([None, None, None, Some(5), Some(10_000), None, None]),
            features: flags(&["whiteLabel", "prioritySupport", "quickbooksSync"]),
            ..plan("pro", "Pro", 2_900, 31_200, 14, 168)
        },
        Plan {
            features: flags(&[
                "whiteLabel",
                "multiDomain",
                "apiAccess",
                "prioritySupport",
                "quickbooksSync",
                "sla",
                "airGapped",
            ]),
            ..plan("enterprise", "Enterprise", 9_900, 106_800, 30, 720)
        },
        Plan {
            features: flags(&[
                "whiteLabel",
                "multiDomain",
                "apiAccess",
                "quickbooksSync",
                "fullSourceCode",
            ]),
            ..plan("self_hosted", "Self-Hosted", 0, 0, 0, 0)
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(slug: &str) -> Plan {
        default_plans()
            .into_iter()
            .find(|p| p.slug.as_str() == slug)
            .unwrap()
    }

    #[test]
    fn seed_tiers_have_the_seed_prices() {
        let pro = find("pro");
        assert_eq!(
            (pro.price_monthly_minor, pro.price_annual_minor),
            (2_900, 31_200)
        );
        let ent = find("enterprise");
        assert_eq!(
            (ent.price_monthly_minor, ent.price_annual_minor),
            (9_900, 106_800)
        );
        assert!(!find("community").is_paid());
        assert_eq!(default_plans().len(), 5);
    }

    #[test]
    fn community_limits_match_the_seed() {
        let c = find("community");
        assert_eq!(c.limit(Meter::Transcripts), Limit::Max(5));
        assert_eq!(c.limit(Meter::PosTransactions), Limit::Max(100));
        assert_eq!(c.limit(Meter::CryptoCharges), Limit::Max(0));
        assert_eq!(c.limit(Meter::Locations), Limit::Max(1));
        assert_eq!(c.limit(Meter::ApiRequests), Limit::Max(100));
    }

    #[test]
    fn entitled_features_are_true_flags_plus_included_meters() {
        let community = find("community").entitled_features();
        assert!(community.contains(&"pos".to_owned()));
        assert!(
            !community.contains(&"crypto".to_owned()),
            "crypto limit 0 = not included"
        );
        assert!(!community.iter().any(|f| f == "whiteLabel"));
        let pro = find("pro").entitled_features();
        assert!(pro.contains(&"crypto".to_owned()));
        assert!(pro.contains(&"whiteLabel".to_owned()));
        assert!(!pro.contains(&"sla".to_owned()));
    }

    #[test]
    fn limit_json_null_is_unlimited_and_zero_is_excluded() {
        let l: Limit = serde_json::from_str("null").unwrap();
        assert_eq!(l, Limit::Unlimited);
        let z: Limit = serde_json::from_str("0").unwrap();
        assert!(!z.is_included());
        assert_eq!(Limit::Max(100).percent_used(95), Some(95.0));
        assert_eq!(Limit::Unlimited.percent_used(95), None);
    }

    #[test]
    fn both_pos_channels_share_one_meter() {
        assert_eq!(UsageType::PosInPerson.meter(), Meter::PosTransactions);
        assert_eq!(UsageType::PosOnline.meter(), Meter::PosTransactions);
        assert_eq!(UsageType::ApiRequest.meter(), Meter::ApiRequests);
    }

    #[test]
    fn plan_json_round_trips_and_rejects_unknown_fields() {
        let pro = find("pro");
        let json = serde_json::to_value(&pro).unwrap();
        assert_eq!(json["limits"]["api_requests"], 10_000);
        assert!(json["limits"]["transcripts"].is_null());
        let back: Plan = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, pro);
        let mut extra = json;
        extra["bogus"] = serde_json::json!(1);
        assert!(serde_json::from_value::<Plan>(extra).is_err());
    }

    #[test]
    fn validate_rejects_negative_prices_and_bad_flags() {
        let mut p = find("pro");
        p.price_monthly_minor = -1;
        assert!(p.validate().is_err());
        let mut p = find("pro");
        p.features.insert("bad flag!".into(), true);
        assert!(p.validate().is_err());
        assert!(find("enterprise").validate().is_ok());
    }
}
