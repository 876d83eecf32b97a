//! Alert truth, model-based (issue 18): random sequences of a sender's moves per alert
//! key (ALERT, RECOVERY, byte-identical repeats, repeats after auto-resolve, AOM
//! reports, re-reports and clears, late and skewed sender times) go through the real
//! create handler, some under a storage fault injected by the proxy on one write, each
//! retried as a sender retries a 5xx until it is answered 200. After every step the
//! stored events and AOM's active and history alarms (read through the list handler)
//! are compared with the reference model in `e2e::model`.
//!
//! `ALERT_MODEL_CASES` sequences (12 here; `make soak` runs 500) from `ALERT_MODEL_SEED`;
//! case i uses its own seed derived from both, so `ALERT_MODEL_FIRST=i
//! ALERT_MODEL_CASES=1` replays one case. `ALERT_MODEL_SHRINK` bounds proptest's
//! shrinking of a failing case (each run of a case takes seconds).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use e2e::faults::{behind, Proxy, Rule, Target, When};
use e2e::model::compare::{divergences, Seen};
use e2e::model::ops::{case, Case, FaultSpec, Op, Step, WriteKind};
use e2e::model::reference::{Hook, Planned, Reference, AUTO_RESOLVE};
use e2e::*;
use event_core::model::WebhookFormat;
use event_core::service::webhooks::NewWebhook;
use event_core::service::App;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde_json::Value;

const MAX_STEPS: usize = 12;
/// A step starts only when no auto-resolving alert can expire within this long (longer
/// under a fault, whose retries take time): a delivery that takes longer and touches
/// such an alert makes the case inconclusive.
const STEP_GUARD: Duration = Duration::from_millis(500);
const FAULTED_STEP_GUARD: Duration = Duration::from_millis(1_000);
/// Likewise for the reads after a step.
const READ_GUARD: Duration = Duration::from_millis(600);
/// A sender gives up on a change after this long (a claim left by a dead delivery
/// blocks its change for 29 s).
const SENDER_PATIENCE: Duration = Duration::from_secs(75);

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The three webhooks of a case, behind a proxy of its own, on fresh tables.
struct Stage {
    proxy: Arc<Proxy>,
    app: App,
    direct: App,
    paths: [(Hook, String); 3],
}

async fn stage() -> Stage {
    let proxy = Arc::new(Proxy::start(endpoint()).await);
    // Short storage timeouts, so a hung call costs a step about a second.
    let (app, direct) = behind(&proxy, |c| {
        c.storage_attempt_timeout_ms = 300;
        c.storage_operation_timeout_ms = 1_000;
    })
    .await;
    let auto = NewWebhook {
        auto_resolve_after_seconds: Some(AUTO_RESOLVE.as_secs()),
        ..new_webhook(WebhookFormat::Standard, DOMAIN, PROJECT)
    };
    let paths = [
        (Hook::Plain, webhook_path(&webhook(&direct, WebhookFormat::Standard).await)),
        (Hook::Auto, webhook_path(&webhook_from(&direct, auto).await)),
        (Hook::Aom, webhook_path(&webhook(&direct, WebhookFormat::Aom).await)),
    ];
    Stage { proxy, app, direct, paths }
}

impl Stage {
    fn path(&self, hook: Hook) -> &str {
        &self.paths.iter().find(|(h, _)| *h == hook).expect("every hook has a webhook").1
    }

    fn target(&self, write: WriteKind) -> Target {
        let alerts = format!("\"{}\"", self.direct.config.tables.alerts);
        match write {
            WriteKind::Claim => Target::any().containing("claimed_at"),
            WriteKind::Event => Target::op("PutItem").containing("created_key"),
            WriteKind::AlertPut => Target::op("PutItem").containing("\"urgency\""),
            WriteKind::MarkerPut => Target::op("PutItem").containing("open_alert_id"),
            WriteKind::AlertUpdate => Target::op("UpdateItem").containing(&alerts),
            WriteKind::Transaction => Target::op("TransactWriteItems"),
        }
    }

