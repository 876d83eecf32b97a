//! Huawei's two event queries (Cloud Eye's and AOM's) through real API Gateway events
//! to the list function, over events and alerts on DynamoDB Local: every parameter,
//! every error in its peer's shape and code, and the same tenancy as every read.

use chrono::{Duration, Utc};
use e2e::faults::{behind, Fault, Proxy, Rule, Target, When};
use e2e::*;
use event_core::api::Endpoint;
use event_core::config::ReadAuthorizer;
use event_core::model::{format_time, Event, WebhookFormat, WebhookSettings};
use event_core::service::{webhook_admin, App};
use event_core::tenant::Identity;
use serde_json::{json, Value};

/// An event `minutes` old (created and occurred), with `fields` over a plain default.
fn event(name: &str, minutes: i64, fields: Value) -> Event {
    let time = format_time(Utc::now() - Duration::minutes(minutes));
    let mut event = json!({
        "event_id": event_core::model::new_id("event"), "event_key": name, "event_type": "ALERT",
        "title": name, "description": "", "severity": "INFO", "rule": "", "provider": "",
        "account": "", "image_url": "", "resource": {"resource_id": "", "resource_type": "", "name": ""},
        "raw_data": {}, "additional_info": {}, "alert_id": "", "webhook_id": "webhook-1",
        "project_id": PROJECT, "workspace_id": "workspace-1", "domain_id": DOMAIN,
        "created_at": time, "occurred_at": time,
    });
    for (key, value) in fields.as_object().unwrap() {
        event[key] = value.clone();
    }
    serde_json::from_value(event).unwrap()
}

async fn cloud_eye(app: &App, gateway: Gateway, name: &str, params: &[(&str, &str)]) -> (u16, Value) {
    cloud_eye_as(app, ApiEvent::new(gateway, "list"), name, params).await
}

async fn cloud_eye_as(app: &App, request: ApiEvent, name: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let path = Endpoint::CloudEyeEvent.path(&[PROJECT, name]);
    parts(event_list::handle(app, request.route("GET", &path).query(params).request()).await)
}

async fn aom(app: &App, gateway: Gateway, params: &[(&str, &str)], body: Value) -> (u16, Value) {
    aom_as(app, ApiEvent::new(gateway, "list"), params, body).await
}

async fn aom_as(app: &App, request: ApiEvent, params: &[(&str, &str)], body: Value) -> (u16, Value) {
    let path = Endpoint::AomEvents.path(&[PROJECT]);
    let request = request.route("POST", &path).query(params).body(&body.to_string());
    parts(event_list::handle(app, request.request()).await)
}

