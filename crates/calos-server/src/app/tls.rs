//! HTTPS with rustls (ring provider, the one the dependency tree already
//! has): the certificate chain and key are read once at start, and every
//! failure names the file and what is wrong with it, so `calos serve` exits
//! with a clear error before it listens.

use std::path::Path;
use std::sync::Arc;

use anyhow::{anyhow, Context};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

use crate::config::Config;

/// The acceptor for the configured certificate, or `None` when the server
/// runs plain HTTP.
pub fn from_config(config: &Config) -> anyhow::Result<Option<TlsAcceptor>> {
    config
        .tls()
        .map(|(cert, key)| acceptor(cert, key))
        .transpose()
}

/// Loads a PEM certificate chain and its private key (PKCS#8, PKCS#1 or SEC1).
pub fn acceptor(cert_path: &Path, key_path: &Path) -> anyhow::Result<TlsAcceptor> {
    let certs = read_certs(cert_path)?;
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| {
        anyhow!(
            "cannot load the TLS private key {}: {}",
            key_path.display(),
            pem_error(&e)
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("the TLS provider supports no safe protocol version")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .with_context(|| {
            format!(
                "the TLS certificate {} and key {} do not go together",
                cert_path.display(),
                key_path.display()
            )
        })?;
    // The server speaks HTTP/1.1 only; saying so lets clients skip an h2 try.
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(server)))
}

fn read_certs(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            anyhow!(
                "cannot load the TLS certificate {}: {}",
                path.display(),
                pem_error(&e)
            )
        })?;
    if certs.is_empty() {
        return Err(anyhow!(
            "cannot load the TLS certificate {}: no CERTIFICATE block in it",
            path.display()
        ));
    }
    Ok(certs)
}

/// A reader's words for a PEM failure (the file missing, unreadable or not PEM).
fn pem_error(e: &rustls_pki_types::pem::Error) -> String {
    match e {
        rustls_pki_types::pem::Error::Io(io) => io.to_string(),
        rustls_pki_types::pem::Error::NoItemsFound => "no PEM block of that kind in it".into(),
        other => format!("not valid PEM ({other:?})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_named() {
        let err = acceptor(
            Path::new("/no/such/cert.pem"),
            Path::new("/no/such/key.pem"),
        )
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
        assert!(err.contains("/no/such/cert.pem"), "{err}");
        assert!(err.contains("TLS certificate"), "{err}");
    }

    #[test]
    fn a_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        std::fs::write(&cert, "not a certificate\n").unwrap();
        let err = acceptor(&cert, &cert)
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(err.contains("cert.pem"), "{err}");
    }
}
