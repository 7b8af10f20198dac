//! The one cursor every list on screen uses (the flow table, the groups and the L7 routes): a
//! selected position, the first position shown, and whether the selection sticks to the end.
//! All the clamping and scrolling arithmetic lives here, applied while a frame is prepared, so
//! drawing never moves a cursor.

/// A selection in a list of `len` rows shown `height` at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Selected position (meaningful when the list is not empty).
    pub selected: usize,
    /// First position shown.
    pub top: usize,
    /// The selection sticks to the last row (the newest flow).
    pub follow: bool,
}

impl Default for Cursor {
    fn default() -> Self {
        Cursor::at_start()
    }
}

impl Cursor {
    /// At the first row, not following (the groups and L7 lists).
    pub fn at_start() -> Self {
        Cursor {
            selected: 0,
            top: 0,
            follow: false,
        }
    }

    /// Moves the selection by `delta` rows, clamped to the list. Leaving the last row upwards
    /// stops following; the window stays where it was.
    pub fn move_by(&mut self, delta: i64, len: usize, height: usize) {
        if len == 0 {
            return;
        }
        self.fit(len, height);
        let last = len - 1;
        let target = (self.selected as i64 + delta).clamp(0, last as i64) as usize;
        if self.follow && target == last {
            return;
        }
        self.follow = false;
        self.selected = target;
        self.fit(len, height);
    }

    /// Clamps the selection to `len` rows and scrolls so it shows in `height` rows, with no
    /// empty space below the last row.
    pub fn fit(&mut self, len: usize, height: usize) {
        let last = len.saturating_sub(1);
        if self.follow {
            self.selected = last;
            self.top = len.saturating_sub(height);
            return;
        }
        self.selected = self.selected.min(last);
        if self.selected < self.top {
            self.top = self.selected;
        } else if height > 0 && self.selected >= self.top + height {
            self.top = self.selected + 1 - height;
        }
        self.top = self.top.min(len.saturating_sub(height));
    }

    /// The positions shown: `top..top + height`, within the list.
    pub fn window(&self, len: usize, height: usize) -> std::ops::Range<usize> {
        let top = self.top.min(len);
        top..(top + height).min(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_selection_stays_in_the_list_and_on_screen() {
        let mut c = Cursor::at_start();
        c.move_by(30, 10, 5);
        assert_eq!((c.selected, c.top), (9, 5), "clamped, scrolled to show it");
        c.move_by(-9, 10, 5);
        assert_eq!((c.selected, c.top), (0, 0));
        c.move_by(-1, 10, 5);
        assert_eq!(c.selected, 0);
        c.fit(0, 5);
        assert_eq!((c.selected, c.top), (0, 0), "an empty list");
    }

    #[test]
    fn following_sticks_to_the_end_until_moved_up() {
        let mut c = Cursor {
            follow: true,
            ..Cursor::at_start()
        };
        c.fit(100, 10);
        assert_eq!((c.selected, c.top), (99, 90));
        c.move_by(1, 100, 10);
        assert!(c.follow, "down at the end keeps following");
        c.move_by(-1, 100, 10);
        assert!(!c.follow);
        assert_eq!((c.selected, c.top), (98, 90), "the window stays");
        c.fit(200, 10);
        assert_eq!((c.selected, c.top), (98, 90), "new rows do not move it");
        assert_eq!(c.window(200, 10), 90..100);
    }

    #[test]
    fn a_shrinking_list_pulls_the_window_back() {
        let mut c = Cursor {
            selected: 50,
            top: 45,
            follow: false,
        };
        c.fit(20, 10);
        assert_eq!((c.selected, c.top), (19, 10));
    }
}
