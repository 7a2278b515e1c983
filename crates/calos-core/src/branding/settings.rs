//! A brand's settings (per customer, or the vendor-wide default), as stored
//! and as edited. Every field is validated when parsed, so a stored brand is
//! safe to put into pages and stylesheets as it is (text still escaped).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::css::CssVariables;
use super::HexColor;
use crate::customer::{DisplayText, Email};
use crate::ids::InstallId;
use crate::InvalidValue;

/// Whose brand: the vendor-wide default or one customer's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BrandScope {
    Default,
    Install(InstallId),
}

impl BrandScope {
    /// The key stored in the database (`_default` can never be an install id:
    /// those start with a letter or digit).
    pub const DEFAULT_KEY: &'static str = "_default";

    pub fn key(&self) -> &str {
        match self {
            BrandScope::Default => Self::DEFAULT_KEY,
            BrandScope::Install(id) => id.as_str(),
        }
    }

    pub fn from_key(key: &str) -> Result<Self, InvalidValue> {
        if key == Self::DEFAULT_KEY {
            Ok(BrandScope::Default)
        } else {
            InstallId::parse(key).map(BrandScope::Install)
        }
    }
}

/// An absolute `http://` or `https://` URL without credentials.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HttpUrl(String);

impl HttpUrl {
    pub const MAX_LEN: usize = 2048;

    pub fn parse_field(field: &'static str, raw: &str) -> Result<Self, InvalidValue> {
        let raw = raw.trim();
        let bad = |why: &str| InvalidValue::new(field, why.to_owned());
        if raw.len() > Self::MAX_LEN || raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(bad("must be an http(s) URL of at most 2048 characters"));
        }
        let url = url::Url::parse(raw).map_err(|_| bad("must be an absolute http(s) URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("must start with http:// or https://"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("must name a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must not carry a user name or password"));
        }
        Ok(Self(url.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for HttpUrl {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse_field("url", &value)
    }
}

impl From<HttpUrl> for String {
    fn from(value: HttpUrl) -> Self {
        value.0
    }
}

/// Everything a brand sets except the uploaded logo's bytes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrandSettings {
    pub product_name: DisplayText,
    pub primary_color: HexColor,
    pub secondary_color: Option<HexColor>,
    /// A logo hosted elsewhere; an uploaded logo is used when this is empty.
    pub logo_url: Option<HttpUrl>,
    pub support_email: Option<Email>,
    pub support_url: Option<HttpUrl>,
    pub footer_text: Option<DisplayText>,
    #[serde(default)]
    pub css_variables: CssVariables,
}

/// A brand as an admin sends it (strings, checked by [`BrandSettings::parse`]).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = BrandSettingsInput))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawBrandSettings {
    pub product_name: String,
    pub primary_color: String,
    #[serde(default)]
    pub secondary_color: Option<String>,
    #[serde(default)]
    pub logo_url: Option<String>,
    #[serde(default)]
    pub support_email: Option<String>,
    #[serde(default)]
    pub support_url: Option<String>,
    #[serde(default)]
    pub footer_text: Option<String>,
    #[serde(default)]
    pub css_variables: BTreeMap<String, String>,
}

/// Blank optional fields mean "not set".
fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl BrandSettings {
    /// The built-in brand used until the vendor sets a default.
    pub fn builtin() -> Self {
        Self {
            product_name: DisplayText::parse("productName", "CALOS")
                .unwrap_or_else(|_| unreachable!("a constant product name is valid")),
            primary_color: HexColor("#667eea".to_owned()),
            secondary_color: Some(HexColor("#764ba2".to_owned())),
            logo_url: None,
            support_email: None,
            support_url: None,
            footer_text: None,
            css_variables: CssVariables::default(),
        }
    }

    pub fn parse(raw: &RawBrandSettings) -> Result<Self, InvalidValue> {
        Ok(Self {
            product_name: DisplayText::parse("productName", &raw.product_name)?,
            primary_color: HexColor::parse_field("primaryColor", &raw.primary_color)?,
            secondary_color: present(&raw.secondary_color)
                .map(|c| HexColor::parse_field("secondaryColor", c))
                .transpose()?,
            logo_url: present(&raw.logo_url)
                .map(|u| HttpUrl::parse_field("logoUrl", u))
                .transpose()?,
            support_email: present(&raw.support_email)
                .map(|e| {
                    Email::parse(e)
                        .map_err(|_| InvalidValue::new("supportEmail", "must be an e-mail address"))
                })
                .transpose()?,
            support_url: present(&raw.support_url)
                .map(|u| HttpUrl::parse_field("supportUrl", u))
                .transpose()?,
            footer_text: present(&raw.footer_text)
                .map(|t| DisplayText::parse("footerText", t))
                .transpose()?,
            css_variables: CssVariables::parse(&raw.css_variables)?,
        })
    }

    /// The CSS variables a deployment injects: the brand colours under
    /// fixed names, then the brand's own variables (which may override them).
    pub fn css_variables(&self) -> BTreeMap<String, String> {
        let mut vars = BTreeMap::new();
        vars.insert(
            "--brand-primary".to_owned(),
            self.primary_color.as_str().to_owned(),
        );
        let secondary = self.secondary_color.as_ref().unwrap_or(&self.primary_color);
        vars.insert(
            "--brand-secondary".to_owned(),
            secondary.as_str().to_owned(),
        );
        for (name, value) in self.css_variables.iter() {
            vars.insert(name.clone(), value.clone());
        }
        vars
    }
}

/// What is known about an uploaded logo without its bytes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadedLogo {
    pub content_type: String,
    /// Hex SHA-256 of the bytes: the logo's public URL contains it, so the
    /// URL changes with the image and can be cached forever.
    pub sha256: String,
    pub size: u64,
}

