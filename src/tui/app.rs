//! The TUI's state, and what events do to it.
//!
//! [`App`] is made of components, each owning its part of the screen's state and handling its
//! own keys: the flow table ([`FlowTable`]), the groups and L7 lists ([`Views`]), the filters
//! with their bar, breadcrumbs and history ([`Filters`]), the search ([`Search`]), the `f` menu
//! ([`QuickMenu`]), the counters pane ([`CountersPane`]) and the detail view ([`DetailView`]).
//! [`App::update`] routes an [`Event`] to the component that has the keys and returns the
//! [`Effect`]s the event loop carries out (a new filter for the source, the clipboard, quit).
//! Nothing here draws: a frame is prepared from this state and the store (`prepare.rs`), then
//! drawn from that model alone.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::command::{Command, CommandKey, CommandLine};
use super::confirm::{Answer, Confirm};
use super::counters::{CountersPane, PaneKey, counter_items};
use super::detail::DetailView;
use super::filterbar::Vocabulary;
use super::filters::{BarKey, FilterChange, Filters};
use super::help::HelpScroll;
use super::lost::LostAck;
use super::quick::{MenuKey, QuickMenu};
use super::rowtext::RowText;
use super::search::{Search, SearchKey};
use super::table::FlowTable;
use super::views::{View, Views};
use super::write::{self, Selection, WriteRequest, Writes};
use crate::api::flow::Flow;
use crate::filter::FilterFlags;
use crate::source::ConnInfo;
use crate::store::Store;

/// What the loop feeds the app.
#[derive(Debug, Clone)]
pub enum Event {
    Key(KeyEvent),
    /// Text pasted into the terminal (bracketed paste).
    Paste(String),
    Resize(u16, u16),
    /// The frame clock.
    Tick,
    /// The store or the connection changed.
    Source,
}

/// What the app asks the loop to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Restart the server stream with this filter (the table filters locally meanwhile).
    SetFilter(FilterChange),
    /// Put this text on the clipboard (OSC 52).
    Copy(String),
    /// Connect again now (after a stop on a permanent error, or to cut a backoff short).
    Reconnect,
    /// Write flows to a file, on a blocking task ([`write::run`]).
    Write(WriteRequest),
    /// Restart the server stream with this time window (the flows outside go at once).
    SetWindow(crate::window::TimeWindow),
    Quit,
}

/// What an event may read: the store and the connection, locked by the caller.
pub struct Ctx<'a> {
    pub store: &'a Store,
    pub conn: &'a ConnInfo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Flows,
    /// Details of the flow in [`App::detail`].
    Detail,
}

/// What a key asks for, wherever the keys are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Up(usize),
    Down(usize),
    PageUp,
    PageDown,
    Oldest,
    NewestAndFollow,
    TogglePause,
    /// Enter: details of the flow, or filter to the group / route.
    Open,
    Back,
    ToggleHelp,
    OpenFilter,
    /// Detail view: the grouped fields or the raw JSON.
    ToggleRaw,
    /// Copy the selected flow's JSON to the clipboard (OSC 52).
    Copy,
    /// Open the one-key filter menu for the selected flow.
    QuickMenu,
    /// Take back the last one-key filter.
    PopCrumb,
    /// Move the keys to the counters pane.
    FocusCounters,
    /// Open the search prompt (`Ctrl-f`).
    OpenSearch,
    /// Jump to the next (newer) / previous (older) row matching the search.
    SearchNext,
    SearchPrev,
    /// `1`, `2`, `3`: the flows, groups or L7 view.
    ShowView(View),
    /// Groups view: the next grouping (`a`).
    CycleGroup,
    /// Groups and L7 views: the next sort order (`s`).
    CycleSort,
    /// Open the `:` command line.
    OpenCommand,
    /// Acknowledge the events lost so far (`L`): the banner goes until more are lost.
    AcknowledgeLost,
    /// Connect again now (`r`).
    Reconnect,
    /// Write the view's flows to a file (`w`).
    Write,
    /// Write the incident note under its default name (`W`).
    WriteNote,
    /// Copy the `hubble observe` command that reproduces the view (`c`).
    CopyCommand,
    /// The POLICY column: drops only → every row → off (`P`).
    CyclePolicy,
    /// The why panel beside the table: hide / show (`e`).
    ToggleWhy,
    /// Suggest a policy allowing the selected drop, or the selected group's drops (`p`).
    SuggestPolicy,
    /// Filter on the drops the status line alerts on (`!`).
    JumpToAlert,
    /// Dismiss the alert (`x`).
    DismissAlert,
    /// Changes view: a longer / shorter window (`+` / `-`).
    LongerWindow,
    ShorterWindow,
}

