//! The SpaceONE query language (Query, StatisticsQuery): parse, validate, evaluate.
//! Pure logic over EventInfo JSON objects; no storage here.
