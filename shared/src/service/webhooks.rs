//! Webhook administration (the operator CLI) and the access-key check of create.

use chrono::{DateTime, Utc};
use subtle::{Choice, ConstantTimeEq};

use crate::config::Secret;
use crate::digest::{hex, hmac_sha256, random_hex, sha256};
use crate::error::{Error, Result};
use crate::huawei::signature::SignedRequest;
use crate::model::{format_time, new_id, RetiredKey, SnsPolicy, Webhook, WebhookFormat, WebhookState};
use crate::store::Store;

/// What a caller gives to create a webhook.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub name: String,
    pub format: WebhookFormat,
    pub domain_id: String,
    pub workspace_id: String,
    pub project_id: String,
    pub verify_sns_signature: bool,
    pub sns_policy: SnsPolicy,
    pub auto_resolve_after_seconds: Option<u64>,
    pub max_deliveries_per_minute: Option<u32>,
    /// See `Webhook::count_requests`.
    pub count_requests: bool,
}

/// A webhook and its access key: the only moment the key is known to the service.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub webhook: Webhook,
    pub access_key: String,
}

pub fn hash_access_key(access_key: &str) -> String {
    hex(&sha256(access_key.as_bytes()))
}

/// Whether `access_key` is the webhook's key, or the key a rotation retired and whose
/// grace period has not ended at `now`. Hashes are compared in constant time, both of
/// them always, so the response time says nothing about how much of a guess was right
/// or which key it matched.
pub fn access_key_matches(webhook: &Webhook, access_key: &str, now: DateTime<Utc>) -> bool {
    let presented = hash_access_key(access_key);
    let current = presented.as_bytes().ct_eq(webhook.access_key_hash.as_bytes());
    let previous = match &webhook.previous_key {
        Some(old) => {
            let in_grace = Choice::from(u8::from(format_time(now) < old.valid_until));
            presented.as_bytes().ct_eq(old.access_key_hash.as_bytes()) & in_grace
        }
        None => Choice::from(0),
    };
    (current | previous).into()
}

/// The secret key Huawei's SDKs sign with for the webhook `webhook_id` (its access key
/// id), whose access key hashes to `access_key_hash`: derived from the deployment's
/// secret, so it is never stored, cannot be worked out from the tables alone, and
/// changes with every key rotation.
pub fn huawei_secret_key(secret: &Secret, webhook_id: &str, access_key_hash: &str) -> String {
    let message = format!("huawei-sk\0{webhook_id}\0{access_key_hash}");
    hex(&hmac_sha256(secret.expose().as_bytes(), message.as_bytes()))
}

/// Whether `signed` was signed with the webhook's Huawei secret key, or with the one of
/// the key a rotation retired while its grace period lasts.
pub fn signature_matches(
    webhook: &Webhook,
    signed: &SignedRequest,
    secret: &Secret,
    now: DateTime<Utc>,
) -> bool {
    let key_of = |hash: &str| huawei_secret_key(secret, &webhook.webhook_id, hash);
    let current = signed.signed_with(&key_of(&webhook.access_key_hash));
    let previous = webhook.previous_key.as_ref().is_some_and(|old| {
        format_time(now) < old.valid_until && signed.signed_with(&key_of(&old.access_key_hash))
    });
    current || previous
}

fn new_access_key() -> String {
    random_hex(24)
}

fn require(value: &str, name: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::RequiredParameter(name.to_string()));
    }
    Ok(())
}

pub async fn create_webhook(store: &Store, new: NewWebhook) -> Result<IssuedKey> {
    create_tagged_webhook(store, new, Default::default()).await
}

/// create, with SpaceONE's tags (the Webhook API's create).
pub async fn create_tagged_webhook(
    store: &Store,
    new: NewWebhook,
    tags: std::collections::BTreeMap<String, String>,
) -> Result<IssuedKey> {
    require(&new.name, "name")?;
    require(&new.domain_id, "domain_id")?;
    require(&new.project_id, "project_id")?;
    let access_key = new_access_key();
    let webhook = Webhook {
        webhook_id: new_id("webhook"),
        name: new.name,
        state: WebhookState::Enabled,
        format: new.format,
        access_key_hash: hash_access_key(&access_key),
        project_id: new.project_id,
        workspace_id: new.workspace_id,
        domain_id: new.domain_id,
        created_at: format_time(chrono::Utc::now()),
        verify_sns_signature: new.verify_sns_signature,
        sns_policy: new.sns_policy,
        previous_key: None,
        auto_resolve_after_seconds: new.auto_resolve_after_seconds,
        max_deliveries_per_minute: new.max_deliveries_per_minute.filter(|&n| n > 0),
        count_requests: new.count_requests,
        heartbeat_seconds: None,
        tags,
    };
    store.create_webhook(&webhook).await?;
    Ok(IssuedKey { webhook, access_key })
}