    fn rule(&self, spec: FaultSpec) -> Rule {
        let rule = Rule::new(spec.fault, self.target(spec.write), When::Nth(spec.nth));
        if spec.first_attempt_only {
            rule.first_attempt_only()
        } else {
            rule
        }
    }

    /// Delivers `planned` under `fault` until it is answered 200, as a sender retries a
    /// 5xx. Answers the attempts' statuses.
    async fn deliver(&self, planned: &Planned, fault: Option<FaultSpec>) -> Result<Vec<String>, String> {
        if let Some(spec) = fault {
            self.proxy.add(self.rule(spec));
        }
        // DynamoDB killed by the fault is back 400 ms later, each time: a rule on a call
        // fails every attempt of it, so the SDK's retry may kill it again.
        let revive = tokio::spawn({
            let proxy = self.proxy.clone();
            async move {
                let mut revived = proxy.kills();
                loop {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    if proxy.kills() > revived {
                        tokio::time::sleep(Duration::from_millis(400)).await;
                        revived = proxy.kills();
                        proxy.restart().await;
                    }
                }
            }
        });
        let answers = self.retry(planned).await;
        revive.abort();
        self.proxy.clear();
        self.proxy.restart().await;
        answers
    }

    async fn retry(&self, planned: &Planned) -> Result<Vec<String>, String> {
        let give_up = Instant::now() + SENDER_PATIENCE;
        let mut answers = Vec::new();
        let mut backoff = Duration::from_millis(100);
        loop {
            let mut req = ApiEvent::new(Gateway::Rest, "create")
                .route("POST", self.path(planned.hook))
                .body(&planned.body);
            if planned.clear {
                req = req.query(&[("action", "clear")]);
            }
            let response = event_create::handle(&self.app, req.request()).await;
            let retry_after = response.headers().contains_key("retry-after");
            let (status, body) = parts(response);
            // A failure report says why each retried attempt was refused.
            answers.push(match status {
                200 => "200".to_string(),
                _ => format!("{status} {}", body["error"]["message"].as_str().unwrap_or_default()),
            });
            match status {
                200 => return Ok(answers),
                503 if !retry_after => return Err(format!("a 503 without Retry-After: {body}")),
                500 | 503 if Instant::now() < give_up => {}
                _ => return Err(format!("answered {status} {body} after {answers:?}: the sender stops")),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }

    /// The stored events (creation order) and the ids of AOM's active and history alarms.
    async fn observe(&self) -> (Vec<Seen>, BTreeSet<String>, BTreeSet<String>) {
        let events = events_oldest_first(&self.direct).await;
        let seen = events.into_iter().map(|e| Seen { tag: e.description, alert_id: e.alert_id }).collect();
        (seen, self.alarms("active_alert").await, self.alarms("history_alert").await)
    }

    async fn alarms(&self, listing: &str) -> BTreeSet<String> {
        let alarms = aom_alarms(&self.direct, listing).await;
        alarms.iter().filter_map(|a| a["id"].as_str().map(str::to_string)).collect()
    }
}

/// Waits until no open auto-resolving alert can expire within `guard` (those that can
/// are waited out, and read RESOLVED in the model from then on).
async fn settle(model: &mut Reference, guard: Duration) {
    while let Some(until) = model.due(Instant::now() + guard) {
        tokio::time::sleep(until.saturating_duration_since(Instant::now())).await;
        model.expire(Instant::now());
    }
}

#[derive(Debug, Default)]
struct Tally {
    completed: usize,
    /// Cases stopped early: a delivery or read overlapped an expiry window.
    inconclusive: usize,
    steps: usize,
    faulted_steps: usize,
    retried_steps: usize,
}

/// How long a pause lasts: more than half an auto-resolve time, so that an alert kept
/// alive by a repeat halfway through its time, and not refreshed, expires before the
/// model's time has come close enough to be waited out.
const PAUSE: Duration = Duration::from_millis(1_100);

/// Whether a step's outcome can be judged: not when its delivery ran into the window
/// in which the alert it touches may have expired.
enum Judged {
    /// Applied to the model; whether the sender had to retry it.
    Yes {
        retried: bool,
    },
    Inconclusive,
}

/// Delivers one step's move until it is acknowledged and applies it to the model.
async fn deliver_step(
    stage: &Stage,
    model: &mut Reference,
    i: usize,
    Step { op, fault }: Step,
    key: usize,
    log: &mut Vec<String>,
    tally: Option<&Mutex<Tally>>,
) -> Result<Judged, String> {
    if let (Op::ExpireThenRepeat { .. }, Some(until)) = (op, model.expiry_of(key)) {
        tokio::time::sleep(until.saturating_duration_since(Instant::now())).await;
        model.expire(Instant::now());
    }
    let planned = model.plan(op, Utc::now());
    let expires = model.earliest_expiry(key);
    let (sent, arrival) = (Instant::now(), Utc::now());
    let answers = stage.deliver(&planned, fault).await;
    let acked = Instant::now();
    log.push(format!("step {i}: {op:?} under {fault:?}: {answers:?}; body {}", planned.body));
    let answers = answers.map_err(|e| format!("{}\n{e}", log.join("\n")))?;
    if let Some(tally) = tally {
        let mut t = tally.lock().unwrap();
        t.steps += 1;
        t.faulted_steps += fault.is_some() as usize;
        t.retried_steps += (answers.len() > 1) as usize;
    }
    if expires.is_some_and(|lo| acked >= lo) {
        return Ok(Judged::Inconclusive);
    }
    model.apply(&planned, sent, acked, arrival);
    Ok(Judged::Yes { retried: answers.len() > 1 })
}

/// One sequence against fresh tables; the first divergence fails it.
async fn run_case(case: &Case, tally: Option<&Mutex<Tally>>) -> Result<(), String> {
    let stage = stage().await;
    let mut model = Reference::new(case.auto_keys);
    let mut log: Vec<String> = Vec::new();
    // A delivery refused after it opened an alert, whose retry came after that alert's
    // auto-resolve time, leaves it resolved and named by no event (docs/data-model.md,
    // "The alert state machine"): allowed in history once a delivery was retried.
    let mut retried = false;
    let count = |f: &dyn Fn(&mut Tally)| {
        if let Some(tally) = tally {
            f(&mut tally.lock().unwrap());
        }
    };
    for (i, step) in case.steps.iter().enumerate() {
        let guard = if step.fault.is_some() { FAULTED_STEP_GUARD } else { STEP_GUARD };
        settle(&mut model, guard).await;
        match Reference::key_of(&step.op) {
            Some(key) => match deliver_step(&stage, &mut model, i, *step, key, &mut log, tally).await? {
                Judged::Yes { retried: this } => retried |= this,
                Judged::Inconclusive => {
                    count(&|t| t.inconclusive += 1);
                    return Ok(());
                }
            },
            None => {
                tokio::time::sleep(PAUSE).await;
                log.push(format!("step {i}: {:?}", step.op));
            }
        }
        settle(&mut model, READ_GUARD).await;
        let (seen, active, history) = stage.observe().await;
        if model.may_expire_by(Instant::now()) {
            count(&|t| t.inconclusive += 1);
            return Ok(());
        }
        let found = divergences(&model, &seen, &active, &history, retried);
        if !found.is_empty() {
            let stored: Vec<_> = seen.iter().map(|s| format!("{}→{}", s.tag, s.alert_id)).collect();
            return Err(format!(
                "{}\nafter step {i} the service differs from the model:\n  {}\nthe model's open alert per key: \
                 {:?}\nstored (tag→alert_id): {stored:?}\nactive_alert: {active:?}\nhistory_alert: {history:?}",
                log.join("\n"),
                found.join("\n  "),
                model.open_alerts(),
            ));
        }
    }
    count(&|t| t.completed += 1);
    Ok(())
}

/// Case i's own seed: the run's seed and i through SplitMix64, spread over 32 bytes.
fn case_seed(seed: u64, i: u64) -> [u8; 32] {
    let mut state = seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(8) {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    bytes
}

#[test]
fn alert_state_follows_the_reference_model_under_faults() {
    let cases = env_number("ALERT_MODEL_CASES", 12);
    let seed = env_number("ALERT_MODEL_SEED", 18);
    let first = env_number("ALERT_MODEL_FIRST", 0);
    let shrink = env_number("ALERT_MODEL_SHRINK", 8) as u32;
    println!("alert model: seed {seed}, cases {first}..{}, shrinking up to {shrink} runs", first + cases);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let tally = Mutex::new(Tally::default());
    let started = Instant::now();
    let mut failures = Vec::new();
    for i in first..first + cases {
        let config =
            Config { cases: 1, max_shrink_iters: shrink, failure_persistence: None, ..Config::default() };
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &case_seed(seed, i));
        let mut runner = TestRunner::new_with_rng(config, rng);
        // Only a case's first run counts in the figures; shrinking reruns it.
        let first_run = AtomicBool::new(true);
        let result = runner.run(&case(MAX_STEPS), |case| {
            let counted = first_run.swap(false, Ordering::SeqCst).then_some(&tally);
            runtime.block_on(run_case(&case, counted)).map_err(TestCaseError::fail)
        });
        let replay = format!("ALERT_MODEL_SEED={seed} ALERT_MODEL_FIRST={i} ALERT_MODEL_CASES=1");
        match result {
            Ok(()) => {}
            Err(TestError::Fail(reason, minimal)) => {
                let message = format!("case {i} ({replay}), minimal sequence {minimal:?}:\n{reason}");
                println!("FAILED {message}\n");
                failures.push(message);
            }
            Err(TestError::Abort(reason)) => failures.push(format!("case {i} ({replay}) aborted: {reason}")),
        }
    }
    let tally = tally.into_inner().unwrap();
    println!(
        "alert model: seed {seed}, {cases} cases in {:?}: {} completed, {} failed, {} inconclusive; \
         {} steps ({} under a fault, {} retried)",
        started.elapsed(),
        tally.completed,
        failures.len(),
        tally.inconclusive,
        tally.steps,
        tally.faulted_steps,
        tally.retried_steps,
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} cases differ from the model:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(tally.steps > 0, "the run delivered something");
}

/// The comparison itself fails on a wrong state: a model that holds an alert open while
/// the service stored nothing is a divergence (a test that cannot fail is worthless).
#[test]
fn the_comparison_reports_a_missing_event_and_a_phantom_alarm() {
    let mut model = Reference::new([false; 3]);
    let planned =
        model.plan(Op::Alert { key: 0, stamp: e2e::model::ops::Stamp::None, reuse: false }, Utc::now());
    model.apply(&planned, Instant::now(), Instant::now(), Utc::now());
    let phantom: BTreeSet<String> = ["alert-phantom".to_string()].into();
    let found = divergences(&model, &[], &phantom, &BTreeSet::new(), true);
    assert!(found.iter().any(|d| d.contains("stored 0 time(s), expected 1")), "{found:?}");
    assert!(found.iter().any(|d| d.contains("alert-phantom (named by no event)")), "{found:?}");
    let _: Value = serde_json::from_str(&planned.body).unwrap();
}

/// Two fixed sequences the random ones reach only now and then, since a case stops at
/// its first divergence: a repeat halfway through an alert's auto-resolve time must keep
/// it open past its first time (an AOM re-report, a byte-identical standard repeat).
#[test]
fn a_repeat_keeps_its_auto_resolving_alert_open_past_its_first_time() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let step = |op| Step { op, fault: None };
    let aom = Case {
        auto_keys: [false; 3],
        steps: vec![step(Op::AomReport), step(Op::Pause), step(Op::AomReReport), step(Op::Pause)],
    };
    let repeat = Op::Repeat { key: 0 };
    let standard = Case {
        auto_keys: [true, false, false],
        steps: vec![step(repeat), step(Op::Pause), step(repeat), step(Op::Pause)],
    };
    let failures: Vec<String> =
        [aom, standard].iter().filter_map(|case| runtime.block_on(run_case(case, None)).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
