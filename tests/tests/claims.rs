//! Redelivery claims and ids on DynamoDB Local: a claim names one event id for every
//! delivery of its change, never another event's; a claim whose owner died stops
//! blocking within the function's timeout; an id already taken is never overwritten nor
//! counted as stored.

use e2e::*;
use event_core::model::{new_id, Alert, AlertState, Event, Severity, Urgency, WebhookFormat};
use event_core::service::App;
use event_core::store::{AlertScope, Claim, EventRange, StoredEvent};
use serde_json::json;

async fn deliver(app: &App, path: &str, idempotency_key: &str, title: &str) -> u16 {
    let req = ApiEvent::new(Gateway::Http, "create")
        .route("POST", path)
        .header("Idempotency-Key", idempotency_key)
        .body(&json!({"title": title}).to_string())
        .request();
    parts(event_create::handle(app, req).await).0
}

async fn stored(app: &App) -> Vec<Event> {
    app.store.query_events(&EventRange::domain(&trusted(DOMAIN))).await.unwrap()
}

#[tokio::test]
async fn a_claim_left_by_a_dead_delivery_blocks_no_longer_than_the_function_timeout() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let claim = |now: i64| app.store.claim_delivery(&key.webhook.webhook_id, "change:x", now, 3600);
    let t = 1_000_000;
    let Claim::New(first) = claim(t).await.unwrap() else { panic!("first claim") };
    let timeout = function_timeout_secs();
    assert!(matches!(claim(t + timeout - 1).await.unwrap(), Claim::InFlight(_)), "its owner may be alive");
    let Claim::New(second) = claim(t + timeout).await.unwrap() else {
        panic!("a claim older than the function timeout is taken over")
    };
    assert_eq!(second.event_id(), first.event_id(), "the takeover stores the change under the same id");
}

#[tokio::test]
async fn the_stored_event_completes_its_claim() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    assert_eq!(deliver(&app, &webhook_path(&key), "seed", "t").await, 200);
    let mut event = stored(&app).await.remove(0);
    let claim = |now: i64| app.store.claim_delivery(&key.webhook.webhook_id, "change:z", now, 3600);
    let Claim::New(first) = claim(1_000_000).await.unwrap() else { panic!("first claim") };
    event.event_id = first.event_id().to_string();
    assert!(app.store.put_event(&event, None).await.unwrap());
    // The redelivery learns the stored event from the claim: create's body identity
    // check compares its alert with the key's.
    let duplicate = Claim::Duplicate(Some(StoredEvent {
        event_id: event.event_id.clone(),
        webhook_id: event.webhook_id.clone(),
        event_type: event.event_type.as_str().to_string(),
        alert_id: event.alert_id.clone(),
        project_id: event.project_id.clone(),
        after_failure: false,
    }));
    assert!(!event.alert_id.is_empty());
    assert_eq!(claim(1_000_001).await.unwrap(), duplicate, "no write marked it done");
    let timeout = function_timeout_secs();
    assert_eq!(claim(1_000_000 + timeout).await.unwrap(), duplicate, "stale, but stored: no takeover");
    let Claim::New(later) = claim(1_000_000 + 3601).await.unwrap() else { panic!("past the window") };
    assert_ne!(later.event_id(), first.event_id(), "past the window the change is a new event");
}

#[tokio::test]
async fn the_first_delivery_after_one_that_failed_once_its_event_was_stored_is_its_retry() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    assert_eq!(deliver(&app, &webhook_path(&key), "seed", "t").await, 200);
    let mut event = stored(&app).await.remove(0);
    let claim = |now: i64| app.store.claim_delivery(&key.webhook.webhook_id, "change:r", now, 3600);
    let Claim::New(first) = claim(1_000_000).await.unwrap() else { panic!("first claim") };
    event.event_id = first.event_id().to_string();
    assert!(app.store.put_event(&event, None).await.unwrap());
    // The delivery failed after its write landed (a cut-off, a lost answer): 503.
    app.store.release_delivery(&first).await;
    let retried = |claim: Claim| match claim {
        Claim::Duplicate(Some(stored)) => stored.after_failure,
        other => panic!("{other:?}"),
    };
    assert!(retried(claim(1_000_001).await.unwrap()), "the sender's retry");
    assert!(!retried(claim(1_000_002).await.unwrap()), "only the first: the claim is settled");
}

