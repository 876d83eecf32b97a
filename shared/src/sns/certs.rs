//! SNS signing certificates by URL, kept for the life of the Lambda instance: each is
//! fetched once and read before it is kept, so a cached certificate is one webpki can use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use webpki::EndEntityCert;

use super::fetch::Fetch;
use super::signature::denied;
use crate::error::{Error, Result};

/// How many signing certificates an instance keeps. SNS uses one per region (and a new
/// one after each rotation), so this is never reached in practice; when it is, the cache
/// starts afresh.
const MAX_CACHED_CERTS: usize = 32;

/// Signing certificates (DER) by URL.
#[derive(Default)]
pub struct CertCache {
    certs: Mutex<HashMap<String, Arc<[u8]>>>,
}

impl CertCache {
    pub fn new() -> Self {
        Self::default()
    }

    fn get(&self, url: &str) -> Option<Arc<[u8]>> {
        self.certs.lock().unwrap_or_else(|e| e.into_inner()).get(url).cloned()
    }

    fn put(&self, url: &str, der: Arc<[u8]>) {
        let mut certs = self.certs.lock().unwrap_or_else(|e| e.into_inner());
        if certs.len() >= MAX_CACHED_CERTS && !certs.contains_key(url) {
            certs.clear();
        }
        certs.insert(url.to_string(), der);
    }

    /// The certificate at `url`, fetched on first use; failures are not cached. A
    /// certificate that cannot be fetched is a 503, so that SNS, which retries only on
    /// server errors, sends the message again; one that cannot be read denies the message.
    pub(super) async fn certificate(&self, fetch: &impl Fetch, url: &str) -> Result<Arc<[u8]>> {
        if let Some(der) = self.get(url) {
            return Ok(der);
        }
        let pem = fetch.get(url).await.map_err(|cause| {
            tracing::warn!(url, error = %cause, "SNS signing certificate could not be fetched");
            Error::UpstreamUnavailable(format!(
                "The SNS signing certificate at {url} could not be fetched, so the message \
                 cannot be verified; nothing was stored. Retry the delivery."
            ))
        })?;
        let unreadable = |reason: String| {
            tracing::warn!(url, error = %reason, "SNS signing certificate is unreadable");
            denied(format!("the signing certificate at {url} cannot be read"))
        };
        let der = CertificateDer::from_pem_slice(&pem)
            .map_err(|e| unreadable(format!("the answer is not a PEM certificate: {e:?}")))?;
        EndEntityCert::try_from(&der)
            .map_err(|e| unreadable(format!("the certificate cannot be read: {e}")))?;
        let der: Arc<[u8]> = Arc::from(der.as_ref());
        self.put(url, der.clone());
        Ok(der)
    }
}
