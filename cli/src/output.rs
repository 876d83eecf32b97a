//! Printing results as text for people or JSON for scripts.

use event_core::model::Webhook;
use serde_json::{json, Value};

use crate::Output;

pub fn webhook_json(webhook: &Webhook) -> Value {
    json!({
        "webhook_id": webhook.webhook_id,
        "name": webhook.name,
        "state": webhook.state,
        "format": webhook.format,
        "domain_id": webhook.domain_id,
        "workspace_id": webhook.workspace_id,
        "project_id": webhook.project_id,
        "created_at": webhook.created_at,
        "verify_sns_signature": webhook.verify_sns_signature,
    })
}

pub fn print_webhooks(webhooks: &[Webhook], output: Output) {
    match output {
        Output::Json => println!("{:#}", Value::Array(webhooks.iter().map(webhook_json).collect())),
        Output::Text => {
            println!("{:<22} {:<9} {:<13} {:<24} NAME", "WEBHOOK_ID", "STATE", "FORMAT", "PROJECT_ID");
            for w in webhooks {
                println!(
                    "{:<22} {:<9} {:<13} {:<24} {}",
                    w.webhook_id, w.state, w.format, w.project_id, w.name
                );
            }
        }
    }
}

/// A webhook with its freshly issued key: the one time the key can be shown.
pub fn print_issued(webhook: &Webhook, access_key: &str, url: &str, output: Output) {
    match output {
        Output::Json => {
            let mut value = webhook_json(webhook);
            value["access_key"] = json!(access_key);
            value["webhook_url"] = json!(url);
            println!("{value:#}");
        }
        Output::Text => {
            print_webhooks(std::slice::from_ref(webhook), output);
            println!("\naccess key (shown once, store it now): {access_key}");
            println!("webhook URL: {url}");
        }
    }
}

/// What `tables create` changed: tables created, indexes added or removed.
pub fn print_tables(changed: &[String], output: Output) {
    match output {
        Output::Json => println!("{}", json!({"changed": changed})),
        Output::Text if changed.is_empty() => println!("all tables and indexes exist"),
        Output::Text => println!("changed: {}", changed.join(", ")),
    }
}
