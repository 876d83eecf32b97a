//! list and stat on every documented route, through API Gateway v1 and v2 events.

use e2e::*;
use event_core::model::WebhookFormat;
use event_core::service::App;
use event_core::store::Store;
use serde_json::{json, Value};

async fn create(app: &App, path: &str, body: &str) {
    let req = ApiEvent::new(Gateway::Http, "create").route("POST", path).body(body).request();
    let (status, body) = parts(event_create::handle(app, req).await);
    assert_eq!(status, 200, "{body}");
}

async fn list_post(app: &App, gateway: Gateway, path: &str, body: Value) -> (u16, Value) {
    let req = ApiEvent::new(gateway, "list").route("POST", path).body(&body.to_string()).request();
    parts(event_list::handle(app, req).await)
}

async fn stat(app: &App, gateway: Gateway, path: &str, body: Value) -> (u16, Value) {
    let req = ApiEvent::new(gateway, "stat").route("POST", path).body(&body.to_string()).request();
    parts(event_stat::handle(app, req).await)
}

/// A stat of the test domain on the current route.
async fn stat_of(app: &App, query: Value) -> (u16, Value) {
    stat(app, Gateway::Http, "/monitoring/v1/event/stat", json!({"query": query, "domain_id": DOMAIN})).await
}

/// The seed's two bastion events, glee first (seed 001 lists the newer one first).
async fn seeded() -> App {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    create(&app, &webhook_path(&key), &fixture("standard/bastion-ssh-glee.json")).await;
    create(&app, &webhook_path(&key), &fixture("standard/bastion-ssh-spaceoneadm.json")).await;
    app
}

/// `n` ERROR events titled "big 0", "big 1"…, each with `bytes` of raw_data.
async fn big_events(app: &App, n: usize, bytes: usize) {
    let key = webhook(app, WebhookFormat::Standard).await;
    for i in 0..n {
        let body = json!({"title": format!("big {i}"), "severity": "ERROR", "blob": "x".repeat(bytes)});
        create(app, &webhook_path(&key), &body.to_string()).await;
    }
}

fn keys(body: &Value) -> Vec<&str> {
    body["results"].as_array().unwrap().iter().map(|e| e["event_key"].as_str().unwrap()).collect()
}

const SPACEONEADM: &str = "cfbdd0cee08f0f2664dbef297c370017";
const GLEE: &str = "abc16e5455c26ab7611bf8aa8d1020cc";

