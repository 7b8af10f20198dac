//! Time as hubble's CLI writes and reads it: the `--time-format` layouts (Go layouts, printed in
//! the local time zone), and `--since`/`--until` values (a Go duration before now, or one of
//! hubble's absolute layouts).

use chrono::{DateTime, Datelike, FixedOffset, Local, NaiveDate, Offset, TimeZone, Timelike, Utc};

use crate::api::Timestamp;

/// A `--time-format` name's Go layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `Jan _2 15:04:05.000` (the default).
    StampMilli,
    /// `2006-01-02`
    YearMonthDay,
    /// `2006-01-02T15Z07:00`
    YearMonthDayHour,
    /// `2006-01-02T15:04Z07:00`
    YearMonthDayHourMinute,
    /// `2006-01-02T15:04:05Z07:00`
    Rfc3339,
    /// `2006-01-02T15:04:05.999Z07:00` (trailing zeros of the fraction dropped)
    Rfc3339Milli,
    /// `2006-01-02T15:04:05.999999Z07:00`
    Rfc3339Micro,
    /// `2006-01-02T15:04:05.999999999Z07:00`
    Rfc3339Nano,
    /// `Mon, 02 Jan 2006 15:04:05 -0700`
    Rfc1123Z,
}

impl Layout {
    /// The names `--time-format` takes, as hubble's help lists them.
    pub const NAMES: [&'static str; 9] = [
        "StampMilli",
        "YearMonthDay",
        "YearMonthDayHour",
        "YearMonthDayHourMinute",
        "RFC3339",
        "RFC3339Milli",
        "RFC3339Micro",
        "RFC3339Nano",
        "RFC1123Z",
    ];

    /// Whether `name` is one of [`Layout::NAMES`] (any case, as hubble compares them).
    pub fn is_name(name: &str) -> bool {
        Layout::NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
    }

