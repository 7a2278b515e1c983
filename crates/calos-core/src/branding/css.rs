//! Custom CSS variables a customer's brand may set. Names are `--[a-z0-9-]+`;
//! values are colours, lengths and plain tokens only, so the stylesheet we
//! build from them (`:root { --name: value; }`) cannot be broken out of:
//! no `;{}<>`, quotes, backslash escapes, `@`, `!`, and no `url()`,
//! `expression()`, `image()`, `attr()` or other functions that fetch or run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::InvalidValue;

pub const MAX_VARIABLES: usize = 50;
pub const MAX_NAME_LEN: usize = 64;
pub const MAX_VALUE_LEN: usize = 200;

/// The only functions a value may call.
const ALLOWED_FUNCTIONS: [&str; 7] = ["rgb", "rgba", "hsl", "hsla", "calc", "var", "clamp"];

/// Validated custom properties, sorted by name.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<String, String>",
    into = "BTreeMap<String, String>"
)]
pub struct CssVariables(BTreeMap<String, String>);

fn bad(message: String) -> InvalidValue {
    InvalidValue::new("cssVariables", message)
}

/// Checks one custom property name (`--brand-accent`).
pub fn check_name(name: &str) -> Result<(), InvalidValue> {
    let body = name.strip_prefix("--").unwrap_or("");
    let ok = !body.is_empty()
        && name.len() <= MAX_NAME_LEN
        && body
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(bad(format!(
            "{:?} is not a custom property name like --brand-accent (a-z, 0-9, '-', at most {MAX_NAME_LEN})",
            name.chars().take(80).collect::<String>()
        )))
    }
}

/// Checks one value: a colour, a length or a plain token, possibly built
/// with the few harmless functions in `ALLOWED_FUNCTIONS`.
pub fn check_value(name: &str, value: &str) -> Result<String, InvalidValue> {
    let v = value.trim();
    let refuse = |why: &str| Err(bad(format!("{name}: {why}")));
    if v.is_empty() || v.chars().count() > MAX_VALUE_LEN {
        return refuse(&format!("must be 1 to {MAX_VALUE_LEN} characters"));
    }
    let allowed_char = |c: char| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                ' ' | '#' | '.' | ',' | '%' | '-' | '+' | '*' | '/' | '(' | ')'
            )
    };
    if let Some(c) = v.chars().find(|c| !allowed_char(*c)) {
        return refuse(&format!(
            "{c:?} is not allowed; use colours, lengths and plain words"
        ));
    }
    // Every `name(` must be an allowed function; this also refuses url(),
    // expression(), image(), attr() and anything added to CSS later.
    let bytes = v.as_bytes();
    let mut depth: i32 = 0;
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'(' => {
                depth += 1;
                let start = bytes[..i]
                    .iter()
                    .rposition(|c| !(c.is_ascii_alphanumeric() || *c == b'-'))
                    .map_or(0, |p| p + 1);
                let func = v[start..i].to_ascii_lowercase();
                if !func.is_empty() && !ALLOWED_FUNCTIONS.contains(&func.as_str()) {
                    return refuse(&format!("the function {func}() is not allowed"));
                }
            }
            b')' => {
                depth -= 1;
                if depth < 0 {
                    return refuse("has unbalanced parentheses");
                }
            }
            _ => {}
        }
    }
    if depth != 0 {
        return refuse("has unbalanced parentheses");
    }
    Ok(v.to_owned())
}

impl CssVariables {
    pub fn parse(raw: &BTreeMap<String, String>) -> Result<Self, InvalidValue> {
        if raw.len() > MAX_VARIABLES {
            return Err(bad(format!("at most {MAX_VARIABLES} variables")));
        }
        let mut out = BTreeMap::new();
        for (name, value) in raw {
            check_name(name)?;
            out.insert(name.clone(), check_value(name, value)?);
        }
        Ok(Self(out))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<BTreeMap<String, String>> for CssVariables {
    type Error = InvalidValue;
    fn try_from(value: BTreeMap<String, String>) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CssVariables> for BTreeMap<String, String> {
    fn from(value: CssVariables) -> Self {
        value.0
    }
}

/// `:root{--a:b;--c:d;}` from already validated variables.
pub fn stylesheet(vars: &BTreeMap<String, String>) -> String {
    let mut css = String::from(":root{");
    for (name, value) in vars {
        css.push_str(name);
        css.push(':');
        css.push_str(value);
        css.push(';');
    }
    css.push('}');
    css
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(name: &str, value: &str) -> Result<CssVariables, InvalidValue> {
        CssVariables::parse(&BTreeMap::from([(name.to_owned(), value.to_owned())]))
    }

    #[test]
    fn colours_lengths_and_safe_functions_pass() {
        for v in [
            "#ff00aa",
            "12px",
            "1.5rem",
            "rgb(1, 2, 3)",
            "calc(100% - 2px)",
            "var(--x)",
            "bold",
            "Inter, sans-serif",
        ] {
            assert!(one("--brand-x", v).is_ok(), "{v}");
        }
    }

    #[test]
    fn injection_is_refused() {
        for v in [
            "red;}</style><script>",
            "red; background: blue",
            "url(https://evil.example/x.png)",
            "URL(x)",
            "expression(alert(1))",
            "image(x)",
            "\"quoted\"",
            "a\\62 c",
            "red !important",
            "@import x",
            "calc(1px",
            "x)",
        ] {
            assert!(one("--brand-x", v).is_err(), "{v}");
        }
    }

    #[test]
    fn names_are_custom_properties() {
        for n in ["color", "--", "--Brand", "--a_b", "--a;b", "-a"] {
            assert!(one(n, "red").is_err(), "{n}");
        }
        assert!(one("--brand-2", "red").is_ok());
    }

    #[test]
    fn the_stylesheet_is_one_root_rule() {
        let vars = one("--brand-x", " #fff ").unwrap();
        assert_eq!(stylesheet(&vars.into()), ":root{--brand-x:#fff;}");
    }
}
