//! TUI state and what keys do to it. Drawing reads this; key handling changes it.

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
    sync::Arc,
};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tokio::sync::mpsc::UnboundedSender;

use super::filterbar::{BarOutcome, Check, FilterBar, Vocabulary};
use super::quick::{self, QuickFilter};
use super::view::{FilterIndex, Rows};
use super::views::{View, Views};
use super::words;
use crate::filter::RingMatcher;
use crate::filter_flags::{self, FilterFlags};
use crate::source::{Shared, SourceCommand};
use crate::store::{Counters, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Flows,
    /// Details of the flow with this sequence number.
    Detail(u64),
}

/// What a key asks for.
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
    OpenDetail,
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
}

/// The `Ctrl-f` prompt: a regular expression over the rows' text.
#[derive(Debug, Default)]
pub struct SearchPrompt {
    pub input: String,
    pub error: Option<String>,
}

/// Which pane the keys move in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Table,
    Counters,
}

/// A line of the counters pane that Enter can filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterItem {
    Verdict(i32),
    DropReason(i32),
}

/// The selectable lines of the counters pane, in the order it shows them.
pub fn counter_items(c: &Counters) -> Vec<CounterItem> {
    let mut items: Vec<CounterItem> = Counters::sorted(&c.verdicts)
        .into_iter()
        .map(|(v, _)| CounterItem::Verdict(v))
        .collect();
    items.extend(
        Counters::sorted(&c.drop_reasons)
            .into_iter()
            .map(|(r, _)| CounterItem::DropReason(r)),
    );
    items
}

/// The filter in force: sent to the server, and applied locally to the ring.
#[derive(Debug, Clone)]
pub struct ActiveFilter {
    pub flags: FilterFlags,
    /// Decides over the compact ring (the same answers as `FlowMatcher`).
    pub matcher: Rc<RingMatcher>,
    /// As the user would type it.
    pub text: String,
}

pub struct App {
    pub shared: Arc<Shared>,
    pub screen: Screen,
    pub help: bool,
    /// The selection sticks to the newest flow.
    pub follow: bool,
    /// Sequence number of the selected flow (when not following).
    pub selected: u64,
    /// Paused: only flows with `seq < paused_at` are shown.
    pub paused_at: Option<u64>,
    pub detail_scroll: u16,
    /// The detail view shows the raw JSON.
    pub detail_raw: bool,
    /// Text to put on the clipboard, taken by the event loop.
    pub clipboard: Option<String>,
    /// A short message for the status line (e.g. "copied"), with the second it was set.
    pub notice: Option<(String, i64)>,
    pub quit: bool,
    /// Colours off (`NO_COLOR`).
    pub no_color: bool,
    /// Wall clock of this frame, seconds since the epoch (set by the loop; fixed in tests).
    pub now_secs: i64,
    pub filter: Option<ActiveFilter>,
    /// The filter bar, while open.
    pub bar: Option<FilterBar>,
    pub history: Vec<String>,
    pub focus: Focus,
    /// The search prompt, while open.
    pub search_prompt: Option<SearchPrompt>,
    /// The search in force: rows matching it are highlighted; n/N jump between them.
    pub search: Option<regex::Regex>,
    /// Selected line of the counters pane (index into [`counter_items`]).
    pub counter_sel: usize,
    /// The `f` menu, open, for the flow it was opened on.
    pub quick: Option<Vec<QuickFilter>>,
    /// The filter typed in the bar (or given on the command line), as arguments.
    pub base_args: Vec<String>,
    /// Filters added with the `f` menu since, in order; Backspace takes back the last.
    pub crumbs: Vec<Vec<String>>,
    /// Where new filters go (absent in tests that only draw).
    pub commands: Option<UnboundedSender<SourceCommand>>,
    index: RefCell<FilterIndex>,
    /// Time per frame for testing older flows against a new filter (see [`super::view::SCAN_BUDGET`]).
    pub scan_budget: std::time::Duration,
    /// First visible row when not following; kept by the table renderer so the view scrolls
    /// only when the selection leaves it.
    pub(crate) top: Cell<u64>,
    /// Rows the table showed at the last frame (for PgUp/PgDn).
    pub(crate) page: Cell<usize>,
    /// The view in the main area (`1`, `2`, `3`).
    pub view: View,
    /// The groups and L7 views' engines and selections.
    pub views: Views,
}

