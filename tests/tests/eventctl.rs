//! eventctl for daily use, driven as an operator drives it: the real binary, its
//! stdout, stderr and exit code, over a test's tables on DynamoDB Local. Its reads
//! answer what the functions answer for the same request (they share decoder and
//! service code), another domain's data stays out, and its failures are one line that
//! says what to do.

use e2e::cli::{eventctl, eventctl_with, tables_env};
use e2e::*;
use event_core::api::Endpoint;
use event_core::model::WebhookFormat;
use event_core::service::webhooks::IssuedKey;
use event_core::service::App;
use serde_json::{json, Value};

const OTHER_DOMAIN: &str = "domain-0be1ce0f0a1e";

async fn deliver(app: &App, key: &IssuedKey, body: Value) {
    let req =
        ApiEvent::new(Gateway::Http, "create").route("POST", &webhook_path(key)).body(&body.to_string());
    let (status, answer) = parts(event_create::handle(app, req.request()).await);
    assert_eq!(status, 200, "{answer}");
}

/// Three events of two alerts in DOMAIN, one in OTHER_DOMAIN.
async fn stocked() -> (App, IssuedKey) {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    for (n, (event_key, severity)) in
        [("disk", "CRITICAL"), ("disk", "CRITICAL"), ("cpu", "WARNING")].iter().enumerate()
    {
        let body = json!({"title": format!("{event_key} high"), "severity": severity, "event_key": event_key,
                          "description": format!("report {n}"),
                          "event_type": "ALERT", "resource": {"resource_id": "server-1"}, "provider": "prometheus"});
        deliver(&app, &key, body).await;
    }
    let other = webhook_in(&app, WebhookFormat::Standard, OTHER_DOMAIN, PROJECT).await;
    deliver(&app, &other, json!({"title": "elsewhere", "severity": "CRITICAL", "event_key": "disk"})).await;
    (app, key)
}

async fn call_list(app: &App, body: Value) -> Value {
    let req = ApiEvent::new(Gateway::Rest, "list")
        .route("POST", &Endpoint::EventsSearch.path(&[]))
        .body(&body.to_string());
    let (status, answer) = parts(event_list::handle(app, req.request()).await);
    assert_eq!(status, 200, "{answer}");
    answer
}

fn no_debug_dump(stderr: &str) {
    assert_eq!(stderr.lines().filter(|l| l.starts_with("eventctl: ")).count(), 1, "one line: {stderr}");
    for internal in ["ServiceError", "SdkBody", "ErrorMetadata", "dispatch failure", "Response {"] {
        assert!(!stderr.contains(internal), "no SDK internals ({internal}): {stderr}");
    }
}

