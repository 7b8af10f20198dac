//! The detail view's state: the flow, how far it is scrolled, fields or raw JSON. The flow is
//! copied out of the ring when the view opens, so it stays what the user opened even when the
//! ring drops or renumbers its flows meanwhile (a full buffer, a new filter). The scroll is
//! clamped when a frame is prepared, against the lines as wrapped at the frame's width, so `G`
//! reaches the last line however long the lines are.
//!
//! The lines (sanitised, wrapped to the width) are built once per flow, mode, width and colour
//! setting and kept here: a key then costs the lines on screen, not the flow's size (a flow with
//! a 1 MB label took ~125 ms per key when every frame built and wrapped all of it).

use ratatui::text::Line;

use super::app::Action;
use crate::api::flow::Flow;

/// The lines of one mode, and what they were built for.
#[derive(Debug, Clone)]
pub struct Built {
    /// Text width and `NO_COLOR`.
    pub key: (u16, bool),
    /// Each fits the width.
    pub lines: Vec<Line<'static>>,
}

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
    /// The grouped fields and the raw JSON as last built (index: `raw`).
    pub built: [Option<Built>; 2],
}

impl DetailView {
    pub fn open(flow: Flow) -> Self {
        DetailView {
            flow: Box::new(flow),
            scroll: 0,
            raw: false,
            page: 20,
            built: [None, None],
        }
    }

    /// The lines on screen, `height` from the scroll (clamped), and the first one's index and
    /// the number of lines there are. The current mode's lines are built for this width and
    /// colour setting (`key`) when they were not yet.
    pub fn window(
        &mut self,
        key: (u16, bool),
        height: usize,
        build: impl FnOnce(&Flow, bool) -> Vec<Line<'static>>,
    ) -> (Vec<Line<'static>>, usize, usize) {
        let slot = usize::from(self.raw);
        if self.built[slot].as_ref().is_none_or(|b| b.key != key) {
            self.built[slot] = Some(Built {
                key,
                lines: build(&self.flow, self.raw),
            });
        }
        let total = self.built[slot].as_ref().map_or(0, |b| b.lines.len());
        let scroll = self.clamp(total, height);
        let shown = self.built[slot].as_ref().map_or_else(Vec::new, |b| {
            b.lines[scroll..total.min(scroll + height)].to_vec()
        });
        (shown, scroll, total)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: usize) -> Vec<Line<'static>> {
        (0..n).map(|i| Line::raw(i.to_string())).collect()
    }

    #[test]
    fn lines_are_built_once_per_mode_width_and_colour_and_only_the_visible_ones_returned() {
        let mut d = DetailView::open(Flow::default());
        let mut builds = Vec::new();
        let window = |d: &mut DetailView, key: (u16, bool), builds: &mut Vec<bool>| {
            d.window(key, 10, |_, raw| {
                builds.push(raw);
                lines(if raw { 50 } else { 30 })
            })
        };
        let (shown, scroll, total) = window(&mut d, (80, false), &mut builds);
        assert_eq!((shown.len(), scroll, total), (10, 0, 30));
        // Keys that scroll build nothing.
        d.act(Action::Down(5));
        let (shown, scroll, _) = window(&mut d, (80, false), &mut builds);
        assert_eq!((shown[0].to_string(), scroll), ("5".to_string(), 5));
        d.act(Action::NewestAndFollow);
        let (shown, scroll, _) = window(&mut d, (80, false), &mut builds);
        assert_eq!((shown.len(), scroll), (10, 20), "G shows the last page");
        assert_eq!(builds, [false]);
        // The raw JSON is built once too, and the fields are kept while it shows.
        d.act(Action::ToggleRaw);
        window(&mut d, (80, false), &mut builds);
        d.act(Action::ToggleRaw);
        window(&mut d, (80, false), &mut builds);
        d.act(Action::ToggleRaw);
        let (_, _, total) = window(&mut d, (80, false), &mut builds);
        assert_eq!((total, builds.as_slice()), (50, [false, true].as_slice()));
        // Another width or colour setting builds again.
        window(&mut d, (100, false), &mut builds);
        window(&mut d, (100, true), &mut builds);
        assert_eq!(builds, [false, true, true, true]);
    }
}