pub async fn get_webhook(store: &Store, webhook_id: &str) -> Result<Webhook> {
    store.get_webhook(webhook_id).await?.ok_or_else(|| Error::not_found("webhook_id", webhook_id))
}

/// Replaces the webhook's access key. The old key keeps working for `grace` (none: it
/// stops at once), so senders can move to the new one without losing a delivery.
pub async fn rotate_key(store: &Store, webhook_id: &str, grace: chrono::Duration) -> Result<IssuedKey> {
    let mut webhook = get_webhook(store, webhook_id).await?;
    let access_key = new_access_key();
    let retired = RetiredKey {
        access_key_hash: std::mem::replace(&mut webhook.access_key_hash, hash_access_key(&access_key)),
        valid_until: format_time(Utc::now() + grace),
    };
    webhook.previous_key = (grace > chrono::Duration::zero()).then_some(retired);
    store.set_webhook_keys(webhook_id, &webhook.access_key_hash, webhook.previous_key.as_ref()).await?;
    Ok(IssuedKey { webhook, access_key })
}

/// Sets how many deliveries a minute the webhook accepts (0: no limit).
pub async fn set_rate_limit(store: &Store, webhook_id: &str, per_minute: u32) -> Result<Webhook> {
    store.set_webhook_rate_limit(webhook_id, (per_minute > 0).then_some(per_minute)).await?;
    get_webhook(store, webhook_id).await
}

pub async fn set_state(store: &Store, webhook_id: &str, state: WebhookState) -> Result<Webhook> {
    store.set_webhook_state(webhook_id, state).await?;
    get_webhook(store, webhook_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A webhook whose key is `key`, with a retired key or none.
    fn keyed(key: &str, previous_key: Option<RetiredKey>) -> Webhook {
        Webhook {
            webhook_id: "webhook-1".into(),
            name: "n".into(),
            state: WebhookState::Enabled,
            format: WebhookFormat::Standard,
            access_key_hash: hash_access_key(key),
            project_id: "p".into(),
            workspace_id: "w".into(),
            domain_id: "d".into(),
            created_at: String::new(),
            verify_sns_signature: true,
            sns_policy: SnsPolicy::default(),
            previous_key,
            auto_resolve_after_seconds: None,
            max_deliveries_per_minute: None,
            count_requests: false,
            heartbeat_seconds: None,
            tags: Default::default(),
        }
    }

    #[test]
    fn only_the_issued_key_matches_its_hash() {
        let key = new_access_key();
        assert_eq!(key.len(), 48);
        let webhook = keyed(&key, None);
        let now = Utc::now();
        assert!(access_key_matches(&webhook, &key, now));
        assert!(!access_key_matches(&webhook, &key[1..], now));
        assert!(!access_key_matches(&webhook, "", now));
        assert_ne!(webhook.access_key_hash, key, "the key itself is never stored");
    }

    #[test]
    fn a_retired_key_works_until_its_grace_period_ends() {
        let (old, new) = (new_access_key(), new_access_key());
        let now = Utc::now();
        let webhook = |valid_until| {
            keyed(&new, Some(RetiredKey { access_key_hash: hash_access_key(&old), valid_until }))
        };
        let in_grace = webhook(format_time(now + chrono::Duration::hours(1)));
        assert!(access_key_matches(&in_grace, &new, now));
        assert!(access_key_matches(&in_grace, &old, now));
        assert!(!access_key_matches(&in_grace, &old, now + chrono::Duration::hours(2)));
        let expired = webhook(format_time(now - chrono::Duration::seconds(1)));
        assert!(!access_key_matches(&expired, &old, now));
        assert!(access_key_matches(&expired, &new, now));
    }
}
