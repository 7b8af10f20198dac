//! What one frame shows, as plain data: made by [`super::App::prepare`] under one lock of the
//! store, then drawn by [`super::render::draw`] without the store, the app or any lock. Only
//! the visible rows are in it, so its size depends on the terminal, not on the ring.

use ratatui::text::Line;

use super::command::CommandLine;
use super::counters::CounterItem;
use super::filterbar::FilterBar;
use super::quick::QuickFilter;
use super::rowtext::RowText;
use super::search::SearchPrompt;
use super::views::View;
use crate::aggregate::{ChangeRow, GroupBy, GroupRow, History, Jump, L7Row, L7Sort, SortBy};
use crate::api::observer::ServerStatusResponse;
use crate::api::relay::NodeStatusEvent;
use crate::store::Counters;

pub struct Model {
    pub no_color: bool,
    pub now_secs: i64,
    /// The terminal is below the minimum size: only this message is drawn.
    pub too_small: Option<(u16, u16)>,
    pub status: Status,
    /// The lost-events banner (shown when not empty).
    pub lost: Lost,
    /// The counters pane, when the terminal is wide enough for it.
    pub counters: Option<CountersPane>,
    pub view: View,
    pub main: Main,
    /// The filter in force: what was typed, then each breadcrumb.
    pub filter: Option<FilterTitle>,
    /// The time window in force, as the title says it (`since 5m (09:55:00)`).
    pub window: Option<String>,
    pub hints: Hints,
    pub bar: Option<FilterBar>,
    pub quick: Option<Vec<QuickFilter>>,
    pub search_prompt: Option<SearchPrompt>,
    /// The `:` command line, while open.
    pub command: Option<CommandLine>,
    /// The `:cmd` popup, while open.
    pub handover: Option<super::handover::Handover>,
    /// The suggested policy popup (`p`), while open.
    pub policy: Option<PolicyView>,
    /// A recent notice ("copied …"), shown in the footer for a few seconds.
    pub notice: Option<String>,
    /// A yes/no question, shown in the footer while it waits for the answer.
    pub confirm: Option<String>,
    /// The search in force.
    pub search: Option<String>,
    pub help: bool,
    /// The help's first line shown, clamped to its lines as wrapped at this size.
    pub help_scroll: usize,
}

impl Model {
    /// Work waits for the next frames: a new filter or a view still going through older flows.
    pub fn busy(&self) -> bool {
        match &self.main {
            Main::Flows(t) => t.filtering.is_some(),
            Main::Groups(g) => g.progress.is_some(),
            Main::L7(l) => l.progress.is_some(),
            Main::Changes(c) => c.progress.is_some(),
            Main::Detail(_) => false,
        }
    }
}

/// Lost events as the banner tells them; empty when nothing was lost, or nothing since the user
/// acknowledged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lost {
    pub total: u64,
    /// Lost since the user acknowledged; `None` before they did.
    pub since_ack: Option<u64>,
    /// Per `LostEventSource` number, largest first.
    pub sources: Vec<(i32, u64)>,
    /// Per node where the server said which (as sent: sanitize), largest first.
    pub nodes: Vec<(String, u64)>,
    /// More nodes lost events than `nodes` holds.
    pub more_nodes: bool,
}

