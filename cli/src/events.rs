//! `eventctl events list|get|stat`: the Event API's reads, through the functions' own
//! decoder and service code.

use clap::{Args, Subcommand};
use event_core::api::{decode, response};
use event_core::service::{self, App};
use event_core::Result;

use crate::output::{emit, print_record, Output};
use crate::search::{print_page, print_stat, to_json, Domain, Search};

/// The table's columns when the query does not name its fields.
const COLUMNS: [&str; 6] = ["event_id", "created_at", "event_type", "severity", "alert_id", "title"];

#[derive(Subcommand)]
pub enum EventsCommand {
    /// List a domain's events, newest first (the Event API's list).
    List(Box<EventList>),
    /// Show one event, every field (or those of --only).
    Get {
        /// The event's id (event-…).
        event_id: String,
        #[command(flatten)]
        domain: Domain,
        /// The fields to show, comma-separated.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// Aggregate a domain's events with a StatisticsQuery (the Event API's stat).
    Stat {
        #[command(flatten)]
        domain: Domain,
        /// The StatisticsQuery as JSON, e.g. '{"aggregate": [{"group": {"keys": [{"key":
        /// "severity", "name": "severity"}], "fields": [{"name": "n", "operator": "count"}]}}]}'.
        #[arg(long)]
        query: String,
    },
}

#[derive(Args)]
pub struct EventList {
    #[command(flatten)]
    domain: Domain,
    #[command(flatten)]
    search: Search,
    /// Only events of this severity (CRITICAL, ERROR, WARNING, INFO, NOT_AVAILABLE).
    #[arg(long)]
    severity: Option<String>,
    /// Only events of this type (ALERT, RECOVERY, ERROR).
    #[arg(long)]
    event_type: Option<String>,
    /// Only events a webhook stored.
    #[arg(long)]
    webhook_id: Option<String>,
    /// Only events of an alert.
    #[arg(long)]
    alert_id: Option<String>,
    /// Only events of a project.
    #[arg(long)]
    project_id: Option<String>,
}

pub async fn run(app: &App, command: EventsCommand, output: Output) -> Result<()> {
    match command {
        EventsCommand::List(list) => {
            let EventList { domain, search, severity, event_type, webhook_id, alert_id, project_id } = *list;
            let named = [
                ("severity", &severity),
                ("event_type", &event_type),
                ("webhook_id", &webhook_id),
                ("alert_id", &alert_id),
                ("project_id", &project_id),
            ];
            let request = decode::list_body(search.body(&domain, &named))?;
            let authorized = domain.authorized()?;
            let token = request.next_token.as_deref();
            let page = service::list_events(app, &authorized, &request.scoped.query, token).await?;
            print_page(&to_json(page)?, &search.columns(&COLUMNS), output);
        }
        EventsCommand::Get { event_id, domain, only } => {
            let event = service::get_event(&app.store, &domain.authorized()?, &event_id, &only).await?;
            emit(&response::event(&event, only)?, output, print_record);
        }
        EventsCommand::Stat { domain, query } => {
            let query = domain.stat_query(&query)?;
            let answer = service::stat_events(app, &domain.authorized()?, &query).await?;
            print_stat(&to_json(answer)?, output);
        }
    }
    Ok(())
}
