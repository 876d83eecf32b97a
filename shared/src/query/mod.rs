//! The SpaceONE query language (Query, StatisticsQuery): parse, validate, evaluate.
//! Pure logic over EventInfo JSON objects; no storage here. Parsing compiles what it can
//! (regexes, times), so evaluation per event does no parsing.

mod condition;
mod list;
mod path;
mod stat;

pub use condition::{FieldTest, OPERATORS};
pub use list::{Pushdown, Query, SortKey, MINIMAL_FIELDS};
pub use stat::StatQuery;

#[cfg(test)]
mod tests;
