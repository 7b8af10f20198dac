//! The groups (`2`) and L7 (`3`) views: live aggregations of the flows the table would show
//! (the local filter applied, up to the pause boundary). The engines live in `aggregate`; this
//! holds them for the screen, feeds them within a per-frame budget (a 1M-flow ring is counted
//! over a few frames, never in one frozen frame), and remembers each view's selection.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use crate::aggregate::{GroupBy, Groups, L7Sort, L7Stats, SortBy};

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
}

impl View {
    pub const ALL: [View; 3] = [View::Flows, View::Groups, View::L7];

    pub fn key(self) -> char {
        match self {
            View::Flows => '1',
            View::Groups => '2',
            View::L7 => '3',
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            View::Flows => "Flows",
            View::Groups => "Groups",
            View::L7 => "L7",
        }
    }
}

/// Time one frame may spend counting flows the views have not seen (see `FilterIndex`).
pub const AGGREGATE_BUDGET: Duration = Duration::from_millis(8);

/// A list's selection and the first row shown (kept by the renderer).
#[derive(Debug, Default)]
pub struct ListPos {
    pub selected: Cell<usize>,
    pub top: Cell<usize>,
}

impl ListPos {
    pub fn move_by(&self, delta: i64) {
        let s = self.selected.get() as i64 + delta;
        self.selected.set(s.max(0) as usize);
    }

    /// Clamps the selection to `len` rows and scrolls so it shows in `height` rows; returns
    /// the first row to draw.
    pub fn fit(&self, len: usize, height: usize) -> usize {
        let sel = self.selected.get().min(len.saturating_sub(1));
        self.selected.set(sel);
        let mut top = self.top.get();
        if sel < top {
            top = sel;
        } else if height > 0 && sel >= top + height {
            top = sel + 1 - height;
        }
        top = top.min(len.saturating_sub(height));
        self.top.set(top);
        top
    }

    fn reset(&self) {
        self.selected.set(0);
        self.top.set(0);
    }
}

/// The aggregation engines and the views' own state.
pub struct Views {
    pub groups: RefCell<Groups>,
    pub l7: RefCell<L7Stats>,
    /// The store generation the engines counted (a rebuilt ring starts them over).
    generation: Cell<Option<u64>>,
    pub group_sort: SortBy,
    pub l7_sort: L7Sort,
    pub group_pos: ListPos,
    pub l7_pos: ListPos,
    pub budget: Duration,
}

impl Default for Views {
    fn default() -> Self {
        Views {
            groups: RefCell::new(Groups::new(GroupBy::default())),
            l7: RefCell::new(L7Stats::new()),
            generation: Cell::new(None),
            group_sort: SortBy::default(),
            l7_sort: L7Sort::default(),
            group_pos: ListPos::default(),
            l7_pos: ListPos::default(),
            budget: AGGREGATE_BUDGET,
        }
    }
}

impl Views {
    /// Forgets every count (a new filter): the views count the ring again.
    pub fn reset(&self) {
        self.groups.borrow_mut().reset();
        self.l7.borrow_mut().reset();
        self.group_pos.reset();
        self.l7_pos.reset();
    }

    /// Starts over when the store was rebuilt since the engines last counted.
    pub fn check_generation(&self, generation: u64) {
        if self.generation.get() != Some(generation) {
            if self.generation.get().is_some() {
                self.groups.borrow_mut().reset();
                self.l7.borrow_mut().reset();
            }
            self.generation.set(Some(generation));
        }
    }

    /// `a`: the next grouping, counted from scratch.
    pub fn cycle_grouping(&self) {
        let by = self.groups.borrow().by().next();
        *self.groups.borrow_mut() = Groups::new(by);
        self.group_pos.reset();
    }

    pub fn deadline(&self) -> Instant {
        Instant::now() + self.budget
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

    #[test]
    fn the_selection_stays_in_the_list_and_on_screen() {
        let p = ListPos::default();
        p.move_by(30);
        assert_eq!(
            p.fit(10, 5),
            5,
            "clamped to the last row, scrolled to show it"
        );
        assert_eq!(p.selected.get(), 9);
        p.move_by(-9);
        assert_eq!(p.fit(10, 5), 0);
        p.move_by(-1);
        assert_eq!(p.selected.get(), 0);
        assert_eq!(p.fit(0, 5), 0, "an empty list");
    }
}
