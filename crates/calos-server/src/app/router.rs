//! The route table.

use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::middleware::{self, REQUEST_ID};
use super::AppState;
use crate::config::Config;
use crate::{api, auth, pages};

pub fn router(state: AppState) -> Router {
    router_with_verify(state, post(api::v1::verify::verify))
}

/// [`router`] with `verify` answering `POST /api/v1/license/verify`: the
/// benchmark's floor (`calos-bench`) puts a handler without any lookup
/// there, behind every route and layer the server has.
pub fn router_with_verify(state: AppState, verify: MethodRouter<AppState>) -> Router {
    let config = state.config.clone();
    let main = Router::new()
        .route("/healthz", get(api::health::healthz))
        .route("/api/openapi.json", get(api::openapi::document))
        .route("/api/auth/login", post(auth::routes::login))
        .route("/api/auth/logout", post(auth::routes::logout))
        .route("/api/auth/me", get(auth::routes::me))
        .route("/api/v1/license/verify", verify)
        .route("/.well-known/jwks.json", get(api::v1::jwks::jwks))
        .route("/api/v1/branding", get(api::v1::branding::show))
        .route(api::branding::LOGO_ROUTE, get(api::v1::branding::logo))
        .route(
            "/branding/theme/{install_id}",
            get(api::v1::branding::theme),
        )
        .nest("/api/enterprise", api::enterprise_router())
        .merge(auth::account_router())
        .merge(pages::router())
        .merge(crate::portal::router())
        .merge(crate::metrics::route::main_port(&config))
        .fallback(middleware::no_route)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .layer(axum::Extension(auth::LoginGuard::new(
            &state.config,
            state.totp_sealer.clone(),
        )))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::domains::router::route_host,
        ));
    let main = with_request_layers(with_body_limits(main, config.body_limit_bytes), &config);
    main.merge(telemetry_routes(&config))
        .merge(api::branding::logo_upload_routes(&config))
        // Outside the request layers, so timeouts and refusals are counted too.
        .layer(crate::metrics::http::RecordLayer::new(
            state.metrics.clone(),
        ))
        .layer(axum::middleware::from_fn_with_state(
            config.secure_cookies,
            super::security::headers,
        ))
        .with_state(state)
}

/// What every route gets: a request id (set, or taken from the client, and
/// echoed back), sensitive headers kept out of logs, a trace span per request
/// and the request timeout. Public so the benchmark's floor runs on the very
/// same stack.
pub fn with_request_layers<S>(router: Router<S>, config: &Config) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(SetSensitiveRequestHeadersLayer::new([
                header::AUTHORIZATION,
                header::COOKIE,
            ]))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(middleware::make_span)
                    .on_request(())
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            )
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(axum::middleware::from_fn_with_state(
                config.request_timeout,
                middleware::timeout,
            )),
    )
}

/// The body limit of the admin and verify APIs: a declared length over it is
/// refused before reading, an undeclared one while reading.
pub fn with_body_limits<S>(router: Router<S>, limit: usize) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            limit,
            middleware::reject_declared_oversize,
        ))
}

/// `POST /api/v1/telemetry` takes batches up to 1 MiB whatever the admin
/// API's body limit, so it is layered apart from the main routes (which would
/// apply that limit), with the same request layers; its handler enforces the
/// batch limits itself, naming them.
fn telemetry_routes(config: &Config) -> Router<AppState> {
    let routes = Router::new()
        .route("/api/v1/telemetry", post(api::v1::telemetry::ingest))
        .layer(DefaultBodyLimit::disable());
    with_request_layers(routes, config)
}
