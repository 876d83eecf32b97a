//! The SpaceONE query language (Query, StatisticsQuery): parse, validate, evaluate.
//! Pure logic over EventInfo JSON objects; no storage here. Parsing compiles what it can
//! (regexes, times), so evaluation per event does no parsing.
//!
//! The reference is python-core's MongoDB model (`mongo_model/__init__.py`,
//! `filter_operator.py`, `stat_operator.py`); where our spec differs (case-insensitive
//! text matching, `minimal`'s fields), the spec wins, and the items say so.

mod collect;
mod condition;
mod group;
mod list;
mod parse;
mod path;
mod project;
mod sort;
mod stat;
mod times;
mod value;

pub use collect::{ListCollector, MAX_HELD_ROWS};
pub use condition::{FieldTest, OPERATORS};
pub use list::{KeyHints, Pushdown, Query, MINIMAL_FIELDS};
pub use sort::SortKey;
pub use stat::StatQuery;

#[cfg(test)]
mod tests;
