//! The filter state: what was typed in the bar (or given on the command line), the one-key
//! additions since (breadcrumbs, taken back one by one), the history, the bar while it is open,
//! and the filter in force, numbered so the table knows when the ring holds only its flows.

use crossterm::event::KeyEvent;

use super::filterbar::{self, BarOutcome, Check, FilterBar, Vocabulary};
use super::words;
use crate::filter::RingMatcher;
use crate::filter::flags::{self as filter_flags, FilterFlags};
use crate::store::{FlowRef, Store};

/// The filter in force: sent to the server, and applied locally to the ring until the ring
/// holds only what it accepts.
#[derive(Debug)]
pub struct ActiveFilter {
    pub flags: FilterFlags,
    /// Decides over the compact ring (the same answers as `FlowMatcher`).
    pub matcher: RingMatcher,
    /// As the user would type it.
    pub text: String,
}

/// What a change of filter asks of the rest of the program.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterChange {
    pub flags: FilterFlags,
    /// The number of this filter (see [`crate::store::Store::filter_id`]).
    pub id: u64,
}

#[derive(Debug, Default)]
pub struct Filters {
    pub active: Option<ActiveFilter>,
    /// The number of the filter in force (0: the one the source started with).
    pub id: u64,
    /// The filter typed in the bar (or given on the command line), as arguments.
    pub base_args: Vec<String>,
    /// Filters added with the `f` menu, the counters pane or a group since, in order.
    pub crumbs: Vec<Vec<String>>,
    pub history: Vec<String>,
    /// The filter bar, while open.
    pub bar: Option<FilterBar>,
}

/// What a key did in the bar.
pub enum BarKey {
    Editing,
    Closed,
    Applied(FilterChange),
}

impl Filters {
    /// Starts with this filter (from the command line; the source was started with it too, as
    /// filter number 0).
    pub fn starting_with(flags: FilterFlags) -> Self {
        let mut f = Filters::default();
        if let Ok(matcher) = RingMatcher::compile(&flags.allowlist, &flags.denylist) {
            if !matcher.is_empty() {
                f.base_args = filter_flags::to_args(&flags);
                let text = words::join(&f.base_args);
                f.history.push(text.clone());
                f.active = Some(ActiveFilter {
                    flags,
                    matcher,
                    text,
                });
            }
        }
        f
    }

    /// The matcher the table must apply itself: none when there is no filter, or when the ring
    /// already holds only the flows this filter accepts (the source refiltered it).
    pub fn local(&self, store: &Store) -> Option<&RingMatcher> {
        let active = self.active.as_ref()?;
        (store.filter_id != self.id).then_some(&active.matcher)
    }

    /// Whether the flow is one the table shows (the views count the same flows).
    pub fn accepts(&self, store: &Store, flow: &FlowRef<'_>) -> bool {
        self.local(store).is_none_or(|m| m.matches(flow))
    }

    /// `/`: opens the bar on the filter in force.
    pub fn open_bar(&mut self) {
        let text = self
            .active
            .as_ref()
            .map(|f| f.text.clone())
            .unwrap_or_default();
        self.bar = Some(FilterBar::new(text));
    }

    pub fn bar_key(&mut self, key: KeyEvent, vocab: &dyn Fn() -> Vocabulary) -> BarKey {
        let Some(bar) = &mut self.bar else {
            return BarKey::Closed;
        };
        match bar.handle_key(key, &self.history, vocab) {
            BarOutcome::Editing => BarKey::Editing,
            BarOutcome::Cancel => {
                self.bar = None;
                BarKey::Closed
            }
            BarOutcome::Apply => match self.apply_bar() {
                Some(change) => BarKey::Applied(change),
                None => BarKey::Editing,
            },
        }
    }

    /// Pasted text goes into the bar at the cursor.
    pub fn paste(&mut self, text: &str) -> bool {
        match &mut self.bar {
            Some(bar) => {
                bar.insert(text);
                true
            }
            None => false,
        }
    }

    /// Enter in the bar: its filter replaces the one in force, breadcrumbs included.
    fn apply_bar(&mut self) -> Option<FilterChange> {
        let bar = self.bar.as_ref()?;
        // An error stays on screen; Esc cancels.
        if !matches!(bar.check, Check::Ok(..)) {
            return None;
        }
        let text = bar.input.clone();
        let change = self.apply_text(&text).ok()?;
        self.bar = None;
        Some(change)
    }

    /// A filter typed as flags (the bar, `:filter`) replaces the one in force, breadcrumbs
    /// included; an error leaves everything as it was.
    pub fn apply_text(&mut self, text: &str) -> Result<FilterChange, String> {
        let flags = match filterbar::check(text) {
            Check::Ok(flags, _) => flags,
            Check::Err(e, _) => return Err(e),
        };
        let matcher =
            RingMatcher::compile(&flags.allowlist, &flags.denylist).map_err(|e| e.to_string())?;
        let text = text.trim().to_string();
        self.base_args = words::split(&text)
            .map(|w| w.into_iter().map(|w| w.text).collect())
            .unwrap_or_default();
        self.crumbs.clear();
        if !text.is_empty() && self.history.last() != Some(&text) {
            self.history.push(text.clone());
        }
        Ok(self.set(flags, matcher, text))
    }

    /// Esc in the table: takes back the last breadcrumb, else clears the filter; `None` when
    /// there is no filter.
    pub fn step_back(&mut self) -> Option<Result<FilterChange, String>> {
        if !self.crumbs.is_empty() {
            return self.pop_crumb();
        }
        self.clear().map(Ok)
    }

    /// No filter at all; `None` when there was none.
    pub fn clear(&mut self) -> Option<FilterChange> {
        if self.active.is_none() && self.base_args.is_empty() && self.crumbs.is_empty() {
            return None;
        }
        self.base_args.clear();
        self.crumbs.clear();
        self.apply_crumbs().ok()
    }

    /// Adds a breadcrumb; an error (the combination does not parse) leaves everything as it was.
    pub fn push_crumb(&mut self, args: Vec<String>) -> Result<FilterChange, String> {
        self.crumbs.push(args);
        self.apply_crumbs().inspect_err(|_| {
            self.crumbs.pop();
        })
    }

    /// Backspace: takes back the last breadcrumb; `None` when there is none.
    pub fn pop_crumb(&mut self) -> Option<Result<FilterChange, String>> {
        self.crumbs.pop()?;
        Some(self.apply_crumbs())
    }

    /// The bar's filter plus the breadcrumbs.
    fn apply_crumbs(&mut self) -> Result<FilterChange, String> {
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
        Ok(self.set(flags, matcher, text))
    }

    fn set(&mut self, flags: FilterFlags, matcher: RingMatcher, text: String) -> FilterChange {
        self.id += 1;
        self.active = (!matcher.is_empty()).then(|| ActiveFilter {
            flags: flags.clone(),
            matcher,
            text,
        });
        FilterChange { flags, id: self.id }
    }
}