impl App {
    pub fn new(shared: Arc<Shared>) -> Self {
        App {
            shared,
            screen: Screen::Flows,
            help: false,
            follow: true,
            selected: 0,
            paused_at: None,
            detail_scroll: 0,
            detail_raw: false,
            clipboard: None,
            notice: None,
            quit: false,
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            now_secs: chrono::Utc::now().timestamp(),
            filter: None,
            bar: None,
            history: Vec::new(),
            commands: None,
            focus: Focus::Table,
            search_prompt: None,
            search: None,
            counter_sel: 0,
            quick: None,
            base_args: Vec::new(),
            crumbs: Vec::new(),
            index: RefCell::new(FilterIndex::default()),
            scan_budget: super::view::SCAN_BUDGET,
            top: Cell::new(0),
            page: Cell::new(20),
            view: View::Flows,
            views: Views::default(),
        }
    }

    /// Starts with this filter (from the command line); the source was started with it too.
    pub fn with_filter(mut self, flags: FilterFlags) -> Self {
        if let Ok(matcher) = RingMatcher::compile(&flags.allowlist, &flags.denylist) {
            if !matcher.is_empty() {
                let matcher = Rc::new(matcher);
                self.base_args = filter_flags::to_args(&flags);
                let text = words::join(&self.base_args);
                self.history.push(text.clone());
                self.filter = Some(ActiveFilter {
                    flags,
                    matcher,
                    text,
                });
            }
        }
        self
    }

    /// Calls `f` with the table's rows: the ring, or what the local filter accepts, up to the
    /// pause boundary.
    pub fn with_rows<R>(&self, store: &Store, f: impl FnOnce(&Rows) -> R) -> R {
        let first = store.ring.first_seq();
        let next = store.ring.next_seq();
        let limit = self.paused_at.unwrap_or(next).min(next).max(first);
        match &self.filter {
            None => f(&Rows::Range { first, limit }),
            Some(active) => {
                let mut index = self.index.borrow_mut();
                index.refresh(store, &active.matcher, self.scan_budget);
                f(&index.rows(limit))
            }
        }
    }

    /// The flows below the pause boundary the views may count.
    fn limit(&self, store: &Store) -> u64 {
        let next = store.ring.next_seq();
        self.paused_at.unwrap_or(next).min(next)
    }

    /// Brings the groups up to date (within the frame's budget) and calls `f` with them and,
    /// while older flows are still being counted, how far that got (0 to 1).
    pub fn with_groups<R>(
        &self,
        store: &Store,
        f: impl FnOnce(&crate::aggregate::Groups, Option<f64>) -> R,
    ) -> R {
        self.views.check_generation(store.generation);
        let limit = self.limit(store);
        let mut groups = self.views.groups.borrow_mut();
        let done = groups.sync_until(
            &store.ring,
            self.now_secs,
            limit,
            self.views.deadline(),
            |flow| self.accepts(flow),
        );
        let progress = (!done).then(|| groups.progress(&store.ring, limit));
        f(&groups, progress)
    }

    /// Like [`App::with_groups`], for the L7 statistics.
    pub fn with_l7<R>(
        &self,
        store: &Store,
        f: impl FnOnce(&crate::aggregate::L7Stats, Option<f64>) -> R,
    ) -> R {
        self.views.check_generation(store.generation);
        let limit = self.limit(store);
        let mut l7 = self.views.l7.borrow_mut();
        let done = l7.sync_until(&store.ring, limit, self.views.deadline(), |flow| {
            self.accepts(flow)
        });
        let progress = (!done).then(|| l7.progress(&store.ring, limit));
        f(&l7, progress)
    }

