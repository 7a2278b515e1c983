//! The domain router: `GET /` (and `HEAD /`) depends on the `Host` — a
//! customer's domain shows that customer's portal, the admin host the admin
//! dashboard, any other host a neutral page. Every other path falls through
//! to the normal routes untouched, on every host (the seed's router sent
//! everything on a brand domain to a static folder whose misses never
//! reached the API, so API calls there hung).

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use super::host::{classify, request_host, HostKind};
use crate::app::AppState;
use crate::portal::{home_for_customer_host, neutral_page};

pub async fn route_host(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let is_root = req.uri().path() == "/" && matches!(*req.method(), Method::GET | Method::HEAD);
    if !is_root {
        return next.run(req).await;
    }
    let host = request_host(req.headers(), req.uri());
    match classify(&state, host.as_ref()).await {
        Ok(HostKind::Admin) => next.run(req).await,
        Ok(HostKind::Customer { install_id, .. }) => {
            home_for_customer_host(&state, install_id, req.headers()).await
        }
        Ok(HostKind::Unknown) => neutral_page(),
        Err(e) => crate::portal::error_page(e.into()),
    }
}
