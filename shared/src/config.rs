//! Configuration, read from the environment in one place.
//!
//! The DynamoDB endpoint is not ours to read: the SDK honours the standard
//! `AWS_ENDPOINT_URL_DYNAMODB` (DynamoDB Local in tests and `make run`).

use std::env;
use std::str::FromStr;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub tables: Tables,
    /// Days an event is kept before DynamoDB's TTL removes it; 0 keeps events forever.
    pub retention_days: u32,
    /// Largest webhook body whose events are stored, in bytes; a larger one is kept as
    /// one ERROR event with its head. The default is Lambda's 6 MB invoke payload, so
    /// every body API Gateway can hand the function is read in full.
    pub max_body_bytes: usize,
    /// Most events one delivery stores; the rest become one ERROR event that counts them.
    /// The default, 10,000, is more than a 6 MB body of real alerts holds (an Alertmanager
    /// alert is 0.5 to 1 KB) and what the retries of one group can store within the
    /// senders' retry horizon; it stops a body of tiny events (a 6 MB standard list of
    /// `{"title":"x"}` is 400,000 of them) from asking hours of writes.
    pub max_events_per_delivery: usize,
    /// How long a redelivered notification is recognised as a duplicate, in hours.
    pub dedup_window_hours: u32,
    /// How long a byte-identical body counts as a redelivery, in minutes, for senders
    /// that give no identity of their own (no dedup key, no `Idempotency-Key`): as long
    /// as a sender goes on retrying (SNS's longest retry policy is an hour), and only
    /// while the key's alert stays as that body left it. Past it, or once the alert was
    /// resolved or reopened, the same body is a repeat incident and is stored.
    pub body_dedup_window_minutes: u32,
    /// How long one list or stat may go on reading pages of its range, in seconds. API
    /// Gateway answers within 29 s; a range that takes longer is answered with a 400 that
    /// says how to narrow it (a next_token page ends early instead), not with a timeout.
    pub read_budget_seconds: u32,
    /// How long one webhook delivery may go on storing events, in seconds. A payload
    /// with more events than fit is answered 503 after storing some, before API Gateway's
    /// 29 s would cut it off mid-write; the sender's retry stores the rest.
    pub delivery_budget_seconds: u32,
    /// Longest wait for one DynamoDB attempt, in milliseconds. A hung connection then
    /// fails over to the SDK's retry instead of holding the request until Lambda's timeout.
    pub storage_attempt_timeout_ms: u64,
    /// Longest wait for one DynamoDB call, retries included, in milliseconds; past it the
    /// request answers 503 and the sender retries.
    pub storage_operation_timeout_ms: u64,
    /// How read callers prove their domain (`READ_AUTHORIZER`).
    pub read_authorizer: ReadAuthorizer,
    /// How long after an event is stored its stream record may still be on its way to
    /// the rollups, in seconds: stats read the buckets of that last stretch from the
    /// index. The rollup function's iterator-age alarm fires well before it.
    pub rollup_settle_seconds: u32,
    /// Events of a domain's day in the first batch that brings any from which the rollup
    /// consumer counts the day into hour items (`ROLLUP_DENSE_BATCH_EVENTS`, default 29;
    /// see `rollup::density`): below it the day is sparse, read from the index and
    /// recounted once over.
    pub rollup_dense_batch_events: u64,
    /// Whether stats and counts read rollups at all (`READ_ROLLUPS`, default true):
    /// off, every stat reads the index (the benchmarks' and tests' query path, and an
    /// operator's switch while rollups are being repaired).
    pub read_rollups: bool,
    /// The deployment's secret each webhook's Huawei secret key is derived from
    /// (`HUAWEI_SIGNING_SECRET`), for Huawei's own ingestion paths, which Huawei's SDKs
    /// sign with an access key id and secret key. None: those paths refuse every call.
    pub huawei_signing_secret: Option<Secret>,
    /// How long a function instance keeps a domain's event rules before reading them again
    /// (`RULES_CACHE_SECONDS`, default 30): deliveries read the rules once per domain per
    /// instance in that time, not once each. A rule changed through another instance takes
    /// effect within it; through this one, at once. 0 reads them for every delivery.
    pub rules_cache_seconds: u32,
    /// The shortest heartbeat a webhook may declare, in seconds (`HEARTBEAT_MIN_SECONDS`,
    /// default 60: heartbeats are minutes; the local stack and tests set 1).
    pub heartbeat_min_seconds: u64,
}

/// A secret from the environment, which no Debug print of the configuration shows.
#[derive(Clone, PartialEq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where stats may trust rollups: events older than `retention_days` may be gone (TTL
/// deletes events and rollup items each on its own time), and the last `settle` may not
/// have reached them yet. (How far the consumer has counted is the other bound: read
/// from the rollups table, see `rollup::progress`.)
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RollupReads {
    pub retention_days: u32,
    pub settle: std::time::Duration,
}