/// A stored brand: its settings, version (raised by every change, logo
/// included) and uploaded logo, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBrand {
    pub scope: BrandScope,
    pub settings: BrandSettings,
    pub version: u64,
    pub logo: Option<UploadedLogo>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawBrandSettings {
        RawBrandSettings {
            product_name: "Acme ERP".into(),
            primary_color: "#112233".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_brand_parses_and_blank_optionals_are_unset() {
        let mut r = raw();
        r.support_email = Some("  ".into());
        r.support_url = Some("https://help.acme.com/x".into());
        let b = BrandSettings::parse(&r).unwrap();
        assert_eq!(b.support_email, None);
        assert_eq!(b.support_url.unwrap().as_str(), "https://help.acme.com/x");
    }

    #[test]
    fn colour_injection_is_refused() {
        let mut r = raw();
        r.primary_color = "red;}</style><script>".into();
        let err = BrandSettings::parse(&r).unwrap_err();
        assert_eq!(err.field, "primaryColor");
        let mut r = raw();
        r.secondary_color = Some("#12345g".into());
        assert_eq!(
            BrandSettings::parse(&r).unwrap_err().field,
            "secondaryColor"
        );
    }

    #[test]
    fn urls_must_be_http() {
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "ftp://a.com/x",
            "//a.com",
            "https://u:p@a.com",
            "https://a.com/x y",
        ] {
            let mut r = raw();
            r.logo_url = Some(bad.into());
            assert_eq!(
                BrandSettings::parse(&r).unwrap_err().field,
                "logoUrl",
                "{bad}"
            );
        }
    }

    #[test]
    fn css_variables_include_the_colours() {
        let mut r = raw();
        r.css_variables
            .insert("--brand-radius".into(), "4px".into());
        let vars = BrandSettings::parse(&r).unwrap().css_variables();
        assert_eq!(vars["--brand-primary"], "#112233");
        assert_eq!(vars["--brand-secondary"], "#112233");
        assert_eq!(vars["--brand-radius"], "4px");
    }

    #[test]
    fn settings_round_trip_through_json() {
        let b = BrandSettings::parse(&raw()).unwrap();
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(serde_json::from_str::<BrandSettings>(&json).unwrap(), b);
    }

    #[test]
    fn scopes_have_distinct_keys() {
        assert_eq!(
            BrandScope::from_key("_default").unwrap(),
            BrandScope::Default
        );
        let id = InstallId::parse("acme-install-1").unwrap();
        assert_eq!(BrandScope::Install(id.clone()).key(), "acme-install-1");
    }
}
