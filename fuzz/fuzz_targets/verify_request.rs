//! `POST /api/v1/license/verify` without the network and the store: the
//! input is the request body. It goes through the code the handler runs, in
//! its order — axum's JSON extractor, `check_shape`, authentication against
//! an in-memory license set (key parse, HMAC hash check), the license moved
//! on to `now`, the domain parsed, `decide`, the claims and the Ed25519
//! signature — and the signed token must then verify in the SDK against the
//! pinned key and carry the request's nonce and instance back.
//!
//! The license set covers every status (active, trial, ended trial, expired
//! in and after grace, suspended, revoked), free and paid plans, air-gapped
//! plans and domain restrictions; install `fuzz-install-0N` has the key
//! `calos_lk_` + 32 times the byte N in hex (see the seed corpus).
#![no_main]

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use bytes::BytesMut;
use chrono::{DateTime, Duration, TimeZone, Utc};
use ed25519_dalek::SigningKey;
use libfuzzer_sys::fuzz_target;

use calos_client::keys::KeyRing;
use calos_client::token::{self, Expect};
use calos_core::customer::{Domain, Notes};
use calos_core::ids::{InstallId, LicenseKey};
use calos_core::license::{BillingPeriod, License, LicenseStatus, LicenseTerms};
use calos_core::plan::{default_plans, PlanSlug};
use calos_core::protocol::VerifyRequest;
use calos_core::verdict::{decide, InstanceRule, VerdictCode, VerifyFacts, VerifyPolicy};
use calos_server::api::v1::verify::check_shape;
use calos_server::licensing::keys::ActiveKey;
use calos_server::licensing::verdict::{licensed_claims, refusal_claims, BAD_CREDENTIALS};
use calos_server::licensing::CachedLicense;
use calos_server::secrets::{LicenseKeyHasher, MasterKey};

const KID: &str = "fuzz-key-1";

struct World {
    hasher: LicenseKeyHasher,
    licenses: HashMap<String, Arc<CachedLicense>>,
    dummy_hash: Vec<u8>,
    signer: ActiveKey,
    pinned: KeyRing,
    policy: VerifyPolicy,
}

fn created() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The clocks each request is decided at: within a trial, after it, a year
/// on (billing periods moved on), ten years on.
fn nows() -> [DateTime<Utc>; 4] {
    let t0 = created();
    [
        t0 + Duration::hours(1),
        t0 + Duration::days(20),
        t0 + Duration::days(400),
        t0 + Duration::days(3650),
    ]
}

fn world() -> World {
    let master = MasterKey::from_base64("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=")
        .expect("fixed master key");
    let hasher = LicenseKeyHasher::new(&master).expect("hasher");
    let plans = default_plans();
    let plan = |slug: &str| {
        plans
            .iter()
            .find(|p| p.slug.as_str() == slug)
            .cloned()
            .expect("default plan")
    };
    let t0 = created();
    // (plan, trial days, status change, domains)
    type Shape = (
        &'static str,
        u32,
        Option<LicenseStatus>,
        &'static [&'static str],
    );
    let shapes: [Shape; 9] = [
        ("pro", 0, None, &[]),
        ("pro", 14, None, &[]),
        ("enterprise", 0, None, &["*.acme.com", "acme.io"]),
        ("community", 0, None, &["localhost"]),
        ("self_hosted", 0, None, &[]),
        ("pro", 0, Some(LicenseStatus::Expired), &[]),
        ("pro", 0, Some(LicenseStatus::Suspended), &[]),
        ("enterprise", 0, Some(LicenseStatus::Revoked), &[]),
        ("development", 0, None, &["dev.acme.com"]),
    ];
    let mut licenses = HashMap::new();
    for (i, (slug, trial_days, status, domains)) in shapes.into_iter().enumerate() {
        let n = u8::try_from(i + 1).expect("few licenses");
        let install_id = InstallId::parse(&format!("fuzz-install-{n:02}")).expect("install id");
        let mut license = License::create(
            LicenseTerms {
                install_id,
                customer_id: i64::from(n),
                plan: PlanSlug::parse(slug).expect("plan slug"),
                billing_period: BillingPeriod::Monthly,
                trial_days,
                notes: Notes::default(),
                domains: domains
                    .iter()
                    .map(|d| Domain::parse(d).expect("domain"))
                    .collect(),
            },
            t0,
        );
        if let Some(status) = status {
            license.status = status;
            // The contract ends ten days in: at +1 h before its end, at
            // +20 d past the 7-day renewal grace.
            license.ends_at = Some(t0 + Duration::days(10));
        }
        let key = LicenseKey::from_random_bytes([n; 32]);
        let cached = CachedLicense::new(license, plan(slug), hasher.hash(&key));
        licenses.insert(
            cached.license.install_id.as_str().to_owned(),
            Arc::new(cached),
        );
    }
    let signing = SigningKey::from_bytes(&[7; 32]);
    let jwks = serde_json::json!({"keys": [{
        "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": KID,
        "x": base64_url(signing.verifying_key().as_bytes()),
    }]});
    let pinned = KeyRing::from_json(jwks.to_string().as_bytes()).expect("pinned key");
    World {
        dummy_hash: hasher.hash(&LicenseKey::from_random_bytes([0xee; 32])),
        hasher,
        licenses,
        signer: ActiveKey::new(KID, signing).expect("active key"),
        pinned,
        policy: VerifyPolicy::default(),
    }
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