#[tokio::test]
async fn events_list_get_and_stat_answer_what_the_functions_answer() {
    let (app, _) = stocked().await;
    let cli = eventctl(
        &app,
        &["events", "list", "--domain-id", DOMAIN, "--severity", "CRITICAL", "--output", "json"],
    );
    let api = call_list(
        &app,
        json!({"domain_id": DOMAIN, "severity": "CRITICAL", "query": {"page": {"limit": 20}}}),
    )
    .await;
    assert_eq!(cli.json(), api);
    assert_eq!(api["total_count"], 2, "{api}");

    // The query language, as --query and --filter, and --since as a created_at bound.
    let query = r#"{"filter": [{"k": "title", "v": "cpu", "o": "contain"}]}"#;
    let filter = r#"{"k": "severity", "v": ["WARNING", "ERROR"], "o": "in"}"#;
    let page = eventctl(
        &app,
        &[
            "events",
            "list",
            "--domain-id",
            DOMAIN,
            "--query",
            query,
            "--filter",
            filter,
            "--since",
            "1h30m",
            "--output",
            "json",
        ],
    )
    .json();
    assert_eq!(page["total_count"], 1, "{page}");
    assert_eq!(page["results"][0]["title"], "cpu high");

    // Pages with next_token, as the API pages.
    let first = eventctl(
        &app,
        &["events", "list", "--domain-id", DOMAIN, "--limit", "2", "--next-token", "", "--output", "json"],
    )
    .json();
    assert_eq!(first["results"].as_array().unwrap().len(), 2, "{first}");
    let token = first["next_token"].as_str().expect("a next page");
    let second =
        eventctl(&app, &["events", "list", "--domain-id", DOMAIN, "--next-token", token, "--output", "json"])
            .json();
    assert_eq!(second["results"].as_array().unwrap().len(), 1, "{second}");

    // get: the event as the get function answers it; another domain's is not found.
    let event_id = api["results"][0]["event_id"].as_str().unwrap();
    let got = eventctl(&app, &["events", "get", event_id, "--domain-id", DOMAIN, "--output", "json"]).json();
    let req = ApiEvent::new(Gateway::Rest, "get")
        .route("GET", &Endpoint::EventById.path(&[event_id]))
        .query(&[("domain_id", DOMAIN)]);
    assert_eq!(got, parts(event_get::handle(&app, req.request()).await).1);
    let hidden = eventctl(&app, &["events", "get", event_id, "--domain-id", OTHER_DOMAIN]);
    assert_eq!(hidden.code, 3, "{hidden:?}");
    assert!(hidden.stderr.contains("not found"), "{hidden:?}");
    assert!(hidden.stdout.is_empty(), "{hidden:?}");

    // stat: the StatisticsQuery the stat function takes.
    let stat = r#"{"aggregate": [{"group": {"keys": [{"key": "severity", "name": "severity"}],
                  "fields": [{"name": "n", "operator": "count"}]}}, {"sort": {"key": "n", "desc": true}}]}"#;
    let counts =
        eventctl(&app, &["events", "stat", "--domain-id", DOMAIN, "--query", stat, "--output", "json"])
            .json();
    assert_eq!(counts["results"], json!([{"severity": "CRITICAL", "n": 2}, {"severity": "WARNING", "n": 1}]));

    // Another domain's events stay out of a list.
    let other = eventctl(&app, &["events", "list", "--domain-id", OTHER_DOMAIN, "--output", "json"]).json();
    assert_eq!(other["total_count"], 1, "{other}");
    assert_eq!(other["results"][0]["title"], "elsewhere");
}

#[tokio::test]
async fn tables_line_up_and_yaml_says_the_same() {
    let (app, _) = stocked().await;
    let table =
        eventctl(&app, &["events", "list", "--domain-id", DOMAIN, "--only", "event_id,severity,title"]);
    assert_eq!(table.code, 0, "{table:?}");
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert!(lines[0].starts_with("EVENT_ID"), "{}", table.stdout);
    let column = lines[0].find("SEVERITY").unwrap();
    for row in &lines[1..4] {
        let value = &row[column..];
        assert!(value.starts_with("CRITICAL") || value.starts_with("WARNING"), "aligned: {}", table.stdout);
    }
    assert_eq!(lines[4], "3 of 3 shown", "{}", table.stdout);

    let yaml =
        eventctl(&app, &["events", "list", "--domain-id", DOMAIN, "--only", "title", "--output", "yaml"]);
    assert_eq!(yaml.code, 0, "{yaml:?}");
    assert!(yaml.stdout.contains("total_count: 3"), "{}", yaml.stdout);
    assert!(yaml.stdout.contains("- title: cpu high"), "{}", yaml.stdout);
}

