//! Huawei Cloud's two event query APIs over our events and alerts, for teams whose
//! scripts, dashboards and SDK calls speak them: Cloud Eye's "Querying Monitoring
//! Details of an Event" ([`cloud_eye`]) and AOM's "Querying Events and Alarms" ([`aom`],
//! its request in [`aom_request`]). [`mapping`] is the one translation of severities,
//! states and times between their vocabulary and ours, which the `cloud_eye` and `aom`
//! webhook formats use too. [`signature`] checks the request signature Huawei's SDKs
//! put on their CreateEvents and PushEvents calls. docs/formats.md tabulates it all.

pub mod aom;
pub mod aom_request;
pub mod cloud_eye;
pub mod mapping;
pub mod signature;
