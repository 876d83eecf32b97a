//! `eventctl maintenance start`: a maintenance window now, as an event rule of the
//! project (ALWAYS, `suppress`, scheduled from now for the duration given), through the
//! EventRule service: its ALERTs are stored, flagged, and open no alert until it ends.

use chrono::{Duration, Utc};
use clap::Subcommand;
use event_core::config::ReadAuthorizer;
use event_core::event_rule::{Actions, ConditionsPolicy, Options, ResourceGroup, Schedule};
use event_core::model::format_time;
use event_core::service::event_rules::{create_in, rule_info, NewRule};
use event_core::service::App;
use event_core::tenant::{authorize, Identity};
use event_core::{Error, Result};

use crate::output::{emit, print_record, Output};
use crate::search::duration;

#[derive(Subcommand)]
pub enum MaintenanceCommand {
    /// Suppress a project's ALERTs from now for a while (RECOVERYs still resolve).
    Start {
        /// The project's domain.
        #[arg(long)]
        domain_id: String,
        /// The project whose ALERTs the window suppresses.
        #[arg(long)]
        project: String,
        /// How long: 90s, 30m, 1h30m, 2d.
        #[arg(long = "for", value_parser = duration)]
        duration: Duration,
        /// Only this webhook's events.
        #[arg(long)]
        webhook_id: Option<String>,
        /// The rule's name, as lists show it.
        #[arg(long, default_value = "maintenance")]
        name: String,
    },
}

pub async fn run(app: &App, command: MaintenanceCommand, output: Output) -> Result<()> {
    let MaintenanceCommand::Start { domain_id, project, duration, webhook_id, name } = command;
    let domain = authorize(Identity::Absent, Some(&domain_id), ReadAuthorizer::Iam)?;
    let now = Utc::now();
    let schedule = Schedule::new(&format_time(now), &format_time(now + duration), false, None)?;
    let new = NewRule {
        name,
        conditions: Vec::new(),
        conditions_policy: ConditionsPolicy::Always,
        actions: Actions { suppress: true, ..Actions::default() },
        options: Options::default(),
        tags: Default::default(),
        resource_group: ResourceGroup::Project,
        project_id: Some(project),
        webhook_id,
        workspace_id: String::new(),
        schedule: Some(schedule),
    };
    if duration <= Duration::zero() {
        return Err(Error::invalid("--for must be longer than nothing (90s, 30m, 1h30m, 2d)."));
    }
    let rule = create_in(app, &domain, new).await?;
    emit(&rule_info(&rule), output, print_record);
    Ok(())
}
