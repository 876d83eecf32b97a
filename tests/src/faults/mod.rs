//! A fault-injecting proxy between the service and DynamoDB Local.
//!
//! The SDK sends every DynamoDB call as an HTTP/1.1 POST whose `X-Amz-Target` names the
//! operation, and marks every attempt of one call with the same `amz-sdk-invocation-id`.
//! The proxy reads each request, decides from its rules whether to pass it on, slow it
//! down or fail it (throttle, 500, hang, drop before or after DynamoDB saw it), and counts
//! what it injected. A rule aimed at "the Nth call" fails every attempt of that call
//! (unless told to fail only the first), so the SDK's own retries cannot hide it. It can
//! also be killed (connections closed, new ones refused, as when the endpoint is gone),
//! by the test or as a chosen call arrives, and restarted on the same port.

mod http;

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use event_core::config::Config;
use event_core::service::App;
use event_core::store::Store;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use self::http::{read_message, server_error, throttled};

/// A service over fresh tables whose every DynamoDB call goes through `proxy`, and the
/// same service talking to DynamoDB directly (to set up and to read back).
pub async fn behind(proxy: &Proxy, adjust: impl FnOnce(&mut Config)) -> (App, App) {
    let direct = crate::app_with(adjust).await;
    let config = direct.config.clone();
    let client = crate::dynamodb_at(&proxy.url(), &config);
    let store = Store::new(client, config.tables.clone())
        .with_read_budget(config.read_budget())
        .with_retention_days(config.retention_days);
    (App { store, config }, direct)
}

/// What the proxy does to a request a rule picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Answers `ProvisionedThroughputExceededException` (HTTP 400) without forwarding.
    Throttle,
    /// Answers `InternalServerError` (HTTP 500) without forwarding.
    ServerError,
    /// Reads the request and never answers.
    Hang,
    /// Closes the connection before DynamoDB sees the request.
    DropRequest,
    /// Forwards the request (DynamoDB applies it), then closes the connection instead of
    /// answering: the write landed, the caller cannot know.
    DropResponse,
    /// DynamoDB goes away as this request arrives, unanswered (see [`Proxy::kill`]).
    Kill,
    /// Forwards the request after this long: a slow DynamoDB.
    Delay(Duration),
}

/// Which calls a rule looks at: an operation, optionally only bodies containing a text
/// (e.g. an attribute only one kind of item has).
#[derive(Debug, Clone)]
pub struct Target {
    operation: Option<String>,
    contains: Option<String>,
}

impl Target {
    pub fn any() -> Target {
        Target { operation: None, contains: None }
    }

    /// `operation` as in `X-Amz-Target` after the dot, e.g. `PutItem`.
    pub fn op(operation: &str) -> Target {
        Target { operation: Some(operation.to_string()), contains: None }
    }

    pub fn containing(mut self, text: &str) -> Target {
        self.contains = Some(text.to_string());
        self
    }

    fn matches(&self, call: &Call) -> bool {
        self.operation.as_ref().is_none_or(|op| *op == call.operation)
            && self.contains.as_ref().is_none_or(|text| call.body.contains(text.as_str()))
    }
}

/// When a rule fires.
#[derive(Debug, Clone, Copy)]
pub enum When {
    /// The nth matching call (1-based), counting calls, not the SDK's attempts.
    Nth(usize),
    /// Every matching request until the rule is cleared.
    Always,
    /// Every matching request until then.
    Until(Instant),
}

#[derive(Debug, Clone)]
pub struct Rule {
    fault: Fault,
    target: Target,
    when: When,
    first_attempt_only: bool,
    calls: usize,
}

impl Rule {
    pub fn new(fault: Fault, target: Target, when: When) -> Rule {
        Rule { fault, target, when, first_attempt_only: false, calls: 0 }
    }

    pub fn fault(&self) -> Fault {
        self.fault
    }

    /// Only the call's first attempt fails; the SDK's retry goes through.
    pub fn first_attempt_only(mut self) -> Rule {
        self.first_attempt_only = true;
        self
    }
}

/// One request as the proxy read it.
struct Call {
    operation: String,
    invocation: String,
    attempt: u32,
    body: String,
}

#[derive(Default)]
struct Rules {
    rules: Vec<Rule>,
    /// The fault chosen for a call picked by an `Nth` rule, and whether only its first
    /// attempt gets it: every attempt of that call is treated alike.
    picked: HashMap<String, Option<(Fault, bool)>>,
    injected: HashMap<Fault, usize>,
    forwarded: HashMap<String, usize>,
}

impl Rules {
    fn decide(&mut self, call: &Call) -> Option<Fault> {
        let picked = match self.picked.get(&call.invocation) {
            Some(picked) => *picked,
            None => {
                let mut picked = None;
                for rule in self.rules.iter_mut().filter(|r| matches!(r.when, When::Nth(_))) {
                    if rule.target.matches(call) {
                        rule.calls += 1;
                        if matches!(rule.when, When::Nth(n) if n == rule.calls) && picked.is_none() {
                            picked = Some((rule.fault, rule.first_attempt_only));
                        }
                    }
                }
                self.picked.insert(call.invocation.clone(), picked);
                picked
            }
        };
        let fault = match picked {
            Some((fault, first_only)) => (!first_only || call.attempt <= 1).then_some(fault),
            None => self.rules.iter().find_map(|rule| {
                let active = match rule.when {
                    When::Always => true,
                    When::Until(end) => Instant::now() < end,
                    When::Nth(_) => false,
                };
                let attempt_ok = !rule.first_attempt_only || call.attempt <= 1;
                (active && attempt_ok && rule.target.matches(call)).then_some(rule.fault)
            }),
        };
        match fault {
            Some(fault) => *self.injected.entry(fault).or_default() += 1,
            None => *self.forwarded.entry(call.operation.clone()).or_default() += 1,
        }
        fault
    }
}

