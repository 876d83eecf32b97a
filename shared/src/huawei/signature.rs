//! Huawei Cloud's request signature (SDK-HMAC-SHA256), as its SDKs sign every call:
//! what the ingestion paths need to check that a Cloud Eye CreateEvents or an AOM
//! PushEvents came from someone holding the webhook's secret key.
//!
//! The SDK signs a canonical request: the method; the path, each segment
//! percent-encoded, ending in `/`; the query, sorted and percent-encoded; each signed
//! header as `name:value` (lowercase name, trimmed value); the signed header names
//! joined by `;`; and the SHA-256 of the body. The string to sign is
//! `SDK-HMAC-SHA256\n<X-Sdk-Date>\n<hex SHA-256 of the canonical request>`, and the
//! signature its hex HMAC-SHA256 under the secret key, sent as
//! `Authorization: SDK-HMAC-SHA256 Access=<ak>, SignedHeaders=<names>, Signature=<hex>`.

use chrono::{DateTime, NaiveDateTime, Utc};
use subtle::ConstantTimeEq;

use crate::digest::{hex, hmac_sha256, sha256};

const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// A signed request's date may be this far from the receiving clock, either way: a
/// captured request replays for no longer (and a replay inside it stores nothing new,
/// being the same delivery).
pub const MAX_CLOCK_SKEW_MINUTES: i64 = 15;

/// What a signed request says and what its signature must be computed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The access key id (`Access=`): here, the webhook's id.
    pub access_key_id: String,
    /// When the SDK signed it (`X-Sdk-Date`).
    pub signed_at: DateTime<Utc>,
    string_to_sign: String,
    signature: String,
}

/// The parts of an HTTP request the signature covers.
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// The path from the API's root (no stage prefix), as the SDK's resource path.
    pub path: &'a str,
    /// The query's pairs, decoded.
    pub query: Vec<(String, String)>,
    /// A header's value by lowercase name.
    pub header: &'a dyn Fn(&str) -> Option<String>,
    pub body: &'a [u8],
}

impl SignedRequest {
    /// Reads the signature off a request; the error says what is missing or malformed.
    pub fn from_parts(parts: &RequestParts) -> Result<SignedRequest, String> {
        let authorization = (parts.header)("authorization")
            .ok_or("no Authorization header: sign the request as Huawei Cloud's SDKs do (SDK-HMAC-SHA256)")?;
        let fields = authorization
            .strip_prefix(ALGORITHM)
            .ok_or_else(|| format!("the Authorization header is not {ALGORITHM}"))?;
        let field = |name: &str| {
            fields
                .split(',')
                .filter_map(|f| f.trim().split_once('='))
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.trim().to_string())
                .ok_or_else(|| format!("the Authorization header has no {name}="))
        };
        let (access_key_id, signed_headers, signature) =
            (field("Access")?, field("SignedHeaders")?, field("Signature")?);
        let date = (parts.header)("x-sdk-date").ok_or("no X-Sdk-Date header")?;
        let signed_at = NaiveDateTime::parse_from_str(&date, "%Y%m%dT%H%M%SZ")
            .map_err(|_| format!("X-Sdk-Date {date:?} is not yyyyMMddTHHmmssZ"))?
            .and_utc();
        let mut headers = Vec::new();
        for name in signed_headers.split(';') {
            let value = (parts.header)(name).ok_or_else(|| format!("signed header {name} is missing"))?;
            headers.push(format!("{name}:{}\n", value.trim()));
        }
        let canonical = [
            parts.method.to_ascii_uppercase(),
            canonical_path(parts.path),
            canonical_query(&parts.query),
            headers.concat(),
            signed_headers,
            hex(&sha256(parts.body)),
        ]
        .join("\n");
        let string_to_sign = format!("{ALGORITHM}\n{date}\n{}", hex(&sha256(canonical.as_bytes())));
        Ok(SignedRequest { access_key_id, signed_at, string_to_sign, signature })
    }

    /// Whether the request was signed with `secret_key`, compared in constant time.
    pub fn signed_with(&self, secret_key: &str) -> bool {
        let expected = hex(&hmac_sha256(secret_key.as_bytes(), self.string_to_sign.as_bytes()));
        expected.as_bytes().ct_eq(self.signature.as_bytes()).into()
    }

    /// Whether it was signed within [`MAX_CLOCK_SKEW_MINUTES`] of `now`.
    pub fn fresh(&self, now: DateTime<Utc>) -> bool {
        (now - self.signed_at).num_minutes().abs() <= MAX_CLOCK_SKEW_MINUTES
    }
}

