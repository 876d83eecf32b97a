//! Amazon SNS deliveries to an HTTP(S) subscription: the I/O half of them, an adapter
//! beside `store/` that `service::create` calls. Reading a message into events is
//! [`crate::formats::aws_sns`]'s.
//!
//! - [`verify`] checks an SNS message's `Signature` with the certificate at its
//!   `SigningCertURL`, fetched over HTTPS (only from an SNS endpoint) and cached by URL for
//!   the life of the Lambda instance.
//! - [`confirm`] confirms a `SubscriptionConfirmation` by GETting its `SubscribeURL`, and
//!   only when that is an HTTPS URL on an SNS endpoint.
//!
//! `signature` holds what SNS signs, which URLs may be fetched and the RSA check;
//! `certs` the certificate cache; `fetch` the [`Fetch`] seam, so tests need no network,
//! and [`HttpsFetch`], the real client.
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

mod certs;
mod fetch;
mod signature;

pub use certs::CertCache;
pub use fetch::{Fetch, HttpsFetch, FETCH_TIMEOUT, MAX_FETCH_BYTES};
pub use signature::{is_sns_url, signing_cert_url_is_trusted, string_to_sign};

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::{format_time, parse_time, SnsPolicy};
use fetch::NoClient;
use signature::Signed;

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

/// Checks what a webhook's [`SnsPolicy`] asks beyond the signature: the topic, the
/// signature version, and that the message was published after `not_before` (an older
/// one is a replay: SNS stops retrying long before the redelivery window closes).
pub fn check_policy(body: &Value, policy: &SnsPolicy, not_before: DateTime<Utc>) -> Result<()> {
    let text = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or_default();
    let topic = text("TopicArn");
    if !policy.topic_arns.is_empty() && !policy.topic_arns.iter().any(|t| t == topic) {
        return Err(Error::PermissionDenied(format!(
            "This webhook accepts SNS messages of {} only, not of '{topic}'.",
            policy.topic_arns.join(", ")
        )));
    }
    if policy.require_signature_v2 && text("SignatureVersion") != "2" {
        return Err(Error::PermissionDenied(
            "This webhook accepts SignatureVersion 2 (SHA256withRSA) only: set the topic's \
             SignatureVersion attribute to 2."
                .into(),
        ));
    }
    match parse_time(text("Timestamp")) {
        Some(published) if published >= not_before => Ok(()),
        Some(published) => Err(Error::PermissionDenied(format!(
            "This SNS message was published at {}, before {}: a message that old is refused as a replay.",
            format_time(published),
            format_time(not_before)
        ))),
        None => Err(Error::PermissionDenied("The SNS message has no readable Timestamp.".into())),
    }
}

/// [`verify`] with a given fetcher and certificate cache.
pub async fn verify_with(fetch: &impl Fetch, cache: &CertCache, body: &Value) -> Result<()> {
    let signed = Signed::read(body)?;
    let der = cache.certificate(fetch, signed.cert_url).await?;
    signed.check(&der)
}

/// Confirms a subscription: for a `SubscriptionConfirmation`, GETs its `SubscribeURL`
/// (only an HTTPS URL on an SNS endpoint is ever fetched). Call it only after
/// [`verify`] has passed.
///
/// - `Ok(true)`: SNS accepted the confirmation;
/// - `Ok(false)`: the message is not a `SubscriptionConfirmation`;
/// - `Err(UpstreamUnavailable)`: the GET failed. The delivery answers 503, so SNS sends
///   the confirmation again (a 200 would leave the subscription pending, silently);
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
            // The cause (a connection error) is for the log; the sender learns what failed.
            tracing::warn!(topic, error = %cause, "SNS subscription could not be confirmed");
            Err(Error::UpstreamUnavailable(format!(
                "The SNS subscription to {topic} could not be confirmed; SNS will send the \
                 confirmation again."
            )))
        }
    }
}

#[cfg(test)]
mod tests;