/// Where the flows come from, for what the TUI hands over (the `hubble observe` command, the
/// incident note) and says of itself.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A Hubble server or Relay, with the connection flags given.
    Server(Box<crate::cli::ConnectionArgs>),
    /// Captures given with `--input-file` (`-`: stdin).
    Capture(Vec<std::path::PathBuf>),
    /// `hubtop demo`'s local server at this address.
    Demo(String),
}

impl Default for Origin {
    fn default() -> Self {
        Origin::Server(Box::new(crate::cli::ConnectionArgs::plain(
            "localhost:4245".into(),
        )))
    }
}

pub struct App {
    /// Where the flows come from.
    pub origin: Origin,
    /// `--since`/`--until` (`:since`, `:until`) in force.
    pub window: crate::window::TimeWindow,
    /// A capture's newest flow once loaded (kept up to date by each frame): what its relative
    /// bounds count back from.
    pub capture_end: Option<crate::api::Timestamp>,
    /// Colours off (`NO_COLOR`).
    pub no_color: bool,
    /// Wall clock, seconds since the epoch (set by the loop each frame; fixed in tests).
    pub now_secs: i64,
    pub screen: Screen,
    /// The view in the main area (`1`, `2`, `3`).
    pub view: View,
    pub help: bool,
    pub help_scroll: HelpScroll,
    /// The lost events the user acknowledged.
    pub lost: LostAck,
    pub table: FlowTable,
    pub views: Views,
    pub filters: Filters,
    pub search: Search,
    pub quick: QuickMenu,
    pub counters: CountersPane,
    pub detail: DetailView,
    /// The `:` command line, while open.
    pub command: Option<CommandLine>,
    /// The `:cmd` popup: the `hubble observe` command for the view, while open.
    pub handover: Option<super::handover::Handover>,
    /// What the flow table's POLICY column shows (`P`).
    pub policy: super::policy::PolicyColumn,
    /// A short message for the status line (e.g. "copied"), with the second it was set.
    pub notice: Option<(String, i64)>,
    /// A yes/no question in the footer, with the effect a yes carries out and the notice a no
    /// leaves; it has the keys while open.
    pub confirm: Option<(Confirm<Effect>, String)>,
    /// `w`: the write running, the last one's outcome.
    pub writes: Writes,
    /// Drop-rate alerts from the changes engine, each told once.
    pub alerts: super::alerts::Alerts,
    /// What the frame being prepared may spend on older flows.
    pub(crate) frame_budget: std::time::Duration,
    /// Where `W` writes the note (`None`: the current directory).
    pub note_dir: Option<std::path::PathBuf>,
    /// The why panel shows for a selected DROPPED row (`e` hides and shows it).
    pub why: bool,
    /// `p`: the suggested policy, while its popup is open.
    pub suggestion: Option<super::suggest::PolicyPopup>,
}

impl Default for App {
    fn default() -> Self {
        App::new()
    }
}

impl App {
    pub fn new() -> Self {
        App {
            origin: Origin::default(),
            window: Default::default(),
            capture_end: None,
            no_color: colours_off(),
            now_secs: chrono::Utc::now().timestamp(),
            screen: Screen::Flows,
            view: View::Flows,
            help: false,
            help_scroll: HelpScroll::default(),
            lost: LostAck::default(),
            table: FlowTable::default(),
            views: Views::default(),
            filters: Filters::default(),
            search: Search::default(),
            quick: QuickMenu::default(),
            counters: CountersPane::default(),
            detail: DetailView::default(),
            command: None,
            handover: None,
            policy: Default::default(),
            notice: None,
            confirm: None,
            writes: Writes::default(),
            alerts: Default::default(),
            frame_budget: std::time::Duration::MAX,
            note_dir: None,
            why: true,
            suggestion: None,
        }
    }

    /// Starts with this filter (from the command line); the source was started with it too.
    pub fn with_filter(mut self, flags: FilterFlags) -> Self {
        self.filters = Filters::starting_with(flags);
        self
    }

    /// Says where the flows come from and the time window the source started with.
    pub fn with_origin(mut self, origin: Origin, window: crate::window::TimeWindow) -> Self {
        self.origin = origin;
        self.window = window;
        self
    }

    /// What relative `--since`/`--until` count back from: a capture's newest flow (as the source
    /// resolves them), else the clock.
    pub fn window_reference(&self) -> crate::api::Timestamp {
        self.capture_end.unwrap_or(crate::api::Timestamp {
            seconds: self.now_secs,
            nanos: 0,
        })
    }