#[tokio::test]
async fn a_change_delivered_again_after_the_window_is_a_new_event_with_a_new_id() {
    // A window of 0 hours: a marker counts only within the second it was written.
    let app = app_with(|c| c.dedup_window_hours = 0).await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    assert_eq!(deliver(&app, &webhook_path(&key), "daily-report", "disk 91%").await, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    assert_eq!(deliver(&app, &webhook_path(&key), "daily-report", "disk 91%").await, 200);
    let events = stored(&app).await;
    assert_eq!(events.len(), 2, "past the window a redelivery counts again: {events:?}");
    assert_ne!(events[0].event_id, events[1].event_id);
}

#[tokio::test]
async fn an_event_id_held_by_another_event_is_never_answered_as_stored() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let other = webhook(&app, WebhookFormat::Standard).await;
    assert_eq!(deliver(&app, &webhook_path(&other), "other", "someone else's").await, 200);
    let foreign = stored(&app).await.remove(0);

    // The claim the delivery keyed "mine" will make (identity `key:<Idempotency-Key>#<index>`)
    // names an id; another event sits there already, and the claim is given back.
    let now = chrono::Utc::now().timestamp();
    let Claim::New(claim) =
        app.store.claim_delivery(&key.webhook.webhook_id, "key:mine#0", now, 3600).await.unwrap()
    else {
        panic!("first claim")
    };
    let squatter = Event { event_id: claim.event_id().to_string(), ..foreign.clone() };
    assert!(app.store.put_event(&squatter, None).await.unwrap());
    app.store.release_delivery(&claim).await;

    let first = deliver(&app, &webhook_path(&key), "mine", "my alert").await;
    let mine = |events: &[Event]| events.iter().filter(|e| e.title == "my alert").count();
    if first == 200 {
        assert_eq!(mine(&stored(&app).await), 1, "a 200 means the event is stored");
    } else {
        assert!(first >= 500, "the sender retries: {first}");
        assert_eq!(deliver(&app, &webhook_path(&key), "mine", "my alert").await, 200);
    }
    let events = stored(&app).await;
    assert_eq!(mine(&events), 1, "{events:?}");
    let squatter = events.iter().find(|e| e.event_id == claim.event_id()).expect("the other event stays");
    assert_eq!(squatter.title, "someone else's");
}

fn alert(event_key: &str, title: &str) -> Alert {
    Alert {
        alert_id: new_id("alert"),
        event_key: event_key.into(),
        title: title.into(),
        description: String::new(),
        state: AlertState::Triggered,
        urgency: Urgency::High,
        severity: Severity::Critical,
        webhook_id: "webhook-1".into(),
        project_id: PROJECT.into(),
        workspace_id: "workspace-1".into(),
        domain_id: DOMAIN.into(),
        created_at: "2026-01-01T00:00:00.000Z".into(),
        updated_at: "2026-01-01T00:00:00.000Z".into(),
        resolved_at: String::new(),
        auto_resolve_at: String::new(),
        resource: Default::default(),
        provider: String::new(),
        account: String::new(),
        acknowledged_at: String::new(),
        status_message: String::new(),
        description_set_at: String::new(),
        no_notification: false,
    }
}

#[tokio::test]
async fn an_alert_id_already_taken_is_never_overwritten() {
    let app = app().await;
    let first = alert("disk", "Disk full");
    assert!(app.store.open_alert(&first).await.unwrap());
    let same_id = Alert { alert_id: first.alert_id.clone(), ..alert("cpu", "CPU hot") };
    let opened = app.store.open_alert(&same_id).await;
    assert!(opened.is_err(), "{opened:?}");
    assert_eq!(app.store.get_alert(&trusted(DOMAIN), &first.alert_id).await.unwrap(), Some(first.clone()));
    let cpu =
        AlertScope { domain_id: DOMAIN, workspace_id: "workspace-1", project_id: PROJECT, event_key: "cpu" };
    assert_eq!(app.store.key_state(&cpu).await.unwrap().open, None, "no key points at someone else's alert");
}

#[tokio::test]
async fn the_loser_of_a_race_to_open_an_alert_leaves_no_alert_behind() {
    let app = app().await;
    let winner = alert("disk", "Disk full");
    let loser = alert("disk", "Disk full");
    assert!(app.store.open_alert(&winner).await.unwrap());
    assert!(!app.store.open_alert(&loser).await.unwrap(), "the key is taken");
    assert_eq!(app.store.get_alert(&trusted(DOMAIN), &loser.alert_id).await.unwrap(), None);
    let disk = AlertScope::of(&winner);
    assert_eq!(app.store.key_state(&disk).await.unwrap().open, Some(winner.alert_id.clone()));
    assert!(app.store.open_alert(&winner).await.unwrap(), "a retried open is still ours");
}