static WORLD: LazyLock<World> = LazyLock::new(world);

/// `LicenseCache::authenticate` over the in-memory set: the same key parse
/// and constant-time hash check, the dummy hash for unknown installs.
fn authenticate<'w>(w: &'w World, req: &VerifyRequest) -> Result<&'w CachedLicense, VerdictCode> {
    let found = w.licenses.get(req.install_id.as_str());
    let hash = found.map_or(w.dummy_hash.as_slice(), |c| c.key_hash.as_slice());
    let key_ok = LicenseKey::parse(&req.license_key).is_ok_and(|k| w.hasher.verify(&k, hash));
    match found {
        Some(c) if key_ok => Ok(c),
        Some(_) => Err(VerdictCode::BadLicenseKey),
        None => Err(VerdictCode::UnknownInstall),
    }
}

/// Signs `claims` as the handler does and checks the SDK accepts the token
/// for this request.
fn sign_and_check(
    w: &World,
    claims: &calos_core::protocol::LicenseClaimsRef<'_>,
    req: &VerifyRequest,
) {
    let mut out = BytesMut::new();
    w.signer
        .sign_into(claims, &mut out)
        .expect("the server could not sign a verdict");
    let token = std::str::from_utf8(&out).expect("a compact JWS is ASCII");
    let expect = Expect {
        install_id: claims.install_id,
        instance_id: &req.instance_id,
        nonce: Some(&req.nonce),
    };
    let back = token::verify(token, &w.pinned, &expect)
        .unwrap_or_else(|e| panic!("the SDK refused a token the server signed: {e}"));
    assert_eq!(back.valid, claims.valid);
    assert_eq!(back.code, claims.code);
    assert_eq!(back.exp, claims.exp);
}

fuzz_target!(|data: &[u8]| {
    // The extractor: axum's JSON parse (our `Json` only maps its rejections).
    let Ok(axum::Json(req)) = axum::Json::<VerifyRequest>::from_bytes(data) else {
        return;
    };
    if check_shape(&req).is_err() {
        return;
    }
    let w = &*WORLD;
    let cached = match authenticate(w, &req) {
        Ok(c) => c,
        Err(code) => {
            let claims = refusal_claims(code, BAD_CREDENTIALS, &req, &w.policy, nows()[0]);
            assert!(!claims.valid);
            sign_and_check(w, &claims, &req);
            return;
        }
    };
    let domain = req.domain.as_deref().and_then(|d| Domain::parse(d).ok());
    if let Some(d) = &domain {
        // What the verify writes store must read back as the same domain.
        assert_eq!(
            Domain::parse(d.as_str()).as_ref(),
            Ok(d),
            "{:?}",
            req.domain
        );
    }
    let rule = InstanceRule::for_plan(&cached.plan);
    for (i, now) in nows().into_iter().enumerate() {
        let license = cached.current(now);
        let license = license.as_ref();
        for active_instances in [1, 3, 1_000] {
            let decision = decide(
                &VerifyFacts {
                    license,
                    plan: &cached.plan,
                    domain: domain.as_ref(),
                    active_instances,
                    instance_limit: rule.limit,
                    over_limit: rule.over_limit,
                    now,
                },
                &w.policy,
            );
            assert_eq!(decision.valid, decision.code.is_valid());
            assert!(decision.lease_until >= now && decision.grace_until >= decision.lease_until);
            if !decision.valid {
                assert_eq!(
                    decision.lease_until, now,
                    "an invalid verdict leases nothing"
                );
            }
            let claims = licensed_claims(cached, license, &decision, &req, now);
            if i == 0 && active_instances == 1 {
                sign_and_check(w, &claims, &req);
            }
        }
    }
});
