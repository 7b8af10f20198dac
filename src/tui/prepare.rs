//! Preparing a frame: under one lock of the store, advance what must advance (the local filter's
//! index, the groups and L7 counts, each within its per-frame budget), clamp every cursor to what
//! is there now, and copy what the frame shows into a [`Model`]. Drawing then reads the model
//! only, so a frame can never mix two states of the store or move a cursor while drawing.

use std::ops::Range;
use std::time::{Duration, Instant};

use ratatui::layout::Rect;

use super::app::{App, Screen};
use super::model::{self, Conn, Main, Model};
use super::render::{self, Theme};
use super::rowtext::RowText;
use super::shorten;
use super::views::View;
use super::words;
use crate::source::{ConnInfo, ConnState};
use crate::store::Store;

/// How long a notice ("copied …") stays in the status bar.
const NOTICE_SECS: i64 = 3;

/// What a frame drawn in answer to a key may spend on older flows (a new filter's index, a view
/// counting): the key is on screen first, the frames after it catch up.
pub const INPUT_FRAME_BUDGET: Duration = Duration::from_millis(1);

impl App {
    /// The model of the next frame for a terminal of this size; older flows are tested and
    /// counted for at most `budget` (and the components' own budgets).
    pub fn prepare(
        &mut self,
        store: &Store,
        conn: &ConnInfo,
        area: Rect,
        budget: Duration,
    ) -> Model {
        self.frame_budget = budget;
        let theme = Theme {
            no_color: self.no_color,
        };
        let lost = self.lost.banner(&store.counters);
        let areas = render::layout(area, !lost.is_empty(), self.counters.focused);
        let too_small = areas.is_none().then_some((area.width, area.height));
        let main = match &areas {
            None => Main::Flows(empty_table()),
            Some(a) => match (self.screen, self.view) {
                (Screen::Detail, _) => Main::Detail(self.prepare_detail(a.table, &theme)),
                (Screen::Flows, View::Flows) => {
                    Main::Flows(self.prepare_flows(store, a.table, &theme))
                }
                (Screen::Flows, View::Groups) => Main::Groups(self.prepare_groups(store, a.table)),
                (Screen::Flows, View::L7) => Main::L7(self.prepare_l7(store, a.table)),
                (Screen::Flows, View::Changes) => {
                    Main::Changes(self.prepare_changes(store, a.table))
                }
            },
        };
        self.prepare_alerts(store);
        // The views count what the table shows, even while another view is on screen: keep
        // them current only when shown (they catch up within a few frames when switched to).
        let counters = areas
            .as_ref()
            .filter(|a| a.counters.is_some() || a.strip.is_some())
            .map(|_| self.prepare_counters(store));
        let notice = self
            .notice
            .as_ref()
            .filter(|(_, at)| self.now_secs - at < NOTICE_SECS)
            .map(|(text, _)| text.clone());
        self.writes.poll(self.now_secs);
        let status = model::Status {
            activity: super::write::activity(
                &self.writes,
                conn.record.as_ref(),
                self.now_secs,
                &theme,
            ),
            server: conn.server.clone(),
            conn: match &conn.state {
                ConnState::Connecting => Conn::Connecting,
                ConnState::Live => Conn::Live,
                ConnState::Reconnecting {
                    retry_at,
                    attempt,
                    error,
                } => Conn::Reconnecting {
                    in_secs: retry_at
                        .saturating_duration_since(Instant::now())
                        .as_secs_f64()
                        .ceil() as u64,
                    attempt: *attempt,
                    error: error.clone(),
                },
                ConnState::Stalled { since } => Conn::Stalled {
                    secs: since.elapsed().as_secs(),
                },
                ConnState::Stopped { error, advice } => Conn::Stopped {
                    error: error.clone(),
                    advice: advice.clone(),
                },
                ConnState::Ended(why) => Conn::Ended(why.clone()),
                ConnState::Failed(e) => Conn::Failed(e.clone()),
            },
            retry: conn.last_error.as_ref().map(|e| (conn.attempt, e.clone())),
            server_status: conn.status.clone(),
            ring_len: store.ring.len(),
            ring_capacity: store.ring.capacity(),
            paused_new: self
                .table
                .paused_at
                .map(|_| self.table.new_since_pause(store)),
            capture: conn.capture.clone(),
            alert: self.alerts.shown.clone(),
        };
        if let Some(crate::source::capture::CaptureInfo {
            state: crate::source::capture::CaptureState::Loaded(s),
            ..
        }) = &conn.capture
        {
            self.capture_end = s.kept_span.map(|(_, newest)| newest);
        }
        let window = self.window_title(conn);
        // A drop the keys are on (not the newest row going by while following).
        let is_drop = |v: i32| v == crate::api::flow::Verdict::Dropped as i32;
        let dropped = match &main {
            Main::Flows(t) => !t.follow && t.rows.iter().any(|r| r.selected && is_drop(r.verdict)),
            Main::Detail(_) => is_drop(self.detail.flow.verdict),
            _ => false,
        };
        // Clamped against the help as wrapped in the area it is drawn over.
        let help_scroll = match &areas {
            Some(a) if self.help => {
                let (rect, lines) = render::help::fit(a.main);
                self.help_scroll
                    .clamp(lines, rect.height.saturating_sub(2) as usize)
            }
            _ => 0,
        };
        let filter = self.filters.active.as_ref().map(|_| model::FilterTitle {
            base: words::join(&self.filters.base_args),
            crumbs: self.filters.crumbs.iter().map(|c| words::join(c)).collect(),
        });
        Model {
            no_color: self.no_color,
            // A capture is seen as of its end: rates, sparklines and ages are those of its last
            // moments, not of a clock long past them.
            now_secs: self.window_reference().seconds,
            too_small,
            status,
            lost,
            counters,
            view: self.view,
            main,
            filter,
            window,
            hints: model::Hints {
                detail: self.screen == Screen::Detail,
                filtered: self.filters.active.is_some(),
                crumbs: self.filters.crumbs.len(),
                searching: self.search.regex.is_some(),
                raw: self.detail.raw,
                paused: self.table.paused_at.is_some(),
                counters_focused: self.counters.focused,
                dropped,
            },
            bar: self.filters.bar.clone(),
            quick: self.quick.entries.clone(),
            search_prompt: self.search.prompt.clone(),
            command: self.command.clone(),
            handover: self.handover.clone(),
            policy: areas.as_ref().and_then(|a| self.prepare_policy(a.main)),
            notice,
            confirm: self.confirm.as_ref().map(|(q, _)| q.prompt()),
            search: self.search.regex.as_ref().map(|r| r.as_str().to_string()),
            help: self.help,
            help_scroll,
        }
    }

