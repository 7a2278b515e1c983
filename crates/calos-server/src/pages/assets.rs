//! Our own CSS and JavaScript, embedded in the binary (works offline, no CDN).
//! Each response carries its content type, an ETag (the file's SHA-256) and
//! a short cache lifetime; a matching `If-None-Match` gets 304.
//!
//! Path traversal cannot reach the disk: the files are compiled in (in debug
//! builds too, by rust-embed's `debug-embed` feature) and looked up by name
//! in that fixed set. Names that could mean "elsewhere" anywhere (`..`,
//! backslashes, absolute paths, NUL, drive letters) are refused before the
//! lookup all the same, so the guarantee does not rest on one crate's map.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// Whether `path` is a plain relative name: segments of their own, none of
/// them `.` or `..`, and no character a file system could read as a
/// separator, a root or an end of string.
fn is_plain_name(path: &str) -> bool {
    !path.is_empty()
        && !path.contains(['\\', '\0', ':'])
        && path
            .split('/')
            .all(|segment| !matches!(segment, "" | "." | ".."))
}

pub async fn serve(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let found = if is_plain_name(&path) {
        Assets::get(&path)
    } else {
        None
    };
    let Some(file) = found else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut res = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, content_type(&path))],
            file.data.into_owned(),
        )
            .into_response()
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300, must-revalidate"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_types() {
        assert_eq!(content_type("app.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("js/app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("x"), "application/octet-stream");
    }

    #[test]
    fn names_that_could_leave_the_asset_set_are_refused() {
        for bad in [
            "",
            "../Cargo.toml",
            "..",
            "css/../../Cargo.toml",
            "./app.css",
            "/etc/passwd",
            "//etc/passwd",
            "..\\Cargo.toml",
            "C:\\Windows\\win.ini",
            "c:/windows/win.ini",
            "app.css\0.txt",
            "a//b.css",
        ] {
            assert!(!is_plain_name(bad), "{bad:?}");
        }
        assert!(is_plain_name("app.css"));
        assert!(is_plain_name("fonts/inter.woff2"));
    }

    #[test]
    fn only_the_asset_folder_is_embedded() {
        // The served set is exactly what was compiled in from assets/: no
        // lookup reaches a file beside it on disk.
        let names: Vec<_> = Assets::iter().collect();
        assert!(names.iter().all(|n| is_plain_name(n)), "{names:?}");
        for outside in [
            "../Cargo.toml",
            "Cargo.toml",
            "../src/main.rs",
            "src/main.rs",
        ] {
            assert!(Assets::get(outside).is_none(), "{outside}");
        }
        assert!(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("Cargo.toml")
            .exists());
    }

    #[test]
    fn the_stylesheet_and_scripts_are_embedded() {
        for f in [
            "app.css",
            "app.js",
            "dashboard.js",
            "profile.js",
            "login.js",
        ] {
            assert!(Assets::get(f).is_some(), "{f} missing");
        }
    }
}
