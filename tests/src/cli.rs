//! Runs the real `eventctl` binary, as an operator would, against a test's tables on
//! the tests' DynamoDB Local.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use event_core::config::Tables;
use event_core::service::App;
use serde_json::Value;

/// What one run of eventctl did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout as JSON, after checking the run succeeded.
    pub fn json(&self) -> Value {
        assert_eq!(self.code, 0, "eventctl failed: {self:?}");
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }
}

/// The eventctl binary of this checkout, built once per test process (cargo builds a
/// package's binaries only for its own tests, and e2e uses eventctl as a library).
pub fn binary() -> &'static PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let built = Command::new(cargo)
            .args(["build", "--quiet", "-p", "eventctl", "--bin", "eventctl", "--message-format=json"])
            .current_dir(crate::repo_root())
            .output()
            .expect("cargo runs");
        assert!(built.status.success(), "eventctl builds: {}", String::from_utf8_lossy(&built.stderr));
        String::from_utf8_lossy(&built.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find_map(|m| {
                (m["target"]["name"] == "eventctl").then(|| m["executable"].as_str().map(PathBuf::from))?
            })
            .expect("cargo names the eventctl executable")
    })
}

/// The variables that name `tables` to eventctl, as the functions read them.
pub fn tables_env(tables: &Tables) -> [(&'static str, Option<&str>); 5] {
    [
        ("EVENTS_TABLE", Some(&tables.events)),
        ("WEBHOOKS_TABLE", Some(&tables.webhooks)),
        ("ALERTS_TABLE", Some(&tables.alerts)),
        ("ROLLUPS_TABLE", Some(&tables.rollups)),
        ("EVENT_RULES_TABLE", Some(&tables.event_rules)),
    ]
}

/// eventctl with these arguments, over `app`'s tables, with `env` set on top
/// (`("NAME", None)` removes a variable).
pub fn eventctl_with(app: &App, args: &[&str], env: &[(&str, Option<&str>)]) -> Run {
    let mut command = Command::new(binary());
    command
        .args(args)
        .env("AWS_ENDPOINT_URL_DYNAMODB", crate::endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env_remove("RUST_LOG")
        .env_remove("EVENTCTL_DOMAIN_ID");
    for (name, value) in tables_env(&app.config.tables).iter().chain(env) {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let out = command.output().expect("eventctl runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn eventctl(app: &App, args: &[&str]) -> Run {
    eventctl_with(app, args, &[])
}