    /// Whether the local filter (if any) takes this flow.
    fn accepts(&self, flow: &crate::store::FlowRef<'_>) -> bool {
        self.filter.as_ref().is_none_or(|a| a.matcher.matches(flow))
    }

    /// Work is left for the next frames: a new filter or a view still catching up.
    pub fn busy(&self, store: &Store) -> bool {
        if self.filtering_progress(store).is_some() {
            return true;
        }
        let limit = self.limit(store);
        match self.view {
            View::Flows => false,
            View::Groups => self.views.groups.borrow().progress(&store.ring, limit) < 1.0,
            View::L7 => self.views.l7.borrow().progress(&store.ring, limit) < 1.0,
        }
    }

    /// The selected flow's sequence number, if any flow is visible.
    pub fn selection(&self) -> Option<u64> {
        self.selection_locked(&self.shared.store())
    }

    pub fn selection_locked(&self, store: &Store) -> Option<u64> {
        self.with_rows(store, |rows| {
            if rows.is_empty() {
                None
            } else if self.follow {
                Some(rows.seq(rows.len() - 1))
            } else {
                Some(rows.seq(rows.position(self.selected)))
            }
        })
    }

    pub fn key_to_action(&self, key: KeyEvent) -> Option<Action> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
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
            KeyCode::Enter => Action::OpenDetail,
            KeyCode::Char('o') => Action::ToggleRaw,
            KeyCode::Char('y') => Action::Copy,
            KeyCode::Char('f') if ctrl => Action::OpenSearch,
            KeyCode::Char('n') if self.search.is_some() => Action::SearchNext,
            KeyCode::Char('N') if self.search.is_some() => Action::SearchPrev,
            KeyCode::Char('f') => Action::QuickMenu,
            KeyCode::Tab => Action::FocusCounters,
            KeyCode::Backspace => Action::PopCrumb,
            KeyCode::Char('1') => Action::ShowView(View::Flows),
            KeyCode::Char('2') => Action::ShowView(View::Groups),
            KeyCode::Char('3') => Action::ShowView(View::L7),
            KeyCode::Char('a') => Action::CycleGroup,
            KeyCode::Char('s') => Action::CycleSort,
            _ => return None,
        })
    }

    /// Applies a key; returns whether it changed anything.
    pub fn handle_key(&mut self, key: KeyEvent) -> bool {
        if key.kind == KeyEventKind::Release {
            return false;
        }
        if let Some(menu) = self.quick.take() {
            if let KeyCode::Char(c) = key.code {
                match menu.iter().find(|q| q.key == c) {
                    Some(q) if !q.args.is_empty() => self.push_crumb(q.args.clone()),
                    Some(q) => {
                        self.notice = Some((format!("this flow has no {}", q.label), self.now_secs))
                    }
                    None => {}
                }
            }
            return true;
        }
        if self.focus == Focus::Counters
            && self.bar.is_none()
            && !self.help
            && self.screen == Screen::Flows
        {
            if let Some(done) = self.counters_key(key) {
                return done;
            }
        }
        if self.search_prompt.is_some() {
            self.search_key(key);
            return true;
        }
        if let Some(bar) = &mut self.bar {
            let shared = self.shared.clone();
            let vocab = move || vocabulary(&shared);
            match bar.handle_key(key, &self.history, &vocab) {
                BarOutcome::Editing => {}
                BarOutcome::Cancel => self.bar = None,
                BarOutcome::Apply => self.apply_bar(),
            }
            return true;
        }
        match self.key_to_action(key) {
            Some(a) => {
                self.apply(a);
                true
            }
            None => false,
        }
    }

    fn apply_bar(&mut self) {
        let Some(bar) = &self.bar else { return };
        let Check::Ok(flags, _) = bar.check.clone() else {
            return; // the error stays on screen; Esc cancels
        };
        let Ok(matcher) = RingMatcher::compile(&flags.allowlist, &flags.denylist) else {
            return; // cannot differ from the check above
        };
        let text = bar.input.trim().to_string();
        self.base_args = super::words::split(&text)
            .map(|w| w.into_iter().map(|w| w.text).collect())
            .unwrap_or_default();
        self.crumbs.clear();
        self.bar = None;
        if !text.is_empty() && self.history.last() != Some(&text) {
            self.history.push(text.clone());
        }
        self.set_filter(flags, matcher, text);
    }

    /// Keys while the counters pane has the focus; `None` lets the key through (q, ?, /, …).
    fn counters_key(&mut self, key: KeyEvent) -> Option<bool> {
        let items = counter_items(&self.shared.store().counters);
        match key.code {
            KeyCode::Char('j') | KeyCode::Down => {
                self.counter_sel = (self.counter_sel + 1).min(items.len().saturating_sub(1));
            }
            KeyCode::Char('k') | KeyCode::Up => {
                self.counter_sel = self.counter_sel.saturating_sub(1)
            }
            KeyCode::Tab | KeyCode::Esc => self.focus = Focus::Table,
            KeyCode::Enter => {
                let args = match items.get(self.counter_sel.min(items.len().saturating_sub(1))) {
                    Some(CounterItem::Verdict(v)) => vec![
                        "--verdict".into(),
                        crate::format::verdict_name(*v).into_owned(),
                    ],
                    Some(CounterItem::DropReason(r)) => {
                        vec![
                            "--drop-reason-desc".into(),
                            crate::format::drop_reason_name(*r).into_owned(),
                        ]
                    }
                    None => return Some(true),
                };
                self.push_crumb(args);
                self.focus = Focus::Table;
            }
            _ => return None,
        }
        Some(true)
    }

    fn search_key(&mut self, key: KeyEvent) {
        let Some(prompt) = &mut self.search_prompt else {
            return;
        };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => self.search_prompt = None,
            KeyCode::Char('u') if ctrl => prompt.input.clear(),
            KeyCode::Backspace => {
                prompt.input.pop();
            }
            KeyCode::Char(c) if !ctrl && !c.is_control() => prompt.input.push(c),
            KeyCode::Enter if prompt.input.is_empty() => {
                self.search = None;
                self.search_prompt = None;
            }
            KeyCode::Enter => match regex::RegexBuilder::new(&prompt.input)
                .size_limit(1 << 20)
                .build()
            {
                Ok(re) => {
                    self.search = Some(re);
                    self.search_prompt = None;
                    // The newest match first: searching starts from the live end.
                    self.jump_to_match(false);
                }
                Err(e) => {
                    prompt.error = Some(
                        e.to_string()
                            .lines()
                            .last()
                            .unwrap_or("invalid regex")
                            .to_string(),
                    )
                }
            },
            _ => {}
        }
        if let Some(p) = &mut self.search_prompt {
            if !matches!(key.code, KeyCode::Enter) {
                p.error = None;
            }
        }
    }

    /// Moves the selection to the next (`forward`: newer) or previous matching row.
    fn jump_to_match(&mut self, forward: bool) {
        let Some(re) = self.search.clone() else {
            return;
        };
        let store = self.shared.store();
        let current = self.selection_locked(&store);
        let found = self.with_rows(&store, |rows| {
            if rows.is_empty() {
                return None;
            }
            let at = current.map_or(rows.len() - 1, |s| rows.position(s));
            let matches = |p: usize| {
                store
                    .ring
                    .get(rows.seq(p))
                    .is_some_and(|f| re.is_match(&super::rowtext::RowText::of(&f.flow()).joined()))
            };
            // Starting at the current row itself when following (the newest may match).
            let start_self = self.follow && !forward;
            if forward {
                (at + 1..rows.len())
                    .find(|p| matches(*p))
                    .map(|p| rows.seq(p))
            } else {
                let upto = if start_self { at + 1 } else { at };
                (0..upto).rev().find(|p| matches(*p)).map(|p| rows.seq(p))
            }
        });
        drop(store);
        match found {
            Some(seq) => {
                self.follow = false;
                self.selected = seq;
            }
            None => {
                let dir = if forward { "newer" } else { "older" };
                self.notice = Some((
                    format!("no {dir} row matches /{}/", re.as_str()),
                    self.now_secs,
                ));
            }
        }
    }

    fn push_crumb(&mut self, args: Vec<String>) {
        self.crumbs.push(args);
        if let Err(e) = self.apply_crumbs() {
            self.crumbs.pop();
            self.notice = Some((e, self.now_secs));
        }
    }

    /// Applies the bar's filter plus the breadcrumbs.
    fn apply_crumbs(&mut self) -> Result<(), String> {
        let mut args = self.base_args.clone();
        for c in &self.crumbs {
            args.extend(c.iter().cloned());
        }
        let (flags, rest) = filter_flags::parse(&args).map_err(|e| e.to_string())?;
        if let Some(extra) = rest.first() {
            return Err(format!("{extra:?} is not a filter flag"));
        }
        let matcher =
            RingMatcher::compile(&flags.allowlist, &flags.denylist).map_err(|e| e.to_string())?;
        let text = words::join(&args);
        self.set_filter(flags, matcher, text);
        Ok(())
    }

    /// Filters the ring locally at once, and restarts the server stream with the new lists.
    pub fn set_filter(&mut self, flags: FilterFlags, matcher: RingMatcher, text: String) {
        if let Some(tx) = &self.commands {
            let _ = tx.send(SourceCommand::SetFilter {
                whitelist: flags.allowlist.clone(),
                blacklist: flags.denylist.clone(),
                // TODO(ui): this filter's own number, so that `Store::filter_id` tells when the
                // ring holds only its flows.
                id: 0,
            });
        }
        self.filter = (!matcher.is_empty()).then(|| ActiveFilter {
            flags,
            matcher: Rc::new(matcher),
            text,
        });
        self.index.borrow_mut().reset();
        self.views.reset();
        self.follow = true;
        self.screen = Screen::Flows;
    }

    /// Keys of the groups and L7 views; `false` lets the action through to the common ones.
    fn view_action(&mut self, action: Action) -> bool {
        let pos = match self.view {
            View::Flows => return false,
            View::Groups => &self.views.group_pos,
            View::L7 => &self.views.l7_pos,
        };
        let page = self.page.get().max(1) as i64;
        match action {
            Action::Up(n) => pos.move_by(-(n as i64)),
            Action::Down(n) => pos.move_by(n as i64),
            Action::PageUp => pos.move_by(-page),
            Action::PageDown => pos.move_by(page),
            Action::Oldest => pos.selected.set(0),
            Action::NewestAndFollow => pos.selected.set(usize::MAX),
            Action::Back => self.view = View::Flows,
            Action::OpenDetail => self.filter_on_view_row(),
            Action::CycleGroup if self.view == View::Groups => self.views.cycle_grouping(),
            Action::CycleSort => match self.view {
                View::Groups => self.views.group_sort = self.views.group_sort.next(),
                _ => self.views.l7_sort = self.views.l7_sort.next(),
            },
            // Flow-level keys mean nothing on a row of counts.
            Action::CycleGroup
            | Action::ToggleRaw
            | Action::Copy
            | Action::QuickMenu
            | Action::OpenSearch
            | Action::SearchNext
            | Action::SearchPrev => {}
            _ => return false,
        }
        true
    }

    /// Enter on a group or an L7 row: its filter flags are added like a one-key filter, and the
    /// flows view shows its flows.
    fn filter_on_view_row(&mut self) {
        let store = self.shared.store();
        let row = match self.view {
            View::Flows => return,
            View::Groups => {
                let at = self.views.group_pos.selected.get();
                let sort = self.views.group_sort;
                self.with_groups(&store, |g, _| {
                    g.rows_in(sort, self.now_secs, at..at + 1)
                        .pop()
                        .map(|r| (r.key, r.filter))
                })
            }
            View::L7 => {
                let at = self.views.l7_pos.selected.get();
                let sort = self.views.l7_sort;
                self.with_l7(&store, |s, _| {
                    s.rows_in(sort, at..at + 1).pop().map(|r| (r.key, r.filter))
                })
            }
        };
        drop(store);
        match row {
            None => {}
            Some((key, filter)) if filter.is_empty() => {
                self.notice = Some((format!("{key}: no filter selects this row"), self.now_secs))
            }
            Some((_, filter)) => {
                let before = self.crumbs.len();
                self.push_crumb(filter);
                if self.crumbs.len() > before {
                    self.view = View::Flows;
                }
            }
        }
    }

    pub fn apply(&mut self, action: Action) {
        if self.help && !matches!(action, Action::ToggleHelp | Action::Back | Action::Quit) {
            return;
        }
        if self.screen == Screen::Flows && !self.help && self.view_action(action) {
            return;
        }
        match (self.screen, action) {
            (_, Action::Quit) => self.quit = true,
            (Screen::Flows, Action::ShowView(v)) => self.view = v,
            (_, Action::ShowView(_) | Action::CycleGroup | Action::CycleSort) => {}
            (_, Action::ToggleHelp) => self.help = !self.help,
            (_, Action::Back) if self.help => self.help = false,
            (_, Action::OpenFilter) => {
                let text = self
                    .filter
                    .as_ref()
                    .map(|f| f.text.clone())
                    .unwrap_or_default();
                self.bar = Some(FilterBar::new(text));
            }
            (_, Action::Copy) => self.copy_selected(),
            (_, Action::QuickMenu) => {
                let seq = match self.screen {
                    Screen::Detail(seq) => Some(seq),
                    Screen::Flows => self.selection(),
                };
                let flow = seq.and_then(|s| self.shared.store().ring.get(s).map(|f| f.flow()));
                self.quick = flow.map(|f| quick::menu(&f));
            }
            (_, Action::OpenSearch) => {
                let input = self
                    .search
                    .as_ref()
                    .map(|r| r.as_str().to_string())
                    .unwrap_or_default();
                self.search_prompt = Some(SearchPrompt { input, error: None });
            }
            (Screen::Flows, Action::Back) if self.search.is_some() => self.search = None,
            (Screen::Flows, Action::SearchNext) => self.jump_to_match(true),
            (Screen::Flows, Action::SearchPrev) => self.jump_to_match(false),
            (Screen::Detail(_), Action::SearchNext | Action::SearchPrev) => {}
            (Screen::Flows, Action::FocusCounters) => {
                self.focus = Focus::Counters;
                self.counter_sel = 0;
            }
            (Screen::Detail(_), Action::FocusCounters) => {}
            (_, Action::PopCrumb) => {
                if self.crumbs.pop().is_some() {
                    if let Err(e) = self.apply_crumbs() {
                        self.notice = Some((e, self.now_secs));
                    }
                }
            }
            (Screen::Detail(_), Action::ToggleRaw) => {
                self.detail_raw = !self.detail_raw;
                self.detail_scroll = 0;
            }
            (Screen::Detail(_), Action::Back) => self.screen = Screen::Flows,
            (Screen::Detail(_), Action::Down(n)) => {
                self.detail_scroll = self.detail_scroll.saturating_add(n as u16)
            }
            (Screen::Detail(_), Action::Up(n)) => {
                self.detail_scroll = self.detail_scroll.saturating_sub(n as u16)
            }
            (Screen::Detail(_), Action::PageDown) => {
                self.detail_scroll = self.detail_scroll.saturating_add(self.page.get() as u16)
            }
            (Screen::Detail(_), Action::PageUp) => {
                self.detail_scroll = self.detail_scroll.saturating_sub(self.page.get() as u16)
            }
            (Screen::Detail(_), Action::Oldest) => self.detail_scroll = 0,
            (Screen::Detail(_), _) => {}
            (Screen::Flows, Action::Back | Action::ToggleRaw) => {}
            (Screen::Flows, Action::Up(n)) => self.move_by(-(n as i64)),
            (Screen::Flows, Action::Down(n)) => self.move_by(n as i64),
            (Screen::Flows, Action::PageUp) => self.move_by(-(self.page.get().max(1) as i64)),
            (Screen::Flows, Action::PageDown) => self.move_by(self.page.get().max(1) as i64),
            (Screen::Flows, Action::Oldest) => {
                let store = self.shared.store();
                if let Some(first) = self.with_rows(&store, |r| (!r.is_empty()).then(|| r.seq(0))) {
                    self.follow = false;
                    self.selected = first;
                }
            }
            (Screen::Flows, Action::NewestAndFollow) => self.follow = true,
            (Screen::Flows, Action::TogglePause) => {
                self.paused_at = match self.paused_at {
                    Some(_) => None,
                    None => Some(self.shared.store().ring.next_seq()),
                };
            }
            (Screen::Flows, Action::OpenDetail) => {
                if let Some(seq) = self.selection() {
                    self.screen = Screen::Detail(seq);
                    self.detail_scroll = 0;
                }
            }
        }
    }

    /// The flow on screen (detail) or selected (table) as one line of jsonpb, for the clipboard.
    fn copy_selected(&mut self) {
        let seq = match self.screen {
            Screen::Detail(seq) => Some(seq),
            Screen::Flows => self.selection(),
        };
        let Some(flow) = seq.and_then(|s| self.shared.store().ring.get(s).map(|f| f.flow())) else {
            return;
        };
        if let Ok(json) = serde_json::to_string(&flow) {
            self.notice = Some((
                format!("copied {} bytes of JSON (OSC 52)", json.len()),
                self.now_secs,
            ));
            self.clipboard = Some(json);
        }
    }

    fn move_by(&mut self, delta: i64) {
        let store = self.shared.store();
        let Some(current) = self.selection_locked(&store) else {
            return;
        };
        let page = self.page.get();
        let (target, last, top) = self.with_rows(&store, |rows| {
            let pos = rows.position(current) as i64;
            let last = rows.len() - 1;
            let target = (pos + delta).clamp(0, last as i64) as usize;
            let top = rows.seq(last.saturating_sub(page.saturating_sub(1)));
            (rows.seq(target), rows.seq(last), top)
        });
        drop(store);
        if self.follow && target == last && delta > 0 {
            return; // already at the newest: keep following
        }
        if self.follow {
            // Leaving the bottom: the window stays where it was.
            self.top.set(top);
        }
        self.follow = false;
        self.selected = target;
        // Scrolling back down onto the newest flow (while live) resumes following.
        if target == last && self.paused_at.is_none() && delta > 0 {
            self.follow = true;
        }
    }

    /// While a new filter is still being tested against older flows: how far it got (0 to 1).
    pub fn filtering_progress(&self, store: &Store) -> Option<f64> {
        self.filter.as_ref()?;
        let index = self.index.borrow();
        (!index.complete(store)).then(|| index.progress(store))
    }

    /// Flows that arrived since the pause.
    pub fn new_since_pause(&self) -> u64 {
        self.paused_at
            .map(|p| self.shared.store().ring.next_seq().saturating_sub(p))
            .unwrap_or(0)
    }
}

/// Namespaces and pods for Tab: from the server's GetNamespaces and from the flows held.
fn vocabulary(shared: &Shared) -> Vocabulary {
    let mut v = Vocabulary {
        namespaces: shared.conn().namespaces.clone(),
        pods: Vec::new(),
    };
    let store = shared.store();
    // The newest flows are enough to know who is talking; a 1M ring need not be walked.
    for e in store.ring.iter().rev().take(50_000) {
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
