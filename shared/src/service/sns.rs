//! Amazon SNS deliveries to an HTTP(S) subscription: the I/O half of them.
//!
//! - [`verify`] checks an SNS message's `Signature` with the certificate at its
//!   `SigningCertURL`, fetched over HTTPS (only from an SNS endpoint) and cached by URL for
//!   the life of the Lambda instance.
//! - [`confirm`] confirms a `SubscriptionConfirmation` by GETting its `SubscribeURL`, and
//!   only when that is an HTTPS URL on an SNS endpoint.
//!
//! The pure halves — the text SNS signs and which URLs may be fetched — are in
//! [`crate::formats::aws_sns`]. Fetching is behind [`Fetch`] so tests need no network;
//! [`HttpsFetch`] is the real client (rustls, native roots, HTTP/1.1, no redirects,
//! [`FETCH_TIMEOUT`] per fetch, at most [`MAX_FETCH_BYTES`] of body).
//!
//! Both `SignatureVersion`s are checked: `1` is SHA1withRSA, `2` SHA256withRSA (PKCS#1
//! v1.5, keys of 2048 to 8192 bits). Trust comes from where the certificate was fetched:
//! an SNS host, over TLS verified against the system's roots. As in AWS's own message
//! validators, the certificate's chain and validity dates are not checked (SNS publishes
//! a new certificate under a new URL when it rotates its key).
//!
//! A message that is not signed (raw message delivery, or any body without `Signature`)
//! cannot be verified: [`verify`] denies it, and the caller decides what such a webhook
//! accepts.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use base64::Engine as _;
use http_body_util::{BodyExt, Limited};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{
    alg_id, AlgorithmIdentifier, CertificateDer, InvalidSignature, SignatureVerificationAlgorithm,
};
use serde_json::Value;
use webpki::EndEntityCert;

use crate::error::{Error, Result};
use crate::formats::aws_sns::{is_sns_url, signing_cert_url_is_trusted, string_to_sign};

/// How long one fetch (connect, TLS, request and the whole body) may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest body a fetch accepts. A signing certificate is about 2 KB, a
/// ConfirmSubscription answer well under 1 KB.
pub const MAX_FETCH_BYTES: usize = 64 * 1024;
/// How many signing certificates an instance keeps. SNS uses one per region (and a new
/// one after each rotation), so this is never reached in practice; when it is, the cache
/// starts afresh.
const MAX_CACHED_CERTS: usize = 32;

const USER_AGENT: &str = concat!("cloudforet-event-service/", env!("CARGO_PKG_VERSION"), " (sns)");

/// Fetches the bytes at an HTTPS URL. The service uses [`HttpsFetch`]; tests inject
/// fixed answers.
pub trait Fetch: Sync {
    /// The body of a successful (2xx) GET of `url`, or why there is none.
    fn get(&self, url: &str) -> impl Future<Output = Result<Vec<u8>, String>> + Send;
}

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

    /// The certificate at `url`, fetched on first use. Failures are not cached.
    /// The certificate at `url`, fetched once. A certificate that cannot be fetched is a
    /// 503, so that SNS, which retries only on server errors, sends the message again;
    /// one that cannot be read denies the message.
    async fn certificate(&self, fetch: &impl Fetch, url: &str) -> Result<Arc<[u8]>> {
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

/// The certificates of this Lambda instance.
static CERTS: LazyLock<CertCache> = LazyLock::new(CertCache::new);

/// The HTTPS client of this Lambda instance (or why it could not be built).
static HTTPS: LazyLock<Result<HttpsFetch, String>> = LazyLock::new(|| HttpsFetch::new(FETCH_TIMEOUT));

/// Checks the signature of an SNS message (`Notification`, `SubscriptionConfirmation`
/// or `UnsubscribeConfirmation`). Anything that prevents the check — no or malformed
/// `Signature`, an unknown `SignatureVersion`, a `SigningCertURL` that is not an SNS
/// endpoint, an unreadable certificate — denies the message (`Error::PermissionDenied`),
/// so an unverified message is never accepted; a certificate that cannot be fetched
/// now is `Error::UpstreamUnavailable`, so the message comes again.
pub async fn verify(body: &Value) -> Result<()> {
    match &*HTTPS {
        Ok(https) => verify_with(https, &CERTS, body).await,
        Err(cause) => verify_with(&NoClient(cause), &CERTS, body).await,
    }
}

/// [`verify`] with a given fetcher and certificate cache.
pub async fn verify_with(fetch: &impl Fetch, cache: &CertCache, body: &Value) -> Result<()> {
    let text = |key: &str| body.get(key).and_then(Value::as_str);
    let algorithm: &dyn SignatureVerificationAlgorithm = match text("SignatureVersion") {
        Some("1") => &RSA_PKCS1_2048_8192_SHA1,
        Some("2") => webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256,
        Some(other) => return Err(denied(format!("unknown SignatureVersion '{other}' (expected 1 or 2)"))),
        None => return Err(denied("the message has no 'SignatureVersion'")),
    };
    let signature = text("Signature")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| denied("the message has no 'Signature' (a raw message delivery is not signed)"))?;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|_| denied("'Signature' is not base64"))?;
    let url = text("SigningCertURL").ok_or_else(|| denied("the message has no 'SigningCertURL'"))?;
    if !signing_cert_url_is_trusted(url) {
        return Err(denied(format!(
            "SigningCertURL '{url}' is not a .pem file on an SNS endpoint (https://sns.<region>.amazonaws.com)"
        )));
    }
    let signed = string_to_sign(body).map_err(|e| denied(e.0))?;
    let der = cache.certificate(fetch, url).await?;
    let der = CertificateDer::from(&der[..]);
    let cert = EndEntityCert::try_from(&der).map_err(|e| denied(format!("bad signing certificate: {e}")))?;
    cert.verify_signature(algorithm, signed.as_bytes(), &signature).map_err(|e| {
        tracing::warn!(url, error = %e, "SNS signature check failed");
        denied("the signature does not match the message and the signing certificate")
    })
}

