//! What SNS signs and how its signature is checked: the string to sign, which URLs may
//! be fetched, and the RSA check of `Signature` with the signing certificate.

use base64::Engine as _;
use rustls_pki_types::{
    alg_id, AlgorithmIdentifier, CertificateDer, InvalidSignature, SignatureVerificationAlgorithm,
};
use serde_json::Value;
use webpki::EndEntityCert;

use crate::error::{Error, Result};
use crate::formats::json::optional_str;
use crate::formats::ParseError;

/// An SNS message's signature, with everything about it that can be checked before the
/// certificate is fetched.
pub(super) struct Signed<'a> {
    algorithm: &'static dyn SignatureVerificationAlgorithm,
    signature: Vec<u8>,
    /// A trusted `SigningCertURL`: [`signing_cert_url_is_trusted`] holds.
    pub(super) cert_url: &'a str,
    text: String,
}

impl<'a> Signed<'a> {
    /// Reads `SignatureVersion`, `Signature` (base64), `SigningCertURL` (which must be
    /// trusted) and the string to sign; the first that fails denies the message.
    pub(super) fn read(body: &'a Value) -> Result<Self> {
        let text = |key: &str| body.get(key).and_then(Value::as_str);
        let algorithm: &'static dyn SignatureVerificationAlgorithm = match text("SignatureVersion") {
            Some("1") => &RSA_PKCS1_2048_8192_SHA1,
            Some("2") => webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256,
            Some(other) => {
                return Err(denied(format!("unknown SignatureVersion '{other}' (expected 1 or 2)")))
            }
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
        let text = string_to_sign(body).map_err(|e| denied(e.0))?;
        Ok(Signed { algorithm, signature, cert_url: url, text })
    }

    /// Checks the signature with the certificate (DER) fetched from `cert_url`.
    pub(super) fn check(&self, der: &[u8]) -> Result<()> {
        let url = self.cert_url;
        let der = CertificateDer::from(der);
        let cert =
            EndEntityCert::try_from(&der).map_err(|e| denied(format!("bad signing certificate: {e}")))?;
        cert.verify_signature(self.algorithm, self.text.as_bytes(), &self.signature).map_err(|e| {
            tracing::warn!(url, error = %e, "SNS signature check failed");
            denied("the signature does not match the message and the signing certificate")
        })
    }
}

pub(super) fn denied(reason: impl std::fmt::Display) -> Error {
    Error::PermissionDenied(format!("SNS signature does not verify: {reason}"))
}

/// The text SNS signed for this message ("string to sign"): `Key\nvalue\n` for each
/// signed key in byte order — Message, MessageId, Subject (if present), Timestamp,
/// TopicArn, Type for a Notification; Message, MessageId, SubscribeURL, Timestamp,
/// Token, TopicArn, Type for the confirmations. [`super::verify`] checks `Signature`
/// (base64; SHA1withRSA for SignatureVersion 1, SHA256withRSA for 2) over these bytes
/// with the certificate at `SigningCertURL`.
pub fn string_to_sign(body: &Value) -> Result<String, ParseError> {
    let what = "the SNS message's";
    let keys: &[&str] = match optional_str(body, "Type", what)? {
        Some("Notification") => &["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
        Some("SubscriptionConfirmation" | "UnsubscribeConfirmation") => {
            &["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        }
        Some(other) => return Err(ParseError::new(format!("unknown SNS message Type '{other}'"))),
        None => return Err(ParseError::new("the SNS message has no 'Type'")),
    };
    let mut text = String::new();
    for &key in keys {
        match optional_str(body, key, what)? {
            Some(value) => {
                text.push_str(key);
                text.push('\n');
                text.push_str(value);
                text.push('\n');
            }
            None if key == "Subject" => {}
            None => return Err(ParseError::new(format!("the SNS message has no '{key}', which SNS signs"))),
        }
    }
    Ok(text)
}

/// Whether `url` is an HTTPS URL on an SNS endpoint (`sns.<region>.amazonaws.com`, or
/// `.amazonaws.com.cn`), with no user-info or port: the only hosts the service should
/// fetch a SubscribeURL or a signing certificate from.
pub fn is_sns_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let host = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if host.contains(['@', ':']) {
        return false;
    }
    let host = host.to_ascii_lowercase();
    let Some(region) = host
        .strip_prefix("sns.")
        .and_then(|h| h.strip_suffix(".amazonaws.com").or_else(|| h.strip_suffix(".amazonaws.com.cn")))
    else {
        return false;
    };
    !region.is_empty() && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `SigningCertURL` may be trusted: an SNS endpoint serving a `.pem` file.
pub fn signing_cert_url_is_trusted(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    is_sns_url(url) && path.ends_with(".pem")
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
