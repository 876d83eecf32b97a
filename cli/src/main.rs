//! eventctl: operator CLI of the Event service (webhooks, tables) and its local server.
//! It reaches DynamoDB through the service's own store, so `AWS_ENDPOINT_URL_DYNAMODB`
//! points it at DynamoDB Local exactly as it points the Lambdas.

mod maintenance;
mod output;
mod rollups;
mod webhook;

use eventctl::serve;

use std::net::SocketAddr;

use clap::{Parser, Subcommand, ValueEnum};
use event_core::service::App;

#[derive(Parser)]
#[command(
    name = "eventctl",
    version,
    about = "Operate the Event service: webhooks, rollups, tables, local server"
)]
struct Cli {
    /// How results are printed.
    #[arg(long, value_enum, default_value_t = Output::Text, global = true)]
    output: Output,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Create and manage webhooks, the monitors' entry points.
    #[command(subcommand)]
    Webhook(webhook::WebhookCommand),
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
        #[arg(long, env = "ADDR", default_value = "127.0.0.1:3000")]
        addr: SocketAddr,
        /// Create missing tables and a demo webhook before serving.
        #[arg(long)]
        demo: bool,
    },
}

#[derive(Subcommand)]
enum TablesCommand {
    /// Create any missing table (idempotent).
    Create,
    /// Print the tables' keys, indexes and TTL as CloudFormation properties.
    Schema,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    event_core::logging::init();
    if let Err(err) = run(cli).await {
        eprintln!("eventctl: {err}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> event_core::Result<()> {
    if let Command::Tables(TablesCommand::Schema) = cli.command {
        println!("{:#}", event_core::store::schema::cloudformation());
        return Ok(());
    }
    let app = App::from_env().await?;
    match cli.command {
        Command::Webhook(command) => webhook::run(&app, command, cli.output).await,
        Command::Rollups(command) => rollups::run(&app, command, cli.output).await,
        Command::Maintenance(command) => maintenance::run(&app, command, cli.output).await,
        Command::Tables(_) => {
            let changed = app.store.create_tables().await?;
            output::print_tables(&changed, cli.output);
            Ok(())
        }
        Command::Serve { addr, demo } => serve::run(app, addr, demo).await,
    }
}
