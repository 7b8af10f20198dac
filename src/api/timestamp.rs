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

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.to_datetime().is_none() {
            return Err(serde::ser::Error::custom("timestamp out of range"));
        }
        s.collect_str(self)
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
