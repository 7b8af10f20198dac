//! TUI state and what keys do to it. Drawing reads this; only `handle_key` changes it.

use std::{cell::Cell, sync::Arc};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::source::Shared;
use crate::store::Store;

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
    pub quit: bool,
    /// Colours off (`NO_COLOR`).
    pub no_color: bool,
    /// Wall clock of this frame, seconds since the epoch (set by the loop; fixed in tests).
    pub now_secs: i64,
    /// First visible row when not following; kept by the table renderer so the view scrolls
    /// only when the selection leaves it.
    pub(crate) top: Cell<u64>,
    /// Rows the table showed at the last frame (for PgUp/PgDn).
    pub(crate) page: Cell<usize>,
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
            quit: false,
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            now_secs: chrono::Utc::now().timestamp(),
            top: Cell::new(0),
            page: Cell::new(20),
        }
    }

    /// `[first, limit)`: the sequence numbers the table may show now.
    pub fn visible_range(&self) -> (u64, u64) {
        self.visible_range_locked(&self.shared.store())
    }

    /// [`App::visible_range`] for a caller that already holds the store.
    pub fn visible_range_locked(&self, store: &Store) -> (u64, u64) {
        let first = store.ring.first_seq();
        let limit = self
            .paused_at
            .unwrap_or(store.ring.next_seq())
            .min(store.ring.next_seq());
        (first, limit.max(first))
    }

    /// The selected flow's sequence number, if any flow is visible.
    pub fn selection(&self) -> Option<u64> {
        self.selection_locked(&self.shared.store())
    }

    pub fn selection_locked(&self, store: &Store) -> Option<u64> {
        let (first, limit) = self.visible_range_locked(store);
        if first == limit {
            return None;
        }
        Some(if self.follow {
            limit - 1
        } else {
            self.selected.clamp(first, limit - 1)
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
            _ => return None,
        })
    }

    /// Applies a key; returns whether it changed anything.
    pub fn handle_key(&mut self, key: KeyEvent) -> bool {
        match self.key_to_action(key) {
            Some(a) => {
                self.apply(a);
                true
            }
            None => false,
        }
    }

    pub fn apply(&mut self, action: Action) {
        if self.help && !matches!(action, Action::ToggleHelp | Action::Back | Action::Quit) {
            return;
        }
        match (self.screen, action) {
            (_, Action::Quit) => self.quit = true,
            (_, Action::ToggleHelp) => self.help = !self.help,
            (_, Action::Back) if self.help => self.help = false,
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
            (Screen::Flows, Action::Back) => {}
            (Screen::Flows, Action::Up(n)) => self.move_by(-(n as i64)),
            (Screen::Flows, Action::Down(n)) => self.move_by(n as i64),
            (Screen::Flows, Action::PageUp) => self.move_by(-(self.page.get().max(1) as i64)),
            (Screen::Flows, Action::PageDown) => self.move_by(self.page.get().max(1) as i64),
            (Screen::Flows, Action::Oldest) => {
                let (first, _) = self.visible_range();
                self.follow = false;
                self.selected = first;
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

    fn move_by(&mut self, delta: i64) {
        let Some(current) = self.selection() else {
            return;
        };
        let (first, limit) = self.visible_range();
        let target = (current as i64 + delta).clamp(first as i64, limit as i64 - 1) as u64;
        if self.follow && target == limit - 1 && delta > 0 {
            return; // already at the newest: keep following
        }
        if self.follow {
            // Leaving the bottom: the window stays where it was.
            let page = self.page.get() as u64;
            self.top.set(limit.saturating_sub(page).max(first));
        }
        self.follow = false;
        self.selected = target;
        // Scrolling back down onto the newest flow (while live) resumes following.
        if target == limit - 1 && self.paused_at.is_none() && delta > 0 {
            self.follow = true;
        }
    }

    /// Flows that arrived since the pause.
    pub fn new_since_pause(&self) -> u64 {
        self.paused_at
            .map(|p| self.shared.store().ring.next_seq().saturating_sub(p))
            .unwrap_or(0)
    }
}