    /// The flow table, with the why panel when a DROPPED row is selected (not while following
    /// the newest: the panel would change with every flow) and the panel is on.
    fn prepare_flows(&mut self, store: &Store, area: Rect, theme: &Theme) -> model::Table {
        let dropped = |seq: u64| {
            store
                .ring
                .get(seq)
                .is_some_and(|f| f.verdict() == crate::api::flow::Verdict::Dropped as i32)
        };
        let anchor = self.table.anchor;
        let split = (self.why && !anchor.follow && dropped(anchor.selected))
            .then(|| render::why_split(area))
            .flatten();
        let Some((table_area, panel)) = split else {
            return self.prepare_table(store, area);
        };
        let mut table = self.prepare_table(store, table_area);
        // The selection as the window clamped it (the flow may have left the ring).
        let flow = table
            .position
            .and_then(|_| store.ring.get(self.table.anchor.selected))
            .map(|f| f.flow());
        if let Some(flow) = flow {
            let width = panel.width.saturating_sub(2) as usize;
            let height = panel.height.saturating_sub(2) as usize;
            let mut lines = render::detail::why_lines(&flow, width, theme);
            if lines.len() > height {
                lines = render::detail::most_telling_first(lines);
            }
            let more = lines.len().saturating_sub(height);
            if more > 0 {
                // The last line says how much more there is.
                lines.truncate(height.saturating_sub(1));
            }
            table.why = Some(model::Why {
                more: if more > 0 { more + 1 } else { 0 },
                lines,
            });
        }
        table
    }

    fn prepare_table(&mut self, store: &Store, area: Rect) -> model::Table {
        let height = area.height.saturating_sub(3) as usize; // borders + header
        let window = self
            .table
            .window(store, &self.filters, height, self.frame_budget);
        let rows = window
            .seqs
            .iter()
            .filter_map(|seq| {
                let e = store.ring.get(*seq)?;
                let flow = e.flow();
                let mut text = RowText::of(&flow);
                if !self.policy.shows(flow.verdict) {
                    text.policy.clear();
                }
                let hit = self.search.regex.is_some() && self.search.hit(&text.joined());
                Some(model::TableRow {
                    text,
                    verdict: flow.verdict,
                    selected: window.selected.is_some_and(|(_, s)| s == *seq),
                    hit,
                })
            })
            .collect::<Vec<model::TableRow>>();
        for r in &rows {
            let seen = &mut self.table.seen_widths;
            seen.0 = seen.0.max(shorten::width(&r.text.source.full()));
            seen.1 = seen.1.max(shorten::width(&r.text.destination.full()));
            let policy = &mut self.table.seen_policy;
            *policy = (*policy).max(shorten::width(&r.text.policy));
        }
        let dates = match (rows.first(), rows.last()) {
            (Some(a), Some(b)) => a.text.date != b.text.date,
            _ => false,
        };
        model::Table {
            need: self.table.seen_widths,
            policy: self.table.seen_policy,
            dates,
            rows,
            position: window.selected.map(|(p, _)| (p, window.total)),
            filtered: self.filters.active.is_some(),
            filtering: self.table.filtering_progress(store, &self.filters),
            follow: self.table.anchor.follow,
            wide: area.width >= render::WIDE_TABLE,
            why: None,
        }
    }

    /// The flows below the pause boundary the views may count.
    fn limit(&self, store: &Store) -> u64 {
        let next = store.ring.next_seq();
        self.table.paused_at.unwrap_or(next).min(next)
    }