    /// The window as the title says it: each bound as typed, with the local time it means where
    /// that is fixed (an absolute bound, or a relative one in a capture).
    pub fn window_title(&self, conn: &ConnInfo) -> Option<String> {
        if self.window.is_open() {
            return None;
        }
        let reference = self.window_reference();
        let capture = conn.capture.is_some();
        let mut parts = Vec::new();
        for (word, bound) in [("since", &self.window.since), ("until", &self.window.until)] {
            let Some(b) = bound else { continue };
            let at = b.resolve(reference);
            let local = |t: crate::api::Timestamp| {
                use chrono::TimeZone;
                chrono::Local
                    .timestamp_opt(t.seconds, 0)
                    .single()
                    .map(|d| {
                        let today = chrono::Local
                            .timestamp_opt(self.now_secs, 0)
                            .single()
                            .is_some_and(|n| n.date_naive() == d.date_naive());
                        if today {
                            d.format("%H:%M:%S").to_string()
                        } else {
                            d.format("%Y-%m-%d %H:%M:%S").to_string()
                        }
                    })
                    .unwrap_or_else(|| b.text.clone())
            };
            parts.push(match b.at {
                crate::window::BoundAt::Absolute(_) => format!("{word} {}", local(at)),
                crate::window::BoundAt::Ago(_) if capture => {
                    format!("{word} {} before the end ({})", b.text, local(at))
                }
                crate::window::BoundAt::Ago(_) => format!("{word} {} ago", b.text),
            });
        }
        Some(parts.join(" · "))
    }

    /// Applies an event; returns what the loop must do.
    pub fn update(&mut self, event: Event, ctx: &Ctx) -> Vec<Effect> {
        let mut fx = Vec::new();
        match event {
            Event::Key(key) => self.key(key, ctx, &mut fx),
            Event::Paste(text) => {
                // Into whichever prompt is open; the table has nothing to paste into.
                if let Some(c) = &mut self.command {
                    c.paste(&text);
                } else {
                    let _ = self.filters.paste(&text) || self.search.paste(&text);
                }
            }
            Event::Resize(..) | Event::Tick | Event::Source => {}
        }
        fx
    }

    /// The selected flow's sequence number, if any flow is shown.
    pub fn selection(&mut self, store: &Store) -> Option<u64> {
        self.table.selection(store, &self.filters)
    }

    pub(crate) fn note(&mut self, text: String) {
        self.notice = Some((text, self.now_secs));
    }