#[tokio::test]
async fn alerts_list_and_get_answer_what_the_alert_api_answers() {
    let (app, _) = stocked().await;
    let cli = eventctl(
        &app,
        &["alerts", "list", "--domain-id", DOMAIN, "--state", "TRIGGERED", "--output", "json"],
    );
    let body = json!({"domain_id": DOMAIN, "state": "TRIGGERED", "query": {"page": {"limit": 20}}});
    let req = ApiEvent::new(Gateway::Rest, "alerts")
        .route("POST", &Endpoint::AlertList.path(&[]))
        .body(&body.to_string());
    let (status, api) = parts(event_alerts::handle(&app, req.request()).await);
    assert_eq!(status, 200, "{api}");
    assert_eq!(cli.json(), api);
    assert_eq!(api["total_count"], 2, "one alert per event_key: {api}");

    let alert_id = api["results"][0]["alert_id"].as_str().unwrap();
    let got = eventctl(&app, &["alerts", "get", alert_id, "--domain-id", DOMAIN, "--output", "json"]).json();
    let req = ApiEvent::new(Gateway::Rest, "alerts")
        .route("GET", &Endpoint::AlertById.path(&[alert_id]))
        .query(&[("domain_id", DOMAIN)]);
    assert_eq!(got, parts(event_alerts::handle(&app, req.request()).await).1);
    let elsewhere = eventctl(&app, &["alerts", "get", alert_id, "--domain-id", OTHER_DOMAIN]);
    assert_eq!(elsewhere.code, 3, "{elsewhere:?}");

    let table = eventctl(&app, &["alerts", "list", "--domain-id", DOMAIN]);
    assert!(table.stdout.starts_with("ALERT_ID"), "{table:?}");
}

#[tokio::test]
async fn webhook_update_changes_what_get_shows() {
    let app = app().await;
    let created = eventctl(
        &app,
        &[
            "webhook",
            "create",
            "--name",
            "prom",
            "--domain-id",
            DOMAIN,
            "--project-id",
            PROJECT,
            "--output",
            "json",
        ],
    )
    .json();
    let id = created["webhook_id"].as_str().unwrap();
    assert!(created["access_key"].as_str().is_some_and(|k| !k.is_empty()), "{created}");

    let updated = eventctl(
        &app,
        &[
            "webhook",
            "update",
            id,
            "--name",
            "prom-prod",
            "--format",
            "alertmanager",
            "--tag",
            "env=prod",
            "--auto-resolve-after",
            "1h30m",
            "--max-deliveries-per-minute",
            "600",
            "--sns-topic-arn",
            "arn:aws:sns:us-east-1:123456789012:alarms",
            "--require-sns-signature-v2",
            "true",
            "--project-id",
            "project-moved",
            "--heartbeat",
            "5m",
            "--count-requests",
            "true",
            "--output",
            "json",
        ],
    )
    .json();
    let shown = eventctl(&app, &["webhook", "get", id, "--output", "json"]).json();
    assert_eq!(
        (shown["heartbeat_seconds"].clone(), shown["count_requests"].clone()),
        (json!(300), json!(true))
    );
    assert_eq!(updated, shown);
    assert_eq!(shown["name"], "prom-prod");
    assert_eq!(shown["format"], "alertmanager");
    assert_eq!(shown["tags"], json!({"env": "prod"}));
    assert_eq!(shown["auto_resolve_after_seconds"], 5400);
    assert_eq!(shown["max_deliveries_per_minute"], 600);
    assert_eq!(shown["project_id"], "project-moved");
    assert_eq!(
        shown["plugin_info"]["options"],
        json!({"verify_sns_signature": true, "require_sns_signature_v2": true,
               "sns_topic_arns": ["arn:aws:sns:us-east-1:123456789012:alarms"]})
    );
    for field in ["state", "created_at", "workspace_id", "domain_id", "requests", "previous_key_valid_until"]
    {
        assert!(shown.get(field).is_some(), "get shows {field}: {shown}");
    }
    // The table view shows every one of those fields, a line each.
    let table = eventctl(&app, &["webhook", "get", id]);
    for field in shown.as_object().unwrap().keys() {
        assert!(table.stdout.lines().any(|l| l.starts_with(field.as_str())), "{field}: {}", table.stdout);
    }

    // Clearing, and what the service refuses.
    let cleared = eventctl(
        &app,
        &[
            "webhook",
            "update",
            id,
            "--no-tags",
            "--auto-resolve-after",
            "0s",
            "--any-sns-topic",
            "--output",
            "json",
        ],
    )
    .json();
    assert_eq!(cleared["tags"], json!({}));
    assert_eq!(cleared["auto_resolve_after_seconds"], Value::Null);
    assert_eq!(cleared["plugin_info"]["options"]["sns_topic_arns"], json!([]));
    let refused = eventctl(&app, &["webhook", "update", id, "--format", "carrier-pigeon"]);
    assert_eq!(refused.code, 2, "{refused:?}");
    no_debug_dump(&refused.stderr);
    let nothing = eventctl(&app, &["webhook", "update", id]);
    assert_eq!(nothing.code, 2, "{nothing:?}");
    assert!(nothing.stderr.contains("Nothing to update"), "{nothing:?}");
    let missing = eventctl(&app, &["webhook", "update", "webhook-000000000000", "--name", "x"]);
    assert_eq!(missing.code, 3, "{missing:?}");
    let bad_duration = eventctl(&app, &["webhook", "update", id, "--auto-resolve-after", "1 fortnight"]);
    assert_eq!(bad_duration.code, 2, "clap's usage error: {bad_duration:?}");
}