/// Confirms a subscription: for a `SubscriptionConfirmation`, GETs its `SubscribeURL`
/// (only an HTTPS URL on an SNS endpoint is ever fetched). Call it only after
/// [`verify`] has passed.
///
/// - `Ok(true)`: SNS accepted the confirmation;
/// - `Ok(false)`: nothing was confirmed — the message is not a
///   `SubscriptionConfirmation`, or the GET failed (logged as a warning; the subscription
///   stays pending, and its SubscribeURL, valid for three days, is in the stored event);
/// - `Err(PermissionDenied)`: the `SubscribeURL` is missing or not an SNS HTTPS URL, and
///   was not fetched.
pub async fn confirm(body: &Value) -> Result<bool> {
    match &*HTTPS {
        Ok(https) => confirm_with(https, body).await,
        Err(cause) => confirm_with(&NoClient(cause), body).await,
    }
}

/// [`confirm`] with a given fetcher.
pub async fn confirm_with(fetch: &impl Fetch, body: &Value) -> Result<bool> {
    if body.get("Type").and_then(Value::as_str) != Some("SubscriptionConfirmation") {
        return Ok(false);
    }
    let url = body.get("SubscribeURL").and_then(Value::as_str).unwrap_or_default();
    if !is_sns_url(url) {
        return Err(Error::PermissionDenied(format!(
            "SNS SubscribeURL '{url}' is not an HTTPS URL on an SNS endpoint; the subscription was not confirmed"
        )));
    }
    let topic = body.get("TopicArn").and_then(Value::as_str).unwrap_or_default();
    match fetch.get(url).await {
        Ok(_) => {
            tracing::info!(topic, "SNS subscription confirmed");
            Ok(true)
        }
        Err(cause) => {
            tracing::warn!(topic, error = %cause, "SNS subscription could not be confirmed");
            Ok(false)
        }
    }
}

/// Stands in for [`HttpsFetch`] when it could not be built: every fetch fails, saying why.
struct NoClient<'a>(&'a str);

impl Fetch for NoClient<'_> {
    async fn get(&self, _url: &str) -> Result<Vec<u8>, String> {
        Err(format!("no HTTPS client: {}", self.0))
    }
}

fn denied(reason: impl std::fmt::Display) -> Error {
    Error::PermissionDenied(format!("SNS signature does not verify: {reason}"))
}

/// SHA1withRSA (PKCS#1 v1.5), which `SignatureVersion` 1 uses; webpki offers only
/// SHA-2 digests, aws-lc-rs still verifies SHA-1 "for legacy use".
#[derive(Debug)]
struct RsaPkcs1Sha1;

static RSA_PKCS1_2048_8192_SHA1: RsaPkcs1Sha1 = RsaPkcs1Sha1;