    fn key(&mut self, key: KeyEvent, ctx: &Ctx, fx: &mut Vec<Effect>) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        if let Some((question, no)) = self.confirm.take() {
            match question.key(key) {
                Answer::Yes(effect) => self.carry(effect, fx),
                Answer::No => self.note(no),
                Answer::Waiting(q) => self.confirm = Some((q, no)),
            }
            return;
        }
        if self.quick.is_open() {
            match self.quick.key(key.code) {
                MenuKey::Add(args) => self.push_crumb(args, fx),
                MenuKey::Missing(what) => self.note(format!("this flow has no {what}")),
                MenuKey::Closed => {}
            }
            return;
        }
        if let Some(line) = &mut self.command {
            match line.key(key) {
                CommandKey::Editing => {}
                CommandKey::Closed => self.command = None,
                CommandKey::Run(cmd) => self.run_command(cmd, ctx.store, fx),
            }
            return;
        }
        if self.handover.is_some() {
            return self.handover_key(key, fx);
        }
        if self.suggestion.is_some() {
            return self.suggestion_key(key, fx);
        }
        let on_table = self.filters.bar.is_none()
            && self.search.prompt.is_none()
            && !self.help
            && self.screen == Screen::Flows;
        if self.counters.focused && on_table {
            let items = counter_items(&ctx.store.counters);
            match self.counters.key(key, &items) {
                PaneKey::Ignored => {}
                PaneKey::Consumed => return,
                PaneKey::Filter(args) => return self.push_crumb(args, fx),
            }
        }
        if self.search.prompt.is_some() {
            if self.search.key(key) == SearchKey::Applied {
                // The newest match first: searching starts from the live end.
                self.jump_to_match(false, ctx.store);
            }
            return;
        }
        if self.filters.bar.is_some() {
            let vocab = || vocabulary(ctx);
            if let BarKey::Applied(change) = self.filters.bar_key(key, &vocab) {
                self.filter_changed(change, fx);
            }
            return;
        }
        if let Some(action) = self.key_to_action(key) {
            self.apply(action, ctx.store, fx);
        }
    }

    pub fn key_to_action(&self, key: KeyEvent) -> Option<Action> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        Some(match key.code {
            KeyCode::Char('c') if ctrl => Action::Quit,
            KeyCode::Char('q') => Action::Quit,
            KeyCode::Char('?') => Action::ToggleHelp,
            KeyCode::Char('/') => Action::OpenFilter,
            KeyCode::Esc => Action::Back,
            KeyCode::Char('j') | KeyCode::Down => Action::Down(1),
            KeyCode::Char('k') | KeyCode::Up => Action::Up(1),
            KeyCode::Char('d') if ctrl => Action::PageDown,
            KeyCode::Char('u') if ctrl => Action::PageUp,
            KeyCode::PageDown => Action::PageDown,
            KeyCode::PageUp => Action::PageUp,
            KeyCode::Char('g') | KeyCode::Home => Action::Oldest,
            KeyCode::Char('G') | KeyCode::End => Action::NewestAndFollow,
            KeyCode::Char(' ') => Action::TogglePause,
            KeyCode::Enter => Action::Open,
            KeyCode::Char('o') => Action::ToggleRaw,
            KeyCode::Char('y') => Action::Copy,
            KeyCode::Char('f') if ctrl => Action::OpenSearch,
            KeyCode::Char('n') if self.search.regex.is_some() => Action::SearchNext,
            KeyCode::Char('N') if self.search.regex.is_some() => Action::SearchPrev,
            KeyCode::Char('f') => Action::QuickMenu,
            KeyCode::Tab => Action::FocusCounters,
            KeyCode::Backspace => Action::PopCrumb,
            KeyCode::Char('1') => Action::ShowView(View::Flows),
            KeyCode::Char('2') => Action::ShowView(View::Groups),
            KeyCode::Char('3') => Action::ShowView(View::L7),
            KeyCode::Char('a') => Action::CycleGroup,
            KeyCode::Char('s') => Action::CycleSort,
            KeyCode::Char(':') => Action::OpenCommand,
            KeyCode::Char('L') => Action::AcknowledgeLost,
            KeyCode::Char('r') => Action::Reconnect,
            KeyCode::Char('w') => Action::Write,
            KeyCode::Char('W') => Action::WriteNote,
            KeyCode::Char('c') => Action::CopyCommand,
            KeyCode::Char('P') => Action::CyclePolicy,
            KeyCode::Char('e') => Action::ToggleWhy,
            KeyCode::Char('p') => Action::SuggestPolicy,
            KeyCode::Char('4') => Action::ShowView(View::Changes),
            KeyCode::Char('!') => Action::JumpToAlert,
            KeyCode::Char('x') => Action::DismissAlert,
            KeyCode::Char('+') | KeyCode::Char('=') => Action::LongerWindow,
            KeyCode::Char('-') => Action::ShorterWindow,
            _ => return None,
        })
    }

    /// Carries out an action where the keys are: help, then the detail view, then the groups or
    /// L7 list, then the flow table; what none of them takes is common to all.
    pub fn apply(&mut self, action: Action, store: &Store, fx: &mut Vec<Effect>) {
        if self.help {
            // Scrolling keys scroll the help; it opens at the top next time.
            match action {
                Action::ToggleHelp | Action::Back => {
                    self.help = false;
                    self.help_scroll = HelpScroll::default();
                }
                Action::Quit => self.quit(fx),
                _ => _ = self.help_scroll.act(action),
            }
            return;
        }
        let taken = match self.screen {
            Screen::Detail => self.detail_action(action, fx),
            Screen::Flows if self.view != View::Flows => self.list_action(action, store, fx),
            Screen::Flows => self.table_action(action, store),
        };
        if taken {
            return;
        }
        match action {
            Action::Quit => self.quit(fx),
            Action::ToggleHelp => self.help = true,
            Action::OpenFilter => self.filters.open_bar(),
            Action::OpenSearch => self.search.open(),
            Action::OpenCommand => self.command = Some(CommandLine::default()),
            Action::Back if self.screen == Screen::Flows => self.step_back(fx),
            Action::PopCrumb => match self.filters.pop_crumb() {
                Some(Ok(change)) => self.filter_changed(change, fx),
                Some(Err(e)) => self.note(e),
                None => {}
            },
            Action::Copy => {
                if let Some(flow) = self.current_flow(store) {
                    self.copy(&flow, fx);
                }
            }
            Action::QuickMenu => {
                if let Some(flow) = self.current_flow(store) {
                    self.quick.open(&flow);
                }
            }
            Action::AcknowledgeLost => {
                let told = self.lost.acknowledge(store.counters.lost_total());
                self.note(told);
            }
            Action::Reconnect => self.reconnect(fx),
            Action::Write => self.write_view(None, false, store, fx),
            Action::WriteNote => self.write_note(None, false, store),
            Action::CopyCommand => self.copy_command(store, fx),
            Action::CyclePolicy => {
                self.policy = self.policy.next();
                self.table.seen_policy = 0;
                self.note(self.policy.told().into());
            }
            Action::SuggestPolicy => self.suggest_policy(store),
            Action::ToggleWhy => {
                self.why = !self.why;
                self.note(if self.why {
                    "why panel on: it shows for a selected DROPPED row (j/k select, G follows)"
                        .into()
                } else {
                    "why panel off (e shows it; Enter on a drop still explains it)".into()
                });
            }
            Action::JumpToAlert => self.jump_to_alert(fx),
            Action::DismissAlert if self.alerts.dismiss() => {
                self.note("alert dismissed (told again if it jumps again later)".into());
            }
            _ => {}
        }
    }

    /// `W`, `:note [FILE]`, `:note! FILE`: the incident note, about the flow the keys are on.
    fn write_note(&mut self, file: Option<String>, overwrite: bool, store: &Store) {
        let flow = self.current_flow(store);
        let text = super::note::note(self, store, flow);
        let done = match &file {
            Some(f) => super::note::write(&super::note::expand_home(f), &text, overwrite),
            None => super::note::write_default(self.note_dir.as_deref(), self.now_secs, &text),
        };
        let told = match done {
            Ok(super::note::Written::Wrote(path, lines)) => {
                format!("wrote note {} ({lines} lines)", path.display())
            }
            Ok(super::note::Written::Exists(path)) => format!(
                "{} exists: :note! {} overwrites it",
                path.display(),
                path.display()
            ),
            Err(e) => format!("cannot write the note {}: {e}", file.unwrap_or_default()),
        };
        self.note(told);
    }

    /// The flow the keys are about: the one in the detail view, or the selected row.
    pub(crate) fn current_flow(&mut self, store: &Store) -> Option<Flow> {
        match self.screen {
            Screen::Detail => Some((*self.detail.flow).clone()),
            Screen::Flows if self.view == View::Flows => {
                let seq = self.selection(store)?;
                store.ring.get(seq).map(|f| f.flow())
            }
            Screen::Flows => None,
        }
    }

    fn detail_action(&mut self, action: Action, fx: &mut Vec<Effect>) -> bool {
        if self.detail.act(action) {
            return true;
        }
        match action {
            Action::Back => self.screen = Screen::Flows,
            Action::Copy => {
                let flow = self.detail.flow.clone();
                self.copy(&flow, fx)
            }
            // Nothing to open, pause, search or switch to from a single flow.
            Action::Open
            | Action::TogglePause
            | Action::FocusCounters
            | Action::SearchNext
            | Action::SearchPrev
            | Action::ShowView(_)
            | Action::CycleGroup
            | Action::CycleSort => {}
            _ => return false,
        }
        true
    }

    /// Keys of the groups and L7 lists; `false` lets the action through to the common ones.
    fn list_action(&mut self, action: Action, store: &Store, fx: &mut Vec<Effect>) -> bool {
        let page = self.table.page.max(1);
        let len = match self.view {
            View::Groups => self.views.groups.row_count(),
            View::Changes => self.views.changes.row_count(),
            _ => self.views.l7.row_count(),
        };
        let Some(cursor) = self.views.cursor(self.view) else {
            return false;
        };
        match action {
            Action::Up(n) => cursor.move_by(-(n as i64), len, page),
            Action::Down(n) => cursor.move_by(n as i64, len, page),
            Action::PageUp => cursor.move_by(-(page as i64), len, page),
            Action::PageDown => cursor.move_by(page as i64, len, page),
            Action::Oldest => cursor.selected = 0,
            Action::NewestAndFollow => cursor.selected = len.saturating_sub(1),
            Action::Back | Action::ShowView(View::Flows) => self.view = View::Flows,
            Action::ShowView(v) => self.view = v,
            Action::TogglePause => self.table.toggle_pause(store),
            Action::Open => self.filter_on_list_row(fx),
            Action::CycleGroup if self.view == View::Groups => self.views.cycle_grouping(),
            Action::CycleSort if self.view == View::Groups => {
                self.views.group_sort = self.views.group_sort.next()
            }
            Action::CycleSort if self.view == View::L7 => {
                self.views.l7_sort = self.views.l7_sort.next()
            }
            Action::LongerWindow | Action::ShorterWindow if self.view == View::Changes => {
                let longer = action == Action::LongerWindow;
                if self.views.change_window(longer) {
                    let span = super::render::span(self.views.changes.window_secs());
                    self.note(format!(
                        "changes: the last {span} against the {span} before"
                    ));
                }
            }
            // Flow-level keys mean nothing on a row of counts.
            Action::CycleGroup
            | Action::CycleSort
            | Action::LongerWindow
            | Action::ShorterWindow
            | Action::ToggleRaw
            | Action::Copy
            | Action::QuickMenu
            | Action::OpenSearch
            | Action::SearchNext
            | Action::SearchPrev
            | Action::FocusCounters => {}
            _ => return false,
        }
        true
    }

    fn table_action(&mut self, action: Action, store: &Store) -> bool {
        let page = self.table.page.max(1) as i64;
        let filters = &self.filters;
        match action {
            Action::Up(n) => self.table.move_by(-(n as i64), store, filters),
            Action::Down(n) => self.table.move_by(n as i64, store, filters),
            Action::PageUp => self.table.move_by(-page, store, filters),
            Action::PageDown => self.table.move_by(page, store, filters),
            Action::Oldest => self.table.oldest(store, filters),
            Action::NewestAndFollow => self.table.follow(),
            Action::TogglePause => self.table.toggle_pause(store),
            Action::Open => {
                let seq = self.selection(store);
                if let Some(flow) = seq.and_then(|s| store.ring.get(s)) {
                    self.detail = DetailView::open(flow.flow());
                    self.screen = Screen::Detail;
                }
            }
            Action::Back if self.search.regex.is_some() => {
                self.search.regex = None;
                self.note("search cleared".into());
            }
            Action::SearchNext => self.jump_to_match(true, store),
            Action::SearchPrev => self.jump_to_match(false, store),
            Action::FocusCounters => self.counters.focus(),
            Action::ShowView(v) => self.view = v,
            Action::Back => return false,
            Action::ToggleRaw | Action::CycleGroup | Action::CycleSort => {}
            _ => return false,
        }
        true
    }

    /// Esc where nothing else takes it: the last breadcrumb goes, then the filter.
    fn step_back(&mut self, fx: &mut Vec<Effect>) {
        let crumbs = self.filters.crumbs.len();
        match self.filters.step_back() {
            Some(Ok(change)) => {
                self.note(if crumbs > 0 {
                    "took back the last filter step (Esc again: clear the filter)".into()
                } else {
                    "filter cleared".into()
                });
                self.filter_changed(change, fx)
            }
            Some(Err(e)) => self.note(e),
            None => {}
        }
    }

    /// A `:` command; an error keeps the command line open with it.
    fn run_command(&mut self, cmd: Command, store: &Store, fx: &mut Vec<Effect>) {
        self.command = None;
        match cmd {
            Command::Quit => self.quit(fx),
            Command::Filter(text) => match self.filters.apply_text(&text) {
                Ok(change) => {
                    self.filters.bar = None;
                    self.filter_changed(change, fx);
                }
                Err(e) => {
                    self.command = Some(CommandLine {
                        cursor: text.len() + 7,
                        input: format!("filter {text}"),
                        error: Some(e),
                    })
                }
            },
            Command::Clear => {
                self.search.regex = None;
                if let Some(change) = self.filters.clear() {
                    self.filter_changed(change, fx);
                }
                self.note("filter and search cleared".into());
            }
            Command::Help => self.help = true,
            Command::View(v) => {
                self.screen = Screen::Flows;
                self.view = v;
            }
            Command::Pause => {
                if self.table.paused_at.is_none() {
                    self.table.toggle_pause(store);
                }
            }
            Command::Resume => {
                if self.table.paused_at.is_some() {
                    self.table.toggle_pause(store);
                }
                self.table.follow();
            }
            Command::Retry => self.reconnect(fx),
            Command::Write { file, force } => self.write_view(file, force, store, fx),
            Command::Note { file, overwrite } => self.write_note(file, overwrite, store),
            Command::Since(bound) => self.set_window(Some(bound), None, fx),
            Command::Until(bound) => self.set_window(None, Some(bound), fx),
            Command::Cmd => self.handover = Some(self.handover_command(store)),
        }
    }

    /// `:since` / `:until`: one end of the window changes (the other stays); the table starts
    /// over on the flows inside, and the source asks the server for the new window.
    fn set_window(
        &mut self,
        since: Option<Option<crate::window::TimeBound>>,
        until: Option<Option<crate::window::TimeBound>>,
        fx: &mut Vec<Effect>,
    ) {
        let mut window = self.window.clone();
        if let Some(s) = since {
            window.since = s;
        }
        if let Some(u) = until {
            window.until = u;
        }
        let flags = window.flags();
        self.note(if flags.is_empty() {
            "window opened: all flows".into()
        } else {
            format!("window: {}", flags.join(" "))
        });
        if window == self.window {
            return;
        }
        self.window = window.clone();
        self.table.filter_changed();
        self.views.reset();
        self.screen = Screen::Flows;
        fx.push(Effect::SetWindow(window));
    }

    /// `q`: quits, unless a write is running (quitting would leave its file cut): then asks.
    fn quit(&mut self, fx: &mut Vec<Effect>) {
        self.writes.poll(self.now_secs);
        match &self.writes.running {
            Some((job, shown)) => {
                let shown = crate::format::sanitize(shown).into_owned();
                let question = format!(
                    "still writing {shown} ({}%): quit and leave it incomplete?",
                    job.percent()
                );
                self.confirm = Some((Confirm::new(question, Effect::Quit), "writing on".into()));
            }
            None => fx.push(Effect::Quit),
        }
    }

    /// An effect a yes to a question carries out.
    fn carry(&mut self, effect: Effect, fx: &mut Vec<Effect>) {
        match effect {
            Effect::Write(req) => {
                self.writes.running = Some((req.job.clone(), req.shown.clone()));
                fx.push(Effect::Write(req));
            }
            other => fx.push(other),
        }
    }

    /// `w`, `:w [FILE]`, `:w! [FILE]`: the flows the view holds (the table's rows: the filter's,
    /// below the pause, and in the flows view the search's matches) to FILE, by default a name
    /// with the time and the filter in the current directory. An existing file is replaced only
    /// with `!` or a yes.
    fn write_view(
        &mut self,
        file: Option<String>,
        force: bool,
        store: &Store,
        fx: &mut Vec<Effect>,
    ) {
        self.writes.poll(self.now_secs);
        if let Some((_, shown)) = &self.writes.running {
            let shown = write::short_name(shown);
            return self.note(format!("still writing {shown}: one write at a time"));
        }
        // Brings the pause boundary up to date with a refiltered ring.
        let _ = self.table.rows(store, &self.filters);
        let next = store.ring.next_seq();
        let search = match self.view {
            View::Flows => self.search.regex.as_ref().map(|r| r.as_str().to_string()),
            _ => None,
        };
        let selection = Selection {
            first: store.ring.first_seq(),
            limit: self.table.paused_at.unwrap_or(next).min(next),
            generation: store.generation,
            filter: self
                .filters
                .active
                .as_ref()
                .map(|a| (self.filters.id, a.flags.clone())),
            search,
        };
        let file = file.unwrap_or_else(|| {
            let mut args = self.filters.base_args.clone();
            args.extend(self.filters.crumbs.iter().flatten().cloned());
            write::default_name(self.now_secs, &args, selection.search.as_deref())
        });
        let (path, shown) = write::resolve(&file);
        let req = WriteRequest {
            path,
            shown,
            overwrite: force,
            selection,
            job: Default::default(),
        };
        if !force && req.path.exists() {
            let shown = crate::format::sanitize(&req.shown).into_owned();
            let question = Confirm::new(
                format!("overwrite {shown}?"),
                Effect::Write(WriteRequest {
                    overwrite: true,
                    ..req
                }),
            );
            self.confirm = Some((question, format!("kept {shown} as it was")));
            return;
        }
        self.carry(Effect::Write(req), fx);
    }

    /// `r` / `:retry`: connect again now, whatever the source was waiting for.
    fn reconnect(&mut self, fx: &mut Vec<Effect>) {
        fx.push(Effect::Reconnect);
        self.note("connecting again now".into());
    }

    /// Enter on a group or an L7 row: its filter flags are added like a one-key filter, and the
    /// flows view shows its flows.
    fn filter_on_list_row(&mut self, fx: &mut Vec<Effect>) {
        let row = match self.view {
            View::Flows => return,
            View::Groups => {
                let at = self.views.group_pos.selected;
                self.views
                    .groups
                    .rows_in(self.views.group_sort, self.now_secs, at..at + 1)
                    .pop()
                    .map(|r| (r.key, r.filter))
            }
            View::L7 => {
                let at = self.views.l7_pos.selected;
                self.views
                    .l7
                    .rows_in(self.views.l7_sort, at..at + 1)
                    .pop()
                    .map(|r| (r.key, r.filter))
            }
            View::Changes => {
                let at = self.views.changes_pos.selected;
                let row = self.views.changes.rows_in(at..at + 1).pop();
                row.map(|r| (r.key, r.filter))
            }
        };
        match row {
            None => {}
            Some((key, filter)) if filter.is_empty() => {
                self.note(format!("{key}: no filter selects this row"))
            }
            Some((_, filter)) => {
                let before = self.filters.crumbs.len();
                self.push_crumb(filter, fx);
                if self.filters.crumbs.len() > before {
                    self.view = View::Flows;
                }
            }
        }
    }

    /// `!`: the alert's drops as a one-key filter, in the flows view (Backspace takes it back).
    fn jump_to_alert(&mut self, fx: &mut Vec<Effect>) {
        match self.alerts.take() {
            None => self.note("no drop-rate alert to jump to".into()),
            Some(j) if j.filter.is_empty() => {
                let text = crate::format::sanitize(&j.text).into_owned();
                self.note(format!("{text}: no filter selects these drops"))
            }
            Some(j) => {
                let before = self.filters.crumbs.len();
                self.push_crumb(j.filter, fx);
                if self.filters.crumbs.len() > before {
                    self.view = View::Flows;
                    self.screen = Screen::Flows;
                }
            }
        }
    }

    fn push_crumb(&mut self, args: Vec<String>, fx: &mut Vec<Effect>) {
        match self.filters.push_crumb(args) {
            Ok(change) => self.filter_changed(change, fx),
            Err(e) => self.note(e),
        }
    }

    /// A new filter is in force: the table and the views start over on it, and the source is
    /// told to restart the server stream with it.
    fn filter_changed(&mut self, change: FilterChange, fx: &mut Vec<Effect>) {
        self.table.filter_changed();
        self.views.reset();
        self.screen = Screen::Flows;
        fx.push(Effect::SetFilter(change));
    }

    /// The flow as one line of jsonpb, for the clipboard: bidi controls, separators and other
    /// invisible characters as `\u….` escapes (the same JSON value, safe to paste anywhere).
    fn copy(&mut self, flow: &Flow, fx: &mut Vec<Effect>) {
        if let Ok(json) = serde_json::to_string(flow) {
            let json = crate::format::escape_json_text(&json).into_owned();
            self.note(format!("copied {} bytes of JSON (OSC 52)", json.len()));
            fx.push(Effect::Copy(json));
        }
    }

    /// Moves the selection to the next (`forward`: newer) or previous row matching the search.
    fn jump_to_match(&mut self, forward: bool, store: &Store) {
        let Some(re) = self.search.regex.clone() else {
            return;
        };
        let (rows, anchor, current) = self.table.rows(store, &self.filters);
        let found = (!rows.is_empty())
            .then(|| {
                let at = current.map_or(rows.len() - 1, |s| rows.position(s));
                let hit = |p: usize| {
                    store
                        .ring
                        .get(rows.seq(p))
                        .is_some_and(|f| re.is_match(&RowText::of(&f.flow()).joined()))
                };
                if forward {
                    (at + 1..rows.len()).find(|p| hit(*p))
                } else {
                    // Starting at the current row itself when following (the newest may match).
                    let upto = if anchor.follow { at + 1 } else { at };
                    (0..upto).rev().find(|p| hit(*p))
                }
                .map(|p| rows.seq(p))
            })
            .flatten();
        match found {
            Some(seq) => self.table.select(seq),
            None => {
                let dir = if forward { "newer" } else { "older" };
                self.note(format!("no {dir} row matches /{}/", re.as_str()));
            }
        }
    }
}

/// Colours off: `NO_COLOR` is set, or the terminal says it has none (`TERM=dumb`).
pub fn colours_off() -> bool {
    let env = |k| std::env::var_os(k).filter(|v| !v.is_empty());
    if env("NO_COLOR").is_some() {
        return true;
    }
    env("TERM").is_some_and(|t| t == "dumb")
}

/// Namespaces and pods for Tab: from the server's GetNamespaces and from the flows held.
fn vocabulary(ctx: &Ctx) -> Vocabulary {
    let mut v = Vocabulary {
        namespaces: ctx.conn.namespaces.clone(),
        pods: Vec::new(),
    };
    // The newest flows are enough to know who is talking; a 1M ring need not be walked.
    for e in ctx.store.ring.iter().rev().take(50_000) {
        let ctx = e.context();
        for ep in [&ctx.source, &ctx.destination].into_iter().flatten() {
            if !ep.namespace.is_empty() {
                v.namespaces.push(ep.namespace.clone());
                if !ep.pod_name.is_empty() {
                    v.pods.push(format!("{}/{}", ep.namespace, ep.pod_name));
                }
            }
        }
    }
    for list in [&mut v.namespaces, &mut v.pods] {
        list.sort();
        list.dedup();
    }
    v
}
