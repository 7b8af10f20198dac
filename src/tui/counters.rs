//! The counters pane's state: `Tab` gives it the keys, `j`/`k` select a verdict or a drop
//! reason, `Enter` filters on it.

use crossterm::event::{KeyCode, KeyEvent};

use crate::store::Counters;

/// A line of the counters pane that Enter can filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterItem {
    Verdict(i32),
    DropReason(i32),
}

impl CounterItem {
    /// The filter flags that select it.
    pub fn args(self) -> Vec<String> {
        match self {
            CounterItem::Verdict(v) => vec![
                "--verdict".into(),
                crate::format::verdict_name(v).into_owned(),
            ],
            CounterItem::DropReason(r) => vec![
                "--drop-reason-desc".into(),
                crate::format::drop_reason_name(r).into_owned(),
            ],
        }
    }
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

#[derive(Debug, Default)]
pub struct CountersPane {
    pub focused: bool,
    /// Index into [`counter_items`].
    pub selected: usize,
}

/// What a key did in the pane.
#[derive(Debug, PartialEq)]
pub enum PaneKey {
    /// Not a key of the pane (q, ?, /, …): the common keys decide.
    Ignored,
    Consumed,
    /// Enter: filter on this line.
    Filter(Vec<String>),
}

impl CountersPane {
    pub fn focus(&mut self) {
        self.focused = true;
        self.selected = 0;
    }

    pub fn key(&mut self, key: KeyEvent, items: &[CounterItem]) -> PaneKey {
        match key.code {
            KeyCode::Char('j') | KeyCode::Down => {
                self.selected = (self.selected + 1).min(items.len().saturating_sub(1));
            }
            KeyCode::Char('k') | KeyCode::Up => self.selected = self.selected.saturating_sub(1),
            KeyCode::Tab | KeyCode::Esc => self.focused = false,
            KeyCode::Enter => {
                let Some(item) = self.current(items) else {
                    return PaneKey::Consumed;
                };
                self.focused = false;
                return PaneKey::Filter(item.args());
            }
            _ => return PaneKey::Ignored,
        }
        PaneKey::Consumed
    }

    /// The selected line, clamped to what the pane shows now.
    pub fn current(&self, items: &[CounterItem]) -> Option<CounterItem> {
        items
            .get(self.selected.min(items.len().saturating_sub(1)))
            .copied()
    }
}