/// How read callers are identified (the template's `ReadAuthorizer`): see `api::tenant`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadAuthorizer {
    /// `AWS_IAM`: a trusted backend names the domain in the request.
    Iam,
    /// `JwtAuthorizer`: the domain is the token's claim.
    Jwt,
}

impl FromStr for ReadAuthorizer {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "AWS_IAM" => Ok(ReadAuthorizer::Iam),
            "JwtAuthorizer" => Ok(ReadAuthorizer::Jwt),
            other => {
                Err(Error::Internal(format!("READ_AUTHORIZER={other:?} is not AWS_IAM or JwtAuthorizer")))
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tables {
    pub events: String,
    pub webhooks: String,
    pub alerts: String,
    /// Event counts per time bucket, kept by the rollup consumer from the events stream.
    pub rollups: String,
    /// Each domain's event rules, one item per domain.
    pub event_rules: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            tables: Tables {
                events: "events".into(),
                webhooks: "webhooks".into(),
                alerts: "alerts".into(),
                rollups: "rollups".into(),
                event_rules: "event_rules".into(),
            },
            retention_days: 0,
            max_body_bytes: 6 * 1024 * 1024,
            max_events_per_delivery: 10_000,
            dedup_window_hours: 24,
            body_dedup_window_minutes: 60,
            read_budget_seconds: 20,
            delivery_budget_seconds: 20,
            storage_attempt_timeout_ms: 5_000,
            storage_operation_timeout_ms: 12_000,
            read_authorizer: ReadAuthorizer::Iam,
            rollup_settle_seconds: 120,
            rollup_dense_batch_events: crate::rollup::density::DENSE_BATCH_EVENTS,
            read_rollups: true,
            huawei_signing_secret: None,
            rules_cache_seconds: 30,
            heartbeat_min_seconds: 60,
        }
    }
}

impl Config {
    /// `EVENTS_TABLE`, `WEBHOOKS_TABLE`, `ALERTS_TABLE`, `ROLLUPS_TABLE`, `EVENT_RETENTION_DAYS`,
    /// `MAX_BODY_BYTES`, `MAX_EVENTS_PER_DELIVERY`, `DEDUP_WINDOW_HOURS`, `BODY_DEDUP_WINDOW_MINUTES`,
    /// `READ_BUDGET_SECONDS`, `DELIVERY_BUDGET_SECONDS`,
    /// `STORAGE_ATTEMPT_TIMEOUT_MS`, `STORAGE_OPERATION_TIMEOUT_MS`, `READ_AUTHORIZER`,
    /// `ROLLUP_SETTLE_SECONDS`, `ROLLUP_DENSE_BATCH_EVENTS`, `READ_ROLLUPS`, `HUAWEI_SIGNING_SECRET`,
    /// `EVENT_RULES_TABLE`, `RULES_CACHE_SECONDS`, `HEARTBEAT_MIN_SECONDS`;
    /// each falls back to its default.
    pub fn from_env() -> Result<Config> {
        Self::from_lookup(|name| env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let defaults = Config::default();
        let text = |name: &str, default: String| lookup(name).filter(|v| !v.is_empty()).unwrap_or(default);
        Ok(Config {
            tables: Tables {
                events: text("EVENTS_TABLE", defaults.tables.events),
                webhooks: text("WEBHOOKS_TABLE", defaults.tables.webhooks),
                alerts: text("ALERTS_TABLE", defaults.tables.alerts),
                rollups: text("ROLLUPS_TABLE", defaults.tables.rollups),
                event_rules: text("EVENT_RULES_TABLE", defaults.tables.event_rules),
            },
            retention_days: number(&lookup, "EVENT_RETENTION_DAYS", defaults.retention_days)?,
            max_body_bytes: number(&lookup, "MAX_BODY_BYTES", defaults.max_body_bytes)?,
            max_events_per_delivery: number(
                &lookup,
                "MAX_EVENTS_PER_DELIVERY",
                defaults.max_events_per_delivery,
            )?,
            dedup_window_hours: number(&lookup, "DEDUP_WINDOW_HOURS", defaults.dedup_window_hours)?,
            body_dedup_window_minutes: number(
                &lookup,
                "BODY_DEDUP_WINDOW_MINUTES",
                defaults.body_dedup_window_minutes,
            )?,
            read_budget_seconds: number(&lookup, "READ_BUDGET_SECONDS", defaults.read_budget_seconds)?,
            delivery_budget_seconds: number(
                &lookup,
                "DELIVERY_BUDGET_SECONDS",
                defaults.delivery_budget_seconds,
            )?,
            storage_attempt_timeout_ms: number(
                &lookup,
                "STORAGE_ATTEMPT_TIMEOUT_MS",
                defaults.storage_attempt_timeout_ms,
            )?,
            storage_operation_timeout_ms: number(
                &lookup,
                "STORAGE_OPERATION_TIMEOUT_MS",
                defaults.storage_operation_timeout_ms,
            )?,
            read_authorizer: match lookup("READ_AUTHORIZER").filter(|v| !v.is_empty()) {
                Some(mode) => mode.parse()?,
                None => defaults.read_authorizer,
            },
            rollup_settle_seconds: number(&lookup, "ROLLUP_SETTLE_SECONDS", defaults.rollup_settle_seconds)?,
            rollup_dense_batch_events: number(
                &lookup,
                "ROLLUP_DENSE_BATCH_EVENTS",
                defaults.rollup_dense_batch_events,
            )?,
            read_rollups: match lookup("READ_ROLLUPS").filter(|v| !v.is_empty()).as_deref().map(str::trim) {
                None | Some("true" | "1") => true,
                Some("false" | "0") => false,
                Some(other) => {
                    return Err(Error::Internal(format!("READ_ROLLUPS={other:?} is not true or false")))
                }
            },
            huawei_signing_secret: match lookup("HUAWEI_SIGNING_SECRET").filter(|v| !v.is_empty()) {
                Some(secret) if secret.len() < 32 => {
                    return Err(Error::Internal(
                        "HUAWEI_SIGNING_SECRET is shorter than 32 characters; use a random one".into(),
                    ))
                }
                secret => secret.map(Secret),
            },
            rules_cache_seconds: number(&lookup, "RULES_CACHE_SECONDS", defaults.rules_cache_seconds)?,
            heartbeat_min_seconds: number(&lookup, "HEARTBEAT_MIN_SECONDS", defaults.heartbeat_min_seconds)?,
        })
    }

    /// What stats may read from rollups; None: never.
    pub fn rollup_reads(&self) -> Option<RollupReads> {
        self.read_rollups.then(|| RollupReads {
            retention_days: self.retention_days,
            settle: std::time::Duration::from_secs(self.rollup_settle_seconds.into()),
        })
    }

    pub fn rules_cache(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.rules_cache_seconds.into())
    }

