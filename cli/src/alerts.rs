//! `eventctl alerts list|get|stat`: the Alert API's reads, through the functions' own
//! decoder and service code.

use clap::{Args, Subcommand};
use event_core::api::alert_decode;
use event_core::service::{self, App};
use event_core::Result;

use crate::output::{emit, print_record, Output};
use crate::search::{print_page, print_stat, to_json, Domain, Search};

/// The table's columns when the query does not name its fields.
const COLUMNS: [&str; 6] = ["alert_id", "created_at", "state", "urgency", "severity", "title"];

#[derive(Subcommand)]
pub enum AlertsCommand {
    /// List a domain's alerts (the Alert API's list).
    List(Box<AlertList>),
    /// Show one alert (AlertInfo).
    Get {
        /// The alert's id (alert-…).
        alert_id: String,
        #[command(flatten)]
        domain: Domain,
    },
    /// Aggregate a domain's alerts with a StatisticsQuery (the Alert API's stat).
    Stat {
        #[command(flatten)]
        domain: Domain,
        /// The StatisticsQuery as JSON, e.g. '{"aggregate": [{"group": {"keys": [{"key":
        /// "state", "name": "state"}], "fields": [{"name": "n", "operator": "count"}]}}]}'.
        #[arg(long)]
        query: String,
    },
}

#[derive(Args)]
pub struct AlertList {
    #[command(flatten)]
    domain: Domain,
    #[command(flatten)]
    search: Search,
    /// Only alerts in this state (TRIGGERED, ACKNOWLEDGED, RESOLVED, ERROR).
    #[arg(long)]
    state: Option<String>,
    /// Only alerts of this urgency (HIGH, LOW).
    #[arg(long)]
    urgency: Option<String>,
    /// Only alerts of this severity.
    #[arg(long)]
    severity: Option<String>,
    /// Only alerts a webhook's events opened.
    #[arg(long)]
    webhook_id: Option<String>,
    /// Only alerts of a project.
    #[arg(long)]
    project_id: Option<String>,
}

pub async fn run(app: &App, command: AlertsCommand, output: Output) -> Result<()> {
    match command {
        AlertsCommand::List(list) => {
            let AlertList { domain, search, state, urgency, severity, webhook_id, project_id } = *list;
            let named = [
                ("state", &state),
                ("urgency", &urgency),
                ("severity", &severity),
                ("webhook_id", &webhook_id),
                ("project_id", &project_id),
            ];
            let request = alert_decode::list_body(&search.body(&domain, &named))?;
            let authorized = domain.authorized()?;
            let token = request.next_token.as_deref();
            let page =
                service::list_alerts(&app.store, &authorized, &request.query, request.state, token).await?;
            print_page(&to_json(page)?, &search.columns(&COLUMNS), output);
        }
        AlertsCommand::Get { alert_id, domain } => {
            let alert = service::alert_detail(app, &domain.authorized()?, &alert_id).await?;
            emit(&alert, output, print_record);
        }
        AlertsCommand::Stat { domain, query } => {
            let query = domain.stat_query(&query)?;
            let answer = service::stat_alerts(&app.store, &domain.authorized()?, &query, None).await?;
            print_stat(&to_json(answer)?, output);
        }
    }
    Ok(())
}
