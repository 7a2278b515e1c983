//! DNS TXT lookups for domain ownership checks, behind a trait so tests use
//! a stub. The real one asks the system's resolver (`/etc/resolv.conf`)
//! through hickory; it is built on first use.

use std::sync::Arc;

use async_trait::async_trait;
use hickory_resolver::TokioResolver;
use tokio::sync::OnceCell;

/// Why a TXT lookup gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("no TXT record at {0}")]
    NotFound(String),
    #[error("DNS lookup failed: {0}")]
    Failed(String),
}

#[async_trait]
pub trait TxtResolver: Send + Sync {
    /// Every TXT string published at `name` (each record's strings joined).
    async fn txt(&self, name: &str) -> Result<Vec<String>, LookupError>;
}

/// The system's resolver.
#[derive(Default)]
pub struct SystemResolver {
    inner: OnceCell<TokioResolver>,
}

impl SystemResolver {
    pub fn shared() -> Arc<dyn TxtResolver> {
        static SHARED: std::sync::OnceLock<Arc<SystemResolver>> = std::sync::OnceLock::new();
        SHARED
            .get_or_init(|| Arc::new(SystemResolver::default()))
            .clone()
    }
}

#[async_trait]
impl TxtResolver for SystemResolver {
    async fn txt(&self, name: &str) -> Result<Vec<String>, LookupError> {
        let resolver = self
            .inner
            .get_or_try_init(|| async {
                TokioResolver::builder_tokio()
                    .map(|b| b.build())
                    .map_err(|e| {
                        LookupError::Failed(format!(
                            "cannot read the system DNS configuration: {e}"
                        ))
                    })
            })
            .await?;
        // A trailing dot: a fully qualified name, no search domains.
        let fqdn = format!("{name}.");
        match resolver.txt_lookup(fqdn).await {
            Ok(lookup) => Ok(lookup
                .iter()
                .map(|txt| {
                    txt.txt_data()
                        .iter()
                        .map(|part| String::from_utf8_lossy(part).into_owned())
                        .collect::<String>()
                })
                .collect()),
            Err(e) if e.is_no_records_found() || e.is_nx_domain() => {
                Err(LookupError::NotFound(name.to_owned()))
            }
            Err(e) => Err(LookupError::Failed(e.to_string())),
        }
    }
}
