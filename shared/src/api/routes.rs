//! The documented paths of both API generations: one table that matches requests to
//! typed routes and builds paths, and that docs/openapi.json must list exactly (a test
//! in `api::openapi` holds the two equal).

use lambda_http::http::Method;

use crate::error::{Error, Result};
use crate::model::WebhookFormat;

/// Every documented route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// create.
    WebhookEvents,
    WebhookEventsPut,
    /// create, on Huawei Cloud Eye's own path (CreateEvents), signed by its SDK.
    CloudEyeCreateEvents,
    /// create, on Huawei AOM's own path (PushEvents), signed by its SDK.
    AomPushEvents,
    /// get, current: everything in the body.
    EventGet,
    /// list, current.
    EventList,
    /// stat, current.
    EventStat,
    /// get, legacy: the id in the path, `domain_id` and `only` in the query string.
    EventById,
    /// list, legacy: EventQuery in the query string.
    Events,
    /// list, legacy: EventQuery in the body.
    EventsSearch,
    /// stat, legacy.
    EventsStat,
    /// Huawei Cloud Eye's "Querying Monitoring Details of an Event", served by list.
    CloudEyeEvent,
    /// Huawei AOM's "Querying Events and Alarms", served by list.
    AomEvents,
    /// The Alert API (served by the alerts function): get, current.
    AlertGet,
    /// list, current.
    AlertList,
    /// stat, current.
    AlertStat,
    /// update, current.
    AlertUpdate,
    /// get, legacy: the id in the path.
    AlertById,
    /// update, legacy: the id in the path, the changes in the body.
    AlertPut,
    /// update_state, legacy: a notification's link, with the webhook's access key.
    AlertStateLink,
    /// list, legacy: AlertQuery in the query string.
    Alerts,
    /// list, legacy: AlertQuery in the body.
    AlertsSearch,
    /// stat, legacy.
    AlertsStat,
    /// The Webhook API (served by the webhooks function), current paths: create.
    WebhookCreate,
    WebhookUpdate,
    WebhookUpdatePlugin,
    WebhookEnable,
    WebhookDisable,
    WebhookDelete,
    WebhookGet,
    WebhookList,
    WebhookStat,
    /// Ours: a new access key (shown once), the old one kept for a grace period.
    WebhookRotateKey,
    /// Legacy REST: create (`POST /webhooks`).
    Webhooks,
    /// list, legacy: WebhookQuery in the query string.
    WebhooksList,
    /// list, legacy: WebhookQuery in the body.
    WebhooksSearch,
    /// stat, legacy.
    WebhooksStat,
    /// get, update and delete, legacy: the id in the path.
    WebhookById,
    WebhookPut,
    WebhookDeleteById,
    /// update_plugin, enable and disable, legacy.
    WebhookPluginPut,
    WebhookEnablePut,
    WebhookDisablePut,
    /// The web console's page (served by the get function, no authorizer: the page asks
    /// for the token its API calls carry).
    Console,
    /// One of the console's scripts or its style sheet.
    ConsoleAsset,
    /// The EventRule API (served by the event_rules function).
    EventRuleCreate,
    EventRuleUpdate,
    EventRuleChangeOrder,
    EventRuleDelete,
    EventRuleGet,
    EventRuleList,
    EventRuleStat,
}

impl Endpoint {
    /// Every endpoint, in matching order: the first template whose segments match a path
    /// decides (among the endpoints of that template, the one of the request's method), so
    /// a literal path comes before the parameter that would also match it (`GET
    /// /event/list` is a 405, not event "list").
    pub const ALL: [Endpoint; 52] = [
        Endpoint::WebhookEvents,
        Endpoint::WebhookEventsPut,
        Endpoint::CloudEyeCreateEvents,
        Endpoint::AomPushEvents,
        Endpoint::EventGet,
        Endpoint::EventList,
        Endpoint::EventStat,
        Endpoint::EventById,
        Endpoint::Events,
        Endpoint::EventsSearch,
        Endpoint::EventsStat,
        Endpoint::CloudEyeEvent,
        Endpoint::AomEvents,
        Endpoint::AlertGet,
        Endpoint::AlertList,
        Endpoint::AlertStat,
        Endpoint::AlertUpdate,
        Endpoint::AlertById,
        Endpoint::AlertPut,
        Endpoint::AlertStateLink,
        Endpoint::Alerts,
        Endpoint::AlertsSearch,
        Endpoint::AlertsStat,
        Endpoint::WebhookCreate,
        Endpoint::WebhookUpdate,
        Endpoint::WebhookUpdatePlugin,
        Endpoint::WebhookEnable,
        Endpoint::WebhookDisable,
        Endpoint::WebhookDelete,
        Endpoint::WebhookGet,
        Endpoint::WebhookList,
        Endpoint::WebhookStat,
        Endpoint::WebhookRotateKey,
        Endpoint::Webhooks,
        Endpoint::WebhooksList,
        Endpoint::WebhooksSearch,
        Endpoint::WebhooksStat,
        Endpoint::WebhookById,
        Endpoint::WebhookPut,
        Endpoint::WebhookDeleteById,
        Endpoint::WebhookPluginPut,
        Endpoint::WebhookEnablePut,
        Endpoint::WebhookDisablePut,
        Endpoint::Console,
        Endpoint::ConsoleAsset,
        Endpoint::EventRuleCreate,
        Endpoint::EventRuleUpdate,
        Endpoint::EventRuleChangeOrder,
        Endpoint::EventRuleDelete,
        Endpoint::EventRuleGet,
        Endpoint::EventRuleList,
        Endpoint::EventRuleStat,
    ];

