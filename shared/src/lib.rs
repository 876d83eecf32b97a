//! The Event service's core: everything that is not Lambda wiring.
//!
//! A request flows one way: `api` (decode, tenant) → `service` → `store` → back out
//! through `api::response`. `formats` and `query` are pure logic with no I/O; `store`
//! (DynamoDB) and `sns` (signature checks, subscription confirmation) are the adapters
//! `service` calls.

pub mod error;
pub mod formats;
pub mod model;
pub mod query;

pub use error::{Error, Result};
pub mod api;
pub mod config;
pub mod logging;
pub mod service;
pub mod sns;
pub mod store;
