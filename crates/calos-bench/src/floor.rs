//! The floor of `bench verify`: `calos serve`'s own HTTP stack — its router
//! with every route and layer (`app::router::router_with_verify`), its accept
//! loop and connection limits (`app::connections::serve`), its logging — with
//! `POST /api/v1/license/verify` answered without any lookup. The request is
//! parsed by our `Json` extractor, a valid `pro` verdict is decided for a
//! fixed license and its claims are signed with the server's key and written
//! as verify writes its answer (`api::v1::verify::signed_answer`). What
//! verify costs on top of this is what it looks up and records: the license
//! cache and key check, the rate limiters, the instance tracker, the batched
//! writes.
//!
//! `bench floor` runs it as a process of its own, configured from the same
//! `CALOS_*` environment as `calos serve`, so a load generator in another
//! process can measure both the same way (`verify_wrk`).

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use axum::routing::post;
use axum::Router;
use chrono::Utc;

use calos_core::customer::Notes;
use calos_core::ids::InstallId;
use calos_core::license::{BillingPeriod, License, LicenseTerms};
use calos_core::plan::{default_plans, PlanSlug};
use calos_core::protocol::VerifyRequest;
use calos_core::verdict::{decide, InstanceRule, VerifyFacts};
use calos_server::api::v1::verify::signed_answer;
use calos_server::app::{self, connections, AppState};
use calos_server::config::{Config, Overrides};
use calos_server::extract::Json;
use calos_server::licensing::verdict::licensed_claims;
use calos_server::licensing::{CachedLicense, Licensing};

/// What the floor signs for: one `pro` license held in memory, never looked up.
struct FixedLicense {
    cached: CachedLicense,
    licensing: Arc<Licensing>,
}

/// The server's router with the floor at the verify route.
pub fn router(state: AppState) -> anyhow::Result<Router> {
    let plan = default_plans()
        .into_iter()
        .find(|p| p.slug.as_str() == "pro")
        .context("no pro plan among the default plans")?;
    let license = License::create(
        LicenseTerms {
            // As long as the bench's own install ids.
            install_id: InstallId::parse("bench-install-floor0")?,
            customer_id: 0,
            plan: PlanSlug::parse("pro")?,
            billing_period: BillingPeriod::Monthly,
            trial_days: 0,
            notes: Notes::parse("")?,
            domains: Vec::new(),
        },
        Utc::now(),
    );
    let fixed = Arc::new(FixedLicense {
        // The floor checks no key: any hash of the right length will do.
        cached: CachedLicense::new(license, plan, vec![0; 32]),
        licensing: state.licensing.clone(),
    });
    let floor = post(move |Json(req): Json<VerifyRequest>| {
        let fixed = fixed.clone();
        async move { fixed.answer(&req) }
    });
    Ok(app::router::router_with_verify(state, floor))
}

impl FixedLicense {
    /// A valid verdict, decided and signed as verify does, with nothing looked up.
    fn answer(
        &self,
        req: &VerifyRequest,
    ) -> calos_server::error::ApiResult<axum::response::Response> {
        let now = Utc::now();
        let cached = &self.cached;
        let rule = InstanceRule::for_plan(&cached.plan);
        let decision = decide(
            &VerifyFacts {
                license: &cached.license,
                plan: &cached.plan,
                domain: None,
                active_instances: 1,
                instance_limit: rule.limit,
                over_limit: rule.over_limit,
                now,
            },
            &self.licensing.policy,
        );
        let key = self.licensing.keys.active().ok_or_else(|| {
            calos_server::error::ApiError::internal(anyhow::anyhow!("no signing key loaded"))
        })?;
        let claims = licensed_claims(cached, &cached.license, &decision, req, now);
        signed_answer(&key, &claims)
    }
}

/// `bench floor`: configured like `calos serve` (same environment, same
/// logging, same store for the signing key), serves the floor on the
/// configured address until its standard input closes (or, with
/// `--until-signal`, until SIGTERM or Ctrl-C). Prints
/// `floor listening at http://ADDR` once it accepts connections.
pub async fn serve_process(args: &[String]) -> anyhow::Result<()> {
    let until_signal = match args {
        [] => false,
        [flag] if flag == "--until-signal" => true,
        other => anyhow::bail!("unknown floor options {other:?} (known: --until-signal)"),
    };
    let env: HashMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let config = Config::load(None, &env, &Overrides::default()).context("floor configuration")?;
    calos_server::logging::init(config.log_format);
    let (state, _) = AppState::open(config).await?;
    let (listener, addr) = app::bind(&state.config).await?;
    let limits = connections::Limits::from_config(&state.config);
    let app = router(state)?;
    println!("floor listening at http://{addr}");
    if until_signal {
        connections::serve(listener, app, None, limits, terminated()).await;
    } else {
        connections::serve(listener, app, None, limits, stdin_closed()).await;
    }
    Ok(())
}

/// SIGTERM or Ctrl-C.
async fn terminated() {
    let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// Resolves when standard input reaches its end: the bench holds the other
/// end of the pipe, so the floor also stops if the bench dies.
async fn stdin_closed() {
    use tokio::io::AsyncReadExt;
    let mut stdin = tokio::io::stdin();
    let mut buf = [0u8; 64];
    while let Ok(n) = stdin.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}
