//! `eventctl webhook …`: the Webhook API's operations for an operator, who may reach
//! any domain's webhooks by id.

use chrono::Duration;
use clap::{Args, Subcommand};
use event_core::api::webhook_decode;
use event_core::config::Secret;
use event_core::model::{SnsPolicy, WebhookFormat, WebhookState};
use event_core::query::Query;
use event_core::service::webhooks::{self, IssuedKey, NewWebhook};
use event_core::service::{webhook_admin, App};
use event_core::{Error, Result};
use serde_json::{json, Map, Value};

use eventctl::serve::webhook_url;

use crate::output::{emit, print_record, Output};
use crate::search::{duration, print_page, to_json, Domain};

#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Create a webhook; prints its access key once, with the full webhook URL.
    Create {
        /// A name people recognise (the monitor it is for).
        #[arg(long)]
        name: String,
        /// The domain (tenant) that owns the webhook and its events.
        #[arg(long)]
        domain_id: String,
        /// The project its events and alerts belong to.
        #[arg(long)]
        project_id: String,
        /// The workspace its events carry.
        #[arg(long, default_value = "")]
        workspace_id: String,
        /// standard, alertmanager, grafana, aws_sns, cloud_eye, aom or auto.
        #[arg(long, default_value = "standard", value_parser = parse_format)]
        format: WebhookFormat,
        /// The API's base URL, to print the full webhook URL.
        #[arg(long, env = "EVENT_API_URL", default_value = "http://127.0.0.1:3000")]
        base_url: String,
        /// Accept SNS messages without checking their signature (for testing only).
        #[arg(long)]
        no_verify_sns_signature: bool,
        /// Accept SNS messages of this topic only (repeat for several; none: any topic).
        #[arg(long = "sns-topic-arn")]
        sns_topic_arns: Vec<String>,
        /// Refuse SNS messages signed with SignatureVersion 1 (SHA1withRSA).
        #[arg(long)]
        require_sns_signature_v2: bool,
        /// For senders that never send a recovery: an alert resolves by itself this
        /// long after its latest event (e.g. 4h, 1h30m, 1d; an AOM alarm's own timeout wins).
        #[arg(long, value_parser = duration)]
        auto_resolve_after: Option<Duration>,
        /// Accept at most this many deliveries a minute (more are answered 503 with
        /// Retry-After, which senders retry); 0: no limit.
        #[arg(long, default_value_t = 0)]
        max_deliveries_per_minute: u32,
    },
    /// Change a webhook's settings; only the flags given change.
    Update {
        /// The webhook's id (webhook-…).
        webhook_id: String,
        #[command(flatten)]
        settings: Settings,
    },
    /// Set how many deliveries a minute the webhook accepts (0: no limit).
    RateLimit {
        /// The webhook's id (webhook-…).
        webhook_id: String,
        /// Deliveries a minute; 0: no limit.
        #[arg(long)]
        per_minute: u32,
    },
    /// Show every setting of a webhook, and the events it stored.
    Get {
        /// The webhook's id (webhook-…).
        webhook_id: String,
    },
    /// List a domain's webhooks.
    List {
        #[command(flatten)]
        domain: Domain,
    },
    /// Accept deliveries again.
    Enable {
        /// The webhook's id (webhook-…).
        webhook_id: String,
    },
    /// Refuse deliveries (answered 400 ERROR_WEBHOOK_STATE_DISABLED) until enabled.
    Disable {
        /// The webhook's id (webhook-…).
        webhook_id: String,
    },
    /// Delete a webhook; its events and alerts stay, its URL answers 403.
    Delete {
        /// The webhook's id (webhook-…).
        webhook_id: String,
    },
    /// Issue a new access key. The old one keeps working for `--grace` (e.g. 1h, 30m,
    /// 2d; default 0: it stops at once), time to reconfigure the senders.
    RotateKey {
        /// The webhook's id (webhook-…).
        webhook_id: String,
        /// How long the old key keeps working, at most 30 days.
        #[arg(long, default_value = "0s", value_parser = parse_grace)]
        grace: Duration,
        /// The API's base URL, to print the full webhook URL.
        #[arg(long, env = "EVENT_API_URL", default_value = "http://127.0.0.1:3000")]
        base_url: String,
    },
}