    /// The method and path template.
    pub fn spec(self) -> (Method, &'static str) {
        match self {
            Endpoint::WebhookEvents => {
                (Method::POST, "/monitoring/v1/webhook/{webhook_id}/{access_key}/events")
            }
            // AOM's push_events sends PUT; only an `aom` webhook takes it.
            Endpoint::WebhookEventsPut => {
                (Method::PUT, "/monitoring/v1/webhook/{webhook_id}/{access_key}/events")
            }
            Endpoint::CloudEyeCreateEvents => (Method::POST, "/V1.0/{project_id}/events"),
            Endpoint::AomPushEvents => (Method::PUT, "/v2/{project_id}/push/events"),
            Endpoint::EventGet => (Method::POST, "/monitoring/v1/event/get"),
            Endpoint::EventList => (Method::POST, "/monitoring/v1/event/list"),
            Endpoint::EventStat => (Method::POST, "/monitoring/v1/event/stat"),
            Endpoint::EventById => (Method::GET, "/monitoring/v1/event/{event_id}"),
            Endpoint::Events => (Method::GET, "/monitoring/v1/events"),
            Endpoint::EventsSearch => (Method::POST, "/monitoring/v1/events/search"),
            Endpoint::EventsStat => (Method::POST, "/monitoring/v1/events/stat"),
            Endpoint::CloudEyeEvent => (Method::GET, "/V1.0/{project_id}/event/{event_name}"),
            Endpoint::AomEvents => (Method::POST, "/v2/{project_id}/events"),
            Endpoint::AlertGet => (Method::POST, "/monitoring/v1/alert/get"),
            Endpoint::AlertList => (Method::POST, "/monitoring/v1/alert/list"),
            Endpoint::AlertStat => (Method::POST, "/monitoring/v1/alert/stat"),
            Endpoint::AlertUpdate => (Method::POST, "/monitoring/v1/alert/update"),
            Endpoint::AlertById => (Method::GET, "/monitoring/v1/alert/{alert_id}"),
            Endpoint::AlertPut => (Method::PUT, "/monitoring/v1/alert/{alert_id}"),
            Endpoint::AlertStateLink => {
                (Method::POST, "/monitoring/v1/alert/{alert_id}/{access_key}/{state}")
            }
            Endpoint::Alerts => (Method::GET, "/monitoring/v1/alerts"),
            Endpoint::AlertsSearch => (Method::POST, "/monitoring/v1/alerts/search"),
            Endpoint::AlertsStat => (Method::POST, "/monitoring/v1/alerts/stat"),
            Endpoint::WebhookCreate => (Method::POST, "/monitoring/v1/webhook/create"),
            Endpoint::WebhookUpdate => (Method::POST, "/monitoring/v1/webhook/update"),
            Endpoint::WebhookUpdatePlugin => (Method::POST, "/monitoring/v1/webhook/update-plugin"),
            Endpoint::WebhookEnable => (Method::POST, "/monitoring/v1/webhook/enable"),
            Endpoint::WebhookDisable => (Method::POST, "/monitoring/v1/webhook/disable"),
            Endpoint::WebhookDelete => (Method::POST, "/monitoring/v1/webhook/delete"),
            Endpoint::WebhookGet => (Method::POST, "/monitoring/v1/webhook/get"),
            Endpoint::WebhookList => (Method::POST, "/monitoring/v1/webhook/list"),
            Endpoint::WebhookStat => (Method::POST, "/monitoring/v1/webhook/stat"),
            Endpoint::WebhookRotateKey => (Method::POST, "/monitoring/v1/webhook/rotate-key"),
            Endpoint::Webhooks => (Method::POST, "/monitoring/v1/webhooks"),
            Endpoint::WebhooksList => (Method::GET, "/monitoring/v1/webhooks"),
            Endpoint::WebhooksSearch => (Method::POST, "/monitoring/v1/webhooks/search"),
            Endpoint::WebhooksStat => (Method::POST, "/monitoring/v1/webhooks/stat"),
            Endpoint::WebhookById => (Method::GET, "/monitoring/v1/webhook/{webhook_id}"),
            Endpoint::WebhookPut => (Method::PUT, "/monitoring/v1/webhook/{webhook_id}"),
            Endpoint::WebhookDeleteById => (Method::DELETE, "/monitoring/v1/webhook/{webhook_id}"),
            Endpoint::WebhookPluginPut => (Method::PUT, "/monitoring/v1/webhook/{webhook_id}/plugin"),
            Endpoint::WebhookEnablePut => (Method::PUT, "/monitoring/v1/webhook/{webhook_id}/enable"),
            Endpoint::WebhookDisablePut => (Method::PUT, "/monitoring/v1/webhook/{webhook_id}/disable"),
            Endpoint::Console => (Method::GET, "/console"),
            Endpoint::ConsoleAsset => (Method::GET, "/console/{asset}"),
            Endpoint::EventRuleCreate => (Method::POST, "/monitoring/v1/event-rule/create"),
            Endpoint::EventRuleUpdate => (Method::POST, "/monitoring/v1/event-rule/update"),
            Endpoint::EventRuleChangeOrder => (Method::POST, "/monitoring/v1/event-rule/change-order"),
            Endpoint::EventRuleDelete => (Method::POST, "/monitoring/v1/event-rule/delete"),
            Endpoint::EventRuleGet => (Method::POST, "/monitoring/v1/event-rule/get"),
            Endpoint::EventRuleList => (Method::POST, "/monitoring/v1/event-rule/list"),
            Endpoint::EventRuleStat => (Method::POST, "/monitoring/v1/event-rule/stat"),
        }
    }