#[tokio::test]
async fn seed_001_list_example_answers_both_events_newest_first_on_every_route() {
    let app = seeded().await;
    for gateway in GATEWAYS {
        for path in ["/monitoring/v1/events/search", "/monitoring/v1/event/list"] {
            let (status, body) =
                list_post(&app, gateway, path, json!({"query": {}, "domain_id": DOMAIN})).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["total_count"], json!(2));
            assert_eq!(keys(&body), [SPACEONEADM, GLEE]);
            let first = &body["results"][0];
            assert_eq!(first["additional_info"], json!({"host": "[]", "user": "spaceoneadm"}));
            assert_eq!(first["resource"]["resource_id"], json!("server-1187737cc0d9"));
        }
        let req = ApiEvent::new(gateway, "list")
            .route("GET", "/monitoring/v1/events")
            .query(&[("domain_id", DOMAIN), ("query", r#"{"page": {"limit": 1}}"#)])
            .request();
        let (status, body) = parts(event_list::handle(&app, req).await);
        assert_eq!(status, 200, "{body}");
        assert_eq!((keys(&body), &body["total_count"]), (vec![SPACEONEADM], &json!(2)));
    }
}

#[tokio::test]
async fn exact_fields_filters_keyword_and_count_only_narrow_the_list() {
    let app = seeded().await;
    let path = "/monitoring/v1/event/list";
    let (_, body) =
        list_post(&app, Gateway::Rest, path, json!({"domain_id": DOMAIN, "event_key": GLEE})).await;
    assert_eq!(keys(&body), [GLEE]);
    let filter = json!({"filter": [{"k": "additional_info.user", "v": "spaceoneadm", "o": "eq"}]});
    let (_, body) = list_post(&app, Gateway::Http, path, json!({"domain_id": DOMAIN, "query": filter})).await;
    assert_eq!(keys(&body), [SPACEONEADM]);
    let filter = json!({"filter": [{"k": "additional_info.user", "v": "SPACEONEADM", "o": "eq"}]});
    let (_, body) = list_post(&app, Gateway::Http, path, json!({"domain_id": DOMAIN, "query": filter})).await;
    assert_eq!(body["total_count"], json!(0), "eq is exact, as in python-core");
    let (_, body) =
        list_post(&app, Gateway::Http, path, json!({"domain_id": DOMAIN, "query": {"keyword": "bastion"}}))
            .await;
    assert_eq!(body["total_count"], json!(2));
    let (_, body) =
        list_post(&app, Gateway::Http, path, json!({"domain_id": DOMAIN, "query": {"count_only": true}}))
            .await;
    assert_eq!(body["total_count"], json!(2));
    let (_, body) =
        list_post(&app, Gateway::Http, path, json!({"domain_id": "domain-other", "query": {}})).await;
    assert_eq!(body["total_count"], json!(0), "another domain sees nothing");
}

#[tokio::test]
async fn malformed_queries_are_400s_that_name_the_problem() {
    let app = seeded().await;
    let path = "/monitoring/v1/event/list";
    let bad = json!({"domain_id": DOMAIN, "query": {"filter": [{"k": "severity", "v": "INFO", "o": "eqq"}]}});
    let (status, body) = list_post(&app, Gateway::Rest, path, bad).await;
    assert_eq!((status, error_code(status, &body).as_str()), (400, "ERROR_INVALID_ARGUMENT"));
    assert!(body["error"]["message"].as_str().unwrap().contains("eqq"), "{body}");
    let (status, body) =
        list_post(&app, Gateway::Rest, path, json!({"domain_id": DOMAIN, "colour": "red"})).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("colour"), "{body}");
    let (status, body) =
        stat(&app, Gateway::Http, "/monitoring/v1/event/stat", json!({"domain_id": DOMAIN})).await;
    assert_eq!((status, error_code(status, &body).as_str()), (400, "ERROR_REQUIRED_PARAMETER"));
}

#[tokio::test]
async fn stat_counts_events_per_severity_on_both_routes() {
    let app = seeded().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    create(&app, &webhook_path(&key), &json!({"title": "disk", "severity": "CRITICAL"}).to_string()).await;
    let query = json!({
        "filter": [{"k": "created_at", "v": "2022-06-01T00:00:00Z", "o": "datetime_gte"}],
        "aggregate": [
            {"group": {"keys": [{"key": "severity", "name": "severity"}], "fields": [{"name": "count", "operator": "count"}]}},
            {"sort": {"key": "count", "desc": true}}
        ]
    });
    for gateway in GATEWAYS {
        for path in ["/monitoring/v1/events/stat", "/monitoring/v1/event/stat"] {
            let (status, body) =
                stat(&app, gateway, path, json!({"query": query, "domain_id": DOMAIN})).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(
                body["results"],
                json!([{"severity": "INFO", "count": 2}, {"severity": "CRITICAL", "count": 1}])
            );
        }
    }
    let by_day = json!({"aggregate": [
        {"group": {"keys": [{"key": "created_at", "name": "day", "date_format": "%Y-%m-%d"}],
                   "fields": [{"name": "count", "operator": "count"}]}}
    ]});
    let (status, body) =
        stat(&app, Gateway::Rest, "/monitoring/v1/event/stat", json!({"query": by_day, "domain_id": DOMAIN}))
            .await;
    assert_eq!(status, 200, "{body}");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(body["results"], json!([{"day": today, "count": 3}]));
}

#[tokio::test]
async fn stat_reads_raw_data_when_a_stage_names_it() {
    // stat drops raw_data from the events it holds unless a stage names it.
    let app = seeded().await;
    let by_user = json!({"aggregate": [
        {"group": {"keys": [{"key": "raw_data.additional_info.user", "name": "user"}],
                   "fields": [{"name": "count", "operator": "count"}]}},
        {"sort": {"key": "user"}}
    ]});
    let (status, body) = stat_of(&app, by_user).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["results"],
        json!([{"user": "glee@mz.co.kr", "count": 1}, {"user": "spaceoneadm", "count": 1}])
    );
}

