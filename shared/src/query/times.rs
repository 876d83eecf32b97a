//! Times in queries: relative times (`now-1d`), reading event times fast, and the
//! `date_format` of stat group keys.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeDelta, Timelike, Utc};
use serde_json::Value;

use crate::model::parse_time;
use crate::rollup::Granularity;

/// Where a relative time starts: python-core's `now`, `now/d`, `now/w`, `now/m`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Base {
    Now,
    /// Midnight (UTC) today.
    Day,
    /// Midnight (UTC) of this week's Monday.
    Week,
    /// Midnight (UTC) of the first of this month.
    Month,
}

/// `now`, `now-1d`, `now/d+2h`, `now-2h-30m`: a base and an offset from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timediff {
    pub base: Base,
    pub offset: Duration,
}

/// About 10,000 years: python-core fails beyond its datetime range, and refusing at
/// parse time keeps evaluation free of overflow.
const MAX_OFFSET_DAYS: i64 = 3_650_000;

pub const TIMEDIFF_HELP: &str =
    "a relative time: now, now/d, now/w or now/m, optionally followed by +N or -N with unit s, m, h, d or w \
     (e.g. now-1d, now/d+9h)";

impl Timediff {
    /// Reads python-core's format; unlike python-core it also takes several terms.
    pub fn parse(text: &str) -> Option<Timediff> {
        let text = text.trim();
        let (base, mut rest) = [("now/d", Base::Day), ("now/w", Base::Week), ("now/m", Base::Month)]
            .into_iter()
            .find_map(|(prefix, base)| Some((base, text.strip_prefix(prefix)?)))
            .or_else(|| Some((Base::Now, text.strip_prefix("now")?)))?;
        let mut offset = Duration::zero();
        loop {
            rest = rest.trim_start();
            let Some(sign) = rest.chars().next() else { break };
            let negative = match sign {
                '+' => false,
                '-' => true,
                _ => return None,
            };
            rest = rest[1..].trim_start();
            let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            let amount: i64 = rest[..digits].parse().ok()?;
            let unit = rest[digits..].chars().next()?;
            let step = match unit {
                's' => Duration::try_seconds(amount)?,
                'm' => Duration::try_minutes(amount)?,
                'h' => Duration::try_hours(amount)?,
                'd' => Duration::try_days(amount)?,
                'w' => Duration::try_weeks(amount)?,
                _ => return None,
            };
            offset = if negative { offset.checked_sub(&step)? } else { offset.checked_add(&step)? };
            rest = &rest[digits + 1..];
        }
        (offset.num_days().abs() <= MAX_OFFSET_DAYS).then_some(Timediff { base, offset })
    }

    /// The time this stands for at `now`.
    pub fn at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let midnight = |date: NaiveDate| date.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        let today = now.date_naive();
        let base = match self.base {
            Base::Now => Some(now),
            Base::Day => midnight(today),
            Base::Week => today
                .checked_sub_signed(TimeDelta::days(today.weekday().num_days_from_monday().into()))
                .and_then(midnight),
            Base::Month => today.with_day(1).and_then(midnight),
        }
        .unwrap_or(now);
        // Only a `now` near the ends of chrono's range (±262,000 years) can overflow.
        base.checked_add_signed(self.offset).unwrap_or(if self.offset < Duration::zero() {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        })
    }
}

/// An event time: stored times have one shape (`2022-06-21T00:34:58.034Z`), read here
/// without chrono's general parser; anything else goes through `parse_time`.
pub fn event_time(value: &Value) -> Option<DateTime<Utc>> {
    let text = value.as_str()?;
    canonical(text).or_else(|| parse_time(text))
}

fn canonical(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let shape = b.len() == 24
        && [4, 7].iter().all(|&i| b[i] == b'-')
        && b[10] == b'T'
        && [13, 16].iter().all(|&i| b[i] == b':')
        && b[19] == b'.'
        && b[23] == b'Z';
    if !shape {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    let date = NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)?;
    let time = date.and_hms_milli_opt(num(11, 13)?, num(14, 16)?, num(17, 19)?, num(20, 23)?)?;
    Some(time.and_utc())
}

