//! `google.protobuf.Timestamp` with Go's JSON form.
//!
//! protojson (what `hubble observe -o jsonpb` uses) writes UTC with a `Z` and 0, 3, 6 or 9 fraction
//! digits, the fewest that hold the value; pbjson-types writes `+00:00`, so we bring our own type.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl Timestamp {
    pub fn from_datetime(t: DateTime<Utc>) -> Self {
        Timestamp {
            seconds: t.timestamp(),
            nanos: t.timestamp_subsec_nanos() as i32,
        }
    }

    /// `None` for values out of chrono's range or with invalid nanos (data from the network).
    pub fn to_datetime(self) -> Option<DateTime<Utc>> {
        if !(0..1_000_000_000).contains(&self.nanos) {
            return None;
        }
        DateTime::from_timestamp(self.seconds, self.nanos as u32)
    }

    pub fn now() -> Self {
        Self::from_datetime(Utc::now())
    }

    /// Nanoseconds since the epoch, saturating; handy as a sort and dedup key.
    pub fn as_nanos(self) -> i128 {
        i128::from(self.seconds) * 1_000_000_000 + i128::from(self.nanos)
    }

    pub fn from_nanos(n: i128) -> Self {
        Timestamp {
            seconds: n.div_euclid(1_000_000_000) as i64,
            nanos: n.rem_euclid(1_000_000_000) as i32,
        }
    }

    /// Parses RFC 3339 (any offset) as protojson accepts it.
    pub fn parse(s: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| Self::from_datetime(t.with_timezone(&Utc)))
    }
}

impl fmt::Display for Timestamp {
    /// Go's protojson form: `2025-03-08T22:13:07.161Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(t) = self.to_datetime() else {
            return write!(f, "{}.{:09}s", self.seconds, self.nanos);
        };
        let mut buf = [0; RFC3339_MAX];
        if let Some(text) = self.rfc3339(&t, &mut buf) {
            return f.write_str(text);
        }
        write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%S"))?;
        let n = self.nanos;
        if n == 0 {
        } else if n % 1_000_000 == 0 {
            write!(f, ".{:03}", n / 1_000_000)?;
        } else if n % 1_000 == 0 {
            write!(f, ".{:06}", n / 1_000)?;
        } else {
            write!(f, ".{n:09}")?;
        }
        f.write_str("Z")
    }
}

/// The longest [`Timestamp::rfc3339`] text: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
const RFC3339_MAX: usize = 30;

impl Timestamp {
    /// The [`Display`](fmt::Display) text of `t` (this timestamp) written without chrono's
    /// formatting machinery, for years 0 to 9999 (`None` for others).
    fn rfc3339<'b>(&self, t: &DateTime<Utc>, buf: &'b mut [u8; RFC3339_MAX]) -> Option<&'b str> {
        use chrono::{Datelike, Timelike};
        let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
        let mut put = |at: usize, value: u32, digits: usize| {
            let mut v = value;
            for i in (at..at + digits).rev() {
                buf[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, year, 4);
        put(5, t.month(), 2);
        put(8, t.day(), 2);
        put(11, t.hour(), 2);
        put(14, t.minute(), 2);
        put(17, t.second(), 2);
        let n = self.nanos as u32;
        let digits = if n == 0 {
            0
        } else if n % 1_000_000 == 0 {
            put(20, n / 1_000_000, 3);
            3
        } else if n % 1_000 == 0 {
            put(20, n / 1_000, 6);
            6
        } else {
            put(20, n, 9);
            9
        };
        for (i, c) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')] {
            buf[i] = c;
        }
        let mut len = 19;
        if digits > 0 {
            buf[19] = b'.';
            len = 20 + digits;
        }
        buf[len] = b'Z';
        std::str::from_utf8(&buf[..=len]).ok()
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Some(t) = self.to_datetime() else {
            return Err(serde::ser::Error::custom("timestamp out of range"));
        };
        let mut buf = [0; RFC3339_MAX];
        match self.rfc3339(&t, &mut buf) {
            Some(text) => s.serialize_str(text),
            None => s.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s)
            .ok_or_else(|| de::Error::custom(format!("invalid RFC 3339 timestamp {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_fewest_of_0_3_6_9_fraction_digits_with_z() {
        let t = |s, n| {
            Timestamp {
                seconds: s,
                nanos: n,
            }
            .to_string()
        };
        assert_eq!(t(1741471987, 0), "2025-03-08T22:13:07Z");
        assert_eq!(t(1741471987, 161_000_000), "2025-03-08T22:13:07.161Z");
        assert_eq!(t(1741471987, 161_200_000), "2025-03-08T22:13:07.161200Z");
        assert_eq!(t(1741471987, 183_614_064), "2025-03-08T22:13:07.183614064Z");
    }

    #[test]
    fn the_hand_written_form_is_chrono_s() {
        let chrono_form = |ts: Timestamp| {
            let t = ts.to_datetime().unwrap();
            let mut s = t.format("%Y-%m-%dT%H:%M:%S").to_string();
            let n = ts.nanos;
            if n == 0 {
            } else if n % 1_000_000 == 0 {
                s += &format!(".{:03}", n / 1_000_000);
            } else if n % 1_000 == 0 {
                s += &format!(".{:06}", n / 1_000);
            } else {
                s += &format!(".{n:09}");
            }
            s + "Z"
        };
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..20_000i64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let seconds = (x % 400_000_000_000) as i64 - 62_200_000_000 + i;
            let nanos = match i % 4 {
                0 => 0,
                1 => (x % 1000) as i32 * 1_000_000,
                2 => (x % 1_000_000) as i32 * 1_000,
                _ => (x % 1_000_000_000) as i32,
            };
            let ts = Timestamp { seconds, nanos };
            assert_eq!(ts.to_string(), chrono_form(ts), "{seconds} {nanos}");
            assert_eq!(
                serde_json::to_string(&ts).unwrap(),
                format!("{:?}", chrono_form(ts))
            );
        }
    }

    #[test]
    fn parses_any_offset_and_rejects_garbage() {
        let a = Timestamp::parse("2025-03-08T23:13:07.5+01:00").unwrap();
        assert_eq!(a.to_string(), "2025-03-08T22:13:07.500Z");
        assert!(Timestamp::parse("yesterday").is_none());
    }

    #[test]
    fn out_of_range_values_do_not_panic() {
        let bad = Timestamp {
            seconds: i64::MAX,
            nanos: -5,
        };
        assert!(bad.to_datetime().is_none());
        let _ = bad.to_string();
        assert!(serde_json::to_string(&bad).is_err());
    }
}