/// Percent-encoding as the SDKs do it (Python's `quote(s, safe='~')`): everything but
/// letters, digits and `-_.~`.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn canonical_path(path: &str) -> String {
    let mut encoded = path.split('/').map(encode).collect::<Vec<_>>().join("/");
    if !encoded.ends_with('/') {
        encoded.push('/');
    }
    encoded
}

fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = query.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PUT that huaweicloudsdkcore 3.1.219's `Signer` signed with ak `webhook-abc`, sk
    /// `secret-sk` (the header values and signature are what it produced).
    fn signed_by_the_sdk(body: &[u8], header: &dyn Fn(&str) -> Option<String>) -> SignedRequest {
        let parts = RequestParts {
            method: "PUT",
            path: "/v2/project-1/push/events",
            query: vec![("action".into(), "clear".into())],
            header,
            body,
        };
        SignedRequest::from_parts(&parts).unwrap()
    }

    fn sdk_headers(name: &str) -> Option<String> {
        let value = match name {
            "authorization" => "SDK-HMAC-SHA256 Access=webhook-abc, SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date, Signature=21338c31b7f500b12ce4e4b0fb7c877420b86b62848817237c2f1f490f8fb36f",
            "content-type" => "application/json;charset=UTF-8",
            "host" => "127.0.0.1:3102",
            "user-agent" => "huaweicloud-usdk-python/3.0",
            "x-project-id" => "project-1",
            "x-sdk-date" => "20261207T040000Z",
            _ => return None,
        };
        Some(value.to_string())
    }

    const BODY: &[u8] = br#"{"events":[{"a":"b c"}]}"#;

    #[test]
    fn a_request_the_sdk_signed_checks_with_its_secret_key_only() {
        let signed = signed_by_the_sdk(BODY, &sdk_headers);
        assert_eq!(signed.access_key_id, "webhook-abc");
        assert!(signed.signed_with("secret-sk"));
        assert!(!signed.signed_with("secret-sl"));
        let changed_body = signed_by_the_sdk(br#"{"events":[{"a":"b d"}]}"#, &sdk_headers);
        assert!(!changed_body.signed_with("secret-sk"), "the body is signed");
        let other_project = |name: &str| match name {
            "x-project-id" => Some("project-2".to_string()),
            _ => sdk_headers(name),
        };
        assert!(
            !signed_by_the_sdk(BODY, &other_project).signed_with("secret-sk"),
            "signed headers are signed"
        );
    }

    #[test]
    fn a_signature_is_fresh_for_fifteen_minutes_either_way() {
        let signed = signed_by_the_sdk(BODY, &sdk_headers);
        let at = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc);
        assert!(signed.fresh(at("2026-12-07T04:15:00Z")));
        assert!(signed.fresh(at("2026-12-07T03:45:00Z")));
        assert!(!signed.fresh(at("2026-12-07T04:16:00Z")));
        assert!(!signed.fresh(at("2026-12-07T03:43:59Z")));
    }

    #[test]
    fn what_is_missing_or_malformed_is_said() {
        let without =
            |missing: &'static str| move |name: &str| if name == missing { None } else { sdk_headers(name) };
        let error = |header: &dyn Fn(&str) -> Option<String>| {
            let parts =
                RequestParts { method: "PUT", path: "/v2/p/push/events", query: vec![], header, body: b"" };
            SignedRequest::from_parts(&parts).unwrap_err()
        };
        assert!(error(&without("authorization")).contains("no Authorization header"));
        assert!(error(&without("x-sdk-date")).contains("X-Sdk-Date"));
        assert!(error(&without("user-agent")).contains("signed header user-agent is missing"));
        let bearer =
            |name: &str| if name == "authorization" { Some("Bearer x".into()) } else { sdk_headers(name) };
        assert!(error(&bearer).contains("not SDK-HMAC-SHA256"));
        let bad_date =
            |name: &str| if name == "x-sdk-date" { Some("yesterday".into()) } else { sdk_headers(name) };
        assert!(error(&bad_date).contains("yyyyMMddTHHmmssZ"));
    }

    #[test]
    fn paths_and_queries_are_encoded_as_the_sdks_encode_them() {
        assert_eq!(canonical_path("/V1.0/project 1/events"), "/V1.0/project%201/events/");
        let query = [("b".to_string(), "x y".to_string()), ("a".to_string(), "~1".to_string())];
        assert_eq!(canonical_query(&query), "a=~1&b=x%20y");
    }
}
