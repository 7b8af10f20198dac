//! The flow table's state: which flow is selected (by sequence number, so it stays on its flow
//! while older flows leave the ring), whether it follows the newest, the pause boundary, and the
//! index of the flows a local filter accepts.

use std::time::Duration;

use super::cursor::Cursor;
use super::filters::Filters;
use super::view::{FilterIndex, Rows};
use crate::store::Store;

/// Where the table stands, in sequence numbers.
#[derive(Debug, Clone, Copy)]
pub struct Anchor {
    pub selected: u64,
    pub top: u64,
    pub follow: bool,
}

impl Anchor {
    /// The anchor as positions in `rows`.
    fn cursor(&self, rows: &Rows) -> Cursor {
        Cursor {
            selected: rows.position(self.selected),
            top: rows.position(self.top),
            follow: self.follow,
        }
    }

    /// Takes the cursor back as sequence numbers.
    fn set(&mut self, c: Cursor, rows: &Rows) {
        self.follow = c.follow;
        if !rows.is_empty() {
            self.selected = rows.seq(c.selected.min(rows.len() - 1));
            self.top = rows.seq(c.top.min(rows.len() - 1));
        }
    }
}

pub struct FlowTable {
    pub anchor: Anchor,
    /// Paused: only flows with `seq < paused_at` are shown.
    pub paused_at: Option<u64>,
    index: FilterIndex,
    /// Time per frame for testing older flows against a new filter (see [`super::view::SCAN_BUDGET`]).
    pub scan_budget: Duration,
    /// Rows the table showed at the last frame (for PgUp/PgDn and the cursor's window).
    pub page: usize,
    /// The store generation the sequence numbers above belong to.
    generation: Option<u64>,
    /// The widest SOURCE and DESTINATION shown since the filter changed: the columns grow to
    /// them and do not shrink back while rows scroll by, so the table does not jitter.
    pub seen_widths: (usize, usize),
    /// The widest POLICY text shown since the filter or the column's mode changed (likewise).
    pub seen_policy: usize,
}

impl Default for FlowTable {
    fn default() -> Self {
        FlowTable {
            anchor: Anchor {
                selected: 0,
                top: 0,
                follow: true,
            },
            paused_at: None,
            index: FilterIndex::default(),
            scan_budget: super::view::SCAN_BUDGET,
            page: 20,
            generation: None,
            seen_widths: (0, 0),
            seen_policy: 0,
        }
    }
}

impl FlowTable {
    /// Brings the table up to date with the store: a rebuilt ring (new sequence numbers) puts the
    /// selection back on the newest flow, and the local filter tests what arrived (and a block
    /// of older flows: keys must not wait for a new filter; frames test more, see
    /// [`FlowTable::window`]). Returns the rows, the anchor to move in them and the selection.
    pub fn rows<'a>(
        &'a mut self,
        store: &Store,
        filters: &Filters,
    ) -> (Rows<'a>, &'a mut Anchor, Option<u64>) {
        self.rows_within(store, filters, Duration::ZERO)
    }

    fn rows_within<'a>(
        &'a mut self,
        store: &Store,
        filters: &Filters,
        budget: Duration,
    ) -> (Rows<'a>, &'a mut Anchor, Option<u64>) {
        if self.generation != Some(store.generation) {
            if self.generation.is_some() {
                self.anchor.follow = true;
                if self.paused_at.is_some() {
                    self.paused_at = Some(store.ring.next_seq());
                }
            }
            self.generation = Some(store.generation);
        }
        let first = store.ring.first_seq();
        let next = store.ring.next_seq();
        let limit = self.paused_at.unwrap_or(next).min(next).max(first);
        let rows = match filters.local(store) {
            None => {
                self.index.reset();
                Rows::Range { first, limit }
            }
            Some(matcher) => {
                self.index.refresh(store, matcher, budget);
                self.index.rows(limit)
            }
        };
        let selected = (!rows.is_empty()).then(|| {
            if self.anchor.follow {
                rows.seq(rows.len() - 1)
            } else {
                rows.seq(rows.position(self.anchor.selected))
            }
        });
        (rows, &mut self.anchor, selected)
    }

    /// The selected flow's sequence number, if any flow is shown.
    pub fn selection(&mut self, store: &Store, filters: &Filters) -> Option<u64> {
        self.rows(store, filters).2
    }

    /// Moves the selection by `delta` rows; landing on the newest flow while live follows again.
    pub fn move_by(&mut self, delta: i64, store: &Store, filters: &Filters) {
        let page = self.page;
        let live = self.paused_at.is_none();
        let (rows, anchor, _) = self.rows(store, filters);
        let mut c = anchor.cursor(&rows);
        c.move_by(delta, rows.len(), page);
        if live && delta > 0 && !rows.is_empty() && c.selected == rows.len() - 1 {
            c.follow = true;
        }
        anchor.set(c, &rows);
    }

    /// `g`: the oldest flow.
    pub fn oldest(&mut self, store: &Store, filters: &Filters) {
        let (rows, anchor, _) = self.rows(store, filters);
        if !rows.is_empty() {
            anchor.set(Cursor::at_start(), &rows);
        }
    }

    /// Selects this flow (a search hit), stopping the follow.
    pub fn select(&mut self, seq: u64) {
        self.anchor.follow = false;
        self.anchor.selected = seq;
    }

    /// `G`: the newest flow, followed.
    pub fn follow(&mut self) {
        self.anchor.follow = true;
    }

    pub fn toggle_pause(&mut self, store: &Store) {
        self.paused_at = match self.paused_at {
            Some(_) => None,
            None => Some(store.ring.next_seq()),
        };
    }

    /// Flows that arrived since the pause.
    pub fn new_since_pause(&self, store: &Store) -> u64 {
        self.paused_at
            .map_or(0, |p| store.ring.next_seq().saturating_sub(p))
    }

    /// A new filter: the index starts over, and the selection goes back to the newest flow.
    pub fn filter_changed(&mut self) {
        self.index.reset();
        self.seen_widths = (0, 0);
        self.seen_policy = 0;
        self.anchor.follow = true;
    }

    /// While a local filter is still testing older flows: how far it got (0 to 1).
    pub fn filtering_progress(&self, store: &Store, filters: &Filters) -> Option<f64> {
        filters.local(store)?;
        (!self.index.complete(store)).then(|| self.index.progress(store))
    }

    /// The window of rows to draw, `height` of them, and where the selection stands; clamps
    /// and scrolls the anchor on the way.
    pub fn window(
        &mut self,
        store: &Store,
        filters: &Filters,
        height: usize,
        budget: Duration,
    ) -> Window {
        self.page = height.max(1);
        let budget = budget.min(self.scan_budget);
        let (rows, anchor, _) = self.rows_within(store, filters, budget);
        let total = rows.len();
        if total == 0 {
            return Window::default();
        }
        let mut c = anchor.cursor(&rows);
        c.fit(total, height);
        anchor.set(c, &rows);
        Window {
            seqs: c.window(total, height).map(|p| rows.seq(p)).collect(),
            selected: Some((c.selected, rows.seq(c.selected))),
            total,
        }
    }
}

/// The rows a frame shows.
#[derive(Debug, Default)]
pub struct Window {
    /// Sequence numbers of the visible rows, oldest first.
    pub seqs: Vec<u64>,
    /// The selection's position among all the rows, and its sequence number.
    pub selected: Option<(usize, u64)>,
    /// Rows the table can scroll through.
    pub total: usize,
}
