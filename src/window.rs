//! The time window: `--since` / `--until` (and `:since` / `:until` in the TUI), in hubble's forms.
//!
//! A bound is either a Go duration counting back (`5m`, `1h30m`) or one of hubble's absolute
//! layouts (RFC 3339, `2006-01-02`, …). It keeps the text the user typed, so that it can be shown
//! and handed over as typed, and is resolved to a time when a request is made: against the wall
//! clock for a live server, against the newest flow of a capture for a file (a capture is the
//! past; "the last 5 minutes" of it is what an SRE asks for).

use chrono::{DateTime, Utc};

use crate::api::Timestamp;
use crate::observe::timefmt;

/// One end of the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeBound {
    /// As typed (`5m`, `2026-12-03T09:00:00Z`).
    pub text: String,
    pub at: BoundAt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundAt {
    /// This long before the reference time (now, or a capture's newest flow), in nanoseconds.
    Ago(i64),
    Absolute(Timestamp),
}

impl TimeBound {
    /// Parses a `--since`/`--until` value; the error is hubble's words for a bad one.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let at = match timefmt::parse_go_duration(text) {
            Some(nanos) => BoundAt::Ago(nanos),
            None => {
                // Any reference time will do: an absolute layout does not read it.
                let t = timefmt::parse_since(text, Utc::now())
                    .map_err(|e| format!("failed to parse the time {text:?}: {e}"))?;
                BoundAt::Absolute(checked(t, text)?)
            }
        };
        Ok(TimeBound {
            text: text.to_string(),
            at,
        })
    }

    /// The time this bound means with `reference` as "now".
    pub fn resolve(&self, reference: Timestamp) -> Timestamp {
        match self.at {
            BoundAt::Absolute(t) => t,
            BoundAt::Ago(nanos) => Timestamp::from_nanos(reference.as_nanos() - i128::from(nanos)),
        }
    }

    pub fn is_relative(&self) -> bool {
        matches!(self.at, BoundAt::Ago(_))
    }
}

/// protobuf timestamps span years 1 to 9999.
fn checked(t: DateTime<Utc>, text: &str) -> Result<Timestamp, String> {
    let ts = Timestamp::from_datetime(t);
    if !(-62_135_596_800..=253_402_300_799).contains(&ts.seconds) {
        return Err(format!(
            "the time {text:?} is out of range (years 1 to 9999)"
        ));
    }
    Ok(ts)
}

/// `--since` and `--until`; either may be open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimeWindow {
    pub since: Option<TimeBound>,
    pub until: Option<TimeBound>,
}

impl TimeWindow {
    /// From the flags' values (empty: open).
    pub fn parse(since: Option<&str>, until: Option<&str>) -> Result<Self, String> {
        let bound = |flag: &str, v: Option<&str>| -> Result<Option<TimeBound>, String> {
            match v.map(str::trim) {
                None | Some("") => Ok(None),
                Some(v) => TimeBound::parse(v)
                    .map(Some)
                    .map_err(|e| format!("--{flag}: {e}")),
            }
        };
        Ok(TimeWindow {
            since: bound("since", since)?,
            until: bound("until", until)?,
        })
    }

    pub fn is_open(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }

    /// Both ends as times, with `reference` as "now"; `None` where open.
    pub fn resolve(&self, reference: Timestamp) -> (Option<Timestamp>, Option<Timestamp>) {
        (
            self.since.as_ref().map(|b| b.resolve(reference)),
            self.until.as_ref().map(|b| b.resolve(reference)),
        )
    }

    /// Whether a flow of time `t` is inside (a flow without a time is inside an open window
    /// only).
    pub fn contains(&self, reference: Timestamp, t: Option<Timestamp>) -> bool {
        if self.is_open() {
            return true;
        }
        let Some(t) = t else { return false };
        let (since, until) = self.resolve(reference);
        since.is_none_or(|s| t >= s) && until.is_none_or(|u| t <= u)
    }

    /// `--since 5m --until …` as flags, as typed (empty when open).
    pub fn flags(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (flag, b) in [("--since", &self.since), ("--until", &self.until)] {
            if let Some(b) = b {
                out.push(flag.to_string());
                out.push(b.text.clone());
            }
        }
        out
    }

    /// The same flags with relative bounds resolved against `reference`, as RFC 3339 UTC: what
    /// reproduces this window later, or from a capture.
    pub fn absolute_flags(&self, reference: Timestamp) -> Vec<String> {
        let mut out = Vec::new();
        for (flag, b) in [("--since", &self.since), ("--until", &self.until)] {
            if let Some(b) = b {
                out.push(flag.to_string());
                out.push(rfc3339(b.resolve(reference)));
            }
        }
        out
    }
}

/// A time as RFC 3339 UTC with the nanoseconds it has (none when whole seconds).
pub fn rfc3339(t: Timestamp) -> String {
    match t.to_datetime() {
        Some(d) => d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        None => format!("{}s", t.seconds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_bounds_count_back_from_the_reference_and_keep_their_text() {
        let w = TimeWindow::parse(Some("5m"), Some("1m30s")).unwrap();
        let now = Timestamp::parse("2026-12-03T10:00:00Z").unwrap();
        let (s, u) = w.resolve(now);
        assert_eq!(rfc3339(s.unwrap()), "2026-12-03T09:55:00Z");
        assert_eq!(rfc3339(u.unwrap()), "2026-12-03T09:58:30Z");
        assert_eq!(w.flags(), ["--since", "5m", "--until", "1m30s"]);
        assert_eq!(
            w.absolute_flags(now),
            [
                "--since",
                "2026-12-03T09:55:00Z",
                "--until",
                "2026-12-03T09:58:30Z"
            ]
        );
        assert!(w.contains(now, Timestamp::parse("2026-12-03T09:56:00Z")));
        assert!(!w.contains(now, Timestamp::parse("2026-12-03T09:59:00Z")));
        assert!(!w.contains(now, None));
        assert!(TimeWindow::default().contains(now, None));
    }

    #[test]
    fn absolute_bounds_take_hubbles_layouts_and_bad_ones_say_which_flag() {
        let w = TimeWindow::parse(Some("2026-12-03T09:00:00+01:00"), Some("2026-12-04")).unwrap();
        let any = Timestamp::default();
        let (s, u) = w.resolve(any);
        assert_eq!(rfc3339(s.unwrap()), "2026-12-03T08:00:00Z");
        assert_eq!(rfc3339(u.unwrap()), "2026-12-04T00:00:00Z");
        let e = TimeWindow::parse(Some("yesterday"), None).unwrap_err();
        assert!(e.starts_with("--since: "), "{e}");
        assert!(e.contains("yesterday"), "{e}");
        assert!(TimeWindow::parse(Some(" "), None).unwrap().is_open());
    }
}
