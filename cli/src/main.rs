//! eventctl: operator CLI of the Event service (webhooks, events, alerts, rollups,
//! tables) and its local server. It reaches DynamoDB through the service's own store and
//! service code, so `AWS_ENDPOINT_URL_DYNAMODB` points it at DynamoDB Local exactly as
//! it points the Lambdas.

mod alerts;
mod events;
mod failure;
mod maintenance;
mod output;
mod rollups;
mod search;
mod tables;
mod webhook;

use eventctl::serve;

use std::net::SocketAddr;

use clap::{Parser, Subcommand};
use event_core::service::App;

use crate::failure::Failure;
pub use crate::output::Output;
use crate::tables::TablesCommand;

#[derive(Parser)]
#[command(
    name = "eventctl",
    version,
    about = "Operate the Event service: webhooks, events, alerts, rollups, tables, local server",
    after_help = concat!(
        "Storage: the AWS SDK's standard configuration (AWS_PROFILE or AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY, AWS_REGION; AWS_ENDPOINT_URL_DYNAMODB for DynamoDB Local) and \
         the functions' table names (EVENTS_TABLE, WEBHOOKS_TABLE, ALERTS_TABLE, ROLLUPS_TABLE).\n\n\
         Results go to stdout, logs and warnings to stderr (RUST_LOG sets their level).\n\n",
        "Exit codes: 0 done; 1 failed (storage unreachable, credentials or tables missing, a \
         refusal such as `tables create` on a deployed stack); 2 usage (a flag, value or query \
         the service refuses); 3 not found (no such webhook, event or alert in the domain)."
    )
)]
struct Cli {
    /// How results are printed: aligned columns, or the API's answer as JSON or YAML.
    #[arg(long, value_enum, default_value_t = Output::Text, global = true)]
    output: Output,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create and manage webhooks, the monitors' entry points.
    #[command(subcommand)]
    Webhook(webhook::WebhookCommand),
    /// Read a domain's events: list, get, stat.
    #[command(subcommand)]
    Events(events::EventsCommand),
    /// Read a domain's alerts: list, get, stat.
    #[command(subcommand)]
    Alerts(alerts::AlertsCommand),
    /// Maintenance windows: suppress a project's alerts for a while.
    #[command(subcommand)]
    Maintenance(maintenance::MaintenanceCommand),
    /// Check rollups against a recount of a domain's events, and repair them.
    #[command(subcommand)]
    Rollups(rollups::RollupsCommand),
    /// Create the tables (for DynamoDB Local; SAM creates them in AWS), or print their schema.
    #[command(subcommand)]
    Tables(TablesCommand),
    /// Serve every documented route on the same handlers as the Lambdas.
    Serve {
        /// Where to listen.
        #[arg(long, env = "ADDR", default_value = "127.0.0.1:3000")]
        addr: SocketAddr,
        /// Create missing tables and a demo webhook before serving.
        #[arg(long)]
        demo: bool,
    },
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    event_core::logging::init();
    if let Err(failure) = run(cli).await {
        if let Some(cause) = &failure.cause {
            tracing::debug!(code = cause.code(), error = %cause, "the command failed");
        }
        eprintln!("eventctl: {}", failure.message);
        std::process::exit(failure.code);
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let output = cli.output;
    // The schema needs no storage (scripts/check-template.sh runs it without any).
    let command = match cli.command {
        Command::Tables(TablesCommand::Schema) => {
            tables::print_schema();
            return Ok(());
        }
        command => command,
    };
    let app = App::from_env().await?;
    let explain = |err| Failure::explain(err, &app.config.tables, app.store.endpoint_url().as_deref());
    match command {
        Command::Webhook(command) => webhook::run(&app, command, output).await.map_err(explain),
        Command::Events(command) => events::run(&app, command, output).await.map_err(explain),
        Command::Alerts(command) => alerts::run(&app, command, output).await.map_err(explain),
        Command::Rollups(command) => rollups::run(&app, command, output).await.map_err(explain),
        Command::Maintenance(command) => maintenance::run(&app, command, output).await.map_err(explain),
        Command::Tables(TablesCommand::Create { force }) => {
            tables::create(&app, force, output).await.map_err(explain)
        }
        Command::Tables(TablesCommand::Schema) => {
            tables::print_schema();
            Ok(())
        }
        Command::Serve { addr, demo } => serve::run(app.clone(), addr, demo).await.map_err(explain),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Commands and flags without help text, as `path flag`.
    fn undocumented(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if !["help", "version"].contains(&id) && arg.get_help().is_none() {
                missing.push(format!("{path} --{id}"));
            }
        }
        for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
            let path = format!("{path} {}", sub.get_name());
            if sub.get_about().is_none() {
                missing.push(path.clone());
            }
            undocumented(sub, &path, missing);
        }
    }

    #[test]
    fn every_command_and_flag_has_help() {
        let mut missing = Vec::new();
        undocumented(&Cli::command(), "eventctl", &mut missing);
        assert!(missing.is_empty(), "no help: {missing:#?}");
        Cli::command().debug_assert();
    }
}