#[tokio::test]
async fn failures_are_one_line_that_says_what_to_do() {
    let app = app().await;
    let list = ["events", "list", "--domain-id", DOMAIN, "--output", "json"];

    let no_table = eventctl_with(&app, &list, &[("EVENTS_TABLE", Some("events-never-created"))]);
    assert_eq!(no_table.code, 1, "{no_table:?}");
    assert!(no_table.stderr.contains("eventctl tables create"), "{no_table:?}");
    assert!(no_table.stderr.contains("events-never-created"), "{no_table:?}");
    assert!(no_table.stdout.is_empty(), "{no_table:?}");
    no_debug_dump(&no_table.stderr);

    // Nothing anywhere the SDK looks for credentials: no variables, empty files, no
    // instance metadata.
    let home = std::env::temp_dir().join(format!("eventctl-no-credentials-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let empty = home.join("empty");
    std::fs::write(&empty, "").unwrap();
    let empty = empty.to_str().unwrap();
    let no_credentials = eventctl_with(
        &app,
        &list,
        &[
            ("AWS_ACCESS_KEY_ID", None),
            ("AWS_SECRET_ACCESS_KEY", None),
            ("AWS_SESSION_TOKEN", None),
            ("AWS_PROFILE", None),
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", None),
            ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", None),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", None),
            ("AWS_EC2_METADATA_DISABLED", Some("true")),
            ("AWS_CONFIG_FILE", Some(empty)),
            ("AWS_SHARED_CREDENTIALS_FILE", Some(empty)),
            ("HOME", Some(home.to_str().unwrap())),
        ],
    );
    assert_eq!(no_credentials.code, 1, "{no_credentials:?}");
    assert!(no_credentials.stderr.contains("no AWS credentials"), "{no_credentials:?}");
    no_debug_dump(&no_credentials.stderr);

    let unreachable =
        eventctl_with(&app, &list, &[("AWS_ENDPOINT_URL_DYNAMODB", Some("http://127.0.0.1:9"))]);
    assert_eq!(unreachable.code, 1, "{unreachable:?}");
    assert!(unreachable.stderr.contains("DynamoDB did not answer"), "{unreachable:?}");
    no_debug_dump(&unreachable.stderr);

    let bad_query = eventctl(&app, &["events", "list", "--domain-id", DOMAIN, "--query", r#"{"filter": 7}"#]);
    assert_eq!(bad_query.code, 2, "{bad_query:?}");
    no_debug_dump(&bad_query.stderr);

    let usage = eventctl(&app, &["events", "list"]);
    assert_eq!(usage.code, 2, "--domain-id is required: {usage:?}");

    let help = eventctl(&app, &["--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("Exit codes: 0 done; 1 failed"), "{}", help.stdout);
}

#[tokio::test]
async fn warnings_go_to_stderr_and_leave_json_on_stdout_whole() {
    let app = app().await;
    let created = eventctl(
        &app,
        &[
            "webhook",
            "create",
            "--name",
            "w",
            "--domain-id",
            DOMAIN,
            "--project-id",
            PROJECT,
            "--output",
            "json",
        ],
    )
    .json();
    let id = created["webhook_id"].as_str().unwrap();
    // Without its rollups table, get's count of stored events fails: a warning, and
    // the webhook is still shown.
    let run = eventctl_with(
        &app,
        &["webhook", "get", id, "--output", "json"],
        &[("ROLLUPS_TABLE", Some("rollups-never-created")), ("READ_ROLLUPS", Some("true"))],
    );
    assert_eq!(run.json()["webhook_id"], id);
    assert!(run.stderr.contains("WARN") && run.stderr.contains("unavailable"), "{run:?}");
}

#[tokio::test]
async fn tables_create_refuses_a_deployed_stack_s_tables_without_force() {
    let app = app_with(|_| {}).await;
    // No local endpoint: AWS's tables, a deployed stack's. Refused before any call.
    for endpoint in [None, Some("https://dynamodb.us-east-1.amazonaws.com")] {
        let run = eventctl_with(&app, &["tables", "create"], &[("AWS_ENDPOINT_URL_DYNAMODB", endpoint)]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains("--force") && run.stderr.contains("not a local one"), "{run:?}");
        assert!(run.stdout.is_empty(), "{run:?}");
        no_debug_dump(&run.stderr);
    }
    // DynamoDB Local: created, then nothing left to change.
    let fresh = test_config();
    let env = tables_env(&fresh.tables);
    let created = eventctl_with(&app, &["tables", "create", "--output", "json"], &env);
    assert_eq!(created.json()["changed"].as_array().map(Vec::len), Some(5), "{created:?}");
    let again = eventctl_with(&app, &["tables", "create", "--output", "json"], &env);
    assert_eq!(again.json(), json!({"changed": []}));
}

/// moto's server (scripts/python-tools.sh installs it; scripts/test.sh does before the
/// tests), on a free loopback port, stopped when dropped.
struct Moto {
    child: std::process::Child,
    endpoint: String,
}

impl Moto {
    fn start() -> Moto {
        let server = repo_root().join(".local/moto/bin/moto_server");
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).unwrap().port();
        let child = std::process::Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{} must be installed (scripts/python-tools.sh moto_server): {e}", server.display())
            });
        let moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}") };
        for _ in 0..300 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return moto;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("moto_server did not start on port {port}");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// The guard's other half, which DynamoDB Local cannot show (it has no tags): on a local
/// endpoint, tables that carry CloudFormation's stack tag are refused without --force.
/// Against moto, an AWS API emulator that keeps tags.
#[tokio::test]
async fn tables_create_refuses_tables_a_stack_tagged_even_on_a_local_endpoint() {
    let app = app_with(|_| {}).await;
    let moto = Moto::start();
    let names = test_config().tables;
    let mut env = tables_env(&names).to_vec();
    env.push(("AWS_ENDPOINT_URL_DYNAMODB", Some(moto.endpoint.as_str())));
    let created = eventctl_with(&app, &["tables", "create", "--output", "json"], &env);
    assert_eq!(created.json()["changed"].as_array().map(Vec::len), Some(5), "untagged: created {created:?}");

    // CloudFormation's tag on one table, as `sam deploy` leaves it: the last one checked.
    let client = dynamodb_at(&moto.endpoint, &test_config());
    let described = client.describe_table().table_name(&names.event_rules).send().await.unwrap();
    let arn = described.table().and_then(|t| t.table_arn()).unwrap().to_string();
    let tag = aws_sdk_dynamodb::types::Tag::builder()
        .key("aws:cloudformation:stack-name")
        .value("event-service")
        .build()
        .unwrap();
    client.tag_resource().resource_arn(&arn).tags(tag).send().await.unwrap();
    let refused = eventctl_with(&app, &["tables", "create"], &env);
    assert_eq!(refused.code, 1, "{refused:?}");
    let said = format!("table {} belongs to stack event-service", names.event_rules);
    assert!(refused.stderr.contains(&said) && refused.stderr.contains("--force"), "{refused:?}");
    assert!(refused.stdout.is_empty(), "{refused:?}");
    no_debug_dump(&refused.stderr);

    let forced = eventctl_with(&app, &["tables", "create", "--force", "--output", "json"], &env);
    assert_eq!(forced.json(), json!({"changed": []}), "--force goes on, and finds nothing to change");
}