/// `sha1WithRSAEncryption` (1.2.840.113549.1.1.5) with NULL parameters.
const RSA_PKCS1_SHA1_ID: &[u8] =
    &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00];

impl SignatureVerificationAlgorithm for RsaPkcs1Sha1 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY};
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, public_key)
            .verify(message, signature)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        AlgorithmIdentifier::from_slice(RSA_PKCS1_SHA1_ID)
    }
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, String>;

/// GETs over HTTPS only, verifying the server against the system's root certificates
/// (as the AWS SDK does). Redirects are not followed.
pub struct HttpsFetch {
    client: HttpsClient,
    timeout: Duration,
}

impl HttpsFetch {
    pub fn new(timeout: Duration) -> Result<Self, String> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|e| format!("no TLS root certificates: {e}"))?
            .https_only()
            .enable_http1()
            .build();
        // No idle connections: a Lambda instance is frozen between invocations, and its
        // fetches are rare (a certificate is fetched once).
        let client = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(0).build(connector);
        Ok(HttpsFetch { client, timeout })
    }

    async fn fetch(&self, url: &str) -> Result<Vec<u8>, String> {
        let request = http::Request::get(url)
            .header(http::header::USER_AGENT, USER_AGENT)
            .body(String::new())
            .map_err(|e| format!("bad URL: {e}"))?;
        let response = self.client.request(request).await.map_err(|e| error_chain(&e))?;
        let status = response.status();
        let body = read_limited(response.into_body(), MAX_FETCH_BYTES).await?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            let text: String = text.chars().take(200).collect();
            return Err(format!("HTTP {status}: {text}"));
        }
        Ok(body)
    }
}

impl Fetch for HttpsFetch {
    async fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        tokio::time::timeout(self.timeout, self.fetch(url))
            .await
            .map_err(|_| format!("no answer within {:?}", self.timeout))?
    }
}

/// The whole body, or an error once it passes `limit` bytes.
async fn read_limited<B>(body: B, limit: usize) -> Result<Vec<u8>, String>
where
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes().to_vec()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(format!("the answer is larger than {limit} bytes"))
        }
        Err(e) => Err(error_chain(&*e)),
    }
}

