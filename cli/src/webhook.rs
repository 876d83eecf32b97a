//! `eventctl webhook …`

use clap::Subcommand;
use event_core::model::{SnsPolicy, WebhookFormat, WebhookState};
use event_core::service::webhooks::{self, NewWebhook};
use event_core::service::App;

use eventctl::serve::webhook_url;

use crate::output::{print_issued, print_webhooks};
use crate::Output;

#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Create a webhook; prints its access key once, with the full webhook URL.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        domain_id: String,
        #[arg(long)]
        project_id: String,
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
        /// long after its latest event (e.g. 4h, 1d; an AOM alarm's own timeout wins).
        #[arg(long, value_parser = parse_duration)]
        auto_resolve_after: Option<chrono::Duration>,
        /// Accept at most this many deliveries a minute (more are answered 503 with
        /// Retry-After, which senders retry); 0: no limit.
        #[arg(long, default_value_t = 0)]
        max_deliveries_per_minute: u32,
    },
    /// Set how many deliveries a minute the webhook accepts (0: no limit).
    RateLimit {
        webhook_id: String,
        #[arg(long)]
        per_minute: u32,
    },
    Get {
        webhook_id: String,
    },
    List {
        #[arg(long)]
        domain_id: String,
    },
    Enable {
        webhook_id: String,
    },
    Disable {
        webhook_id: String,
    },
    Delete {
        webhook_id: String,
    },
    /// Issue a new access key. The old one keeps working for `--grace` (e.g. 1h, 30m,
    /// 2d; default 0: it stops at once), time to reconfigure the senders.
    RotateKey {
        webhook_id: String,
        #[arg(long, default_value = "0s", value_parser = parse_grace)]
        grace: chrono::Duration,
        #[arg(long, env = "EVENT_API_URL", default_value = "http://127.0.0.1:3000")]
        base_url: String,
    },
}

/// `90s`, `30m`, `1h`, `2d`, at most 30 days.
fn parse_grace(text: &str) -> Result<chrono::Duration, String> {
    parse_duration(text).and_then(|d| match d <= chrono::Duration::days(30) {
        true => Ok(d),
        false => Err("a grace period of more than 30 days keeps an old key alive too long".into()),
    })
}

/// `90s`, `30m`, `1h`, `2d`.
fn parse_duration(text: &str) -> Result<chrono::Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().map_err(|_| format!("{text:?}: expected a number and s, m, h or d"))?;
    match unit {
        "s" | "" => Ok(chrono::Duration::seconds(n)),
        "m" => Ok(chrono::Duration::minutes(n)),
        "h" => Ok(chrono::Duration::hours(n)),
        "d" => Ok(chrono::Duration::days(n)),
        _ => Err(format!("{text:?}: the unit is s, m, h or d")),
    }
}

fn parse_format(text: &str) -> Result<WebhookFormat, String> {
    text.parse().map_err(|e: event_core::Error| e.to_string())
}

pub async fn run(app: &App, command: WebhookCommand, output: Output) -> event_core::Result<()> {
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
            let verify_sns_signature = !no_verify_sns_signature;
            let sns_policy =
                SnsPolicy { topic_arns: sns_topic_arns, require_signature_v2: require_sns_signature_v2 };
            let new = NewWebhook {
                name,
                format,
                domain_id,
                workspace_id,
                project_id,
                verify_sns_signature,
                sns_policy,
                auto_resolve_after_seconds: auto_resolve_after.map(|d| d.num_seconds().max(1) as u64),
                max_deliveries_per_minute: Some(max_deliveries_per_minute),
                count_requests: false,
            };
            let issued = webhooks::create_webhook(store, new).await?;
            let url = webhook_url(&base_url, &issued.webhook.webhook_id, &issued.access_key);
            print_issued(&issued.webhook, &issued.access_key, &url, output);
        }
        WebhookCommand::RotateKey { webhook_id, grace, base_url } => {
            let issued = webhooks::rotate_key(store, &webhook_id, grace).await?;
            let url = webhook_url(&base_url, &webhook_id, &issued.access_key);
            print_issued(&issued.webhook, &issued.access_key, &url, output);
        }
        WebhookCommand::RateLimit { webhook_id, per_minute } => {
            print_webhooks(&[webhooks::set_rate_limit(store, &webhook_id, per_minute).await?], output);
        }
        WebhookCommand::Get { webhook_id } => {
            print_webhooks(&[webhooks::get_webhook(store, &webhook_id).await?], output);
        }
        WebhookCommand::List { domain_id } => print_webhooks(&store.list_webhooks(&domain_id).await?, output),
        WebhookCommand::Enable { webhook_id } => {
            print_webhooks(&[webhooks::set_state(store, &webhook_id, WebhookState::Enabled).await?], output);
        }
        WebhookCommand::Disable { webhook_id } => {
            print_webhooks(&[webhooks::set_state(store, &webhook_id, WebhookState::Disabled).await?], output);
        }
        WebhookCommand::Delete { webhook_id } => {
            store.delete_webhook(&webhook_id).await?;
            match output {
                Output::Json => println!("{}", serde_json::json!({"deleted": webhook_id})),
                Output::Text => println!("deleted {webhook_id}"),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_periods_read_like_durations() {
        assert_eq!(parse_grace("1h"), Ok(chrono::Duration::hours(1)));
        assert_eq!(parse_grace("30m"), Ok(chrono::Duration::minutes(30)));
        assert_eq!(parse_grace("0"), Ok(chrono::Duration::zero()));
        assert!(parse_grace("1w").is_err());
        assert!(parse_grace("h").is_err());
        assert!(parse_grace("90d").is_err());
        assert_eq!(parse_duration("90d"), Ok(chrono::Duration::days(90)));
    }
}