/// Query parameters, and the ids an answer to them lists.
type Case = (Vec<(&'static str, String)>, Vec<String>);

fn ids(answer: &Value, list: &str, id: &str) -> Vec<String> {
    let items = answer[list].as_array().unwrap_or_else(|| panic!("no {list}: {answer}"));
    items.iter().map(|e| e[id].as_str().unwrap().to_string()).collect()
}

/// Asserts Cloud Eye's error shape, `{error_code, error_msg}` and nothing else.
fn cloud_eye_error(answer: &Value) -> &str {
    assert_eq!(answer.as_object().unwrap().len(), 2, "{answer}");
    assert!(answer["error_msg"].as_str().is_some_and(|m| !m.is_empty()), "{answer}");
    answer["error_code"].as_str().unwrap()
}

/// Asserts AOM's error shape (the message as both `error_msg`, which Huawei's SDKs read,
/// and `error_message`) and answers `(error_code, error_type)`.
fn aom_error(answer: &Value) -> (&str, &str) {
    assert_eq!(answer.as_object().unwrap().len(), 4, "{answer}");
    assert!(answer["error_message"].as_str().is_some_and(|m| !m.is_empty()), "{answer}");
    assert_eq!(answer["error_msg"], answer["error_message"], "{answer}");
    (answer["error_code"].as_str().unwrap(), answer["error_type"].as_str().unwrap())
}

struct CloudEyeData {
    app: App,
    /// rebootServer events of the project, newest `time` first: system, system, custom, system.
    ids: Vec<String>,
    /// The first one's `time`, in ms.
    first_time: i64,
}

async fn cloud_eye_data() -> CloudEyeData {
    let app = app().await;
    let sys = |user: &str| json!({"event_type": "EVENT.SYS", "event_user": user, "group_id": "rg-1"});
    let events = vec![
        event(
            "rebootServer",
            10,
            json!({"provider": "SYS.ECS", "severity": "WARNING", "event_type": "RECOVERY",
            "description": "{\"a\":1}", "additional_info": sys(""),
            "resource": {"resource_id": "ecs-1", "resource_type": "", "name": "web-01"}}),
        ),
        event(
            "rebootServer",
            20,
            json!({"provider": "SYS.ECS", "severity": "ERROR", "additional_info": sys("ops")}),
        ),
        event(
            "rebootServer",
            30,
            json!({"provider": "APP.WEB", "severity": "NOT_AVAILABLE", "event_type": "ERROR",
            "additional_info": {"event_user": "ops"}}),
        ),
        event(
            "rebootServer",
            50,
            json!({"provider": "SYS.EVS", "severity": "NONE", "additional_info": sys("")}),
        ),
        // Not answered: another project, another name, another domain.
        event("rebootServer", 5, json!({"project_id": "project-other", "additional_info": sys("")})),
        event("stopServer", 5, json!({"additional_info": sys("")})),
        event("rebootServer", 5, json!({"domain_id": "domain-other", "additional_info": sys("")})),
    ];
    app.store.load_events(&events, None).await.unwrap();
    let ids = events[..4].iter().map(|e| e.event_id.clone()).collect();
    let first_time = event_core::huawei::mapping::millis(&events[0].occurred_at);
    CloudEyeData { app, ids, first_time }
}

#[tokio::test]
async fn cloud_eye_answers_every_parameter_in_its_own_shape() {
    let CloudEyeData { app, ids: all, first_time } = cloud_eye_data().await;
    let system = vec![all[0].clone(), all[1].clone(), all[3].clone()];
    let domain = ("domain_id", DOMAIN);
    for gateway in GATEWAYS {
        let ask = |params: Vec<(&'static str, String)>| {
            let app = &app;
            async move {
                let params: Vec<(&str, &str)> =
                    params.iter().map(|(k, v)| (*k, v.as_str())).chain([domain]).collect();
                let (status, answer) = cloud_eye(app, gateway, "rebootServer", &params).await;
                assert_eq!(status, 200, "{params:?}: {answer}");
                answer
            }
        };
        let p = |pairs: &[(&'static str, &str)]| pairs.iter().map(|(k, v)| (*k, v.to_string())).collect();
        let answer = ask(p(&[("event_type", "EVENT.SYS")])).await;
        assert_eq!(ids(&answer, "event_info", "event_id"), system, "newest time first");
        assert_eq!(answer["meta_data"], json!({"total": 3}));
        assert_eq!(answer["event_name"], "rebootServer");
        assert_eq!(answer["event_type"], "EVENT.SYS");
        assert_eq!(answer["event_users"], json!(["", "ops"]));
        assert_eq!(answer["event_sources"], json!(["SYS.ECS", "SYS.EVS"]));
        assert_eq!(
            answer["event_info"][0],
            json!({
                "event_id": all[0], "event_name": "rebootServer", "event_source": "SYS.ECS",
                "time": first_time,
                "detail": {"content": "{\"a\":1}", "group_id": "rg-1", "resource_id": "ecs-1",
                           "resource_name": "web-01", "event_state": "normal", "event_level": "Minor",
                           "event_user": "", "event_type": "EVENT.SYS"}
            })
        );
        assert_eq!(answer["event_info"][2]["detail"]["event_level"], "Info", "NONE reads as Info");
        let custom = ask(p(&[("event_type", "EVENT.CUSTOM")])).await;
        assert_eq!(ids(&custom, "event_info", "event_id"), [all[2].clone()]);
        assert_eq!(custom["event_info"][0]["detail"]["event_type"], "EVENT.CUSTOM");
        assert_eq!(custom["event_info"][0]["detail"]["event_state"], "warning");
        assert_eq!(custom["event_info"][0]["detail"]["event_level"], "Major", "NOT_AVAILABLE reads as Major");

        let cases: Vec<Case> = vec![
            (p(&[("event_type", "EVENT.SYS"), ("event_source", "SYS.ECS")]), all[..2].to_vec()),
            (p(&[("event_type", "EVENT.SYS"), ("event_level", "Major")]), vec![all[1].clone()]),
            (p(&[("event_type", "EVENT.CUSTOM"), ("event_level", "Major")]), vec![all[2].clone()]),
            (p(&[("event_type", "EVENT.SYS"), ("event_level", "Info")]), vec![all[3].clone()]),
            (p(&[("event_type", "EVENT.SYS"), ("event_level", "Critical")]), vec![]),
            (
                p(&[("event_type", "EVENT.SYS"), ("event_state", "incident")]),
                vec![all[1].clone(), all[3].clone()],
            ),
            (p(&[("event_type", "EVENT.SYS"), ("event_state", "normal")]), vec![all[0].clone()]),
            (p(&[("event_type", "EVENT.SYS"), ("event_user", "ops")]), vec![all[1].clone()]),
            (p(&[("event_type", "EVENT.SYS"), ("start", "1"), ("limit", "1")]), vec![all[1].clone()]),
            (p(&[("event_type", "EVENT.SYS"), ("start", "3")]), vec![]),
        ];
        for (params, expected) in cases {
            let answer = ask(params.clone()).await;
            assert_eq!(ids(&answer, "event_info", "event_id"), expected, "{params:?}");
        }
        let paged = ask(p(&[("event_type", "EVENT.SYS"), ("start", "1"), ("limit", "1")])).await;
        assert_eq!(paged["meta_data"]["total"], 3, "total counts past the page");
        let ms = |minutes: i64| (Utc::now() - Duration::minutes(minutes)).timestamp_millis().to_string();
        let window = vec![("event_type", "EVENT.SYS".to_string()), ("from", ms(25)), ("to", ms(15))];
        assert_eq!(ids(&ask(window).await, "event_info", "event_id"), [all[1].clone()], "from/to");
        let from_only = vec![("event_type", "EVENT.SYS".to_string()), ("from", ms(15))];
        assert_eq!(ids(&ask(from_only).await, "event_info", "event_id"), [all[0].clone()]);
    }
}

#[tokio::test]
async fn time_filters_select_an_event_by_its_own_time_within_a_day_of_receipt() {
    let app = app().await;
    let at = |minutes: i64| format_time(Utc::now() - Duration::minutes(minutes));
    let ms = |minutes: i64| (Utc::now() - Duration::minutes(minutes)).timestamp_millis().to_string();
    // Received now, each reporting its own earlier time; the last one a day and more late.
    let late = |name: &str, occurred: i64| {
        event(name, 0, json!({"occurred_at": at(occurred), "additional_info": {"event_type": "EVENT.SYS"}}))
    };
    let (hour_late, day_late) = (late("diskFull", 120), late("diskFull", 25 * 60));
    app.store.load_events(&[hour_late.clone(), day_late], None).await.unwrap();
    let domain = ("domain_id", DOMAIN);
    let asked = |from: String, to: String| {
        let app = &app;
        async move {
            let params = [("event_type", "EVENT.SYS"), ("from", from.as_str()), ("to", to.as_str()), domain];
            let (status, answer) = cloud_eye(app, Gateway::Rest, "diskFull", &params).await;
            assert_eq!(status, 200, "{answer}");
            ids(&answer, "event_info", "event_id")
        }
    };
    assert_eq!(
        asked(ms(180), ms(60)).await,
        std::slice::from_ref(&hour_late.event_id),
        "its own time, 2 h ago"
    );
    assert_eq!(asked(ms(30), ms(0)).await, Vec::<String>::new(), "not when it was received");
    assert_eq!(asked(ms(26 * 60), ms(24 * 60 + 30)).await, Vec::<String>::new(), "reported over a day late");
    let range = json!({"time_range": format!("{}.{}.120", ms(180), ms(60))});
    let (status, answer) = aom(&app, Gateway::Http, &[domain], range).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["events"].as_array().map(Vec::len), Some(1), "{answer}");
    assert_eq!(answer["events"][0]["id"], json!(hour_late.event_id));
    let (_, recent) = aom(&app, Gateway::Http, &[domain], json!({"time_range": "-1.-1.30"})).await;
    assert_eq!(recent["events"], json!([]), "received in the last 30 minutes, but from 2 h ago");
}

#[tokio::test]
async fn cloud_eye_errors_have_its_shape_and_codes() {
    let CloudEyeData { app, .. } = cloud_eye_data().await;
    let domain = ("domain_id", DOMAIN);
    for gateway in GATEWAYS {
        for params in [
            vec![domain],
            vec![domain, ("event_type", "EVENT.SYSTEM")],
            vec![domain, ("event_type", "EVENT.SYS"), ("event_level", "major")],
            vec![domain, ("event_type", "EVENT.SYS"), ("event_state", "alarm")],
            vec![domain, ("event_type", "EVENT.SYS"), ("limit", "0")],
            vec![domain, ("event_type", "EVENT.SYS"), ("limit", "101")],
            vec![domain, ("event_type", "EVENT.SYS"), ("start", "-1")],
            vec![domain, ("event_type", "EVENT.SYS"), ("from", "20"), ("to", "10")],
            vec![domain, ("event_type", "EVENT.SYS"), ("to", "yesterday")],
            vec![domain, ("event_type", "EVENT.SYS"), ("severity", "CRITICAL")],
        ] {
            let (status, answer) = cloud_eye(&app, gateway, "rebootServer", &params).await;
            assert_eq!((status, cloud_eye_error(&answer)), (400, "ces.0013"), "{params:?}: {answer}");
        }
        let post =
            ApiEvent::new(gateway, "list").route("POST", &Endpoint::CloudEyeEvent.path(&[PROJECT, "x"]));
        let (status, answer) = parts(event_list::handle(&app, post.query(&[domain]).request()).await);
        assert_eq!((status, cloud_eye_error(&answer)), (405, "ces.0011"));
        let unknown = ApiEvent::new(gateway, "list").route("GET", "/V1.0/p/events/x/y");
        let (status, answer) = parts(event_list::handle(&app, unknown.request()).await);
        assert_eq!((status, cloud_eye_error(&answer)), (404, "ces.0016"));
    }
    let proxy = Proxy::start(endpoint()).await;
    let (faulty, _) = behind(&proxy, |_| {}).await;
    proxy.add(Rule::new(Fault::Throttle, Target::op("Query"), When::Always));
    let params = [domain, ("event_type", "EVENT.SYS")];
    let (status, answer) = cloud_eye(&faulty, Gateway::Http, "rebootServer", &params).await;
    assert_eq!((status, cloud_eye_error(&answer)), (503, "ces.0008"));
}

#[tokio::test]
async fn cloud_eye_reads_no_domain_without_its_identity() {
    let CloudEyeData { app, .. } = cloud_eye_data().await;
    let sys = ("event_type", "EVENT.SYS");
    for gateway in GATEWAYS {
        let (status, other) =
            cloud_eye(&app, gateway, "rebootServer", &[sys, ("domain_id", "domain-other")]).await;
        assert_eq!((status, other["meta_data"]["total"].clone()), (200, json!(1)), "only its own event");
        let claimed = ApiEvent::new(gateway, "list").claims_domain("domain-other");
        let (status, answer) =
            cloud_eye_as(&app, claimed, "rebootServer", &[sys, ("domain_id", DOMAIN)]).await;
        assert_eq!((status, cloud_eye_error(&answer)), (403, "ces.0017"));
        let own = ApiEvent::new(gateway, "list").claims_domain(DOMAIN);
        let (status, answer) = cloud_eye_as(&app, own, "rebootServer", &[sys]).await;
        assert_eq!((status, answer["meta_data"]["total"].clone()), (200, json!(3)), "{answer}");
        let no_claim = ApiEvent::new(gateway, "list").claims(json!({"sub": "machine"}));
        let (status, answer) =
            cloud_eye_as(&app, no_claim, "rebootServer", &[sys, ("domain_id", DOMAIN)]).await;
        assert_eq!((status, cloud_eye_error(&answer)), (403, "ces.0017"));
    }
    let jwt = App {
        config: event_core::config::Config { read_authorizer: ReadAuthorizer::Jwt, ..app.config.clone() },
        ..app
    };
    let (status, answer) =
        cloud_eye(&jwt, Gateway::Http, "rebootServer", &[sys, ("domain_id", DOMAIN)]).await;
    assert_eq!((status, cloud_eye_error(&answer)), (403, "ces.0017"), "a JWT API without a token");
}

/// A webhook of `domain` naming `project`, which is how a read without `domain_id`
/// learns its domain.
async fn webhook_in(app: &App, domain: &str, project: &str) {
    let domain = event_core::tenant::authorize(Identity::Absent, Some(domain), ReadAuthorizer::Iam).unwrap();
    let settings = WebhookSettings { name: Some("huawei".into()), ..Default::default() };
    webhook_admin::create_in(app, &domain, project.into(), "workspace-1".into(), &settings).await.unwrap();
}

#[tokio::test]
async fn without_domain_id_the_domain_is_the_one_whose_webhooks_name_the_project() {
    let CloudEyeData { app, .. } = cloud_eye_data().await;
    let sys = ("event_type", "EVENT.SYS");
    let body = json!({"time_range": "-1.-1.120"});
    // No webhook names the project yet: Huawei's not found, in each API's shape.
    let (status, answer) = cloud_eye(&app, Gateway::Rest, "rebootServer", &[sys]).await;
    assert_eq!((status, cloud_eye_error(&answer)), (404, "ces.0016"), "{answer}");
    let (status, answer) = aom(&app, Gateway::Rest, &[], body.clone()).await;
    assert_eq!((status, aom_error(&answer)), (404, ("AOM.0404", "SC_NOT_FOUND")), "{answer}");

    webhook_in(&app, DOMAIN, PROJECT).await;
    webhook_in(&app, DOMAIN, PROJECT).await;
    for gateway in GATEWAYS {
        let (status, answer) = cloud_eye(&app, gateway, "rebootServer", &[sys]).await;
        assert_eq!((status, answer["meta_data"]["total"].clone()), (200, json!(3)), "{answer}");
        let (status, answer) = aom(&app, gateway, &[], body.clone()).await;
        assert_eq!(status, 200, "{answer}");
        // Behind a token, a project only another domain's webhooks name is that domain's:
        // not found, in each API's shape, whatever the token's domain stored under its id.
        let claimed = ApiEvent::new(gateway, "list").claims_domain("domain-other");
        let (status, answer) = cloud_eye_as(&app, claimed, "rebootServer", &[sys]).await;
        assert_eq!((status, cloud_eye_error(&answer)), (404, "ces.0016"), "{answer}");
        let claimed = ApiEvent::new(gateway, "list").claims_domain("domain-other");
        let (status, answer) = aom_as(&app, claimed, &[], body.clone()).await;
        assert_eq!((status, aom_error(&answer)), (404, ("AOM.0404", "SC_NOT_FOUND")), "{answer}");
        // The token of the domain whose webhooks name it reads it.
        let own = ApiEvent::new(gateway, "list").claims_domain(DOMAIN);
        let (status, answer) = cloud_eye_as(&app, own, "rebootServer", &[sys]).await;
        assert_eq!((status, answer["meta_data"]["total"].clone()), (200, json!(3)), "{answer}");
    }

    // Two domains name the project: the request must say which; a token of either reads
    // its own events of it.
    webhook_in(&app, "domain-other", PROJECT).await;
    let claimed = ApiEvent::new(Gateway::Http, "list").claims_domain("domain-other");
    let (status, answer) = cloud_eye_as(&app, claimed, "rebootServer", &[sys]).await;
    assert_eq!((status, answer["meta_data"]["total"].clone()), (200, json!(1)), "{answer}");
    let (status, answer) = cloud_eye(&app, Gateway::Rest, "rebootServer", &[sys]).await;
    assert_eq!((status, cloud_eye_error(&answer)), (400, "ces.0013"), "{answer}");
    assert!(answer["error_msg"].as_str().unwrap().contains("domain_id"), "{answer}");
    let (status, answer) = aom(&app, Gateway::Rest, &[], body).await;
    assert_eq!((status, aom_error(&answer)), (400, ("AOM.0400", "SC_BAD_REQUEST")), "{answer}");
    let (status, answer) =
        cloud_eye(&app, Gateway::Rest, "rebootServer", &[sys, ("domain_id", "domain-other")]).await;
    assert_eq!((status, answer["meta_data"]["total"].clone()), (200, json!(1)), "{answer}");
}

/// Events of the last few minutes, newest first: an AOM alarm, an event, one in an
/// alert; and one 90 minutes old, one of another project.
async fn aom_data() -> (App, Vec<Event>) {
    let app = app().await;
    let events = vec![
        event(
            "cpu_high",
            2,
            json!({"severity": "CRITICAL", "provider": "ecs",
            "resource": {"resource_id": "ecs123", "resource_type": "vm", "name": ""},
            "additional_info": {"event_type": "alarm", "cluster": "c1"},
            "raw_data": {"annotations": {"message": "Alarm Details"}, "attach_rule": {"r": "1"}, "timeout": 60000}}),
        ),
        event(
            "disk_full",
            3,
            json!({"severity": "ERROR", "provider": "evs", "description": "95%",
            "additional_info": {"cluster": "c2"}}),
        ),
        event(
            "net_down",
            4,
            json!({"severity": "INFO", "provider": "vpc", "alert_id": "alert-1",
            "additional_info": {"cluster": "c1"}}),
        ),
        event("old_one", 90, json!({})),
        event("elsewhere", 2, json!({"project_id": "project-other"})),
    ];
    app.store.load_events(&events, None).await.unwrap();
    (app, events)
}

#[tokio::test]
async fn aom_answers_every_parameter_with_its_event_model() {
    let (app, events) = aom_data().await;
    let id = |i: usize| events[i].event_id.clone();
    let domain = ("domain_id", DOMAIN);
    let last_30 = json!({"time_range": "-1.-1.30"});
    for gateway in GATEWAYS {
        let ask = |params: Vec<(&'static str, String)>, body: Value| {
            let app = &app;
            async move {
                let params: Vec<(&str, &str)> =
                    params.iter().map(|(k, v)| (*k, v.as_str())).chain([domain]).collect();
                let (status, answer) = aom(app, gateway, &params, body.clone()).await;
                assert_eq!(status, 200, "{params:?} {body}: {answer}");
                answer
            }
        };
        let with = |extra: Value| {
            let mut body = last_30.clone();
            extra.as_object().unwrap().iter().for_each(|(k, v)| body[k] = v.clone());
            body
        };
        let answer = ask(vec![], last_30.clone()).await;
        assert_eq!(ids(&answer, "events", "id"), [id(0), id(1), id(2)], "starts_at, newest first");
        assert_eq!(answer.as_object().unwrap().len(), 1, "no page_info when all fit: {answer}");
        assert_eq!(
            answer["events"][0],
            json!({
                "starts_at": event_core::huawei::mapping::millis(&events[0].occurred_at),
                "ends_at": 0, "timeout": 60000,
                "metadata": {"event_type": "alarm", "event_severity": "Critical", "resource_type": "vm",
                             "event_name": "cpu_high", "resource_id": "ecs123", "resource_provider": "ecs",
                             "cluster": "c1"},
                "annotations": {"message": "Alarm Details"}, "attach_rule": {"r": "1"}, "id": id(0),
            })
        );
        assert_eq!(answer["events"][1]["metadata"]["event_type"], "event", "in no alert");
        assert_eq!(answer["events"][1]["annotations"], json!({"message": "95%"}));
        assert_eq!(answer["events"][2]["metadata"]["event_type"], "alarm", "in an alert");
        assert_eq!(answer["events"][2]["annotations"], json!({}));

        let relation = |key: &str, values: &[&str], relation: &str| json!({"key": key, "value": values, "relation": relation});
        let cases = vec![
            (json!([relation("event_severity", &["Critical", "Major"], "AND")]), vec![id(0), id(1)]),
            (
                json!([relation("event_type", &["alarm"], "AND"), relation("cluster", &["c1"], "AND")]),
                vec![id(0), id(2)],
            ),
            (json!([relation("cluster", &["c1"], "NOT")]), vec![id(1)]),
            (
                json!([
                    relation("resource_provider", &["ecs"], "OR"),
                    relation("event_name", &["net_down"], "OR")
                ]),
                vec![id(0), id(2)],
            ),
            (
                json!([
                    relation("cluster", &["c1"], "AND"),
                    relation("event_severity", &["Info"], "OR"),
                    relation("event_severity", &["Major"], "OR")
                ]),
                vec![id(2)],
            ),
            (json!([{"key": "event_severity", "value": ["Major"]}]), vec![id(1)]),
            (json!([relation("nothing", &["x"], "AND")]), vec![]),
        ];
        for (relations, expected) in cases {
            let answer = ask(vec![], with(json!({"metadata_relation": relations}))).await;
            assert_eq!(ids(&answer, "events", "id"), expected, "{relations}");
        }
        let found = ask(vec![], with(json!({"search": "DISK"}))).await;
        assert_eq!(ids(&found, "events", "id"), [id(1)], "search ignores case, over metadata");
        let by_name = ask(vec![], with(json!({"sort": {"order_by": ["event_name"], "order": "asc"}}))).await;
        assert_eq!(ids(&by_name, "events", "id"), [id(0), id(1), id(2)]);
        let oldest = ask(vec![], with(json!({"sort": {"order_by": ["starts_at"], "order": "asc"}}))).await;
        assert_eq!(ids(&oldest, "events", "id"), [id(2), id(1), id(0)]);
        let with_step = ask(vec![], with(json!({"step": 60000}))).await;
        assert_eq!(with_step["events"].as_array().unwrap().len(), 3);

        let ms = |minutes: i64| (Utc::now() - Duration::minutes(minutes)).timestamp_millis();
        for range in
            [format!("{}.{}.10", ms(95), ms(85)), format!("-1.{}.10", ms(85)), format!("{}.-1.10", ms(95))]
        {
            let answer = ask(vec![], json!({"time_range": range})).await;
            assert_eq!(ids(&answer, "events", "id"), [id(3)], "{range}");
        }
        let first = ask(vec![("limit", "2".into())], last_30.clone()).await;
        assert_eq!(ids(&first, "events", "id"), [id(0), id(1)]);
        assert_eq!(first["page_info"], json!({"current_count": 2, "next_marker": "2"}));
        let next = ask(vec![("limit", "2".into()), ("marker", "2".into())], last_30.clone()).await;
        assert_eq!((ids(&next, "events", "id"), next.get("page_info")), (vec![id(2)], None));
    }
}

#[tokio::test]
async fn aom_alarms_are_the_open_and_the_resolved_alerts() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let post = |body: Value| {
        let req =
            ApiEvent::new(Gateway::Http, "create").route("POST", &webhook_path(&key)).body(&body.to_string());
        let app = &app;
        async move { parts(event_create::handle(app, req.request()).await) }
    };
    let alert = |title: &str, event_type: &str| {
        json!({"title": title, "event_key": title, "event_type": event_type, "severity": "CRITICAL",
               "provider": "ecs", "resource": {"resource_id": "ecs1", "resource_type": "vm"}})
    };
    for body in [alert("cpu_high", "ALERT"), alert("disk_full", "ALERT"), alert("disk_full", "RECOVERY")] {
        assert_eq!(post(body).await.0, 200);
    }
    let domain = ("domain_id", DOMAIN);
    let body = json!({"time_range": "-1.-1.30"});
    for gateway in GATEWAYS {
        let (status, active) = aom(&app, gateway, &[domain, ("type", "active_alert")], body.clone()).await;
        assert_eq!(status, 200, "{active}");
        let alarms = active["events"].as_array().unwrap();
        assert_eq!(alarms.len(), 1, "{active}");
        assert_eq!(alarms[0]["metadata"]["event_name"], "cpu_high");
        assert_eq!(alarms[0]["metadata"]["event_type"], "alarm");
        assert_eq!(alarms[0]["metadata"]["event_severity"], "Critical");
        assert_eq!(alarms[0]["ends_at"], 0, "open");
        assert!(alarms[0]["id"].as_str().unwrap().starts_with("alert-"));

        let (status, history) = aom(&app, gateway, &[domain, ("type", "history_alert")], body.clone()).await;
        assert_eq!(status, 200, "{history}");
        let alarms = history["events"].as_array().unwrap();
        assert_eq!(alarms.len(), 1, "{history}");
        assert_eq!(alarms[0]["metadata"]["event_name"], "disk_full");
        assert!(alarms[0]["ends_at"].as_i64().unwrap() >= alarms[0]["starts_at"].as_i64().unwrap());
        assert!(alarms[0]["ends_at"].as_i64().unwrap() > 0, "resolved");

        let (_, filtered) = aom(
            &app,
            gateway,
            &[domain, ("type", "active_alert")],
            json!({"time_range": "-1.-1.30", "metadata_relation": [{"key": "event_name", "value": ["disk_full"]}]}),
        )
        .await;
        assert_eq!(filtered, json!({"events": []}));
        let (_, events) = aom(&app, gateway, &[domain, ("type", "other")], body.clone()).await;
        assert_eq!(events["events"].as_array().unwrap().len(), 3, "any other type lists events");
    }
    // More alarms than are read at once: each still shows its own alert's event.
    for i in 0..20 {
        assert_eq!(post(alert(&format!("load_{i}"), "ALERT")).await.0, 200);
    }
    let (_, active) = aom(&app, Gateway::Http, &[domain, ("type", "active_alert")], body.clone()).await;
    let alarms = active["events"].as_array().unwrap();
    assert_eq!(alarms.len(), 21);
    for alarm in alarms {
        let alert =
            app.store.get_alert(&trusted(DOMAIN), alarm["id"].as_str().unwrap()).await.unwrap().unwrap();
        assert_eq!(alarm["metadata"]["event_name"], json!(alert.title));
    }
    let other = [("domain_id", "domain-other"), ("type", "active_alert")];
    assert_eq!(aom(&app, Gateway::Rest, &other, body).await, (200, json!({"events": []})));
}

#[tokio::test]
async fn aom_errors_have_its_shape_and_codes() {
    let (app, _) = aom_data().await;
    let domain = ("domain_id", DOMAIN);
    for gateway in GATEWAYS {
        for (params, body) in [
            (vec![domain], json!({})),
            (vec![domain], json!({"time_range": "-1.-1.0"})),
            (vec![domain], json!({"time_range": "1.2"})),
            (vec![domain], json!({"time_range": "-1.-1.1441", "step": 60000})),
            (vec![domain], json!({"time_range": "-1.-1.30", "sort": {"order": "sideways"}})),
            (
                vec![domain],
                json!({"time_range": "-1.-1.30", "metadata_relation": [{"key": "k", "relation": "XOR"}]}),
            ),
            (vec![domain], json!({"time_range": "-1.-1.30", "page": 1})),
            (vec![domain], json!([1])),
            (vec![domain, ("limit", "0")], json!({"time_range": "-1.-1.30"})),
            (vec![domain, ("limit", "1001")], json!({"time_range": "-1.-1.30"})),
            (vec![domain, ("marker", "next")], json!({"time_range": "-1.-1.30"})),
        ] {
            let (status, answer) = aom(&app, gateway, &params, body.clone()).await;
            assert_eq!(
                (status, aom_error(&answer)),
                (400, ("AOM.0400", "SC_BAD_REQUEST")),
                "{params:?} {body}"
            );
        }
        let not_json =
            ApiEvent::new(gateway, "list").route("POST", &Endpoint::AomEvents.path(&[PROJECT])).body("{");
        let (status, answer) = parts(event_list::handle(&app, not_json.query(&[domain]).request()).await);
        assert_eq!((status, aom_error(&answer)), (400, ("AOM.0400", "SC_BAD_REQUEST")));
        let get = ApiEvent::new(gateway, "list").route("GET", &Endpoint::AomEvents.path(&[PROJECT]));
        let (status, answer) = parts(event_list::handle(&app, get.query(&[domain]).request()).await);
        assert_eq!((status, aom_error(&answer)), (405, ("AOM.0405", "SC_METHOD_NOT_ALLOWED")));
    }
    let proxy = Proxy::start(endpoint()).await;
    let (faulty, _) = behind(&proxy, |_| {}).await;
    proxy.add(Rule::new(Fault::Throttle, Target::op("Query"), When::Always));
    let (status, answer) = aom(&faulty, Gateway::Rest, &[domain], json!({"time_range": "-1.-1.30"})).await;
    assert_eq!((status, aom_error(&answer)), (503, ("AOM.0503", "SC_NOT_IMPLEMENTED")));
}

#[tokio::test]
async fn aom_reads_no_domain_without_its_identity() {
    let (app, _) = aom_data().await;
    let body = json!({"time_range": "-1.-1.30"});
    for gateway in GATEWAYS {
        let (status, other) = aom(&app, gateway, &[("domain_id", "domain-other")], body.clone()).await;
        assert_eq!((status, other), (200, json!({"events": []})));
        let claimed = ApiEvent::new(gateway, "list").claims_domain("domain-other");
        let (status, answer) = aom_as(&app, claimed, &[("domain_id", DOMAIN)], body.clone()).await;
        assert_eq!((status, aom_error(&answer)), (403, ("AOM.0403", "SC_FORBIDDEN")));
        let own = ApiEvent::new(gateway, "list").claims_domain(DOMAIN);
        let (status, answer) = aom_as(&app, own, &[], body.clone()).await;
        assert_eq!((status, answer["events"].as_array().map(Vec::len)), (200, Some(3)), "{answer}");
        let no_claim = ApiEvent::new(gateway, "list").claims(json!({"sub": "machine"}));
        let (status, answer) = aom_as(&app, no_claim, &[("domain_id", DOMAIN)], body.clone()).await;
        assert_eq!((status, aom_error(&answer)), (403, ("AOM.0403", "SC_FORBIDDEN")));
    }
    let jwt = App {
        config: event_core::config::Config { read_authorizer: ReadAuthorizer::Jwt, ..app.config.clone() },
        ..app
    };
    let (status, answer) = aom(&jwt, Gateway::Http, &[("domain_id", DOMAIN)], body).await;
    assert_eq!(
        (status, aom_error(&answer)),
        (403, ("AOM.0403", "SC_FORBIDDEN")),
        "a JWT API without a token"
    );
}