    fn sync_view(&mut self, store: &Store) -> Option<f64> {
        let limit = self.limit(store);
        let filters = &self.filters;
        // The changes' windows end where a capture ends; the other views' rates at the clock.
        let now = match self.view {
            View::Changes => self.window_reference().seconds,
            _ => self.now_secs,
        };
        self.views
            .sync(self.view, store, limit, now, self.frame_budget, |flow| {
                filters.accepts(store, flow)
            })
    }

    /// The groups or L7 list: counts brought up to date within the budget, its cursor clamped
    /// and scrolled; returns the counting progress and the rows to show.
    fn list_window(&mut self, store: &Store, area: Rect) -> (Option<f64>, Range<usize>) {
        let height = area.height.saturating_sub(3) as usize;
        self.table.page = height.max(1);
        let progress = self.sync_view(store);
        let total = match self.view {
            View::L7 => self.views.l7.row_count(),
            View::Changes => self.views.changes.row_count(),
            _ => self.views.groups.row_count(),
        };
        let cursor = self.views.cursor(self.view).expect("a list view");
        cursor.fit(total, height);
        (progress, cursor.window(total, height))
    }

    fn prepare_groups(&mut self, store: &Store, area: Rect) -> model::Groups {
        let (progress, window) = self.list_window(store, area);
        let v = &self.views;
        model::Groups {
            rows: v
                .groups
                .rows_in(v.group_sort, self.now_secs, window.clone()),
            top: window.start,
            selected: v.group_pos.selected,
            total: v.groups.row_count(),
            by: v.groups.by(),
            sort: v.group_sort,
            progress,
        }
    }

    fn prepare_l7(&mut self, store: &Store, area: Rect) -> model::L7 {
        let (progress, window) = self.list_window(store, area);
        let v = &self.views;
        model::L7 {
            rows: v.l7.rows_in(v.l7_sort, window.clone()),
            top: window.start,
            selected: v.l7_pos.selected,
            total: v.l7.row_count(),
            sort: v.l7_sort,
            progress,
        }
    }

    fn prepare_changes(&mut self, store: &Store, area: Rect) -> model::Changes {
        let (progress, window) = self.list_window(store, area);
        let c = &self.views.changes;
        model::Changes {
            rows: c.rows_in(window.clone()),
            top: window.start,
            selected: self.views.changes_pos.selected,
            total: c.row_count(),
            window_secs: c.window_secs(),
            history: c.history(),
            not_compared: c.not_compared(),
            progress,
        }
    }

    /// The changes engine kept current whatever the view (within a small budget when it is not
    /// shown), and the alerts told from its jumps.
    fn prepare_alerts(&mut self, store: &Store) {
        let now = self.window_reference().seconds;
        if self.view != View::Changes || self.screen != Screen::Flows {
            let limit = self.limit(store);
            let filters = &self.filters;
            self.views
                .sync_changes(store, limit, now, self.frame_budget, |flow| {
                    filters.accepts(store, flow)
                });
        }
        self.alerts.update(self.views.changes.jumps(), now);
    }

    fn prepare_detail(&mut self, area: Rect, theme: &Theme) -> model::Detail {
        let width = area.width.saturating_sub(2);
        let height = area.height.saturating_sub(2) as usize;
        let no_color = theme.no_color;
        let (shown, scroll, total) = self.detail.window((width, no_color), height, |flow, raw| {
            render::detail::build(flow, raw, width as usize, &Theme { no_color })
        });
        model::Detail {
            lines: shown,
            scroll,
            total,
            raw: self.detail.raw,
        }
    }

    /// The policy popup's lines on screen, its scroll clamped to the area it is drawn over.
    fn prepare_policy(&mut self, area: Rect) -> Option<model::PolicyView> {
        let popup = self.suggestion.as_mut()?;
        let (_, inner) = render::policy_rect(area, 0);
        let lines = popup.lines(inner as usize);
        let (rect, _) = render::policy_rect(area, lines.len());
        let height = rect.height.saturating_sub(2) as usize;
        let scroll = popup.clamp(lines.len(), height);
        Some(model::PolicyView {
            from: popup.from.clone(),
            total: lines.len(),
            lines: lines.into_iter().skip(scroll).take(height).collect(),
            scroll,
        })
    }

    fn prepare_counters(&mut self, store: &Store) -> model::CountersPane {
        let items = super::counters::counter_items(&store.counters);
        model::CountersPane {
            counters: store.counters.clone(),
            node_events: store
                .node_events
                .iter()
                .rev()
                .take(4)
                .map(|(_, e)| e.clone())
                .collect(),
            focused: self.counters.focused,
            selected: self
                .counters
                .focused
                .then(|| self.counters.current(&items))
                .flatten(),
            marks: self.views.changes.marks(),
        }
    }
}

fn empty_table() -> model::Table {
    model::Table {
        rows: Vec::new(),
        position: None,
        filtered: false,
        filtering: None,
        follow: true,
        wide: false,
        need: (0, 0),
        policy: 0,
        dates: false,
        why: None,
    }
}