    /// The concrete path, with `values` percent-encoded into the template's parameters
    /// in order.
    pub fn path(self, values: &[&str]) -> String {
        let mut values = values.iter();
        let segments = self.spec().1.split('/').map(|segment| match is_parameter(segment) {
            true => encode(values.next().copied().unwrap_or_default()),
            false => segment.to_string(),
        });
        segments.collect::<Vec<_>>().join("/")
    }

    /// The typed route, from the path's values in template order (the tests below pin
    /// which value goes where).
    fn route(self, values: Vec<String>) -> Route {
        let mut values = values.into_iter();
        let mut next = || values.next().unwrap_or_default();
        match self {
            Endpoint::WebhookEvents | Endpoint::WebhookEventsPut => {
                Route::Create(CreateRoute::Webhook { webhook_id: next(), access_key: next() })
            }
            Endpoint::CloudEyeCreateEvents => {
                Route::Create(CreateRoute::Huawei { project_id: next(), format: WebhookFormat::CloudEye })
            }
            Endpoint::AomPushEvents => {
                Route::Create(CreateRoute::Huawei { project_id: next(), format: WebhookFormat::Aom })
            }
            Endpoint::EventById => Route::Get(GetRoute { event_id: Some(next()) }),
            Endpoint::EventGet => Route::Get(GetRoute { event_id: None }),
            Endpoint::Events => Route::List(ListRoute::Events { from_query_string: true }),
            Endpoint::EventsSearch | Endpoint::EventList => {
                Route::List(ListRoute::Events { from_query_string: false })
            }
            Endpoint::CloudEyeEvent => {
                Route::List(ListRoute::CloudEye { project_id: next(), event_name: next() })
            }
            Endpoint::AomEvents => Route::List(ListRoute::Aom { project_id: next() }),
            Endpoint::EventsStat | Endpoint::EventStat => Route::Stat(StatRoute),
            Endpoint::AlertGet => Route::Alert(AlertRoute::Get { alert_id: None }),
            Endpoint::AlertById => Route::Alert(AlertRoute::Get { alert_id: Some(next()) }),
            Endpoint::AlertList | Endpoint::AlertsSearch => {
                Route::Alert(AlertRoute::List { from_query_string: false })
            }
            Endpoint::Alerts => Route::Alert(AlertRoute::List { from_query_string: true }),
            Endpoint::AlertStat | Endpoint::AlertsStat => Route::Alert(AlertRoute::Stat),
            Endpoint::AlertUpdate => Route::Alert(AlertRoute::Update { alert_id: None }),
            Endpoint::AlertPut => Route::Alert(AlertRoute::Update { alert_id: Some(next()) }),
            Endpoint::AlertStateLink => {
                Route::Alert(AlertRoute::UpdateState { alert_id: next(), access_key: next(), state: next() })
            }
            Endpoint::WebhookCreate | Endpoint::Webhooks => Route::Webhook(WebhookRoute::Create),
            Endpoint::WebhookList | Endpoint::WebhooksSearch => {
                Route::Webhook(WebhookRoute::List { from_query_string: false })
            }
            Endpoint::WebhooksList => Route::Webhook(WebhookRoute::List { from_query_string: true }),
            Endpoint::WebhookStat | Endpoint::WebhooksStat => Route::Webhook(WebhookRoute::Stat),
            Endpoint::WebhookRotateKey => Route::Webhook(WebhookRoute::RotateKey),
            Endpoint::WebhookGet => Route::Webhook(WebhookRoute::Get { webhook_id: None }),
            Endpoint::WebhookById => Route::Webhook(WebhookRoute::Get { webhook_id: Some(next()) }),
            Endpoint::WebhookUpdate => Route::Webhook(WebhookRoute::Update { webhook_id: None }),
            Endpoint::WebhookPut => Route::Webhook(WebhookRoute::Update { webhook_id: Some(next()) }),
            Endpoint::WebhookUpdatePlugin => Route::Webhook(WebhookRoute::UpdatePlugin { webhook_id: None }),
            Endpoint::WebhookPluginPut => {
                Route::Webhook(WebhookRoute::UpdatePlugin { webhook_id: Some(next()) })
            }
            Endpoint::WebhookEnable => Route::Webhook(WebhookRoute::Enable { webhook_id: None }),
            Endpoint::WebhookEnablePut => Route::Webhook(WebhookRoute::Enable { webhook_id: Some(next()) }),
            Endpoint::WebhookDisable => Route::Webhook(WebhookRoute::Disable { webhook_id: None }),
            Endpoint::WebhookDisablePut => Route::Webhook(WebhookRoute::Disable { webhook_id: Some(next()) }),
            Endpoint::WebhookDelete => Route::Webhook(WebhookRoute::Delete { webhook_id: None }),
            Endpoint::WebhookDeleteById => Route::Webhook(WebhookRoute::Delete { webhook_id: Some(next()) }),
            Endpoint::Console => Route::Console(ConsoleRoute { asset: None }),
            Endpoint::ConsoleAsset => Route::Console(ConsoleRoute { asset: Some(next()) }),
            Endpoint::EventRuleCreate => Route::EventRule(EventRuleRoute::Create),
            Endpoint::EventRuleUpdate => Route::EventRule(EventRuleRoute::Update),
            Endpoint::EventRuleChangeOrder => Route::EventRule(EventRuleRoute::ChangeOrder),
            Endpoint::EventRuleDelete => Route::EventRule(EventRuleRoute::Delete),
            Endpoint::EventRuleGet => Route::EventRule(EventRuleRoute::Get),
            Endpoint::EventRuleList => Route::EventRule(EventRuleRoute::List),
            Endpoint::EventRuleStat => Route::EventRule(EventRuleRoute::Stat),
        }
    }
}