#[tokio::test]
async fn next_token_pages_through_every_event_once() {
    let app = seeded().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    for n in 0..3 {
        create(&app, &webhook_path(&key), &json!({"title": format!("extra {n}")}).to_string()).await;
    }
    let path = "/monitoring/v1/event/list";
    let mut seen = Vec::new();
    let mut token = json!("");
    loop {
        let body = json!({"domain_id": DOMAIN, "query": {"page": {"limit": 2}}, "next_token": token});
        let (status, page) = list_post(&app, Gateway::Http, path, body).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.get("total_count").is_none(), "a cursor page does not count the range");
        seen.extend(keys(&page).into_iter().map(str::to_string));
        match page.get("next_token") {
            Some(next) => token = next.clone(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    assert_eq!(&seen[3..], [SPACEONEADM, GLEE], "newest first, oldest last");
    let forged = json!({"domain_id": DOMAIN, "next_token": "not-a-token"});
    let (status, body) = list_post(&app, Gateway::Rest, path, forged).await;
    assert_eq!((status, error_code(status, &body).as_str()), (400, "ERROR_INVALID_ARGUMENT"));
    let sorted = json!({"domain_id": DOMAIN, "next_token": "", "query": {"sort": {"key": "title"}}});
    assert_eq!(list_post(&app, Gateway::Rest, path, sorted).await.0, 400);
}

#[tokio::test]
async fn an_answer_too_large_for_lambda_is_a_400_that_says_how_to_ask_for_less() {
    let app = app().await;
    // 6.3 MB in one answer, past what a Lambda response carries.
    big_events(&app, 7, 900_000).await;
    let everything = json!({"query": {}, "domain_id": DOMAIN});
    let (status, body) = list_post(&app, Gateway::Http, "/monitoring/v1/event/list", everything).await;
    assert_eq!((status, error_code(status, &body).as_str()), (400, "ERROR_INVALID_ARGUMENT"));
    assert!(body["error"]["message"].as_str().unwrap().contains("page.limit"), "{body}");
    let fewer_fields = json!({"query": {"minimal": true}, "domain_id": DOMAIN});
    let (status, body) = list_post(&app, Gateway::Http, "/monitoring/v1/event/list", fewer_fields).await;
    assert_eq!((status, &body["total_count"]), (200, &json!(7)), "{body}");
}

#[tokio::test]
async fn a_range_that_outlasts_the_read_budget_is_refused_and_next_token_pages_end_early() {
    // A budget of 0 s lets every read fetch exactly one page of the index; six events of
    // 240 KB each fill two DynamoDB pages (1 MB each).
    let app = app_with(|config| config.read_budget_seconds = 0).await;
    big_events(&app, 6, 240_000).await;
    let path = "/monitoring/v1/event/list";
    // The event_key test keeps every read on the domain index, whose 1 MB pages hold four
    // of these events (the count index would hold them all in one page).
    let filter = json!([{"k": "event_key", "v": "none", "o": "not"}]);
    for query in [
        json!({}),
        json!({"filter": filter, "count_only": true}),
        json!({"filter": filter, "page": {"limit": 3}}),
    ] {
        let (status, body) =
            list_post(&app, Gateway::Http, path, json!({"query": query, "domain_id": DOMAIN})).await;
        assert_eq!((status, error_code(status, &body).as_str()), (400, "ERROR_INVALID_ARGUMENT"), "{query}");
        assert!(body["error"]["message"].as_str().unwrap().contains("next_token"), "{body}");
    }
    let per_severity = json!({"aggregate": [{"group": {"keys": [{"key": "severity", "name": "severity"}],
                                                       "fields": [{"name": "n", "operator": "count"}]}}]});
    assert_eq!(stat_of(&app, per_severity).await.0, 400);

    // Cursor pages stop at the budget with what they have, and the token goes on from
    // there: every event arrives once.
    let (mut seen, mut token, mut pages) = (Vec::new(), json!(""), 0);
    loop {
        let body = json!({"domain_id": DOMAIN, "query": {"page": {"limit": 10}}, "next_token": token});
        let (status, page) = list_post(&app, Gateway::Http, path, body).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        seen.extend(
            page["results"].as_array().unwrap().iter().map(|e| e["title"].as_str().unwrap().to_string()),
        );
        match page.get("next_token") {
            Some(next) => token = next.clone(),
            None => break,
        }
    }
    assert!(pages > 1, "a page of up to 10 was cut short by the budget");
    seen.sort();
    assert_eq!(seen, (0..6).map(|i| format!("big {i}")).collect::<Vec<_>>());
}

#[tokio::test]
async fn counts_and_narrow_stats_read_the_slim_count_index() {
    let app = app().await;
    // Events whose bulk is in a field the domain index holds (it leaves raw_data out).
    let key = webhook(&app, WebhookFormat::Standard).await;
    for i in 0..20 {
        let body =
            json!({"title": format!("big {i}"), "severity": "ERROR", "description": "x".repeat(4_000)});
        create(&app, &webhook_path(&key), &body.to_string()).await;
    }
    // Capacity units, as DynamoDB Local reports them, of one count_only.
    let count = |filter: Value| {
        let app = app.clone();
        async move {
            let before = app.store.consumed_capacity();
            let body = json!({"domain_id": DOMAIN, "query": {"filter": filter, "count_only": true}});
            let (status, body) = list_post(&app, Gateway::Http, "/monitoring/v1/event/list", body).await;
            assert_eq!((status, &body["total_count"]), (200, &json!(20)), "{body}");
            app.store.consumed_capacity() - before
        }
    };
    let slim = count(json!([{"k": "severity", "v": "ERROR"}])).await;
    // event_key is not in the count index, so this count reads the whole events.
    let whole = count(json!([{"k": "event_key", "v": "x", "o": "not"}])).await;
    assert!(slim * 10.0 <= whole, "the count index read {slim} units, the domain index {whole}");

    // So does a stat that groups and filters on what the index holds, with the same answer.
    let stat_by = |key: &str| {
        let app = app.clone();
        let query = json!({"aggregate": [{"group": {"keys": [{"key": key, "name": "k"}],
                                                    "fields": [{"name": "n", "operator": "count"}]}}]});
        async move {
            let before = app.store.consumed_capacity();
            let (status, body) = stat_of(&app, query).await;
            assert_eq!(status, 200, "{body}");
            (body["results"].clone(), app.store.consumed_capacity() - before)
        }
    };
    let (per_severity, slim) = stat_by("severity").await;
    assert_eq!(per_severity, json!([{"k": "ERROR", "n": 20}]));
    let (per_rule, whole) = stat_by("rule").await; // rule is not in the count index
    assert_eq!(per_rule, json!([{"k": "", "n": 20}]));
    assert!(slim * 10.0 <= whole, "the count index read {slim} units, the domain index {whole}");
}

#[tokio::test]
async fn raw_data_is_read_only_for_pages_that_show_it() {
    let app = app().await;
    big_events(&app, 5, 30_000).await;
    // Read units of one page, and its rows.
    let page = |query: Value| {
        let app = app.clone();
        async move {
            let before = app.store.consumed().reads;
            let body = json!({"domain_id": DOMAIN, "query": query, "next_token": ""});
            let (status, body) = list_post(&app, Gateway::Http, "/monitoring/v1/event/list", body).await;
            assert_eq!(status, 200, "{body}");
            (body["results"].as_array().unwrap().clone(), app.store.consumed().reads - before)
        }
    };
    let (rows, slim) = page(json!({"only": ["event_id", "title"]})).await;
    assert_eq!(rows.len(), 5);
    assert!(slim <= 0.5, "one Query of the domain index, without raw_data: {slim} units");
    let (rows, whole) = page(json!({})).await;
    assert!(rows.iter().all(|row| row["raw_data"]["blob"].as_str().map(str::len) == Some(30_000)));
    assert!(whole >= 10.0, "and a batch read of the five event items: {whole} units");
}

/// The upgrade pins the stored layout: the events table a version before the count
/// index created (three indexes projecting ALL) leaves `tables create` with this
/// version's four indexes and none of its own, on a DynamoDB Local that keeps its
/// tables (only that one finishes changing the indexes of a table).
#[tokio::test]
async fn tables_kept_from_an_older_version_get_this_versions_indexes() {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
        ProjectionType, ScalarAttributeType,
    };
    use event_core::store::schema::{ALERT_INDEX, COUNT_INDEX, DOMAIN_INDEX, WEBHOOK_INDEX};
    // The events table as the version before the count index created it.
    let config = test_config();
    let key =
        |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build().unwrap();
    let mut old_table = dynamodb_on_disk()
        .create_table()
        .table_name(&config.tables.events)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("event_id", KeyType::Hash));
    for name in ["event_id", "domain_id", "alert_id", "webhook_id", "created_key"] {
        let definition = AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build();
        old_table = old_table.attribute_definitions(definition.unwrap());
    }
    for partition in ["domain_id", "alert_id", "webhook_id"] {
        let index = GlobalSecondaryIndex::builder()
            .index_name(format!("{partition}-created_key-index"))
            .key_schema(key(partition, KeyType::Hash))
            .key_schema(key("created_key", KeyType::Range))
            .projection(Projection::builder().projection_type(ProjectionType::All).build());
        old_table = old_table.global_secondary_indexes(index.build().unwrap());
    }
    old_table.send().await.unwrap();

    let app = App { store: Store::new(dynamodb_on_disk(), config.tables.clone()), config };
    let mut changed = app.store.create_tables().await.unwrap();
    changed.sort(); // removals come in the order DynamoDB lists the indexes
    let tables = &app.config.tables;
    let mut expected: Vec<String> = ["domain_id", "alert_id", "webhook_id"]
        .map(|partition| format!("{} index {partition}-created_key-index removed", tables.events))
        .into();
    expected.extend(
        [DOMAIN_INDEX, COUNT_INDEX, ALERT_INDEX, WEBHOOK_INDEX]
            .map(|i| format!("{} index {i} added", tables.events)),
    );
    expected.extend([
        format!("{} stream", tables.events),
        tables.webhooks.clone(),
        tables.alerts.clone(),
        tables.rollups.clone(),
        tables.event_rules.clone(),
    ]);
    expected.sort();
    assert_eq!(changed, expected);
    assert!(app.store.create_tables().await.unwrap().is_empty(), "nothing more to change");
    big_events(&app, 3, 10).await;
    let count = json!({"domain_id": DOMAIN, "query": {"count_only": true}});
    let (status, body) = list_post(&app, Gateway::Http, "/monitoring/v1/event/list", count).await;
    assert_eq!((status, &body["total_count"]), (200, &json!(3)), "{body}");
    let page = json!({"domain_id": DOMAIN, "query": {"page": {"limit": 2}}});
    let (status, body) = list_post(&app, Gateway::Http, "/monitoring/v1/event/list", page).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["results"][1]["raw_data"].is_object(), "raw_data read from the event items: {body}");
}

