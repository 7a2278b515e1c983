//! A customer's brand as shown in the product and on the portal: the
//! branding level a plan allows ([`level`]), the brand's settings with every
//! value validated (colours are `#rrggbb`, URLs http(s), CSS variables safe
//! tokens, logos typed by their bytes), and the view a deployment renders.

mod css;
mod level;
mod logo;
mod settings;
mod view;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::customer::DisplayText;
use crate::ids::InstallId;
use crate::InvalidValue;

pub use css::{check_name as check_css_name, stylesheet, CssVariables};
pub use level::{BrandingLevel, WHITE_LABEL_FLAG};
pub use logo::{check_logo, check_svg, LogoType, MAX_LOGO_BYTES};
pub use settings::{
    BrandScope, BrandSettings, HttpUrl, RawBrandSettings, StoredBrand, UploadedLogo,
};
pub use view::BrandView;

/// A `#rrggbb` colour, lower-cased.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HexColor(String);

impl HexColor {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::parse_field("primaryColor", raw)
    }

    /// Like [`HexColor::parse`], naming `field` in the error.
    pub fn parse_field(field: &'static str, raw: &str) -> Result<Self, InvalidValue> {
        let c = raw.trim().to_ascii_lowercase();
        let ok =
            c.len() == 7 && c.starts_with('#') && c.bytes().skip(1).all(|b| b.is_ascii_hexdigit());
        if ok {
            Ok(Self(c))
        } else {
            Err(InvalidValue::new(field, "must be a colour like #667eea"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for HexColor {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<HexColor> for String {
    fn from(value: HexColor) -> Self {
        value.0
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Branding {
    pub install_id: InstallId,
    pub product_name: DisplayText,
    pub primary_color: HexColor,
    pub logo_url: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_checked() {
        assert_eq!(HexColor::parse("#667EEA").unwrap().as_str(), "#667eea");
        for bad in [
            "667eea",
            "#667ee",
            "#gggggg",
            "red;}</style><script>",
            "#667eea;",
        ] {
            assert!(HexColor::parse(bad).is_err(), "{bad:?}");
        }
    }
}
