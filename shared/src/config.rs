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
    /// Largest webhook body accepted, in bytes; larger ones get 413.
    pub max_body_bytes: usize,
    /// How long a redelivered notification is recognised as a duplicate, in hours.
    pub dedup_window_hours: u32,
    /// How long one list or stat may go on reading pages of its range, in seconds. API
    /// Gateway answers within 29 s; a range that takes longer is answered with a 400 that
    /// says how to narrow it (a next_token page ends early instead), not with a timeout.
    pub read_budget_seconds: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tables {
    pub events: String,
    pub webhooks: String,
    pub alerts: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            tables: Tables { events: "events".into(), webhooks: "webhooks".into(), alerts: "alerts".into() },
            retention_days: 0,
            max_body_bytes: 1024 * 1024,
            dedup_window_hours: 24,
            read_budget_seconds: 20,
        }
    }
}

impl Config {
    /// `EVENTS_TABLE`, `WEBHOOKS_TABLE`, `ALERTS_TABLE`, `EVENT_RETENTION_DAYS`,
    /// `MAX_BODY_BYTES`, `DEDUP_WINDOW_HOURS`, `READ_BUDGET_SECONDS`; each falls back to
    /// its default.
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
            },
            retention_days: number(&lookup, "EVENT_RETENTION_DAYS", defaults.retention_days)?,
            max_body_bytes: number(&lookup, "MAX_BODY_BYTES", defaults.max_body_bytes)?,
            dedup_window_hours: number(&lookup, "DEDUP_WINDOW_HOURS", defaults.dedup_window_hours)?,
            read_budget_seconds: number(&lookup, "READ_BUDGET_SECONDS", defaults.read_budget_seconds)?,
        })
    }

    pub fn read_budget(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.read_budget_seconds.into())
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
            _ => None,
        })
        .unwrap();
        assert_eq!(config.tables.events, "prod-events");
        assert_eq!(config.retention_days, 30);
        assert_eq!(config.read_budget(), std::time::Duration::from_secs(12));
        let err = Config::from_lookup(|n| (n == "MAX_BODY_BYTES").then(|| "lots".into())).unwrap_err();
        assert!(err.to_string().contains("MAX_BODY_BYTES"), "{err}");
    }
}
