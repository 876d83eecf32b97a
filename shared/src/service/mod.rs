//! The four operations of the Event API (and webhook administration) as plain async
//! functions over the store (and, for SNS deliveries, [`crate::sns`]). Nothing here
//! knows HTTP; nothing here builds DynamoDB requests.

mod alert_link;
mod alert_search;
mod alerts;
mod change;
mod create;
pub mod event_rules;
mod fanout;
mod get;
pub mod heartbeats;
mod huawei_reads;
mod intake;
mod normalise;
mod repeats;
mod rollup_days;
mod rollup_reads;
pub mod rollup_repair;
pub mod rollups;
mod search;
pub mod sweep;
pub mod webhook_admin;
pub mod webhooks;

pub use alert_search::{alert_info, list_alerts, stat_alerts};
pub use alerts::{alert_detail, get_alert, update_alert, update_alert_state};
pub use create::{create_events, Created, Credential, Delivery};
pub use get::get_event;
pub use huawei_reads::{aom_events, cloud_eye_events};
pub use rollups::RollupConsumer;
pub use search::{list_events, stat_events};

use crate::config::Config;
use crate::error::Result;
use crate::store::Store;

/// What every function needs, built once per Lambda instance (cold start) and shared
/// by all its invocations.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub config: Config,
}

impl App {
    pub async fn from_env() -> Result<App> {
        let config = Config::from_env()?;
        let store = Store::from_env(&config).await;
        Ok(App { store, config })
    }
}
