//! The groups (`2`), L7 (`3`) and changes (`4`) views: live aggregations of the flows the table
//! would show (the local filter applied, up to the pause boundary). The engines live in
//! `aggregate`; this holds them for the screen, feeds them within a per-frame budget (a 1M-flow
//! ring is counted over a few frames, never in one frozen frame), and remembers each view's
//! selection. The changes engine is also fed while another view shows, within a smaller
//! budget: the status line's alerts and the sparklines' marks come from it.

use std::time::{Duration, Instant};

use super::cursor::Cursor;
use crate::aggregate::{Changes, GroupBy, Groups, L7Sort, L7Stats, SortBy};
use crate::store::{FlowRef, Store};

/// Which view the main area shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// `1`: the flow table.
    #[default]
    Flows,
    /// `2`: flows grouped by a key (`a` cycles it).
    Groups,
    /// `3`: requests, errors and latency per HTTP route and DNS name.
    L7,
    /// `4`: what changed in the last N minutes against the N minutes before.
    Changes,
}

impl View {
    pub const ALL: [View; 4] = [View::Flows, View::Groups, View::L7, View::Changes];

    pub fn key(self) -> char {
        match self {
            View::Flows => '1',
            View::Groups => '2',
            View::L7 => '3',
            View::Changes => '4',
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            View::Flows => "Flows",
            View::Groups => "Groups",
            View::L7 => "L7",
            View::Changes => "Changes",
        }
    }
}

/// Time one frame may spend counting flows the views have not seen (see `FilterIndex`).
pub const AGGREGATE_BUDGET: Duration = Duration::from_millis(8);
/// What a frame may spend counting for the changes engine while another view shows.
pub const CHANGES_BACKGROUND_BUDGET: Duration = Duration::from_millis(1);

/// The aggregation engines and the views' own state.
pub struct Views {
    pub groups: Groups,
    pub l7: L7Stats,
    pub changes: Changes,
    /// The store generation the engines counted (a rebuilt ring starts them over).
    generation: Option<u64>,
    pub group_sort: SortBy,
    pub l7_sort: L7Sort,
    pub group_pos: Cursor,
    pub l7_pos: Cursor,
    pub changes_pos: Cursor,
    pub budget: Duration,
}

impl Default for Views {
    fn default() -> Self {
        Views {
            groups: Groups::new(GroupBy::default()),
            l7: L7Stats::new(),
            changes: Changes::default(),
            generation: None,
            group_sort: SortBy::default(),
            l7_sort: L7Sort::default(),
            group_pos: Cursor::at_start(),
            l7_pos: Cursor::at_start(),
            changes_pos: Cursor::at_start(),
            budget: AGGREGATE_BUDGET,
        }
    }
}

impl Views {
    /// Forgets every count (a new filter): the views count the ring again.
    pub fn reset(&mut self) {
        self.groups.reset();
        self.l7.reset();
        self.changes.reset();
        self.group_pos = Cursor::at_start();
        self.l7_pos = Cursor::at_start();
        self.changes_pos = Cursor::at_start();
    }

    /// Starts over when the store was rebuilt since the engines last counted.
    fn check_generation(&mut self, generation: u64) {
        if self.generation != Some(generation) {
            if self.generation.is_some() {
                self.groups.reset();
                self.l7.reset();
                self.changes.reset();
            }
            self.generation = Some(generation);
        }
    }

    /// `a`: the next grouping, counted from scratch.
    pub fn cycle_grouping(&mut self) {
        self.groups = Groups::new(self.groups.by().next());
        self.group_pos = Cursor::at_start();
    }

