//! Uploaded logos: size-limited, typed by their first bytes (never by the
//! declared type alone), and SVGs refused when they could run or fetch
//! anything (script, event handlers, external references, entities).
//! Refusing is safer than sanitising: a logo needs none of these.

use crate::InvalidValue;

/// Largest logo accepted.
pub const MAX_LOGO_BYTES: usize = 512 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoType {
    Png,
    Jpeg,
    Webp,
    Svg,
}

impl LogoType {
    pub fn content_type(self) -> &'static str {
        match self {
            LogoType::Png => "image/png",
            LogoType::Jpeg => "image/jpeg",
            LogoType::Webp => "image/webp",
            LogoType::Svg => "image/svg+xml",
        }
    }

    pub fn from_content_type(raw: &str) -> Option<Self> {
        let essence = raw
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "image/png" => Some(LogoType::Png),
            "image/jpeg" | "image/jpg" => Some(LogoType::Jpeg),
            "image/webp" => Some(LogoType::Webp),
            "image/svg+xml" => Some(LogoType::Svg),
            _ => None,
        }
    }

    /// What the bytes are, from their magic numbers (SVG: XML text with an `<svg` root).
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(LogoType::Png)
        } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            Some(LogoType::Jpeg)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(LogoType::Webp)
        } else {
            let text = std::str::from_utf8(bytes).ok()?;
            let head = text.trim_start_matches('\u{feff}').trim_start();
            let lower = head.to_ascii_lowercase();
            (lower.starts_with("<svg") || lower.starts_with("<?xml") && lower.contains("<svg"))
                .then_some(LogoType::Svg)
        }
    }
}

fn bad(message: impl Into<String>) -> InvalidValue {
    InvalidValue::new("logo", message)
}

/// Checks an upload: size, declared type, actual type, and for SVG its safety.
pub fn check_logo(declared: &str, bytes: &[u8]) -> Result<LogoType, InvalidValue> {
    if bytes.is_empty() {
        return Err(bad("the logo is empty"));
    }
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(bad(format!(
            "the logo is {} bytes; at most {} KiB",
            bytes.len(),
            MAX_LOGO_BYTES / 1024
        )));
    }
    let declared_type = LogoType::from_content_type(declared).ok_or_else(|| {
        bad("Content-Type must be image/png, image/jpeg, image/webp or image/svg+xml")
    })?;
    let actual = LogoType::sniff(bytes)
        .ok_or_else(|| bad("the file is not a PNG, JPEG, WebP or SVG image"))?;
    if actual != declared_type {
        return Err(bad(format!(
            "the file is {} but was sent as {}",
            actual.content_type(),
            declared_type.content_type()
        )));
    }
    if actual == LogoType::Svg {
        check_svg(bytes)?;
    }
    Ok(actual)
}

/// Refuses an SVG that could run script or load anything from elsewhere.
pub fn check_svg(bytes: &[u8]) -> Result<(), InvalidValue> {
    let text = std::str::from_utf8(bytes).map_err(|_| bad("the SVG is not UTF-8 text"))?;
    let lower = text.to_ascii_lowercase();
    for (needle, what) in [
        ("<script", "a <script> element"),
        ("javascript:", "a javascript: URL"),
        ("<foreignobject", "a <foreignObject> element"),
        ("<!entity", "an entity declaration"),
        ("<!doctype", "a DOCTYPE"),
        ("<iframe", "an <iframe>"),
        ("<embed", "an <embed>"),
        ("<object", "an <object>"),
        ("@import", "a stylesheet import"),
        ("<use", "a <use> reference"),
        ("<animate", "an animation (which can change links)"),
        ("<set", "a <set> element (which can change links)"),
    ] {
        if lower.contains(needle) {
            return Err(bad(format!("SVG logos may not contain {what}")));
        }
    }
    if let Some(attr) = event_handler(&lower) {
        return Err(bad(format!(
            "SVG logos may not contain event handlers ({attr})"
        )));
    }
    if external_reference(&lower) {
        return Err(bad(
            "SVG logos may not reference anything outside the file (href or url() not starting with '#')",
        ));
    }
    Ok(())
}