/// A group key's `date_format`: MongoDB's `$dateToString` patterns (which python-core
/// hands to MongoDB), or `year`, `month`, `day` for the numbers `$year`, `$month`,
/// `$dayOfMonth`.
#[derive(Debug, Clone, PartialEq)]
pub enum DateFormat {
    Year,
    Month,
    Day,
    Pattern(Vec<Piece>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    Field(char),
}

/// The specifiers `$dateToString` knows; MongoDB refuses any other.
const SPECIFIERS: &str = "dGHjLmMSwuUVYzZ%";

pub const DATE_FORMAT_HELP: &str = "year, month, day, or a pattern of text and %Y, %m, %d, %H, %M, %S, %L \
     (milliseconds), %j, %w, %u, %U, %V, %G, %z, %Z, %% (e.g. %Y-%m-%d)";

impl DateFormat {
    pub fn parse(text: &str) -> Option<DateFormat> {
        match text {
            "year" => return Some(DateFormat::Year),
            "month" => return Some(DateFormat::Month),
            "day" => return Some(DateFormat::Day),
            _ => {}
        }
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                literal.push(c);
                continue;
            }
            let spec = chars.next().filter(|s| SPECIFIERS.contains(*s))?;
            if spec == '%' {
                literal.push('%');
                continue;
            }
            if !literal.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Field(spec));
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Some(DateFormat::Pattern(pieces))
    }

    /// The widest bucket within which every time renders alike: a day for dates, an
    /// hour for a pattern with hours; None for minutes or finer.
    pub fn constant_within(&self) -> Option<Granularity> {
        let DateFormat::Pattern(pieces) = self else { return Some(Granularity::Day) };
        let fields = pieces.iter().filter_map(|p| match p {
            Piece::Field(spec) => Some(*spec),
            Piece::Text(_) => None,
        });
        fields.into_iter().try_fold(Granularity::Day, |widest, spec| match spec {
            'M' | 'S' | 'L' => None,
            'H' => Some(Granularity::Hour),
            _ => Some(widest),
        })
    }

    /// The key a time groups under; null for a value that is not a time, where
    /// MongoDB would fail the whole query.
    pub fn render(&self, value: Option<&Value>) -> Value {
        let Some(t) = value.and_then(event_time) else {
            return Value::Null;
        };
        match self {
            DateFormat::Year => Value::from(t.year()),
            DateFormat::Month => Value::from(t.month()),
            DateFormat::Day => Value::from(t.day()),
            DateFormat::Pattern(pieces) => {
                let mut out = String::new();
                for piece in pieces {
                    match piece {
                        Piece::Text(text) => out.push_str(text),
                        Piece::Field(spec) => out.push_str(&field(t, *spec)),
                    }
                }
                Value::String(out)
            }
        }
    }
}

