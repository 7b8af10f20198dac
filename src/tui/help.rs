//! The help overlay's state: how far it is scrolled. The scroll is clamped when a frame is
//! prepared, against the help as wrapped at the frame's width (like the detail view), so `G`
//! reaches its last line at any size.

use super::app::Action;

#[derive(Debug, Default)]
pub struct HelpScroll {
    /// First line shown (of the wrapped text).
    pub top: usize,
    /// Lines the overlay showed at the last frame (for PgUp/PgDn).
    pub page: usize,
}

impl HelpScroll {
    /// Scrolling keys; `false` for the others.
    pub fn act(&mut self, action: Action) -> bool {
        let page = self.page.max(1);
        match action {
            Action::Down(n) => self.top = self.top.saturating_add(n),
            Action::Up(n) => self.top = self.top.saturating_sub(n),
            Action::PageDown => self.top = self.top.saturating_add(page),
            Action::PageUp => self.top = self.top.saturating_sub(page),
            Action::Oldest => self.top = 0,
            // Clamped to the last screenful when the frame is prepared.
            Action::NewestAndFollow => self.top = usize::MAX,
            _ => return false,
        }
        true
    }

    /// Clamps the scroll to `lines` wrapped lines shown `height` at a time; returns it.
    pub fn clamp(&mut self, lines: usize, height: usize) -> usize {
        self.page = height.max(1);
        self.top = self.top.min(lines.saturating_sub(height));
        self.top
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scroll_moves_by_line_and_page_and_stays_within_the_text() {
        let mut h = HelpScroll::default();
        assert_eq!(h.clamp(40, 10), 0);
        h.act(Action::Down(1));
        h.act(Action::PageDown);
        assert_eq!(h.clamp(40, 10), 11);
        h.act(Action::NewestAndFollow);
        assert_eq!(h.clamp(40, 10), 30, "the last screenful");
        h.act(Action::Up(1));
        assert_eq!(h.clamp(40, 10), 29);
        h.act(Action::Oldest);
        assert_eq!(h.clamp(40, 10), 0);
        h.act(Action::PageUp);
        assert_eq!(h.clamp(40, 10), 0);
        h.act(Action::NewestAndFollow);
        assert_eq!(h.clamp(8, 10), 0, "all of it fits");
        assert!(!h.act(Action::Open));
    }
}