    pub fn read_budget(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.read_budget_seconds.into())
    }

    pub fn delivery_budget(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.delivery_budget_seconds.into())
    }

    /// The SDK's timeouts for DynamoDB calls: connecting, one attempt, one call.
    pub fn storage_timeouts(&self) -> aws_config::timeout::TimeoutConfig {
        use std::time::Duration;
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_millis(self.storage_attempt_timeout_ms.min(2_000)))
            .operation_attempt_timeout(Duration::from_millis(self.storage_attempt_timeout_ms))
            .operation_timeout(Duration::from_millis(self.storage_operation_timeout_ms))
            .build()
    }
}

fn number<T: FromStr>(lookup: &impl Fn(&str) -> Option<String>, name: &str, default: T) -> Result<T> {
    match lookup(name).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| Error::Internal(format!("environment variable {name}={v:?} is not a valid number"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_variables_fall_back_to_defaults() {
        assert_eq!(Config::from_lookup(|_| None).unwrap(), Config::default());
    }

    #[test]
    fn variables_override_defaults_and_bad_numbers_are_named() {
        let config = Config::from_lookup(|name| match name {
            "EVENTS_TABLE" => Some("prod-events".into()),
            "EVENT_RETENTION_DAYS" => Some("30".into()),
            "READ_BUDGET_SECONDS" => Some("12".into()),
            "DELIVERY_BUDGET_SECONDS" => Some("7".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(config.tables.events, "prod-events");
        assert_eq!(config.retention_days, 30);
        assert_eq!(config.read_budget(), std::time::Duration::from_secs(12));
        assert_eq!(config.delivery_budget(), std::time::Duration::from_secs(7));
        let err = Config::from_lookup(|n| (n == "MAX_BODY_BYTES").then(|| "lots".into())).unwrap_err();
        assert!(err.to_string().contains("MAX_BODY_BYTES"), "{err}");
        let jwt = Config::from_lookup(|n| (n == "READ_AUTHORIZER").then(|| "JwtAuthorizer".into())).unwrap();
        assert_eq!(jwt.read_authorizer, ReadAuthorizer::Jwt);
        let err = Config::from_lookup(|n| (n == "READ_AUTHORIZER").then(|| "jwt".into())).unwrap_err();
        assert!(err.to_string().contains("READ_AUTHORIZER"), "{err}");
        let off = Config::from_lookup(|n| (n == "READ_ROLLUPS").then(|| "false".into())).unwrap();
        assert_eq!((off.rollup_reads(), Config::default().rollup_reads().is_some()), (None, true));
        let err = Config::from_lookup(|n| (n == "READ_ROLLUPS").then(|| "no".into())).unwrap_err();
        assert!(err.to_string().contains("READ_ROLLUPS"), "{err}");
    }
}