/// `webhook update`'s settings. Each becomes a field of the Webhook API's update body
/// ([`Settings::body`]) and is checked by the API's own decoder: a new setting is a
/// flag here and a row there.
#[derive(Args)]
pub struct Settings {
    /// A new name.
    #[arg(long)]
    name: Option<String>,
    /// A new format: standard, alertmanager, grafana, aws_sns, cloud_eye, aom or auto.
    #[arg(long)]
    format: Option<String>,
    /// Replace the tags with these, as KEY=VALUE (repeatable).
    #[arg(long = "tag", value_parser = tag)]
    tags: Vec<(String, String)>,
    /// Remove every tag.
    #[arg(long, conflicts_with = "tags")]
    no_tags: bool,
    /// An alert resolves by itself this long after its latest event (e.g. 4h, 1h30m);
    /// 0s: never.
    #[arg(long, value_parser = duration)]
    auto_resolve_after: Option<Duration>,
    /// Accept at most this many deliveries a minute; 0: no limit.
    #[arg(long)]
    max_deliveries_per_minute: Option<u32>,
    /// Check SNS messages' signatures (true), or not (false: for testing only).
    #[arg(long)]
    verify_sns_signature: Option<bool>,
    /// Accept SNS messages of this topic only (repeatable; replaces the list).
    #[arg(long = "sns-topic-arn")]
    sns_topic_arns: Vec<String>,
    /// Accept SNS messages of any topic (empties the list).
    #[arg(long, conflicts_with = "sns_topic_arns")]
    any_sns_topic: bool,
    /// Refuse SNS messages signed with SignatureVersion 1 (true), or accept them (false).
    #[arg(long)]
    require_sns_signature_v2: Option<bool>,
    /// Move the webhook to another project of its domain; events stored before keep
    /// their project.
    #[arg(long)]
    project_id: Option<String>,
    /// The sender delivers at least this often (e.g. 5m): after this long without a
    /// delivery an alert opens, which the next delivery resolves; 0s: no heartbeat.
    #[arg(long, value_parser = duration)]
    heartbeat: Option<Duration>,
    /// Count deliveries as the webhook's `requests` (one small write more per
    /// delivery), or not (false: `requests` counts the events it stored).
    #[arg(long)]
    count_requests: Option<bool>,
}

impl Settings {
    /// The flags given, as the Webhook API's update and update-plugin body.
    fn body(&self) -> Map<String, Value> {
        let tags = match (self.no_tags, self.tags.is_empty()) {
            (true, _) => Some(json!({})),
            (false, false) => {
                Some(Value::Object(self.tags.iter().map(|(k, v)| (k.clone(), json!(v))).collect()))
            }
            (false, true) => None,
        };
        let arns = match (self.any_sns_topic, self.sns_topic_arns.is_empty()) {
            (true, _) => Some(json!([])),
            (false, false) => Some(json!(self.sns_topic_arns)),
            (false, true) => None,
        };
        let fields = [
            ("name", self.name.as_ref().map(|v| json!(v))),
            ("format", self.format.as_ref().map(|v| json!(v))),
            ("tags", tags),
            ("auto_resolve_after_seconds", self.auto_resolve_after.map(|d| json!(d.num_seconds()))),
            ("max_deliveries_per_minute", self.max_deliveries_per_minute.map(|n| json!(n))),
            ("heartbeat", self.heartbeat.map(|d| json!(format!("{}s", d.num_seconds())))),
            ("count_requests", self.count_requests.map(|on| json!(on))),
        ];
        let options = [
            ("verify_sns_signature", self.verify_sns_signature.map(|v| json!(v))),
            ("sns_topic_arns", arns),
            ("require_sns_signature_v2", self.require_sns_signature_v2.map(|v| json!(v))),
        ];
        let given = |rows: &[(&str, Option<Value>)]| -> Map<String, Value> {
            rows.iter().filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v))).collect()
        };
        let mut body = given(&fields);
        let options = given(&options);
        if !options.is_empty() {
            body.insert("options".into(), Value::Object(options));
        }
        body
    }
}

/// A grace period: a duration of at most 30 days.
fn parse_grace(text: &str) -> std::result::Result<Duration, String> {
    duration(text).and_then(|d| match d.num_seconds() <= webhook_decode::MAX_GRACE_SECONDS {
        true => Ok(d),
        false => Err("a grace period of more than 30 days keeps an old key alive too long".into()),
    })
}

fn parse_format(text: &str) -> std::result::Result<WebhookFormat, String> {
    text.parse().map_err(|e: Error| e.to_string())
}

fn tag(text: &str) -> std::result::Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.into(), value.into())),
        _ => Err(format!("{text:?}: expected KEY=VALUE, e.g. env=prod")),
    }
}

