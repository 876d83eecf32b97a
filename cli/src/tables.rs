//! `eventctl tables create|schema`. create is for DynamoDB Local: SAM creates a
//! deployed stack's tables, and create's index changes on those would drift the stack
//! and rebuild indexes the functions are reading. So it refuses, unless `--force`, when
//! the tables are AWS's (no local endpoint) or carry a stack's tag.

use clap::Subcommand;
use event_core::service::App;
use event_core::{Error, Result};

use crate::output::{print_tables, Output};

#[derive(Subcommand)]
pub enum TablesCommand {
    /// Create any missing table and bring indexes in line (idempotent); for DynamoDB
    /// Local. Refuses a deployed stack's tables without --force.
    Create {
        /// Change the tables even though they are a deployed stack's.
        #[arg(long)]
        force: bool,
    },
    /// Print the tables' keys, indexes and TTL as CloudFormation properties.
    Schema,
}

pub fn print_schema() {
    println!("{:#}", event_core::store::schema::cloudformation());
}

pub async fn create(app: &App, force: bool, output: Output) -> Result<()> {
    if !force {
        if let Some(reason) = deployed(app).await? {
            return Err(Error::PermissionDenied(format!(
                "not changing the tables: {reason}. SAM manages a deployed stack's tables \
                 (`make deploy`); pass --force to change them anyway"
            )));
        }
    }
    let changed = app.store.create_tables().await?;
    print_tables(&changed, output);
    Ok(())
}

/// Why the tables look like a deployed stack's, if they do.
async fn deployed(app: &App) -> Result<Option<String>> {
    let endpoint = app.store.endpoint_url();
    if !endpoint.as_deref().is_some_and(is_local) {
        let shown = endpoint.unwrap_or_else(|| "AWS's own (AWS_ENDPOINT_URL_DYNAMODB is not set)".into());
        return Ok(Some(format!("the DynamoDB endpoint is {shown}, not a local one")));
    }
    let tagged = app.store.stack_tables().await?;
    Ok(tagged.first().map(|t| format!("table {} belongs to stack {}", t.table, t.stack)))
}

/// An endpoint on this machine (DynamoDB Local, or a tunnel someone set up on purpose).
fn is_local(endpoint: &str) -> bool {
    let host = endpoint.split("://").nth(1).unwrap_or(endpoint);
    let host = host.split(['/', '?']).next().unwrap_or(host);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
    };
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_endpoints_are_local() {
        assert!(is_local("http://127.0.0.1:8000"));
        assert!(is_local("http://localhost:8000/"));
        assert!(is_local("http://[::1]:8000"));
        assert!(!is_local("https://dynamodb.us-east-1.amazonaws.com"));
        assert!(!is_local("http://10.0.0.5:8000"));
        assert!(!is_local("http://localhost.example.com:8000"));
    }
}