/// The first `on…=` attribute, if any (`onload=`, `onclick =`).
fn event_handler(lower: &str) -> Option<String> {
    let b = lower.as_bytes();
    let mut i = 0;
    while let Some(pos) = lower[i..].find("on") {
        let at = i + pos;
        let before_ok = at > 0
            && (b[at - 1].is_ascii_whitespace()
                || b[at - 1] == b'/'
                || b[at - 1] == b'"'
                || b[at - 1] == b'\'');
        let mut j = at + 2;
        while j < b.len() && b[j].is_ascii_alphabetic() {
            j += 1;
        }
        let name_len = j - at - 2;
        let mut k = j;
        while k < b.len() && b[k].is_ascii_whitespace() {
            k += 1;
        }
        if before_ok && name_len > 0 && k < b.len() && b[k] == b'=' {
            return Some(lower[at..j].to_owned());
        }
        i = at + 2;
    }
    None
}

/// Whether any `href=` or `url(` points anywhere but a fragment of this file.
fn external_reference(lower: &str) -> bool {
    let value_after = |rest: &str| -> Option<char> {
        rest.trim_start()
            .trim_start_matches(['"', '\''])
            .trim_start()
            .chars()
            .next()
    };
    let mut rest = lower;
    while let Some(pos) = rest.find("href") {
        let after = rest[pos + 4..].trim_start();
        if let Some(v) = after.strip_prefix('=') {
            if value_after(v) != Some('#') {
                return true;
            }
        }
        rest = &rest[pos + 4..];
    }
    let mut rest = lower;
    while let Some(pos) = rest.find("url(") {
        if value_after(&rest[pos + 4..]) != Some('#') {
            return true;
        }
        rest = &rest[pos + 4..];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><defs><linearGradient id="g"/></defs><rect fill="url(#g)" width="10" height="10"/></svg>"##;

    #[test]
    fn images_are_typed_by_their_bytes() {
        assert_eq!(
            check_logo("image/png", b"\x89PNG\r\n\x1a\nrest").unwrap(),
            LogoType::Png
        );
        assert_eq!(
            check_logo("image/jpeg", &[0xff, 0xd8, 0xff, 0xe0]).unwrap(),
            LogoType::Jpeg
        );
        assert_eq!(
            check_logo("image/webp", b"RIFF\0\0\0\0WEBPVP8 ").unwrap(),
            LogoType::Webp
        );
        assert_eq!(
            check_logo("image/svg+xml; charset=utf-8", SVG.as_bytes()).unwrap(),
            LogoType::Svg
        );
    }

    #[test]
    fn wrong_or_unknown_types_are_refused() {
        assert!(check_logo("image/png", SVG.as_bytes()).is_err());
        assert!(check_logo("text/html", b"<html>").is_err());
        assert!(check_logo("image/png", b"GIF89a").is_err());
        assert!(check_logo("image/png", b"").is_err());
    }

    #[test]
    fn big_files_are_refused() {
        let mut big = b"\x89PNG\r\n\x1a\n".to_vec();
        big.resize(MAX_LOGO_BYTES + 1, 0);
        let err = check_logo("image/png", &big).unwrap_err();
        assert!(err.message.contains("512 KiB"), "{err}");
    }

    #[test]
    fn dangerous_svgs_are_refused() {
        for svg in [
            r#"<svg><script>alert(1)</script></svg>"#,
            r#"<svg><SCRIPT>alert(1)</SCRIPT></svg>"#,
            r#"<svg onload="alert(1)"></svg>"#,
            r#"<svg><rect onclick = "x()"/></svg>"#,
            r#"<svg><a href="javascript:alert(1)"><rect/></a></svg>"#,
            r#"<svg><image href="https://evil.example/x.png"/></svg>"#,
            r#"<svg><image xlink:href='http://evil.example/x.png'/></svg>"#,
            r#"<svg><rect fill="url(https://evil.example/p)"/></svg>"#,
            r#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>"#,
            r#"<svg><foreignObject><iframe/></foreignObject></svg>"#,
            r#"<svg><style>@import url(x.css);</style></svg>"#,
        ] {
            assert!(check_svg(svg.as_bytes()).is_err(), "{svg}");
        }
    }

    #[test]
    fn plain_svgs_pass() {
        assert!(check_svg(SVG.as_bytes()).is_ok());
        assert!(check_svg(
            br##"<svg><text font-family="Monaco">one two</text><a href="#g"/></svg>"##
        )
        .is_ok());
    }
}
