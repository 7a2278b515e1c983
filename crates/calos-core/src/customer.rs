//! Customers and the strings that describe them. Names and notes may hold any
//! unicode (they are escaped where shown); e-mails and domains are normalised.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::InvalidValue;

/// Database id of a customer (the seed's `userId`).
pub type CustomerId = i64;

/// A company that holds one or more licenses.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: CustomerId,
    pub name: DisplayText,
    pub email: Email,
    pub company: Option<DisplayText>,
    pub created_at: DateTime<Utc>,
}

/// What is needed to create a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomer {
    pub name: DisplayText,
    pub email: Email,
    pub company: Option<DisplayText>,
}

/// A lower-cased e-mail address with one `@`, a dotted domain and no spaces.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let email = raw.trim().to_lowercase();
        let invalid =
            || InvalidValue::new("email", "must be an e-mail address like name@example.com");
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.contains('@')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if local.is_empty() || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

/// Free text a person typed (a name, a company): trimmed, non-empty, at most
/// 200 characters, no control characters. Everything else, including
/// `<script>` and quotes, is kept as typed and escaped on output.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayText(String);

impl DisplayText {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, InvalidValue> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(InvalidValue::new(field, "must not be empty"));
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(InvalidValue::new(
                field,
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(InvalidValue::new(
                field,
                "must not contain control characters",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for DisplayText {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse("text", &value)
    }
}

impl From<DisplayText> for String {
    fn from(value: DisplayText) -> Self {
        value.0
    }
}

/// Admin notes on a license: any text up to 10,000 characters (newlines allowed).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Notes(String);

impl Notes {
    pub const MAX_CHARS: usize = 10_000;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(InvalidValue::new(
                "notes",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        if raw
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(InvalidValue::new(
                "notes",
                "must not contain control characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Notes {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Notes> for String {
    fn from(value: Notes) -> Self {
        value.0
    }
}

/// A host name a license may be used on: lower-cased, trailing dot and port
/// removed, ASCII labels of letters, digits and hyphens, optionally starting
/// with a `*.` wildcard label.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Domain(String);

impl Domain {
    /// Checks `raw` and lowercases it into the one string it allocates:
    /// every verify request parses its domain, so nothing is built on the
    /// way (the checks below do not depend on letter case).
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let host = raw.trim().trim_end_matches('.');
        let host = match host.rsplit_once(':') {
            Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => host,
        };
        let (wildcard, rest) = match host.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, host),
        };
        let invalid = |why: &str| InvalidValue::new("domains", format!("{raw:?} {why}"));
        if !rest.is_ascii() {
            return Err(invalid(
                "must be written in ASCII (punycode for international names)",
            ));
        }
        if rest.is_empty() || rest.len() > 253 {
            return Err(invalid("is not a host name"));
        }
        if wildcard && rest.split('.').count() < 2 {
            return Err(invalid("wildcards need at least two labels after '*.'"));
        }
        for label in rest.split('.') {
            let ok = !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !ok {
                return Err(invalid("is not a host name"));
            }
        }
        let mut name = String::with_capacity(rest.len() + 2);
        if wildcard {
            name.push_str("*.");
        }
        name.push_str(rest);
        name.make_ascii_lowercase();
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Domain {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Domain> for String {
    fn from(value: Domain) -> Self {
        value.0
    }
}

/// Parses a list of domains as the domain router will see them (see
/// [`crate::host::normalize_host`]: international names become punycode),
/// dropping repeats and refusing more than `max`.
pub fn parse_domains(raw: &[String], max: usize) -> Result<Vec<Domain>, InvalidValue> {
    if raw.len() > max {
        return Err(InvalidValue::new(
            "domains",
            format!("at most {max} domains per license"),
        ));
    }
    let mut out: Vec<Domain> = Vec::with_capacity(raw.len());
    for d in raw {
        let domain = crate::host::normalize_host(d)?;
        if !out.contains(&domain) {
            out.push(domain);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_lowercased_and_checked() {
        assert_eq!(
            Email::parse(" Ops@Acme.COM ").unwrap().as_str(),
            "ops@acme.com"
        );
        for bad in [
            "",
            "no-at",
            "a@b",
            "@acme.com",
            "a b@acme.com",
            "a@acme..com",
            "a@.acme.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn display_text_keeps_unicode_and_sql_metacharacters() {
        let raw = "Zoë's Café'; DROP TABLE customers;-- 株式会社 <b>";
        assert_eq!(DisplayText::parse("name", raw).unwrap().as_str(), raw);
    }

    #[test]
    fn display_text_rejects_empty_long_and_control() {
        assert!(DisplayText::parse("name", "   ").is_err());
        assert!(DisplayText::parse("name", &"x".repeat(201)).is_err());
        assert!(DisplayText::parse("name", "a\u{0}b").is_err());
        assert!(DisplayText::parse("name", &"é".repeat(200)).is_ok());
    }

    #[test]
    fn notes_allow_newlines_but_not_other_controls() {
        assert!(Notes::parse("line one\nline two\ttab").is_ok());
        assert!(Notes::parse("bell\u{7}").is_err());
        assert!(Notes::parse(&"n".repeat(10_001)).is_err());
    }

    #[test]
    fn domain_normalises_case_port_and_trailing_dot() {
        assert_eq!(
            Domain::parse("Demo.CALOS.sh.").unwrap().as_str(),
            "demo.calos.sh"
        );
        assert_eq!(
            Domain::parse("demo.calos.sh:8443").unwrap().as_str(),
            "demo.calos.sh"
        );
        assert_eq!(Domain::parse("*.Acme.com").unwrap().as_str(), "*.acme.com");
    }

    #[test]
    fn listed_domains_store_international_names_as_punycode() {
        let parsed = parse_domains(&["Bücher.de".into(), "xn--bcher-kva.de".into()], 5).unwrap();
        assert_eq!(parsed.len(), 1, "one name in two spellings");
        assert_eq!(parsed[0].as_str(), "xn--bcher-kva.de");
    }

    #[test]
    fn domain_rejects_garbage() {
        for bad in [
            "",
            "-a.com",
            "a_b.com",
            "exa mple.com",
            "*.com",
            "bücher.de",
            "a..b",
            "<script>",
        ] {
            assert!(Domain::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parse_domains_dedupes_and_limits() {
        let raw = vec!["a.com".to_owned(), "A.com".to_owned()];
        assert_eq!(parse_domains(&raw, 5).unwrap().len(), 1);
        assert!(parse_domains(&raw, 1).is_err());
    }
}