#[tokio::test]
async fn a_token_without_a_domain_claim_reads_no_domain_on_either_gateway() {
    let app = seeded().await;
    let access_token = json!({"sub": "user-1", "client_id": "app", "token_use": "access"});
    for gateway in GATEWAYS {
        let req = ApiEvent::new(gateway, "list")
            .route("POST", "/monitoring/v1/event/list")
            .body(&json!({"domain_id": DOMAIN}).to_string())
            .claims(access_token.clone())
            .request();
        let (status, body) = parts(event_list::handle(&app, req).await);
        assert_eq!((status, error_code(status, &body).as_str()), (403, "ERROR_PERMISSION_DENIED"), "{body}");

        let req = ApiEvent::new(gateway, "stat")
            .route("POST", "/monitoring/v1/event/stat")
            .body(
                &json!({"domain_id": DOMAIN, "query": {"aggregate": [{"count": {"name": "n"}}]}}).to_string(),
            )
            .claims(json!({"sub": "machine", "domain_id": ""}))
            .request();
        let (status, body) = parts(event_stat::handle(&app, req).await);
        assert_eq!(status, 403, "an empty claim is no claim: {body}");
    }
}

#[tokio::test]
async fn a_jwt_function_refuses_a_request_without_a_token() {
    let app = seeded().await;
    let app = App {
        config: event_core::config::Config {
            read_authorizer: event_core::config::ReadAuthorizer::Jwt,
            ..app.config
        },
        ..app
    };
    let (status, body) =
        list_post(&app, Gateway::Http, "/monitoring/v1/event/list", json!({"domain_id": DOMAIN})).await;
    assert_eq!(status, 403, "{body}");
    let req = ApiEvent::new(Gateway::Rest, "list")
        .route("POST", "/monitoring/v1/event/list")
        .body(&json!({}).to_string())
        .claims_domain(DOMAIN)
        .request();
    let (status, body) = parts(event_list::handle(&app, req).await);
    assert_eq!((status, body["total_count"].clone()), (200, json!(2)), "{body}");
}

