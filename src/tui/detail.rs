//! The detail view's state: the flow, how far it is scrolled, fields or raw JSON. The flow is
//! copied out of the ring when the view opens, so it stays what the user opened even when the
//! ring drops or renumbers its flows meanwhile (a full buffer, a new filter). The scroll is
//! clamped when a frame is prepared, against the lines as wrapped at the frame's width, so `G`
//! reaches the last line however long the lines are.

use super::app::Action;
use crate::api::flow::Flow;

#[derive(Debug, Clone, Default)]
pub struct DetailView {
    /// The flow shown.
    pub flow: Box<Flow>,
    /// First line shown (of the wrapped text).
    pub scroll: usize,
    /// The raw JSON instead of the grouped fields.
    pub raw: bool,
    /// Lines the view showed at the last frame (for PgUp/PgDn).
    pub page: usize,
}

impl DetailView {
    pub fn open(flow: Flow) -> Self {
        DetailView {
            flow: Box::new(flow),
            scroll: 0,
            raw: false,
            page: 20,
        }
    }

    /// Scrolling keys and `o`; `false` for the others.
    pub fn act(&mut self, action: Action) -> bool {
        let page = self.page.max(1);
        match action {
            Action::Down(n) => self.scroll = self.scroll.saturating_add(n),
            Action::Up(n) => self.scroll = self.scroll.saturating_sub(n),
            Action::PageDown => self.scroll = self.scroll.saturating_add(page),
            Action::PageUp => self.scroll = self.scroll.saturating_sub(page),
            Action::Oldest => self.scroll = 0,
            // Clamped to the last screenful when the frame is prepared.
            Action::NewestAndFollow => self.scroll = usize::MAX,
            Action::ToggleRaw => {
                self.raw = !self.raw;
                self.scroll = 0;
            }
            _ => return false,
        }
        true
    }

    /// Clamps the scroll to `lines` wrapped lines shown `height` at a time; returns it.
    pub fn clamp(&mut self, lines: usize, height: usize) -> usize {
        self.page = height.max(1);
        self.scroll = self.scroll.min(lines.saturating_sub(height));
        self.scroll
    }
}