fn field(t: DateTime<Utc>, spec: char) -> String {
    match spec {
        'Y' => format!("{:04}", t.year()),
        'G' => format!("{:04}", t.iso_week().year()),
        'm' => format!("{:02}", t.month()),
        'd' => format!("{:02}", t.day()),
        'H' => format!("{:02}", t.hour()),
        'M' => format!("{:02}", t.minute()),
        'S' => format!("{:02}", t.second()),
        'L' => format!("{:03}", t.timestamp_subsec_millis().min(999)),
        'j' => format!("{:03}", t.ordinal()),
        // MongoDB counts days from Sunday = 1, unlike strftime's 0.
        'w' => (t.weekday().num_days_from_sunday() + 1).to_string(),
        'u' => t.weekday().number_from_monday().to_string(),
        'U' => format!("{:02}", (t.ordinal0() + 7 - t.weekday().num_days_from_sunday()) / 7),
        'V' => format!("{:02}", t.iso_week().week()),
        'z' => "+0000".to_string(),
        _ => "+0".to_string(), // %Z: the offset in minutes; stored times are UTC.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(text: &str) -> DateTime<Utc> {
        parse_time(text).unwrap()
    }

    #[test]
    fn timediff_reads_python_cores_forms() {
        let now = at("2022-06-22T15:30:00Z"); // a Wednesday
        let when = |text: &str| Timediff::parse(text).map(|t| t.at(now));
        assert_eq!(when("now"), Some(now));
        assert_eq!(when("now-1d"), Some(at("2022-06-21T15:30:00Z")));
        assert_eq!(when(" now + 30m "), Some(at("2022-06-22T16:00:00Z")));
        assert_eq!(when("now-2w"), Some(at("2022-06-08T15:30:00Z")));
        assert_eq!(when("now-10s"), Some(at("2022-06-22T15:29:50Z")));
        assert_eq!(when("now/d"), Some(at("2022-06-22T00:00:00Z")));
        assert_eq!(when("now/w+1h"), Some(at("2022-06-20T01:00:00Z")));
        assert_eq!(when("now/m-1d"), Some(at("2022-05-31T00:00:00Z")));
        assert_eq!(when("now-2h+30m"), Some(at("2022-06-22T14:00:00Z")), "several terms add up");
    }

    #[test]
    fn timediff_refuses_what_python_core_refuses() {
        for bad in ["", "yesterday", "now-1y", "now-", "now-d", "now*2d", "now/x", "now-99999999999w", "1d"] {
            assert_eq!(Timediff::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn timediff_never_overflows_at_the_ends_of_time() {
        let far = Timediff::parse("now+500000w").unwrap();
        assert_eq!(far.at(DateTime::<Utc>::MAX_UTC), DateTime::<Utc>::MAX_UTC);
        let past = Timediff::parse("now-500000w").unwrap();
        assert_eq!(past.at(DateTime::<Utc>::MIN_UTC), DateTime::<Utc>::MIN_UTC);
    }

    #[test]
    fn event_time_reads_the_stored_shape_and_any_other_iso_time() {
        assert_eq!(event_time(&json!("2022-06-21T00:34:58.034Z")), Some(at("2022-06-21T00:34:58.034Z")));
        assert_eq!(event_time(&json!("2022-06-21T09:34:58+09:00")), Some(at("2022-06-21T00:34:58Z")));
        assert_eq!(event_time(&json!("2022-13-21T00:34:58.034Z")), None);
        assert_eq!(event_time(&json!("2022-06-21T00:34:58.03xZ")), None);
        assert_eq!(event_time(&json!(1655771698)), None);
    }

    #[test]
    fn date_format_renders_mongodb_specifiers() {
        let t = json!("2022-01-02T03:04:05.006Z"); // a Sunday
        let render = |f: &str| DateFormat::parse(f).unwrap().render(Some(&t));
        assert_eq!(render("%Y-%m-%d"), json!("2022-01-02"));
        assert_eq!(render("%Y-%m"), json!("2022-01"));
        assert_eq!(render("%H:%M:%S.%L"), json!("03:04:05.006"));
        assert_eq!(render("%j %w %u %U %V %G"), json!("002 1 7 01 52 2021"));
        assert_eq!(render("100%% %z"), json!("100% +0000"));
        assert_eq!(render("year"), json!(2022));
        assert_eq!(render("month"), json!(1));
        assert_eq!(render("day"), json!(2));
        assert_eq!(DateFormat::parse("%Y").unwrap().render(Some(&json!("soon"))), Value::Null);
        assert_eq!(DateFormat::parse("%Y").unwrap().render(None), Value::Null);
    }

    #[test]
    fn date_formats_know_the_widest_bucket_they_render_alike() {
        let within = |f: &str| DateFormat::parse(f).unwrap().constant_within();
        assert_eq!(within("%Y-%m-%d"), Some(Granularity::Day));
        assert_eq!(within("day"), Some(Granularity::Day));
        assert_eq!(within("%G-W%V %u %z"), Some(Granularity::Day));
        assert_eq!(within("%Y-%m-%dT%H"), Some(Granularity::Hour));
        assert_eq!(within("%H:%M"), None);
        assert_eq!(within("%L"), None);
    }

    #[test]
    fn date_format_refuses_unknown_specifiers() {
        assert_eq!(DateFormat::parse("%Q"), None);
        assert_eq!(DateFormat::parse("%Y-%"), None);
        assert_eq!(DateFormat::parse("%b"), None);
    }
}