/// create: the webhook the monitor posts to, and its key; or Huawei's own ingestion
/// paths, whose SDK signs the request and names the project in the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateRoute {
    Webhook { webhook_id: String, access_key: String },
    Huawei { project_id: String, format: WebhookFormat },
}

/// get: the id when the path carries it (legacy), else the body names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRoute {
    pub event_id: Option<String>,
}

/// list: EventQuery, in the query string (legacy `GET /events`) or the body; or one of
/// Huawei's two event queries over the same events, with the project its path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListRoute {
    Events { from_query_string: bool },
    CloudEye { project_id: String, event_name: String },
    Aom { project_id: String },
}

/// The Alert API's operations, with what their paths carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertRoute {
    /// The id in the path (legacy), else in the body.
    Get {
        alert_id: Option<String>,
    },
    /// AlertQuery in the query string (legacy `GET /alerts`) or the body.
    List {
        from_query_string: bool,
    },
    Stat,
    /// The id in the path (legacy `PUT`), else in the body.
    Update {
        alert_id: Option<String>,
    },
    /// A notification's link: the alert, its webhook's access key and the new state.
    UpdateState {
        alert_id: String,
        access_key: String,
        state: String,
    },
}

/// The Webhook API's operations; `webhook_id` is the path's (legacy), else the body's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookRoute {
    Create,
    Get {
        webhook_id: Option<String>,
    },
    /// WebhookQuery in the query string (legacy `GET /webhooks`) or the body.
    List {
        from_query_string: bool,
    },
    Stat,
    Update {
        webhook_id: Option<String>,
    },
    UpdatePlugin {
        webhook_id: Option<String>,
    },
    Enable {
        webhook_id: Option<String>,
    },
    Disable {
        webhook_id: Option<String>,
    },
    Delete {
        webhook_id: Option<String>,
    },
    RotateKey,
}

/// The console: its page (`asset: None`), or one of its files by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleRoute {
    pub asset: Option<String>,
}

