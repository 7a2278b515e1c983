//! `calos verify-token TOKEN [--jwks URL [--ca-cert PATH] | --key-file PATH]`:
//! checks a verdict token offline (by default against this server's own
//! published keys in the store), prints its claims, and exits non-zero
//! unless it is a correctly signed, unexpired, valid license. An https JWKS
//! URL is fetched with rustls, trusting the bundled web PKI roots plus the
//! `--ca-cert` one when given.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use chrono::Utc;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use calos_core::protocol::{LicenseClaims, ISSUER};

use super::print_json;
use crate::api::v1::jwks::to_jwk;
use crate::config::Config;
use crate::licensing::keys::published;
use crate::store::open_store;

/// Where the public keys come from.
#[derive(Debug)]
pub enum KeySource {
    /// A JWKS URL, with an extra CA certificate to trust for https.
    Jwks {
        url: String,
        ca_cert: Option<PathBuf>,
    },
    /// A JWKS document on disk.
    File(PathBuf),
    /// This server's store.
    Store,
}

impl KeySource {
    /// The command line's choice: `--jwks` over `--key-file` over the store.
    pub fn pick(jwks: Option<String>, ca_cert: Option<PathBuf>, key_file: Option<PathBuf>) -> Self {
        match (jwks, key_file) {
            (Some(url), _) => KeySource::Jwks { url, ca_cert },
            (None, Some(path)) => KeySource::File(path),
            (None, None) => KeySource::Store,
        }
    }
}

pub async fn verify_token(config: &Config, token: &str, source: KeySource) -> anyhow::Result<()> {
    let set = match source {
        KeySource::Jwks { url, ca_cert } => fetch(&url, ca_cert.as_deref()).await?,
        KeySource::File(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not a JWKS document", path.display()))?
        }
        KeySource::Store => {
            let store = open_store(&config.database_url).await?;
            let records = store.list_signing_keys().await?;
            JwkSet {
                keys: published(&records, Utc::now()).iter().map(to_jwk).collect(),
            }
        }
    };
    let claims = check(token.trim(), &set)?;
    print_json(&claims)?;
    let now = Utc::now().timestamp();
    if claims.exp <= now {
        bail!(
            "signature valid, but the token's lease ended (exp {})",
            claims.exp
        );
    }
    if !claims.valid {
        bail!(
            "signature valid, but the license is not valid: {}",
            claims.code.as_str()
        );
    }
    eprintln!("token valid: signature, issuer and lease check out");
    Ok(())
}

/// The signature check alone: `alg` must be EdDSA (so `none` and HMAC
/// tricks fail) and `kid` must name one of `set`'s keys.
pub fn check(token: &str, set: &JwkSet) -> anyhow::Result<LicenseClaims> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| anyhow!("not a token: {e}"))?;
    if header.alg != Algorithm::EdDSA {
        bail!("token algorithm {:?} is not EdDSA", header.alg);
    }
    let kid = header.kid.ok_or_else(|| anyhow!("token has no kid"))?;
    let jwk = set
        .find(&kid)
        .ok_or_else(|| anyhow!("token signed by unknown key {kid:?}"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| anyhow!("bad key {kid:?}: {e}"))?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    // Expiry is reported after the claims are shown, not as a decode error.
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    validation.set_issuer(&[ISSUER]);
    let data = jsonwebtoken::decode::<LicenseClaims>(token, &key, &validation)
        .map_err(|e| anyhow!("token does not verify: {e}"))?;
    Ok(data.claims)
}

/// How long fetching the JWKS may take before the command gives up.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

async fn fetch(url: &str, ca_cert: Option<&Path>) -> anyhow::Result<JwkSet> {
    let mut client = reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(FETCH_TIMEOUT);
    if let Some(path) = ca_cert {
        let pem = std::fs::read(path)
            .with_context(|| format!("cannot read CA certificate {}", path.display()))?;
        let cert = reqwest::Certificate::from_pem(&pem)
            .with_context(|| format!("{} is not a PEM certificate", path.display()))?;
        client = client.add_root_certificate(cert);
    }
    let client = client.build().context("cannot set up the HTTP client")?;
    let resp = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("cannot fetch {url}"))?;
    if !resp.status().is_success() {
        bail!("{url} answered {}", resp.status());
    }
    resp.json()
        .await
        .with_context(|| format!("{url} is not a JWKS document"))
}
