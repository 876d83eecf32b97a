//! What a generated sequence is made of: the sender's moves per alert key, and the
//! storage fault (if any) injected while one of them is delivered. The moves are blind
//! to the state; the reference model turns each into a concrete body when it runs
//! (`Reference::plan`), so a shrunk sequence still means something.

use proptest::prelude::*;

use crate::faults::Fault;

/// Standard-format keys `k0..k2`; which webhook each belongs to is part of the case.
pub const KEYS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// No `occurred_at`: dated on arrival, never late.
    None,
    /// The sender's clock, now (the same clock as the server's here).
    Now,
    /// Ten minutes ahead of the server: a skewed sender.
    Ahead,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// A new ALERT body; `reuse` sends the key's last untimed ALERT bytes again when its
    /// incident was resolved since (a repeat incident), else a new body.
    Alert {
        key: usize,
        stamp: Stamp,
        reuse: bool,
    },
    Recovery {
        key: usize,
        stamp: Stamp,
    },
    /// An ALERT stamped a minute before the key's last timed RECOVERY (an HA peer or a
    /// retry overtaken by the resolution); a plain timed ALERT when there is none.
    LateAlert {
        key: usize,
    },
    /// The key's last body, byte for byte.
    Repeat {
        key: usize,
    },
    /// Waits until the key's auto-resolving alert has expired, then repeats its last body.
    ExpireThenRepeat {
        key: usize,
    },
    /// An AOM alarm report with a new `starts_at`.
    AomReport,
    /// The last report again (same `starts_at`) while the alarm is open; a new report
    /// otherwise.
    AomReReport,
    /// `?action=clear` of the alarm's last report.
    AomClear,
    /// No delivery: time passes (less than an auto-resolve time) and the state is read
    /// again, so an alert that should have been kept alive, and was not, shows.
    Pause,
}

/// The writes a delivery makes, told apart as `tests/tests/faults.rs` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    Claim,
    Event,
    AlertPut,
    MarkerPut,
    /// Any UpdateItem on the alerts table (resolving, joins of auto-resolving alerts,
    /// the marker's memory).
    AlertUpdate,
    /// Any TransactWriteItems (resolutions on some paths, late ALERTs' alerts).
    Transaction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultSpec {
    pub write: WriteKind,
    pub fault: Fault,
    /// The Nth write of that kind during the step (1-based).
    pub nth: usize,
    /// Only the call's first attempt fails, so the SDK's own retry may get through.
    pub first_attempt_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub op: Op,
    pub fault: Option<FaultSpec>,
}

/// One sequence: which keys belong to the auto-resolving webhook, and the steps.
#[derive(Debug, Clone)]
pub struct Case {
    pub auto_keys: [bool; KEYS],
    pub steps: Vec<Step>,
}

fn stamp() -> impl Strategy<Value = Stamp> {
    prop_oneof![2 => Just(Stamp::None), 2 => Just(Stamp::Now), 1 => Just(Stamp::Ahead)]
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0..KEYS;
    prop_oneof![
        5 => (key.clone(), prop_oneof![Just(Stamp::None), Just(Stamp::Now)], any::<bool>())
            .prop_map(|(key, stamp, reuse)| Op::Alert { key, stamp, reuse }),
        4 => (key.clone(), stamp()).prop_map(|(key, stamp)| Op::Recovery { key, stamp }),
        1 => key.clone().prop_map(|key| Op::LateAlert { key }),
        3 => key.clone().prop_map(|key| Op::Repeat { key }),
        // Sparingly: each costs a couple of seconds of sleep.
        1 => key.prop_map(|key| Op::ExpireThenRepeat { key }),
        1 => Just(Op::AomReport),
        1 => Just(Op::AomReReport),
        1 => Just(Op::AomClear),
        1 => Just(Op::Pause),
    ]
}

fn fault() -> impl Strategy<Value = FaultSpec> {
    let write = prop_oneof![
        1 => Just(WriteKind::Claim),
        1 => Just(WriteKind::Event),
        2 => Just(WriteKind::AlertPut),
        2 => Just(WriteKind::MarkerPut),
        2 => Just(WriteKind::AlertUpdate),
        1 => Just(WriteKind::Transaction),
    ];
    let fault = prop_oneof![
        3 => Just(Fault::Throttle),
        3 => Just(Fault::ServerError),
        1 => Just(Fault::Hang),
        2 => Just(Fault::DropRequest),
        3 => Just(Fault::DropResponse),
        1 => Just(Fault::Kill),
    ];
    (write, fault, prop_oneof![3 => Just(1usize), 1 => Just(2usize)], any::<bool>()).prop_map(
        |(write, fault, nth, first_attempt_only)| FaultSpec { write, fault, nth, first_attempt_only },
    )
}

fn step() -> impl Strategy<Value = Step> {
    // About a third of the steps are delivered under a fault.
    (op(), prop::option::weighted(0.35, fault())).prop_map(|(op, fault)| Step { op, fault })
}

pub fn case(max_steps: usize) -> impl Strategy<Value = Case> {
    (any::<[bool; KEYS]>(), prop::collection::vec(step(), 1..=max_steps))
        .prop_map(|(auto_keys, steps)| Case { auto_keys, steps })
}