/// The EventRule API's operations (SpaceONE's seven, each `POST` with a JSON body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventRuleRoute {
    Create,
    Update,
    ChangeOrder,
    Delete,
    Get,
    List,
    Stat,
}

/// Whose API a path belongs to, and so whose error shape its answers take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    SpaceOne,
    CloudEye,
    Aom,
}

/// The dialect of a request path, also for paths no route matches: a wrong method or
/// an unknown path under a Huawei prefix is answered in that peer's error shape.
pub fn dialect(path: &str) -> Dialect {
    if path.contains(ROOTS[0]) {
        Dialect::SpaceOne
    } else if path.contains(ROOTS[1]) {
        Dialect::CloudEye
    } else if path.contains(ROOTS[2]) {
        Dialect::Aom
    } else {
        Dialect::SpaceOne
    }
}

/// Where each API's paths start, after any API Gateway stage prefix; the console's last.
const ROOTS: [&str; 4] = ["/monitoring/v1/", "/V1.0/", "/v2/", "/console"];

/// stat: both generations take the same body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatRoute;

/// A matched route: which function serves it, with what its path carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Create(CreateRoute),
    Get(GetRoute),
    List(ListRoute),
    Stat(StatRoute),
    Alert(AlertRoute),
    Webhook(WebhookRoute),
    Console(ConsoleRoute),
    EventRule(EventRuleRoute),
}

/// The routes one Lambda function serves: `api::serve` hands each function its own.
pub trait Operation: Sized {
    /// The function, as logs name it.
    const NAME: &'static str;
    /// This function's route, or `None` when the route is another function's.
    fn of(route: Route) -> Option<Self>;
}

macro_rules! operation {
    ($route:ident, $variant:ident, $name:literal) => {
        impl Operation for $route {
            const NAME: &'static str = $name;
            fn of(route: Route) -> Option<Self> {
                match route {
                    Route::$variant(route) => Some(route),
                    _ => None,
                }
            }
        }
    };
}

operation!(CreateRoute, Create, "create");
operation!(GetRoute, Get, "get");
operation!(ListRoute, List, "list");
operation!(StatRoute, Stat, "stat");
operation!(AlertRoute, Alert, "alerts");
operation!(WebhookRoute, Webhook, "webhooks");
operation!(ConsoleRoute, Console, "console");
operation!(EventRuleRoute, EventRule, "event_rules");

/// Matches a request path (with or without an API Gateway stage prefix) to its route.
pub fn route(method: &Method, path: &str) -> Result<Route> {
    let Some((_, endpoint, values)) = locate(path) else {
        return Err(unknown(path));
    };
    let template = endpoint.spec().1;
    let same_path = Endpoint::ALL.into_iter().filter(|e| e.spec().1 == template);
    if let Some(endpoint) = same_path.clone().find(|e| e.spec().0 == *method) {
        return Ok(endpoint.route(values));
    }
    let allow: Vec<String> = same_path.map(|e| e.spec().0.to_string()).collect();
    let allow = allow.join(", ");
    let message = format!("{} takes {allow}, not {method}.", redacted(path));
    Err(Error::MethodNotAllowed { message, allow })
}

/// Where in `path` its API's root starts (past any API Gateway stage prefix), the
/// endpoint whose template the rest fits, and the template's values. A stage may itself
/// be named like a root (`/v2/v2/…`): every place a root starts is tried, first to last.
fn locate(path: &str) -> Option<(usize, Endpoint, Vec<String>)> {
    let mut starts = (0..path.len())
        .filter(|&i| ROOTS.iter().any(|root| path.as_bytes()[i..].starts_with(root.as_bytes())));
    starts.find_map(|start| {
        let relative = path[start..].trim_end_matches('/');
        Endpoint::ALL.into_iter().find_map(|e| Some((start, e, captures(e.spec().1, relative)?)))
    })
}

/// The path from where its API's root starts, past any API Gateway stage prefix: the
/// path a client that signs its requests saw.
pub fn from_root(path: &str) -> &str {
    locate(path).map_or(path, |(start, _, _)| &path[start..])
}

/// The template's parameter values in `path`, decoded, if the path fits the template.
fn captures(template: &str, path: &str) -> Option<Vec<String>> {
    let (mut expected, mut actual) = (template.split('/'), path.split('/'));
    let mut values = Vec::new();
    loop {
        match (expected.next(), actual.next()) {
            (None, None) => return Some(values),
            (Some(parameter), Some(value)) if is_parameter(parameter) && !value.is_empty() => {
                values.push(decode(value))
            }
            (Some(literal), Some(segment)) if literal == segment => {}
            _ => return None,
        }
    }
}

