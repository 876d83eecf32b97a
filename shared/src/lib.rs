//! The Event service's core: everything that is not Lambda wiring.
//!
//! # Layout
//! - [`api`]: HTTP at the edge. The route table, request decoding, the tenant check,
//!   responses, and [`api::serve`], the wrapper every handler runs in.
//! - [`service`]: the operations (create, get, list, stat, webhook administration) as
//!   plain async functions. Nothing here knows HTTP or DynamoDB.
//! - [`store`]: DynamoDB, the only module that builds AttributeValues and expressions.
//! - [`sns`]: Amazon SNS, the other adapter: signature checks (HTTPS client, certificate
//!   cache) and subscription confirmation, for [`service::create_events`].
//! - [`formats`]: pure parsers, one per sender (standard, Alertmanager, Grafana, SNS,
//!   Cloud Eye, AOM).
//! - [`huawei`]: Huawei Cloud Eye's and AOM's event queries, answered from the same
//!   events and alerts, and the mapping of their fields to ours.
//! - [`event_rule`]: SpaceONE's EventRule (conditions and actions on an event before it
//!   is stored), pure.
//! - [`query`]: the SpaceONE query language (Query and StatisticsQuery), pure.
//! - [`rollup`]: event counts per time bucket kept from the events stream, pure: what a
//!   batch of stream records adds, and how a stat's range splits between rollups and
//!   the index.
//! - [`tenant`]: [`tenant::AuthorizedDomain`], the only way into a domain's events, and
//!   the check that makes one.
//! - [`model`], [`error`], [`config`], [`logging`], [`digest`]: the types, the one error
//!   type and its HTTP mapping, the one configuration loader, log setup, hex and hashes.
//!
//! # Reading order
//! A request flows one way: a function's `handle` (`functions/*/src/lib.rs`) →
//! [`api::serve`] (route, decode, tenant) → a [`service`] operation → [`store`] → back out
//! through [`api::response`]. Start at `functions/create/src/lib.rs` and
//! [`service::create_events`] for ingestion (then `service/fanout.rs`, which writes a
//! delivery's alert keys side by side, and `service/alert_link.rs`, which links each
//! event to its alert), `functions/list/src/lib.rs` and [`service::list_events`] for
//! reads.

pub mod api;
pub mod config;
pub mod digest;
pub mod error;
pub mod event_rule;
pub mod formats;
pub mod huawei;
pub mod lambda;
pub mod logging;
pub mod model;
pub mod query;
pub mod rollup;
pub mod service;
pub mod sns;
pub mod store;
pub mod telemetry;
pub mod tenant;

pub use error::{Error, Result};