/// The proxy. Dropping it closes every connection.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

/// What the accept loop and every connection share.
struct Shared {
    upstream: SocketAddr,
    rules: Mutex<Rules>,
    /// Bumped to close every open connection (kill, drop).
    generation: watch::Sender<u64>,
    listener: Mutex<Option<JoinHandle<()>>>,
    kills: Mutex<usize>,
}

impl Shared {
    fn kill(&self) {
        if let Some(task) = self.listener.lock().unwrap().take() {
            task.abort();
            *self.kills.lock().unwrap() += 1;
        }
        self.generation.send_modify(|g| *g += 1);
    }

    fn accept(self: &Arc<Self>, listener: tokio::net::TcpListener) {
        let shared = self.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let closed = shared.generation.subscribe();
                tokio::spawn(serve(client, shared.clone(), closed));
            }
        });
        *self.listener.lock().unwrap() = Some(task);
    }
}

impl Proxy {
    /// A proxy on a free local port in front of `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> Proxy {
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/');
        let upstream = tokio::net::lookup_host(upstream).await.expect("upstream resolves").next().unwrap();
        let listener = bind("127.0.0.1:0".parse().unwrap()).await;
        let shared = Arc::new(Shared {
            upstream,
            rules: Mutex::default(),
            generation: watch::channel(0).0,
            listener: Mutex::new(None),
            kills: Mutex::new(0),
        });
        let proxy = Proxy { addr: listener.local_addr().unwrap(), shared };
        proxy.shared.accept(listener);
        proxy
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn add(&self, rule: Rule) {
        self.shared.rules.lock().unwrap().rules.push(rule);
    }

    pub fn clear(&self) {
        self.shared.rules.lock().unwrap().rules.clear();
    }

    /// How many requests got `fault`.
    pub fn injected(&self, fault: Fault) -> usize {
        self.shared.rules.lock().unwrap().injected.get(&fault).copied().unwrap_or(0)
    }

    /// How many requests of `operation` reached DynamoDB unharmed.
    pub fn forwarded(&self, operation: &str) -> usize {
        self.shared.rules.lock().unwrap().forwarded.get(operation).copied().unwrap_or(0)
    }

    /// How many times DynamoDB went away (by `kill` or a `Kill` rule).
    pub fn kills(&self) -> usize {
        *self.shared.kills.lock().unwrap()
    }

    /// DynamoDB is gone: open connections close, new ones are refused.
    pub fn kill(&self) {
        self.shared.kill();
    }

    /// Back on the same port.
    pub async fn restart(&self) {
        if self.shared.listener.lock().unwrap().is_some() {
            return;
        }
        self.shared.accept(bind(self.addr).await);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn bind(addr: SocketAddr) -> tokio::net::TcpListener {
    // The port was just closed, its connections may linger in TIME_WAIT; an aborted
    // accept task may take a moment to release the old socket.
    for _ in 0..50 {
        let socket = TcpSocket::new_v4().expect("a socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        if socket.bind(addr).is_ok() {
            if let Ok(listener) = socket.listen(128) {
                return listener;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("cannot listen on {addr}");
}

/// One client connection: request by request, forwarded on one upstream connection.
async fn serve(mut client: TcpStream, shared: Arc<Shared>, mut closed: watch::Receiver<u64>) {
    let work = async {
        let mut upstream_conn: Option<TcpStream> = None;
        let mut from_client = Vec::new();
        let mut from_upstream = Vec::new();
        while let Some(request) = read_message(&mut client, &mut from_client).await? {
            let call = call_of(&request);
            let fault = shared.rules.lock().unwrap().decide(&call);
            match fault {
                Some(Fault::Throttle) => client.write_all(&throttled()).await?,
                Some(Fault::ServerError) => client.write_all(&server_error()).await?,
                Some(Fault::Hang) => std::future::pending::<()>().await,
                Some(Fault::DropRequest) => return Ok(()),
                Some(Fault::Kill) => {
                    shared.kill();
                    return Ok(());
                }
                None | Some(Fault::DropResponse | Fault::Delay(_)) => {
                    if let Some(Fault::Delay(delay)) = fault {
                        tokio::time::sleep(delay).await;
                    }
                    if upstream_conn.is_none() {
                        upstream_conn = Some(TcpStream::connect(shared.upstream).await?);
                    }
                    let conn = upstream_conn.as_mut().unwrap();
                    conn.write_all(&request).await?;
                    let response = read_message(conn, &mut from_upstream)
                        .await?
                        .ok_or_else(|| io::Error::other("DynamoDB closed the connection"))?;
                    if fault == Some(Fault::DropResponse) {
                        return Ok(());
                    }
                    client.write_all(&response).await?;
                }
            }
        }
        Ok::<(), io::Error>(())
    };
    tokio::select! {
        _ = work => {}
        _ = closed.changed() => {}
    }
}

fn call_of(message: &[u8]) -> Call {
    let text = String::from_utf8_lossy(message);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let header = |name: &str| {
        head.lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let target = header("x-amz-target");
    let attempt = header("amz-sdk-request");
    Call {
        operation: target.rsplit('.').next().unwrap_or_default().to_string(),
        invocation: header("amz-sdk-invocation-id"),
        attempt: attempt
            .split(';')
            .find_map(|part| part.trim().strip_prefix("attempt="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(1),
        body: body.to_string(),
    }
}