    /// Counts, within the frame's budget, the flows below `limit` that `accepts` takes and the
    /// view has not seen; returns how far counting got when older flows are still left (0 to 1).
    pub fn sync(
        &mut self,
        view: View,
        store: &Store,
        limit: u64,
        now_secs: i64,
        budget: Duration,
        accepts: impl FnMut(&FlowRef<'_>) -> bool,
    ) -> Option<f64> {
        self.check_generation(store.generation);
        let ring = &store.ring;
        let deadline = Instant::now() + budget.min(self.budget);
        match view {
            View::Flows => None,
            View::Groups => {
                let done = self
                    .groups
                    .sync_until(ring, now_secs, limit, deadline, accepts);
                (!done).then(|| self.groups.progress(ring, limit))
            }
            View::L7 => {
                let done = self.l7.sync_until(ring, limit, deadline, accepts);
                (!done).then(|| self.l7.progress(ring, limit))
            }
            View::Changes => {
                let done = self
                    .changes
                    .sync_until(ring, now_secs, limit, deadline, accepts);
                (!done).then(|| self.changes.progress(ring, limit))
            }
        }
    }

    /// Keeps the changes engine current while another view shows (its alerts and marks), within
    /// [`CHANGES_BACKGROUND_BUDGET`]; `now_secs` is the windows' end (a capture's end).
    pub fn sync_changes(
        &mut self,
        store: &Store,
        limit: u64,
        now_secs: i64,
        budget: Duration,
        accepts: impl FnMut(&FlowRef<'_>) -> bool,
    ) {
        self.check_generation(store.generation);
        let deadline = Instant::now() + budget.min(CHANGES_BACKGROUND_BUDGET);
        self.changes
            .sync_until(&store.ring, now_secs, limit, deadline, accepts);
    }

    /// `+` / `-`: the next longer or shorter recent window of the changes view (30 s, 1, 2,
    /// 3, 5, 10, 15, 30, 60 minutes), counted again; whether it changed.
    pub fn change_window(&mut self, longer: bool) -> bool {
        const STEPS: [i64; 9] = [30, 60, 120, 180, 300, 600, 900, 1800, 3600];
        let secs = self.changes.window_secs();
        let next = if longer {
            STEPS.iter().find(|&&s| s > secs)
        } else {
            STEPS.iter().rev().find(|&&s| s < secs)
        };
        let Some(&s) = next else { return false };
        self.changes.set_window_secs(s);
        self.changes_pos = Cursor::at_start();
        true
    }

    /// The cursor of a list view.
    pub fn cursor(&mut self, view: View) -> Option<&mut Cursor> {
        match view {
            View::Flows => None,
            View::Groups => Some(&mut self.group_pos),
            View::L7 => Some(&mut self.l7_pos),
            View::Changes => Some(&mut self.changes_pos),
        }
    }
}

/// A latency in ns to two significant digits, the precision the histograms keep: `850µs`,
/// `12ms`, `4.1ms`, `1.3s`.
pub fn latency(ns: u64) -> String {
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    let (value, unit) = if ns < 1_000_000 {
        (ns as f64 / 1e3, "µs")
    } else if ns < 1_000_000_000 {
        (ns as f64 / 1e6, "ms")
    } else {
        (ns as f64 / 1e9, "s")
    };
    if value >= 10.0 {
        // 251 → 250, 24.5 → 25 (magnitudes of ten: keep two leading digits).
        let scale = 10f64.powi(value.log10().floor() as i32 - 1);
        format!("{:.0}{unit}", (value / scale).round() * scale)
    } else {
        format!("{value:.1}{unit}")
    }
}

/// Seconds since a flow, as a short age: `now`, `42s`, `5m`, `3h`, `2d`.
pub fn age(secs: i64) -> String {
    match secs {
        i64::MIN..=0 => "now".into(),
        1..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m", secs / 60),
        3600..=86_399 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_show_two_significant_digits() {
        assert_eq!(latency(640), "640ns");
        assert_eq!(latency(851_000), "850µs");
        assert_eq!(latency(1_234), "1.2µs");
        assert_eq!(latency(12_345_678), "12ms");
        assert_eq!(latency(250_600_000), "250ms");
        assert_eq!(latency(1_250_000_000), "1.2s");
    }

    #[test]
    fn ages_are_short() {
        assert_eq!(age(-3), "now");
        assert_eq!(age(42), "42s");
        assert_eq!(age(300), "5m");
        assert_eq!(age(7200), "2h");
        assert_eq!(age(200_000), "2d");
    }
}
