//! Fetching over HTTPS: the [`Fetch`] seam, so tests need no network, and [`HttpsFetch`],
//! the real client (rustls, native roots, HTTP/1.1, no redirects, [`FETCH_TIMEOUT`] per
//! fetch, at most [`MAX_FETCH_BYTES`] of body).

use std::future::Future;
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

/// How long one fetch (connect, TLS, request and the whole body) may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest body a fetch accepts. A signing certificate is about 2 KB, a
/// ConfirmSubscription answer well under 1 KB.
pub const MAX_FETCH_BYTES: usize = 64 * 1024;

const USER_AGENT: &str = concat!("cloudforet-event-service/", env!("CARGO_PKG_VERSION"), " (sns)");

/// Fetches the bytes at an HTTPS URL. The service uses [`HttpsFetch`]; tests inject
/// fixed answers.
pub trait Fetch: Sync {
    /// The body of a successful (2xx) GET of `url`, or why there is none.
    fn get(&self, url: &str) -> impl Future<Output = Result<Vec<u8>, String>> + Send;
}

/// Stands in for [`HttpsFetch`] when it could not be built: every fetch fails, saying why.
pub(super) struct NoClient<'a>(pub(super) &'a str);

impl Fetch for NoClient<'_> {
    async fn get(&self, _url: &str) -> Result<Vec<u8>, String> {
        Err(format!("no HTTPS client: {}", self.0))
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