    /// hubble's `FormatNameToLayout`: case-insensitive, and anything unknown means StampMilli.
    pub fn from_name(name: &str) -> Layout {
        match name.to_ascii_lowercase().as_str() {
            "yearmonthday" => Layout::YearMonthDay,
            "yearmonthdayhour" => Layout::YearMonthDayHour,
            "yearmonthdayhourminute" => Layout::YearMonthDayHourMinute,
            "rfc3339" => Layout::Rfc3339,
            "rfc3339milli" => Layout::Rfc3339Milli,
            "rfc3339micro" => Layout::Rfc3339Micro,
            "rfc3339nano" => Layout::Rfc3339Nano,
            "rfc1123z" => Layout::Rfc1123Z,
            _ => Layout::StampMilli,
        }
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// hubble's `fmtTimestamp`: `N/A` for a missing or invalid timestamp, else the layout in local
/// time.
pub fn write_timestamp(out: &mut String, layout: Layout, ts: Option<&Timestamp>) {
    match ts.and_then(|t| valid(*t)) {
        Some(t) => write_time(out, layout, &t.with_timezone(&Local).fixed_offset()),
        None => out.push_str("N/A"),
    }
}

/// protobuf's `Timestamp.IsValid`: years 1 to 9999 and nanos in range.
fn valid(t: Timestamp) -> Option<DateTime<Utc>> {
    const MIN: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
    const MAX: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    if !(MIN..=MAX).contains(&t.seconds) {
        return None;
    }
    t.to_datetime()
}

fn write_time(out: &mut String, layout: Layout, t: &DateTime<FixedOffset>) {
    use std::fmt::Write;
    let (y, mo, d) = (t.year(), t.month(), t.day());
    let (h, mi, s) = (t.hour(), t.minute(), t.second());
    let nanos = t.nanosecond() % 1_000_000_000;
    let month = MONTHS[mo as usize - 1];
    let _ = match layout {
        Layout::StampMilli => write!(
            out,
            "{month} {d:>2} {h:02}:{mi:02}:{s:02}.{:03}",
            nanos / 1_000_000
        ),
        Layout::YearMonthDay => write!(out, "{y:04}-{mo:02}-{d:02}"),
        Layout::YearMonthDayHour => {
            let _ = write!(out, "{y:04}-{mo:02}-{d:02}T{h:02}");
            write_zone(out, t, true);
            Ok(())
        }
        Layout::YearMonthDayHourMinute => {
            let _ = write!(out, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}");
            write_zone(out, t, true);
            Ok(())
        }
        Layout::Rfc3339 | Layout::Rfc3339Milli | Layout::Rfc3339Micro | Layout::Rfc3339Nano => {
            let _ = write!(out, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
            let digits = match layout {
                Layout::Rfc3339Milli => 3,
                Layout::Rfc3339Micro => 6,
                Layout::Rfc3339Nano => 9,
                _ => 0,
            };
            write_fraction(out, nanos, digits);
            write_zone(out, t, true);
            Ok(())
        }
        Layout::Rfc1123Z => {
            let wd = WEEKDAYS[t.weekday().num_days_from_monday() as usize];
            let _ = write!(out, "{wd}, {d:02} {month} {y:04} {h:02}:{mi:02}:{s:02} ");
            write_zone(out, t, false);
            Ok(())
        }
    };
}

/// Go's `.999…`: up to `digits` digits, trailing zeros (and a lone dot) dropped.
fn write_fraction(out: &mut String, nanos: u32, digits: usize) {
    if digits == 0 {
        return;
    }
    let text = format!("{nanos:09}");
    let cut = text[..digits].trim_end_matches('0');
    if !cut.is_empty() {
        out.push('.');
        out.push_str(cut);
    }
}

/// `Z07:00` (`Z` for UTC) or `-0700`.
fn write_zone(out: &mut String, t: &DateTime<FixedOffset>, iso: bool) {
    let secs = t.offset().fix().local_minus_utc();
    if iso && secs == 0 {
        out.push('Z');
        return;
    }
    let sign = if secs < 0 { '-' } else { '+' };
    let m = secs.unsigned_abs() / 60;
    if iso {
        out.push_str(&format!("{sign}{:02}:{:02}", m / 60, m % 60));
    } else {
        out.push_str(&format!("{sign}{:02}{:02}", m / 60, m % 60));
    }
}

/// hubble's `FromString` for `--since`/`--until`: a Go duration counts back from `now`;
/// otherwise the first of hubble's layouts that parses wins.
pub fn parse_since(input: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let failed = || format!("failed to convert {input} to time");
    if let Some(nanos) = parse_go_duration(input) {
        let back = chrono::Duration::nanoseconds(nanos);
        return now.checked_sub_signed(back).ok_or_else(failed);
    }
    parse_absolute(input).ok_or_else(failed)
}

/// Go's `time.ParseDuration`, in nanoseconds: `300ms`, `-1.5h`, `2h45m`, `1µs`; `None` when
/// it is not one (or overflows).
pub fn parse_go_duration(s: &str) -> Option<i64> {
    let (neg, mut s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if s == "0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    const LIMIT: u64 = 1 << 63;
    let mut total: u64 = 0;
    while !s.is_empty() {
        let b = s.as_bytes()[0];
        if !(b == b'.' || b.is_ascii_digit()) {
            return None;
        }
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let mut v: u64 = 0;
        for d in s[..int_len].bytes() {
            v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            if v > LIMIT {
                return None;
            }
        }
        s = &s[int_len..];
        let (mut frac, mut scale, mut frac_len, mut has_dot) = (0u64, 1f64, 0, false);
        if let Some(rest) = s.strip_prefix('.') {
            has_dot = true;
            s = rest;
            frac_len = s.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for d in s[..frac_len].bytes() {
                if overflow {
                    continue;
                }
                if frac > (LIMIT - 1) / 10 {
                    overflow = true;
                    continue;
                }
                let y = frac * 10 + u64::from(d - b'0');
                if y > LIMIT {
                    overflow = true;
                    continue;
                }
                frac = y;
                scale *= 10.0;
            }
            s = &s[frac_len..];
        }
        if int_len == 0 && (!has_dot || frac_len == 0) {
            return None;
        }
        let unit_len = s
            .bytes()
            .take_while(|c| *c != b'.' && !c.is_ascii_digit())
            .count();
        if unit_len == 0 {
            return None;
        }
        let unit: u64 = match &s[..unit_len] {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        s = &s[unit_len..];
        if v > LIMIT / unit {
            return None;
        }
        v *= unit;
        if frac > 0 {
            v += (frac as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return None;
            }
        }
        total += v;
        if total > LIMIT {
            return None;
        }
    }
    if neg {
        Some((total as i128).wrapping_neg() as i64)
    } else if total > LIMIT - 1 {
        None
    } else {
        Some(total as i64)
    }
}

/// The absolute layouts hubble accepts, in its order: `2006-01-02`, `2006-01-02T15Z07:00`,
/// `2006-01-02T15:04Z07:00`, RFC 3339 (any fraction), `Mon, 02 Jan 2006 15:04:05 -0700`.
fn parse_absolute(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    // 2006-01-02 (UTC)
    if b.len() == 10 {
        let (y, mo, d) = date(b)?;
        return utc(y, mo, d, 0, 0, 0, 0, 0);
    }
    if let Some(t) = rfc3339(s) {
        return Some(t);
    }
    // 2006-01-02T15Z07:00 and 2006-01-02T15:04Z07:00 (Go's "15" takes one or two digits).
    if b.len() > 11 && b[10] == b'T' {
        let (y, mo, d) = date(&b[..10])?;
        let mut rest = &s[11..];
        let h_len = rest.bytes().take(2).take_while(u8::is_ascii_digit).count();
        if h_len > 0 {
            let h: u32 = rest[..h_len].parse().ok()?;
            rest = &rest[h_len..];
            let mut mi = 0;
            if let Some(r) = rest.strip_prefix(':') {
                mi = two_digits(r.as_bytes())?;
                rest = &r[2..];
            }
            if let Some(off) = zone(rest, true) {
                return utc(y, mo, d, h, mi, 0, 0, off);
            }
        }
        return None;
    }
    rfc1123z(s)
}

/// Go's strict RFC 3339 parse (what `time.Parse(time.RFC3339, …)` does since Go 1.20).
fn rfc3339(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() < 20 || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = date(&b[..10])?;
    let h = two_digits(&b[11..])?;
    let mi = two_digits(&b[14..])?;
    let sec = two_digits(&b[17..])?;
    let mut rest = &s[19..];
    let mut nanos = 0u32;
    if rest.len() >= 2 && rest.as_bytes()[0] == b'.' && rest.as_bytes()[1].is_ascii_digit() {
        let n = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
        nanos = fraction(&rest[1..1 + n]);
        rest = &rest[1 + n..];
    }
    let off = zone(rest, true)?;
    utc(y, mo, d, h, mi, sec, nanos, off)
}

/// `Mon, 02 Jan 2006 15:04:05 -0700` (names case-insensitive, any fraction after the seconds).
fn rfc1123z(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() < 31 || &b[3..5] != b", " || b[7] != b' ' || b[11] != b' ' || b[16] != b' ' {
        return None;
    }
    let wd = &s[..3];
    if !WEEKDAYS.iter().any(|w| w.eq_ignore_ascii_case(wd)) {
        return None;
    }
    let d = two_digits(&b[5..])?;
    let mo = MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(&s[8..11]))? as u32
        + 1;
    let y = four_digits(&b[12..])?;
    let h = two_digits(&b[17..])?;
    let mi = two_digits(&b[20..])?;
    let sec = two_digits(&b[23..])?;
    if b[19] != b':' || b[22] != b':' {
        return None;
    }
    let mut rest = &s[25..];
    let mut nanos = 0;
    if rest.len() >= 2 && matches!(rest.as_bytes()[0], b'.' | b',') {
        let n = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
        if n > 0 {
            nanos = fraction(&rest[1..1 + n]);
            rest = &rest[1 + n..];
        }
    }
    let off = zone(rest.strip_prefix(' ')?, false)?;
    utc(y, mo, d, h, mi, sec, nanos, off)
}

fn date(b: &[u8]) -> Option<(i32, u32, u32)> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    Some((four_digits(b)?, two_digits(&b[5..])?, two_digits(&b[8..])?))
}

fn two_digits(b: &[u8]) -> Option<u32> {
    match b {
        [a, c, ..] if a.is_ascii_digit() && c.is_ascii_digit() => {
            Some(u32::from(a - b'0') * 10 + u32::from(c - b'0'))
        }
        _ => None,
    }
}

fn four_digits(b: &[u8]) -> Option<i32> {
    if b.len() < 4 || !b[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(&b[..4]).ok()?.parse().ok()
}

/// Fraction digits to nanoseconds (beyond nine digits are dropped).
fn fraction(digits: &str) -> u32 {
    let mut n = 0u32;
    for (i, d) in digits.bytes().enumerate().take(9) {
        n += u32::from(d - b'0') * 10u32.pow(8 - i as u32);
    }
    n
}

/// `Z` or `±hh:mm` (ISO) / `±hhmm`, and nothing after it; the offset in seconds east of UTC.
fn zone(s: &str, iso: bool) -> Option<i32> {
    if iso && s == "Z" {
        return Some(0);
    }
    let b = s.as_bytes();
    let (sign, rest) = match b.first()? {
        b'+' => (1, &b[1..]),
        b'-' => (-1, &b[1..]),
        _ => return None,
    };
    let (h, m) = if iso {
        if rest.len() != 5 || rest[2] != b':' {
            return None;
        }
        (two_digits(rest)?, two_digits(&rest[3..])?)
    } else {
        if rest.len() != 4 {
            return None;
        }
        (two_digits(rest)?, two_digits(&rest[2..])?)
    };
    if h > 24 || m > 59 {
        return None;
    }
    Some(sign * (h as i32 * 3600 + m as i32 * 60))
}

#[allow(clippy::too_many_arguments)]
fn utc(
    y: i32,
    mo: u32,
    d: u32,
    h: u32,
    mi: u32,
    s: u32,
    nanos: u32,
    offset: i32,
) -> Option<DateTime<Utc>> {
    if h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let naive = NaiveDate::from_ymd_opt(y, mo, d)?.and_hms_nano_opt(h, mi, s, nanos)?;
    let zone = FixedOffset::east_opt(offset)?;
    Some(
        zone.from_local_datetime(&naive)
            .single()?
            .with_timezone(&Utc),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(layout: Layout, secs: i64, nanos: i32) -> String {
        let mut s = String::new();
        let t = Timestamp {
            seconds: secs,
            nanos,
        };
        let dt = t.to_datetime().unwrap().fixed_offset();
        write_time(&mut s, layout, &dt);
        s
    }

    #[test]
    fn layouts_print_like_go() {
        let t = 1_741_471_987; // 2025-03-08T22:13:07Z, a Saturday
        assert_eq!(
            fmt(Layout::StampMilli, t, 161_900_000),
            "Mar  8 22:13:07.161"
        );
        assert_eq!(fmt(Layout::Rfc3339, t, 5), "2025-03-08T22:13:07Z");
        assert_eq!(
            fmt(Layout::Rfc3339Milli, t, 160_000_000),
            "2025-03-08T22:13:07.16Z"
        );
        assert_eq!(
            fmt(Layout::Rfc3339Milli, t, 400_000),
            "2025-03-08T22:13:07Z"
        );
        assert_eq!(
            fmt(Layout::Rfc3339Nano, t, 1),
            "2025-03-08T22:13:07.000000001Z"
        );
        assert_eq!(
            fmt(Layout::Rfc1123Z, t, 0),
            "Sat, 08 Mar 2025 22:13:07 +0000"
        );
        assert_eq!(fmt(Layout::YearMonthDayHour, t, 0), "2025-03-08T22Z");
        assert_eq!(fmt(Layout::YearMonthDay, t, 0), "2025-03-08");
    }

    #[test]
    fn invalid_timestamps_print_not_available() {
        let mut s = String::new();
        write_timestamp(&mut s, Layout::StampMilli, None);
        let bad = Timestamp {
            seconds: 0,
            nanos: -1,
        };
        write_timestamp(&mut s, Layout::StampMilli, Some(&bad));
        assert_eq!(s, "N/AN/A");
    }

    #[test]
    fn go_durations_parse_with_signs_fractions_and_units() {
        assert_eq!(parse_go_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(parse_go_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(parse_go_duration(".5ms"), Some(500_000));
        assert_eq!(parse_go_duration("-2µs"), Some(-2_000));
        assert_eq!(parse_go_duration("0"), Some(0));
        for bad in ["", "5", "1x", ".s", "1h-2m", "99999999999h"] {
            assert_eq!(parse_go_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn since_accepts_relative_and_hubbles_layouts() {
        let now = Utc.with_ymd_and_hms(2019, 7, 1, 14, 0, 0).unwrap();
        let p = |s: &str| parse_since(s, now).unwrap().to_rfc3339();
        assert_eq!(p("10s"), "2019-07-01T13:59:50+00:00");
        assert_eq!(p("20h"), "2019-06-30T18:00:00+00:00");
        assert_eq!(p("2019-06-30"), "2019-06-30T00:00:00+00:00");
        assert_eq!(p("2019-06-30T18Z"), "2019-06-30T18:00:00+00:00");
        assert_eq!(p("2019-06-30T18+02:00"), "2019-06-30T16:00:00+00:00");
        assert_eq!(p("2019-06-30T18:45+02:00"), "2019-06-30T16:45:00+00:00");
        assert_eq!(
            p("2019-06-30T18:00:00.25-01:30"),
            "2019-06-30T19:30:00.250+00:00"
        );
        assert_eq!(
            p("Sun, 30 Jun 2019 18:00:00 +0100"),
            "2019-06-30T17:00:00+00:00"
        );
        for bad in [
            "yesterday",
            "2019-02-30",
            "2019-06-30T25Z",
            "2019-06-30 18:00:00",
        ] {
            assert_eq!(
                parse_since(bad, now),
                Err(format!("failed to convert {bad} to time"))
            );
        }
    }
}
