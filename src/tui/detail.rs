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
