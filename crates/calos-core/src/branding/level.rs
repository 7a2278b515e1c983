//! How much of the vendor's brand a deployment must show, decided from the
//! plan and the verdict. The level travels inside the signed verdict, so a
//! deployment cannot raise it by editing a file or blocking a script (the
//! seed decided it in a client-side script that was simply removed).

use serde::{Deserialize, Serialize};

use crate::plan::Plan;

/// `full`: the vendor's own brand, header and "Powered by" footer.
/// `minimal`: the customer's brand with a small "Powered by …" line and an
/// upgrade link. `none`: white-label, the customer's brand only.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrandingLevel {
    Full,
    Minimal,
    None,
}

/// The plan flag that removes the vendor's brand.
pub const WHITE_LABEL_FLAG: &str = "whiteLabel";

impl BrandingLevel {
    /// The level a license on `plan` gets while its verdict is `valid`.
    ///
    /// * any plan with the `whiteLabel` flag (pro, enterprise, self-hosted),
    ///   and `development` (the vendor's own internal use, as in the seed): `none`;
    /// * a free plan without it (community): `minimal`;
    /// * a paid plan without it: `full` — the product is sold under the vendor's brand;
    /// * an invalid verdict (revoked, expired, …) grants nothing: `full`.
    pub fn for_plan(plan: &Plan, valid: bool) -> Self {
        if !valid {
            return BrandingLevel::Full;
        }
        let white_label = plan
            .features
            .get(WHITE_LABEL_FLAG)
            .copied()
            .unwrap_or(false);
        if white_label || plan.slug.as_str() == "development" {
            BrandingLevel::None
        } else if plan.is_paid() {
            BrandingLevel::Full
        } else {
            BrandingLevel::Minimal
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BrandingLevel::Full => "full",
            BrandingLevel::Minimal => "minimal",
            BrandingLevel::None => "none",
        }
    }

    /// Whether the customer's own brand is shown (otherwise the vendor's).
    pub fn shows_customer_brand(self) -> bool {
        !matches!(self, BrandingLevel::Full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::default_plans;

    fn plan(slug: &str) -> Plan {
        default_plans()
            .into_iter()
            .find(|p| p.slug.as_str() == slug)
            .unwrap()
    }

    #[test]
    fn levels_follow_the_plan() {
        assert_eq!(
            BrandingLevel::for_plan(&plan("community"), true),
            BrandingLevel::Minimal
        );
        for white in ["pro", "enterprise", "self_hosted", "development"] {
            assert_eq!(
                BrandingLevel::for_plan(&plan(white), true),
                BrandingLevel::None,
                "{white}"
            );
        }
    }

    #[test]
    fn white_label_flag_decides_for_custom_plans() {
        let mut custom = plan("pro");
        custom.features.insert(WHITE_LABEL_FLAG.to_owned(), false);
        assert_eq!(BrandingLevel::for_plan(&custom, true), BrandingLevel::Full);
        let mut free = plan("community");
        free.features.insert(WHITE_LABEL_FLAG.to_owned(), true);
        assert_eq!(BrandingLevel::for_plan(&free, true), BrandingLevel::None);
    }

    #[test]
    fn an_invalid_verdict_gets_the_full_vendor_brand() {
        assert_eq!(
            BrandingLevel::for_plan(&plan("enterprise"), false),
            BrandingLevel::Full
        );
    }

    #[test]
    fn serialises_lowercase() {
        assert_eq!(
            serde_json::to_string(&BrandingLevel::None).unwrap(),
            "\"none\""
        );
    }
}
