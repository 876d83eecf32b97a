//! The SpaceONE query language (Query, StatisticsQuery): parse, validate, evaluate.
//! Pure logic over EventInfo JSON objects; no storage here. Parsing compiles what it can
//! (regexes, times), so evaluation per event does no parsing.
//!
//! The reference is python-core's MongoDB model (`mongo_model/__init__.py`,
//! `filter_operator.py`, `stat_operator.py`); where our spec differs (`minimal`'s
//! fields, say), the spec wins, and the items say so.

mod collect;
mod condition;
mod elem_match;
mod group;
pub mod limits;
mod list;
mod parse;
mod path;
mod project;
mod pushdown;
mod rollup;
mod sort;
mod stat;
mod time_operand;
mod times;
mod value;

pub use collect::{ListCollector, ListPage, Shape, MAX_HELD_ROWS, MINIMAL_FIELDS};
pub use condition::OPERATORS;
pub use list::Query;
pub use pushdown::{FieldTest, Pushdown};
pub use rollup::{cell_row, RollupAsk};
pub use sort::SortKey;
pub use stat::{StatAnswer, StatQuery};

#[cfg(test)]
mod tests;
