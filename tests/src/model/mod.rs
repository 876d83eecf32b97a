//! The model-based test of alert state (issue 18): generated moves per alert key
//! (`ops`), the reference model of the intended semantics (`reference`), and the
//! comparison of what the service answers with it (`compare`). The driver that runs them
//! against the real handlers is `tests/tests/alert_model.rs`.

pub mod compare;
pub mod ops;
pub mod reference;
