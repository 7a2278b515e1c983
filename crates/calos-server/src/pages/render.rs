//! Rendering helpers: a template to a response, the error page, and how a
//! store failure is told to the admin (what is wrong, nothing internal).

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use calos_store::StoreError;

/// Renders `template`, or a plain 500 when rendering fails (logged).
pub fn html<T: Template>(status: StatusCode, template: &T) -> Response {
    match template.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    html(status, &ErrorPage { title, message })
}

/// What an admin should read when the store failed: the database is down,
/// its schema is missing, or something else (in the server log).
pub fn describe_store_error(err: &StoreError) -> String {
    match err {
        StoreError::Unavailable(_) => "the database is unavailable".to_owned(),
        StoreError::StorageFull(_) => "the database's disk is full".to_owned(),
        StoreError::Backend(msg)
            if msg.contains("no such table")
                || (msg.contains("relation") && msg.contains("does not exist")) =>
        {
            "the database schema is missing (run `calos migrate`)".to_owned()
        }
        StoreError::NotFound(what) => format!("{what} not found"),
        StoreError::Conflict { .. } | StoreError::Backend(_) => {
            "a database error (details in the server log)".to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_say_what_is_wrong() {
        assert_eq!(
            describe_store_error(&StoreError::Unavailable("refused".into())),
            "the database is unavailable"
        );
        assert!(
            describe_store_error(&StoreError::Backend("no such table: licenses".into()))
                .contains("calos migrate")
        );
        assert!(
            !describe_store_error(&StoreError::Backend("secret detail".into())).contains("secret")
        );
    }
}