pub async fn run(app: &App, command: WebhookCommand, output: Output) -> Result<()> {
    let store = &app.store;
    match command {
        WebhookCommand::Create {
            name,
            domain_id,
            project_id,
            workspace_id,
            format,
            base_url,
            no_verify_sns_signature,
            sns_topic_arns,
            require_sns_signature_v2,
            auto_resolve_after,
            max_deliveries_per_minute,
        } => {
            let sns_policy =
                SnsPolicy { topic_arns: sns_topic_arns, require_signature_v2: require_sns_signature_v2 };
            let new = NewWebhook {
                name,
                format,
                domain_id,
                workspace_id,
                project_id,
                verify_sns_signature: !no_verify_sns_signature,
                sns_policy,
                auto_resolve_after_seconds: auto_resolve_after.map(|d| d.num_seconds().max(1) as u64),
                max_deliveries_per_minute: Some(max_deliveries_per_minute),
                count_requests: false,
            };
            let issued = webhooks::create_webhook(store, new).await?;
            print_issued(&issued, app.config.huawei_signing_secret.as_ref(), &base_url, output);
        }
        WebhookCommand::RotateKey { webhook_id, grace, base_url } => {
            let issued = webhooks::rotate_key(store, &webhook_id, grace).await?;
            print_issued(&issued, app.config.huawei_signing_secret.as_ref(), &base_url, output);
        }
        WebhookCommand::Update { webhook_id, settings } => {
            let mut changes = webhook_decode::settings_body(&settings.body())?;
            changes.project_id = settings.project_id.clone();
            if changes.is_empty() {
                return Err(Error::invalid("Nothing to update: give a setting to change (see --help)."));
            }
            let domain = owner(app, &webhook_id).await?;
            let webhook = webhook_admin::update_in(app, &domain, &webhook_id, &changes).await?;
            print_webhook(app, &domain, &webhook, output).await;
        }
        WebhookCommand::RateLimit { webhook_id, per_minute } => {
            let webhook = webhooks::set_rate_limit(store, &webhook_id, per_minute).await?;
            print_webhook(app, &owner(app, &webhook_id).await?, &webhook, output).await;
        }
        WebhookCommand::Get { webhook_id } => {
            let domain = owner(app, &webhook_id).await?;
            let webhook = webhook_admin::webhook_in(app, &domain, &webhook_id).await?;
            print_webhook(app, &domain, &webhook, output).await;
        }
        WebhookCommand::List { domain } => {
            let page =
                webhook_admin::list_in(app, &domain.authorized()?, &Query::from_json(&Value::Null)?).await?;
            let columns = ["webhook_id", "state", "format", "project_id", "name"].map(String::from);
            print_page(&to_json(page)?, &columns, output);
        }
        WebhookCommand::Enable { webhook_id } => {
            let webhook = webhooks::set_state(store, &webhook_id, WebhookState::Enabled).await?;
            print_webhook(app, &owner(app, &webhook_id).await?, &webhook, output).await;
        }
        WebhookCommand::Disable { webhook_id } => {
            let webhook = webhooks::set_state(store, &webhook_id, WebhookState::Disabled).await?;
            print_webhook(app, &owner(app, &webhook_id).await?, &webhook, output).await;
        }
        WebhookCommand::Delete { webhook_id } => {
            store.delete_webhook(&webhook_id).await?;
            emit(&json!({"deleted": webhook_id}), output, |_| println!("deleted {webhook_id}"));
        }
    }
    Ok(())
}

/// The domain of a webhook: an operator names webhooks by id alone.
async fn owner(app: &App, webhook_id: &str) -> Result<event_core::tenant::AuthorizedDomain> {
    let webhook = webhooks::get_webhook(&app.store, webhook_id).await?;
    Domain { domain_id: webhook.domain_id }.authorized()
}

/// WebhookInfo: every stored setting, and the events the webhook stored.
async fn print_webhook(
    app: &App,
    domain: &event_core::tenant::AuthorizedDomain,
    webhook: &event_core::model::Webhook,
    output: Output,
) {
    emit(&webhook_admin::info_of(app, domain, webhook).await, output, print_record);
}

/// A webhook with its freshly issued key and full URL (and Huawei credentials, for a
/// `cloud_eye` or `aom` webhook where `HUAWEI_SIGNING_SECRET` is set): the one time the
/// key is shown.
fn print_issued(issued: &IssuedKey, signing_secret: Option<&Secret>, base_url: &str, output: Output) {
    let mut info = webhook_admin::issued_info(issued, signing_secret);
    info["webhook_url"] = json!(webhook_url(base_url, &issued.webhook.webhook_id, &issued.access_key));
    emit(&info, output, |info| {
        print_record(info);
        println!("\nthe access key is shown once: store it now");
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        settings: Settings,
    }

    fn body(args: &[&str]) -> Value {
        let flags = Flags::try_parse_from(std::iter::once("update").chain(args.iter().copied())).unwrap();
        Value::Object(flags.settings.body())
    }

    #[test]
    fn update_flags_become_the_api_s_update_body() {
        assert_eq!(
            body(&[
                "--name",
                "prod",
                "--tag",
                "env=prod",
                "--auto-resolve-after",
                "1h30m",
                "--any-sns-topic"
            ]),
            json!({"name": "prod", "tags": {"env": "prod"}, "auto_resolve_after_seconds": 5400,
                   "options": {"sns_topic_arns": []}})
        );
        assert_eq!(
            body(&["--no-tags", "--verify-sns-signature", "false"]),
            json!({"tags": {}, "options": {"verify_sns_signature": false}})
        );
        assert_eq!(body(&[]), json!({}));
    }

    #[test]
    fn grace_periods_are_durations_of_at_most_30_days() {
        assert_eq!(parse_grace("1h30m"), Ok(Duration::minutes(90)));
        assert_eq!(parse_grace("30d"), Ok(Duration::days(30)));
        assert!(parse_grace("31d").is_err());
    }
}
