//! The detail view's state: which flow, how far it is scrolled, fields or raw JSON. The scroll
//! is clamped when a frame is prepared, against the lines as wrapped at the frame's width, so
//! `G` reaches the last line however long the lines are.

use super::app::Action;

#[derive(Debug, Clone, Default)]
pub struct DetailView {
    /// Sequence number of the flow shown.
    pub seq: u64,
    /// First line shown (of the wrapped text).
    pub scroll: usize,
    /// The raw JSON instead of the grouped fields.
    pub raw: bool,
    /// Lines the view showed at the last frame (for PgUp/PgDn).
    pub page: usize,
}

impl DetailView {
    pub fn open(seq: u64) -> Self {
        DetailView {
            seq,
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
