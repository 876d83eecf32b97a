//! eventctl's library side: the local server (`serve`), so end-to-end tests run the very
//! stack `make run` serves.

pub mod serve;