/// `e` and its sources (hyper's own message is only "client error (Connect)").
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::process::Command;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::OnceLock;

    const SUBSCRIBE: &str = include_str!("../../../tests/fixtures/aws_sns/subscription-confirmation.json");
    const UNSUBSCRIBE: &str = include_str!("../../../tests/fixtures/aws_sns/unsubscribe-confirmation.json");
    const ALARM: &str = include_str!("../../../tests/fixtures/aws_sns/notification-cloudwatch-alarm.json");
    const PLAIN: &str = include_str!("../../../tests/fixtures/aws_sns/notification-plain-text.json");

    const CERT_URL: &str =
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem";

    fn fixture(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    /// A test RSA key and its self-signed certificate, made once per test run with the
    /// `openssl` command.
    struct Keys {
        key_pem: Vec<u8>,
        cert_pem: Vec<u8>,
    }

    /// Runs `openssl` in a scratch directory holding `files`; returns its output and the
    /// contents of `read_back`. The directory is removed afterwards.
    fn openssl(args: &[&str], files: &[(&str, &[u8])], read_back: &[&str]) -> (Vec<u8>, Vec<Vec<u8>>) {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("event-core-sns-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in files {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
        let out = Command::new("openssl")
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("the openssl command is needed for these tests");
        let read: Vec<Vec<u8>> =
            read_back.iter().map(|name| std::fs::read(dir.join(name)).unwrap_or_default()).collect();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        (out.stdout, read)
    }

    fn keys() -> &'static Keys {
        static KEYS: OnceLock<Keys> = OnceLock::new();
        KEYS.get_or_init(|| {
            let args = "req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
                        -subj /CN=sns.us-east-1.amazonaws.com";
            let (_, mut read) =
                openssl(&args.split_whitespace().collect::<Vec<_>>(), &[], &["key.pem", "cert.pem"]);
            let cert_pem = read.pop().unwrap();
            let key_pem = read.pop().unwrap();
            Keys { key_pem, cert_pem }
        })
    }

    /// Base64 of `openssl dgst -<digest> -sign` over `text`.
    fn sign(text: &str, digest: &str) -> String {
        let files: &[(&str, &[u8])] = &[("key.pem", &keys().key_pem), ("message.txt", text.as_bytes())];
        let (signature, _) =
            openssl(&["dgst", &format!("-{digest}"), "-sign", "key.pem", "message.txt"], files, &[]);
        assert!(!signature.is_empty());
        base64::engine::general_purpose::STANDARD.encode(signature)
    }

    /// The fixture, signed with the test key as SNS would sign it.
    fn signed(text: &str, version: &str) -> Value {
        let mut body = fixture(text);
        body["SigningCertURL"] = json!(CERT_URL);
        body["SignatureVersion"] = json!(version);
        let digest = if version == "1" { "sha1" } else { "sha256" };
        body["Signature"] = json!(sign(&string_to_sign(&body).unwrap(), digest));
        body
    }

    /// Answers from a fixed table and records what was asked.
    #[derive(Default)]
    struct FakeFetch {
        answers: HashMap<String, Result<Vec<u8>, String>>,
        asked: Mutex<Vec<String>>,
    }

    impl FakeFetch {
        fn with(url: &str, answer: Result<Vec<u8>, String>) -> Self {
            FakeFetch { answers: HashMap::from([(url.to_string(), answer)]), ..Default::default() }
        }

        fn serving_the_test_cert() -> Self {
            Self::with(CERT_URL, Ok(keys().cert_pem.clone()))
        }

        fn asked(&self) -> Vec<String> {
            self.asked.lock().unwrap().clone()
        }
    }

    impl Fetch for FakeFetch {
        async fn get(&self, url: &str) -> Result<Vec<u8>, String> {
            self.asked.lock().unwrap().push(url.to_string());
            self.answers.get(url).cloned().unwrap_or_else(|| Err(format!("no answer for {url}")))
        }
    }

    /// For cases that must be decided without fetching anything.
    struct MustNotFetch;

    impl Fetch for MustNotFetch {
        async fn get(&self, url: &str) -> Result<Vec<u8>, String> {
            panic!("fetched {url}, which must not be fetched");
        }
    }

    fn denial(result: Result<()>) -> String {
        match result {
            Err(Error::PermissionDenied(message)) => {
                assert!(message.starts_with("SNS signature does not verify: "), "{message}");
                message
            }
            other => panic!("expected PermissionDenied, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn valid_v2_sha256_signatures_verify() {
        let fetch = FakeFetch::serving_the_test_cert();
        let cache = CertCache::new();
        for text in [PLAIN, ALARM, SUBSCRIBE, UNSUBSCRIBE] {
            let body = signed(text, "2");
            verify_with(&fetch, &cache, &body).await.unwrap();
        }
    }

    #[tokio::test]
    async fn valid_v1_sha1_signatures_verify() {
        let fetch = FakeFetch::serving_the_test_cert();
        let cache = CertCache::new();
        for text in [PLAIN, SUBSCRIBE] {
            verify_with(&fetch, &cache, &signed(text, "1")).await.unwrap();
        }
    }

    #[tokio::test]
    async fn tampered_message_does_not_verify() {
        let fetch = FakeFetch::serving_the_test_cert();
        let cache = CertCache::new();
        let mut body = signed(PLAIN, "2");
        body["Message"] = json!("The nightly backup of db-1 succeeded.");
        let message = denial(verify_with(&fetch, &cache, &body).await);
        assert!(message.contains("does not match the message"), "{message}");

        let mut body = signed(SUBSCRIBE, "2");
        body["SubscribeURL"] =
            json!("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=x");
        denial(verify_with(&fetch, &cache, &body).await);

        // An unsigned field (here UnsubscribeURL) may change; a signed one (Subject) not.
        let mut body = signed(PLAIN, "2");
        body["UnsubscribeURL"] = json!("https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&x=1");
        verify_with(&fetch, &cache, &body).await.unwrap();
        body.as_object_mut().unwrap().remove("Subject");
        denial(verify_with(&fetch, &cache, &body).await);
    }

    #[tokio::test]
    async fn signature_checked_with_the_wrong_digest_does_not_verify() {
        let fetch = FakeFetch::serving_the_test_cert();
        let cache = CertCache::new();
        let mut body = signed(PLAIN, "2");
        body["SignatureVersion"] = json!("1");
        denial(verify_with(&fetch, &cache, &body).await);
        let mut body = signed(PLAIN, "1");
        body["SignatureVersion"] = json!("2");
        denial(verify_with(&fetch, &cache, &body).await);
    }

    #[tokio::test]
    async fn signature_from_another_key_does_not_verify() {
        let mut body = signed(PLAIN, "2");
        body["Signature"] = fixture(PLAIN)["Signature"].clone(); // AWS's example, another key
        let fetch = FakeFetch::serving_the_test_cert();
        denial(verify_with(&fetch, &CertCache::new(), &body).await);
    }

    #[tokio::test]
    async fn cert_url_off_an_sns_host_is_refused_without_fetching() {
        for url in [
            "https://evil.example/SimpleNotificationService-1.pem",
            "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
            "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-1.pem",
            "https://sns.us-east-1.amazonaws.com@evil.example/SimpleNotificationService-1.pem",
            "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-1.pem",
            "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
        ] {
            let mut body = signed(PLAIN, "2");
            body["SigningCertURL"] = json!(url);
            let message = denial(verify_with(&MustNotFetch, &CertCache::new(), &body).await);
            assert!(message.contains("is not a .pem file on an SNS endpoint"), "{message}");
        }
    }

    #[tokio::test]
    async fn unsigned_or_malformed_messages_are_refused_without_fetching() {
        let verify =
            |body: Value| async move { denial(verify_with(&MustNotFetch, &CertCache::new(), &body).await) };
        // Raw message delivery: the alarm itself, no envelope and no signature.
        let raw: Value = serde_json::from_str(fixture(ALARM)["Message"].as_str().unwrap()).unwrap();
        assert!(verify(raw).await.contains("no 'SignatureVersion'"));
        let edit = |edit: fn(&mut Value)| {
            let mut body = signed(PLAIN, "2");
            edit(&mut body);
            body
        };
        assert!(verify(edit(|b| b["SignatureVersion"] = json!("3")))
            .await
            .contains("unknown SignatureVersion '3'"));
        assert!(verify(edit(|b| b["Signature"] = json!(""))).await.contains("no 'Signature'"));
        assert!(verify(edit(|b| b["Signature"] = json!("not base64!"))).await.contains("not base64"));
        assert!(verify(edit(|b| b["SigningCertURL"] = Value::Null)).await.contains("no 'SigningCertURL'"));
        assert!(verify(edit(|b| b["Type"] = json!("Other"))).await.contains("unknown SNS message Type"));
        assert!(verify(edit(|b| {
            b.as_object_mut().unwrap().remove("MessageId");
        }))
        .await
        .contains("no 'MessageId'"));
    }

    #[tokio::test]
    async fn certificate_is_fetched_once_per_url() {
        let fetch = FakeFetch::serving_the_test_cert();
        let cache = CertCache::new();
        verify_with(&fetch, &cache, &signed(PLAIN, "2")).await.unwrap();
        verify_with(&fetch, &cache, &signed(ALARM, "2")).await.unwrap();
        let mut tampered = signed(PLAIN, "2");
        tampered["Subject"] = json!("changed");
        denial(verify_with(&fetch, &cache, &tampered).await);
        assert_eq!(fetch.asked(), vec![CERT_URL.to_string()]);
    }

    #[tokio::test]
    async fn certificate_that_cannot_be_fetched_asks_for_a_retry_and_one_unreadable_denies() {
        let cache = CertCache::new();
        let body = signed(PLAIN, "2");
        let down = FakeFetch::with(CERT_URL, Err("no answer within 5s".into()));
        let err = verify_with(&down, &cache, &body).await.unwrap_err();
        assert_eq!(err.status(), 503, "SNS retries only on server errors: {err}");
        let message = err.to_string();
        assert!(message.contains("could not be fetched") && message.contains("Retry"), "{message}");
        assert!(!message.contains("5s"), "the cause is logged, not returned: {message}");
        let garbage = FakeFetch::with(CERT_URL, Ok(b"<html>not a certificate</html>".to_vec()));
        denial(verify_with(&garbage, &cache, &body).await);
        let bad_der = FakeFetch::with(
            CERT_URL,
            Ok(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec()),
        );
        denial(verify_with(&bad_der, &cache, &body).await);
        // Nothing was cached: once the certificate can be fetched, the message verifies.
        let up = FakeFetch::serving_the_test_cert();
        verify_with(&up, &cache, &body).await.unwrap();
        assert_eq!(up.asked().len(), 1);
    }

    #[tokio::test]
    async fn confirm_fetches_the_subscribe_url_of_a_subscription_confirmation() {
        let body = fixture(SUBSCRIBE);
        let url = body["SubscribeURL"].as_str().unwrap();
        let fetch = FakeFetch::with(url, Ok(b"<ConfirmSubscriptionResponse/>".to_vec()));
        assert!(confirm_with(&fetch, &body).await.unwrap());
        assert_eq!(fetch.asked(), vec![url.to_string()]);
        let china = json!({
            "Type": "SubscriptionConfirmation",
            "SubscribeURL": "https://sns.cn-north-1.amazonaws.com.cn/?Action=ConfirmSubscription&Token=t",
        });
        let fetch = FakeFetch::with(china["SubscribeURL"].as_str().unwrap(), Ok(Vec::new()));
        assert!(confirm_with(&fetch, &china).await.unwrap());
    }

    #[tokio::test]
    async fn confirm_fetches_only_sns_https_urls() {
        for url in [
            "http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t",
            "https://evil.example/?Action=ConfirmSubscription&Token=t",
            "https://sns.us-east-1.amazonaws.com.evil.example/?Action=ConfirmSubscription",
            "https://sns.us-east-1.amazonaws.com@evil.example/?Action=ConfirmSubscription",
            "https://sns.us-east-1.amazonaws.com:444/?Action=ConfirmSubscription",
            "",
        ] {
            let mut body = fixture(SUBSCRIBE);
            body["SubscribeURL"] = json!(url);
            match confirm_with(&MustNotFetch, &body).await {
                Err(Error::PermissionDenied(message)) => {
                    assert!(message.contains("not an HTTPS URL on an SNS endpoint"), "{message}")
                }
                other => panic!("{url}: expected PermissionDenied, got {other:?}"),
            }
        }
        let mut body = fixture(SUBSCRIBE);
        body.as_object_mut().unwrap().remove("SubscribeURL");
        assert!(matches!(confirm_with(&MustNotFetch, &body).await, Err(Error::PermissionDenied(_))));
    }

    #[tokio::test]
    async fn confirm_does_nothing_for_other_messages() {
        for text in [PLAIN, ALARM, UNSUBSCRIBE] {
            assert!(!confirm_with(&MustNotFetch, &fixture(text)).await.unwrap());
        }
        assert!(!confirm_with(&MustNotFetch, &json!("not an object")).await.unwrap());
    }

    #[tokio::test]
    async fn failed_confirmation_is_reported_as_not_confirmed() {
        let body = fixture(SUBSCRIBE);
        let url = body["SubscribeURL"].as_str().unwrap();
        let fetch = FakeFetch::with(url, Err("HTTP 403 Forbidden".into()));
        assert!(!confirm_with(&fetch, &body).await.unwrap());
        assert_eq!(fetch.asked().len(), 1);
    }

    #[test]
    fn service_futures_are_send() {
        fn send<T: Send>(_: &T) {}
        let body = Value::Null;
        send(&verify(&body));
        send(&confirm(&body));
    }

    #[tokio::test]
    async fn bodies_past_the_size_limit_are_refused() {
        let small = "x".repeat(MAX_FETCH_BYTES);
        assert_eq!(read_limited(small, MAX_FETCH_BYTES).await.unwrap().len(), MAX_FETCH_BYTES);
        let large = "x".repeat(MAX_FETCH_BYTES + 1);
        let error = read_limited(large, MAX_FETCH_BYTES).await.unwrap_err();
        assert_eq!(error, "the answer is larger than 65536 bytes");
    }

    #[tokio::test]
    async fn https_fetch_refuses_plain_http() {
        let Ok(https) = HttpsFetch::new(Duration::from_secs(1)) else {
            return; // no system root certificates here; nothing to test
        };
        // A listener that would answer if it were asked: it never is.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/cert.pem", listener.local_addr().unwrap());
        let error = https.get(&url).await.unwrap_err();
        assert!(error.contains("unsupported scheme http"), "{error}");
        let connected = tokio::time::timeout(Duration::from_millis(50), listener.accept()).await;
        assert!(connected.is_err(), "the client connected to an http:// URL");
    }

    #[tokio::test]
    async fn https_fetch_gives_up_after_its_timeout() {
        let Ok(https) = HttpsFetch::new(Duration::from_millis(300)) else {
            return; // no system root certificates here; nothing to test
        };
        // Accepts TCP connections (the backlog) but never speaks TLS.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}/cert.pem", listener.local_addr().unwrap());
        let started = std::time::Instant::now();
        let error = https.get(&url).await.unwrap_err();
        assert_eq!(error, "no answer within 300ms");
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}