fn is_parameter(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// The path as logs may show it: a webhook's access key is a credential, so it is masked
/// (in a webhook's URL, and in an alert's update_state link).
pub fn redacted(path: &str) -> String {
    if let Some(start) = path.find(ALERT_ROOT) {
        let rest: Vec<&str> = path[start + ALERT_ROOT.len()..].trim_end_matches('/').split('/').collect();
        if let [alert_id, _key, state] = rest[..] {
            return format!("{}{ALERT_ROOT}{alert_id}/***/{state}", &path[..start]);
        }
        return path.to_string();
    }
    let Some(start) = path.find("/monitoring/v1/webhook/") else {
        return path.to_string();
    };
    let mut segments: Vec<&str> = path.split('/').collect();
    let key_index = path[..start].split('/').count() + 4;
    // The Webhook API's own paths (`…/webhook/{id}/enable`) are shown as they are; any
    // other segment there may be a key (a sender's URL missing its `/events`, say).
    let operation = segments.get(key_index).is_some_and(|s| ["plugin", "enable", "disable"].contains(s));
    if operation && segments.len() == key_index + 1 {
        return path.to_string();
    }
    if let Some(segment) = segments.get_mut(key_index) {
        *segment = "***";
    }
    segments.join("/")
}

const ALERT_ROOT: &str = "/monitoring/v1/alert/";

fn unknown(path: &str) -> Error {
    Error::not_found("path", redacted(path))
}

/// Percent-encodes all but RFC 3986's unreserved characters, so a value is one segment.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            true => (b as char).to_string(),
            false => format!("%{b:02X}"),
        })
        .collect()
}