impl Lost {
    /// No banner.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// The connection as the status bar tells it.
#[derive(Debug, Clone)]
pub enum Conn {
    Connecting,
    Live,
    /// Nothing came back from the server for this long.
    Stalled {
        secs: u64,
    },
    Reconnecting {
        in_secs: u64,
        attempt: u32,
        error: String,
    },
    /// Stopped on an error retrying cannot change, until `r`.
    Stopped {
        error: String,
        advice: String,
    },
    /// Every flow asked for came (a window's end, a capture).
    Ended(String),
    Failed(String),
}

pub struct Status {
    pub server: String,
    pub conn: Conn,
    /// While connecting again: the attempt and why the one before failed.
    pub retry: Option<(u32, String)>,
    pub server_status: Option<ServerStatusResponse>,
    pub ring_len: usize,
    pub ring_capacity: usize,
    /// Paused, with this many flows arrived since.
    pub paused_new: Option<u64>,
    /// Recording and writing: (priority, text, style) parts of the status line.
    pub activity: Vec<(u8, String, ratatui::style::Style)>,
    /// `--input-file`: the captures and how loading them went.
    pub capture: Option<crate::source::capture::CaptureInfo>,
    /// A drop-rate alert (`!` jumps to it, `x` dismisses it).
    pub alert: Option<Jump>,
}

pub struct CountersPane {
    pub counters: Counters,
    /// The newest first, at most four.
    pub node_events: Vec<NodeStatusEvent>,
    pub focused: bool,
    /// The line `Enter` would filter on, while focused.
    pub selected: Option<CounterItem>,
    /// Seconds the most significant changes began: the sparklines mark them.
    pub marks: Vec<i64>,
}

pub struct FilterTitle {
    pub base: String,
    pub crumbs: Vec<String>,
}

/// Which key hints the footer shows.
#[derive(Debug, Clone, Copy)]
pub struct Hints {
    pub detail: bool,
    /// A filter is in force, and how many one-key steps it has.
    pub filtered: bool,
    pub crumbs: usize,
    pub searching: bool,
    pub raw: bool,
    pub paused: bool,
    pub counters_focused: bool,
    /// The selected row (or the flow in the detail view) was dropped: `e` and `p` mean something.
    pub dropped: bool,
}

pub enum Main {
    Flows(Table),
    Groups(Groups),
    L7(L7),
    Changes(Changes),
    Detail(Detail),
}

pub struct TableRow {
    pub text: RowText,
    pub verdict: i32,
    pub selected: bool,
    /// Matches the search in force.
    pub hit: bool,
}

pub struct Table {
    /// The visible rows, oldest first.
    pub rows: Vec<TableRow>,
    /// The selection's position and the number of rows the table can scroll through.
    pub position: Option<(usize, usize)>,
    /// A local filter is in force.
    pub filtered: bool,
    /// How far a new filter got testing older flows (0 to 1), while it still does.
    pub filtering: Option<f64>,
    pub follow: bool,
    /// The NODE column shows.
    pub wide: bool,
    /// The widest SOURCE and DESTINATION text shown lately (the columns' wish).
    pub need: (usize, usize),
    /// The widest POLICY text shown lately (0: no row has one to show, no column).
    pub policy: usize,
    /// The rows span more than one day: times show their date.
    pub dates: bool,
    /// The why panel for the selected DROPPED row (`e`), beside or below the table.
    pub why: Option<Why>,
}

/// The suggested policy popup: the lines on screen of the notes and the YAML.
pub struct PolicyView {
    /// What it was made from (`the selected drop`, `120 drops of …`).
    pub from: String,
    pub lines: Vec<String>,
    /// The first of them, of `total`.
    pub scroll: usize,
    pub total: usize,
}

/// Why the selected flow was dropped, as much as the panel shows (see `render::why_split`).
pub struct Why {
    /// Each fits the panel's width; at most its height.
    pub lines: Vec<Line<'static>>,
    /// Lines the panel has no room for (Enter shows them all).
    pub more: usize,
}

pub struct Groups {
    pub rows: Vec<GroupRow>,
    pub top: usize,
    pub selected: usize,
    pub total: usize,
    pub by: GroupBy,
    pub sort: SortBy,
    pub progress: Option<f64>,
}

pub struct L7 {
    pub rows: Vec<L7Row>,
    pub top: usize,
    pub selected: usize,
    pub total: usize,
    pub sort: L7Sort,
    pub progress: Option<f64>,
}

pub struct Changes {
    pub rows: Vec<ChangeRow>,
    pub top: usize,
    pub selected: usize,
    pub total: usize,
    /// The recent window's length (the one before is as long).
    /// The recent window, in seconds.
    pub window_secs: i64,
    pub history: History,
    /// Flows of keys beyond the cap.
    pub not_compared: u64,
    pub progress: Option<f64>,
}

pub struct Detail {
    /// The lines on screen (each fits the width).
    pub lines: Vec<Line<'static>>,
    /// The first of them, of `total`.
    pub scroll: usize,
    pub total: usize,
    pub raw: bool,
}