#[tokio::test]
async fn what_a_read_may_make_a_function_hold_is_bounded_with_a_clear_400() {
    let app = seeded().await;
    let path = "/monitoring/v1/event/list";
    let patterns: Vec<String> = (0..17).map(|i| format!("host-{i}.*")).collect();
    let regexes =
        json!({"domain_id": DOMAIN, "query": {"filter": [{"k": "title", "v": patterns, "o": "regex_in"}]}});
    let (status, body) = list_post(&app, Gateway::Http, path, regexes).await;
    assert_eq!((status, error_code(status, &body).as_str()), (400, "ERROR_INVALID_ARGUMENT"));
    assert!(body["error"]["message"].as_str().unwrap().contains("at most 16"), "{body}");

    let huge = json!({"domain_id": DOMAIN, "query": {"keyword": "x".repeat(70 * 1024)}});
    let (status, body) = list_post(&app, Gateway::Rest, path, huge).await;
    assert_eq!((status, error_code(status, &body).as_str()), (413, "ERROR_PAYLOAD_TOO_LARGE"));

    // A bound past year 9999 used to print as "+10239-…" and empty the key range.
    let far = json!({"domain_id": DOMAIN, "query": {"filter": [{"k": "created_at", "v": "now+3000000d", "o": "timediff_lte"}]}});
    let (status, body) = list_post(&app, Gateway::Http, path, far).await;
    assert_eq!((status, body["total_count"].clone()), (200, json!(2)), "{body}");
}