/// Percent-decodes a path segment (API Gateway passes the raw path through).
fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served_by(method: Method, path: &str) -> &'static str {
        match route(&method, path).unwrap() {
            Route::Create(_) => CreateRoute::NAME,
            Route::Get(_) => GetRoute::NAME,
            Route::List(_) => ListRoute::NAME,
            Route::Stat(_) => StatRoute::NAME,
            Route::Alert(_) => AlertRoute::NAME,
            Route::Webhook(_) => WebhookRoute::NAME,
            Route::Console(_) => ConsoleRoute::NAME,
            Route::EventRule(_) => EventRuleRoute::NAME,
        }
    }

    #[test]
    fn both_generations_route_to_the_same_operations() {
        assert_eq!(served_by(Method::POST, "/monitoring/v1/webhook/webhook-1/key/events"), "create");
        assert_eq!(served_by(Method::GET, "/monitoring/v1/event/event-1"), "get");
        assert_eq!(served_by(Method::POST, "/monitoring/v1/event/get"), "get");
        assert_eq!(served_by(Method::GET, "/monitoring/v1/events"), "list");
        assert_eq!(served_by(Method::POST, "/monitoring/v1/events/search"), "list");
        assert_eq!(served_by(Method::POST, "/monitoring/v1/event/list"), "list");
        assert_eq!(served_by(Method::POST, "/monitoring/v1/events/stat"), "stat");
        assert_eq!(served_by(Method::POST, "/monitoring/v1/event/stat"), "stat");
        assert_eq!(served_by(Method::GET, "/V1.0/project-1/event/rebootServer"), "list");
        assert_eq!(served_by(Method::POST, "/v2/project-1/events"), "list");
        for (method, path) in [
            (Method::POST, "/monitoring/v1/alert/get"),
            (Method::GET, "/monitoring/v1/alert/alert-1"),
            (Method::PUT, "/monitoring/v1/alert/alert-1"),
            (Method::POST, "/monitoring/v1/alert/update"),
            (Method::POST, "/monitoring/v1/alert/alert-1/key/ACKNOWLEDGED"),
            (Method::GET, "/monitoring/v1/alerts"),
            (Method::POST, "/monitoring/v1/alerts/search"),
            (Method::POST, "/monitoring/v1/alert/list"),
            (Method::POST, "/monitoring/v1/alerts/stat"),
            (Method::POST, "/monitoring/v1/alert/stat"),
        ] {
            assert_eq!(served_by(method, path), "alerts", "{path}");
        }
    }

    #[test]
    fn event_rule_paths_go_to_their_function_and_not_to_event_get() {
        for method in ["create", "update", "change-order", "delete", "get", "list", "stat"] {
            let path = format!("/monitoring/v1/event-rule/{method}");
            assert_eq!(served_by(Method::POST, &path), "event_rules", "{path}");
        }
        assert_eq!(route(&Method::GET, "/monitoring/v1/event-rule/get").unwrap_err().status(), 405);
        assert_eq!(served_by(Method::GET, "/monitoring/v1/event/event-rule"), "get");
    }

    #[test]
    fn webhook_api_paths_leave_the_delivery_path_to_create() {
        for (method, path) in [
            (Method::POST, "/monitoring/v1/webhook/create"),
            (Method::POST, "/monitoring/v1/webhook/get"),
            (Method::POST, "/monitoring/v1/webhook/list"),
            (Method::POST, "/monitoring/v1/webhook/rotate-key"),
            (Method::POST, "/monitoring/v1/webhooks"),
            (Method::GET, "/monitoring/v1/webhooks"),
            (Method::POST, "/monitoring/v1/webhooks/search"),
            (Method::POST, "/monitoring/v1/webhooks/stat"),
            (Method::GET, "/monitoring/v1/webhook/webhook-1"),
            (Method::PUT, "/monitoring/v1/webhook/webhook-1"),
            (Method::DELETE, "/monitoring/v1/webhook/webhook-1"),
            (Method::PUT, "/monitoring/v1/webhook/webhook-1/plugin"),
            (Method::PUT, "/monitoring/v1/webhook/webhook-1/enable"),
            (Method::PUT, "/monitoring/v1/webhook/webhook-1/disable"),
        ] {
            assert_eq!(served_by(method.clone(), path), "webhooks", "{method} {path}");
        }
        // A webhook whose id reads like an operation still takes deliveries.
        assert_eq!(served_by(Method::POST, "/monitoring/v1/webhook/create/key/events"), "create");
        assert_eq!(served_by(Method::POST, "/monitoring/v1/webhook/webhook-1/enable/events"), "create");
        assert_eq!(
            route(&Method::GET, "/monitoring/v1/webhook/get").unwrap_err().status(),
            405,
            "a literal path is not webhook \"get\""
        );
        let Err(Error::MethodNotAllowed { allow, .. }) =
            route(&Method::POST, "/monitoring/v1/webhook/webhook-1")
        else {
            panic!("a POST on a webhook's path is a 405")
        };
        assert_eq!(allow, "GET, PUT, DELETE");
        assert_eq!(
            redacted("/monitoring/v1/webhook/webhook-1/enable"),
            "/monitoring/v1/webhook/webhook-1/enable"
        );
    }

    #[test]
    fn one_path_with_two_methods_takes_each_and_names_both_in_a_405() {
        assert_eq!(
            route(&Method::PUT, "/monitoring/v1/alert/alert-1").unwrap(),
            Route::Alert(AlertRoute::Update { alert_id: Some("alert-1".into()) })
        );
        assert_eq!(
            route(&Method::GET, "/monitoring/v1/alert/alert-1").unwrap(),
            Route::Alert(AlertRoute::Get { alert_id: Some("alert-1".into()) })
        );
        let Err(Error::MethodNotAllowed { allow, .. }) =
            route(&Method::DELETE, "/monitoring/v1/alert/alert-1")
        else {
            panic!("a DELETE is a 405")
        };
        assert_eq!(allow, "GET, PUT");
        assert_eq!(route(&Method::GET, "/monitoring/v1/alert/update").unwrap_err().status(), 405);
    }

    #[test]
    fn huawei_paths_carry_their_project_and_event_name_and_answer_in_their_dialect() {
        assert_eq!(
            route(&Method::GET, "/prod/V1.0/project-1/event/reboot%20Server").unwrap(),
            Route::List(ListRoute::CloudEye {
                project_id: "project-1".into(),
                event_name: "reboot Server".into()
            })
        );
        assert_eq!(
            route(&Method::POST, "/v2/v2/project-1/events").unwrap(),
            Route::List(ListRoute::Aom { project_id: "project-1".into() })
        );
        assert_eq!(
            route(&Method::POST, "/v2/monitoring/v1/event/list").unwrap(),
            Route::List(ListRoute::Events { from_query_string: false })
        );
        assert_eq!(route(&Method::GET, "/v2/project-1/events").unwrap_err().status(), 405);
        assert_eq!(dialect("/prod/V1.0/p/event/e"), Dialect::CloudEye);
        assert_eq!(dialect("/v2/p/nothing"), Dialect::Aom);
        assert_eq!(dialect("/v2/monitoring/v1/event/list"), Dialect::SpaceOne);
        assert_eq!(dialect("/monitoring/v1/event/V1.0/x"), Dialect::SpaceOne);
        assert_eq!(dialect("/elsewhere"), Dialect::SpaceOne);
    }

    #[test]
    fn every_built_path_routes_back_to_its_endpoint_with_its_values() {
        let values = ["id/with a+slash", "ké%y", "RESOLVED"];
        for endpoint in Endpoint::ALL {
            let (method, template) = endpoint.spec();
            let taken = &values[..template.matches('{').count()];
            let path = endpoint.path(taken);
            assert_eq!(
                route(&method, &path).unwrap(),
                endpoint.route(taken.iter().map(|v| v.to_string()).collect())
            );
            assert_eq!(captures(template, &path).unwrap(), taken, "{path}");
        }
        assert_eq!(
            Endpoint::WebhookEvents.path(&["webhook-1", "k"]),
            "/monitoring/v1/webhook/webhook-1/k/events"
        );
    }

    #[test]
    fn path_values_are_extracted_and_decoded_behind_a_stage() {
        assert_eq!(
            route(&Method::POST, "/prod/monitoring/v1/webhook/webhook-1/a%2Bb/events/").unwrap(),
            Route::Create(CreateRoute::Webhook { webhook_id: "webhook-1".into(), access_key: "a+b".into() })
        );
        assert_eq!(
            route(&Method::GET, "/monitoring/v1/event/event-4e16ba3bd384").unwrap(),
            Route::Get(GetRoute { event_id: Some("event-4e16ba3bd384".into()) })
        );
    }

    #[test]
    fn a_signed_path_is_read_from_its_root_behind_a_stage() {
        assert_eq!(from_root("/prod/v2/p-1/push/events"), "/v2/p-1/push/events");
        assert_eq!(from_root("/v2/v2/p-1/push/events"), "/v2/p-1/push/events");
        assert_eq!(from_root("/V1.0/p-1/events"), "/V1.0/p-1/events");
        assert_eq!(
            route(&Method::POST, "/prod/V1.0/p-1/events").unwrap(),
            Route::Create(CreateRoute::Huawei { project_id: "p-1".into(), format: WebhookFormat::CloudEye })
        );
    }

    #[test]
    fn a_function_takes_only_its_own_routes() {
        let list = route(&Method::POST, "/monitoring/v1/event/list").unwrap();
        assert_eq!(GetRoute::of(list.clone()), None);
        assert_eq!(ListRoute::of(list), Some(ListRoute::Events { from_query_string: false }));
    }

    #[test]
    fn logged_paths_hide_the_access_key() {
        assert_eq!(
            redacted("/monitoring/v1/webhook/webhook-1/secret/events"),
            "/monitoring/v1/webhook/webhook-1/***/events"
        );
        assert_eq!(
            redacted("/prod/monitoring/v1/webhook/webhook-1/secret/events"),
            "/prod/monitoring/v1/webhook/webhook-1/***/events"
        );
        assert_eq!(redacted("/monitoring/v1/event/event-1"), "/monitoring/v1/event/event-1");
        assert_eq!(
            redacted("/prod/monitoring/v1/alert/alert-1/secret/RESOLVED"),
            "/prod/monitoring/v1/alert/alert-1/***/RESOLVED"
        );
        assert_eq!(redacted("/monitoring/v1/alert/alert-1"), "/monitoring/v1/alert/alert-1");
    }

    #[test]
    fn the_console_has_its_page_and_its_files_and_nothing_deeper() {
        assert_eq!(route(&Method::GET, "/console").unwrap(), Route::Console(ConsoleRoute { asset: None }));
        assert_eq!(
            route(&Method::GET, "/prod/console/").unwrap(),
            Route::Console(ConsoleRoute { asset: None })
        );
        assert_eq!(
            route(&Method::GET, "/console/app.js").unwrap(),
            Route::Console(ConsoleRoute { asset: Some("app.js".into()) })
        );
        // An encoded slash stays inside the one segment; the console looks names up.
        assert_eq!(
            route(&Method::GET, "/console/..%2Fsecret").unwrap(),
            Route::Console(ConsoleRoute { asset: Some("../secret".into()) })
        );
        assert_eq!(route(&Method::GET, "/console/a/b.js").unwrap_err().status(), 404);
        assert_eq!(route(&Method::GET, "/consoles").unwrap_err().status(), 404);
        assert_eq!(route(&Method::POST, "/console").unwrap_err().status(), 405);
        // A stage named like the console still reaches the API behind it.
        assert_eq!(
            route(&Method::POST, "/console/monitoring/v1/event/list").unwrap(),
            Route::List(ListRoute::Events { from_query_string: false })
        );
        assert_eq!(served_by(Method::GET, "/console"), "console");
    }

    #[test]
    fn wrong_method_and_unknown_path_are_client_errors() {
        assert_eq!(route(&Method::GET, "/monitoring/v1/event/list").unwrap_err().status(), 405);
        assert_eq!(route(&Method::DELETE, "/monitoring/v1/event/event-1").unwrap_err().status(), 405);
        assert_eq!(route(&Method::POST, "/monitoring/v1/nothing").unwrap_err().status(), 404);
        assert_eq!(route(&Method::POST, "/elsewhere").unwrap_err().status(), 404);
        assert_eq!(route(&Method::POST, "/monitoring/v1/webhook//k/events").unwrap_err().status(), 404);
        assert_eq!(route(&Method::GET, "/monitoring/v1/{event_id}").unwrap_err().status(), 404);
    }
}
