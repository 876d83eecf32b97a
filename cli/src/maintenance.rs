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

use crate::Output;

#[derive(Subcommand)]
pub enum MaintenanceCommand {
    /// Suppress a project's ALERTs from now for a while (RECOVERYs still resolve).
    Start {
        #[arg(long)]
        domain_id: String,
        #[arg(long)]
        project: String,
        /// How long: 90s, 30m, 2h, 1d.
        #[arg(long = "for", value_parser = parse_duration)]
        duration: Duration,
        /// Only this webhook's events.
        #[arg(long)]
        webhook_id: Option<String>,
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
    let rule = create_in(app, &domain, new).await?;
    match output {
        Output::Json => println!("{:#}", rule_info(&rule)),
        Output::Text => {
            let window =
                rule.schedule.as_ref().map(|s| format!("{} to {}", s.start, s.end)).unwrap_or_default();
            println!("{}  project {}  suppressing ALERTs {window}", rule.event_rule_id, rule.project_id);
        }
    }
    Ok(())
}

/// `90s`, `30m`, `2h`, `1d`.
fn parse_duration(text: &str) -> std::result::Result<Duration, Error> {
    let bad = || Error::invalid(format!("{text:?} is not a duration like 90s, 30m, 2h or 1d."));
    let (number, unit) = text.trim().split_at(text.trim().len().saturating_sub(1));
    let n: i64 = number.parse().map_err(|_| bad())?;
    let duration = match unit {
        "s" => Duration::seconds(n),
        "m" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        _ => return Err(bad()),
    };
    if n <= 0 {
        return Err(bad());
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_with_their_unit() {
        assert_eq!(parse_duration("2h").unwrap(), Duration::hours(2));
        assert_eq!(parse_duration("90s").unwrap(), Duration::seconds(90));
        assert!(parse_duration("2").is_err());
        assert!(parse_duration("0m").is_err());
        assert!(parse_duration("h").is_err());
    }
}
