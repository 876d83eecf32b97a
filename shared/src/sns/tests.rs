//! [`verify`] and [`confirm`] against fixed fetchers, with messages signed by a test key
//! as SNS would sign them; and the string to sign and URL trust they rely on.

use std::collections::HashMap;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use base64::Engine as _;
use serde_json::{json, Value};

use super::*;

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
    body["SubscribeURL"] = json!("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=x");
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
async fn a_confirmation_that_fails_is_a_503_so_sns_sends_it_again() {
    let body = fixture(SUBSCRIBE);
    let url = body["SubscribeURL"].as_str().unwrap();
    let fetch = FakeFetch::with(url, Err("HTTP 403 Forbidden".into()));
    let err = confirm_with(&fetch, &body).await.unwrap_err();
    assert!(matches!(err, Error::UpstreamUnavailable(_)), "{err:?}");
    assert_eq!(err.status(), 503);
    // What failed and that SNS will retry; the cause is logged, not answered.
    assert!(err.public_message().contains("could not be confirmed"), "{err}");
    assert!(!err.public_message().contains("HTTP 403 Forbidden"), "{err}");
    assert_eq!(fetch.asked().len(), 1);
}

#[test]
fn service_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    let body = Value::Null;
    send(&verify(&body));
    send(&confirm(&body));
}

#[test]
fn string_to_sign_follows_the_sns_rules() {
    let body = fixture(PLAIN);
    let expected = format!(
        "Message\n{}\nMessageId\n{}\nSubject\n{}\nTimestamp\n{}\nTopicArn\n{}\nType\nNotification\n",
        body["Message"].as_str().unwrap(),
        body["MessageId"].as_str().unwrap(),
        body["Subject"].as_str().unwrap(),
        body["Timestamp"].as_str().unwrap(),
        body["TopicArn"].as_str().unwrap(),
    );
    assert_eq!(string_to_sign(&body).unwrap(), expected);
    let mut no_subject = body.clone();
    no_subject.as_object_mut().unwrap().remove("Subject");
    assert!(!string_to_sign(&no_subject).unwrap().contains("Subject\n"));
    let confirm = fixture(SUBSCRIBE);
    let expected: String = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        .iter()
        .map(|k| format!("{k}\n{}\n", confirm[k].as_str().unwrap()))
        .collect();
    assert_eq!(string_to_sign(&confirm).unwrap(), expected);
    assert!(string_to_sign(&json!({"Type": "Notification"})).unwrap_err().0.contains("no 'Message'"));
}

#[test]
fn only_sns_endpoints_are_trusted_urls() {
    let cert = fixture(ALARM)["SigningCertURL"].as_str().unwrap().to_string();
    assert!(signing_cert_url_is_trusted(&cert));
    assert!(is_sns_url(fixture(SUBSCRIBE)["SubscribeURL"].as_str().unwrap()));
    assert!(is_sns_url("https://sns.cn-north-1.amazonaws.com.cn/?Action=ConfirmSubscription"));
    for bad in [
        "http://sns.us-east-1.amazonaws.com/cert.pem",
        "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem",
        "https://evil.example/sns.us-east-1.amazonaws.com/cert.pem",
        "https://sns.us-east-1.amazonaws.com@evil.example/cert.pem",
        "https://sns.us-east-1.amazonaws.com:8443/cert.pem",
        "https://s3.amazonaws.com/cert.pem",
        "https://sns..amazonaws.com/cert.pem",
    ] {
        assert!(!signing_cert_url_is_trusted(bad), "{bad}");
    }
    assert!(!signing_cert_url_is_trusted("https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"));
}

#[test]
fn a_policy_narrows_topics_signature_versions_and_age() {
    use crate::model::SnsPolicy;
    use chrono::{Duration, TimeZone, Utc};
    let alarm: Value = serde_json::from_str(ALARM).unwrap();
    let topic = alarm["TopicArn"].as_str().unwrap().to_string();
    let published = crate::model::parse_time(alarm["Timestamp"].as_str().unwrap()).unwrap();
    let any = SnsPolicy::default();
    let long_ago = Utc.timestamp_opt(0, 0).unwrap();
    assert!(check_policy(&alarm, &any, long_ago).is_ok());
    let only_other = SnsPolicy { topic_arns: vec!["arn:aws:sns:us-east-1:1:other".into()], ..any.clone() };
    let err = check_policy(&alarm, &only_other, long_ago).unwrap_err();
    assert!(err.to_string().contains(&topic), "{err}");
    let only_this = SnsPolicy { topic_arns: vec![topic], ..any.clone() };
    assert!(check_policy(&alarm, &only_this, long_ago).is_ok());
    let mut v1 = alarm.clone();
    v1["SignatureVersion"] = json!("1");
    let v2_only = SnsPolicy { require_signature_v2: true, ..any.clone() };
    assert!(check_policy(&v1, &v2_only, long_ago).unwrap_err().to_string().contains("SignatureVersion 2"));
    let replay = check_policy(&alarm, &any, published + Duration::seconds(1)).unwrap_err();
    assert_eq!(replay.status(), 403);
    assert!(replay.to_string().contains("replay"), "{replay}");
    assert!(check_policy(&alarm, &any, published).is_ok());
}
