//! The filter bar: the text being typed, and under it either the compiled FlowFilters or the
//! error with a marker under the word at fault, then the Tab candidates. The text scrolls
//! sideways to keep the cursor in view; everything else is wrapped or cut with `…` so nothing
//! spills out of the box, which grows above its six rows when an error or the candidates need it.

use std::ops::Range;

use ratatui::{
    Frame,
    buffer::CellWidth,
    layout::{Position, Rect},
    style::{Color, Style},
    text::{Line, Span},
    widgets::{Block, Borders, Clear, Paragraph},
};

use super::{Theme, title};
use crate::format::sanitize;
use crate::tui::filterbar::{Check, FilterBar};

/// The box's height when nothing asks for more.
const HEIGHT: u16 = 6;
/// What stands before the text.
const PROMPT: &str = "/ ";
/// Lines an error message, and each compiled list, may take before it is cut.
const MESSAGE_LINES: usize = 4;
const LIST_LINES: usize = 2;
/// Titles from the fullest down, the first that fits is used.
const TITLES: &[&str] = &[
    "Filter: hubble observe flags · Enter apply · Esc cancel · Tab complete · ↑↓ history",
    "Filter: hubble observe flags · Enter apply · Esc cancel · Tab complete",
    "Filter · Enter apply · Esc cancel · Tab complete",
    "Filter · Enter · Esc",
    "Filter",
];

/// Draws the bar over the bottom of `area`.
pub fn draw(f: &mut Frame, theme: &Theme, bar: &FilterBar, area: Rect) {
    let inner_w = usize::from(area.width.saturating_sub(2));
    let view = InputView::new(&bar.input, bar.cursor, inner_w.saturating_sub(PROMPT.len()));
    let lines = lines(theme, bar, &view, inner_w);
    let needed = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let height = needed.max(HEIGHT).min(area.height);
    let rect = Rect::new(area.x, area.y + area.height - height, area.width, height);
    let heading = TITLES
        .iter()
        .find(|t| width(t) + 4 <= usize::from(rect.width))
        .unwrap_or(&"");
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title(heading, theme));
    f.render_widget(Clear, rect);
    f.render_widget(Paragraph::new(lines).block(block), rect);
    if rect.width > 2 && rect.height > 2 {
        let col = (PROMPT.len() + view.cursor_col).min(inner_w.saturating_sub(1));
        let col = u16::try_from(col).unwrap_or(0);
        f.set_cursor_position(Position::new(rect.x + 1 + col, rect.y + 1));
    }
}

/// The box's lines: the input, the check's outcome, the candidates.
fn lines(theme: &Theme, bar: &FilterBar, view: &InputView, inner_w: usize) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(vec![
        Span::styled(PROMPT, theme.header()),
        Span::raw(view.text.clone()),
    ])];
    let red = theme.fg(Color::Red);
    match &bar.check {
        Check::Ok(flags, _) => {
            let json = |list| serde_json::to_string(list).unwrap_or_default();
            let green = theme.fg(Color::Green);
            let allow = json(&flags.allowlist);
            let deny = json(&flags.denylist);
            lines.extend(labelled(
                ("✓ allow: ", green),
                &allow,
                Style::default(),
                inner_w,
                LIST_LINES,
            ));
            lines.extend(labelled(
                ("  deny:  ", green),
                &deny,
                Style::default(),
                inner_w,
                LIST_LINES,
            ));
        }
        Check::Err(msg, span) => {
            if !span.is_empty() {
                // The line stays when the word is scrolled out, so the box does not jump.
                lines.push(match view.marker(span) {
                    Some((col, w)) => Line::styled(
                        format!("{}{}", " ".repeat(PROMPT.len() + col), "^".repeat(w)),
                        red,
                    ),
                    None => Line::default(),
                });
            }
            lines.extend(labelled(("✗ ", red), msg, red, inner_w, MESSAGE_LINES));
        }
    }
    if let Some((cands, current)) = bar.completions() {
        lines.push(candidates(theme, cands, current, inner_w));
    }
    lines
}

/// A label, then `text` (sanitized) wrapped under itself in at most `max_lines` lines.
fn labelled(
    (label, label_style): (&'static str, Style),
    text: &str,
    style: Style,
    inner_w: usize,
    max_lines: usize,
) -> Vec<Line<'static>> {
    let indent = width(label);
    let chunks = wrap(
        &sanitize(text),
        inner_w.saturating_sub(indent).max(1),
        max_lines,
    );
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let lead = if i == 0 {
                Span::styled(label, label_style)
            } else {
                Span::raw(" ".repeat(indent))
            };
            Line::from(vec![lead, Span::styled(chunk, style)])
        })
        .collect()
}

/// The Tab candidates that fit on one line, the current one lit and always among them: a page
/// of them, `… ` when earlier ones are left out and `+N more` when later ones are.
fn candidates(
    theme: &Theme,
    cands: &[String],
    current: Option<usize>,
    inner_w: usize,
) -> Line<'static> {
    const LEAD: &str = "Tab: ";
    const BEFORE: &str = "… ";
    let names: Vec<String> = cands.iter().map(|c| sanitize(c).into_owned()).collect();
    let room = inner_w.saturating_sub(LEAD.len());
    // Room kept for ` +N more`, as wide as it can get.
    let more_w = format!(" +{} more", cands.len()).len();
    let page = |start: usize| {
        let mut used = if start > 0 { width(BEFORE) } else { 0 };
        let mut end = start;
        while end < names.len() {
            let w = width(&names[end]) + usize::from(end > start);
            let reserve = if end + 1 < names.len() { more_w } else { 0 };
            if end > start && used + w + reserve > room {
                break;
            }
            used += w;
            end += 1;
        }
        end
    };
    let target = current.unwrap_or(0).min(names.len().saturating_sub(1));
    let (mut start, mut end) = (0, page(0));
    while target >= end && end < names.len() {
        start = end;
        end = page(start);
    }
    let mut spans = vec![Span::styled(LEAD, theme.dim())];
    let mut left = room;
    if start > 0 {
        spans.push(Span::styled(BEFORE, theme.dim()));
        left = left.saturating_sub(width(BEFORE));
    }
    let reserve = if end < names.len() { more_w } else { 0 };
    for (i, name) in names.iter().enumerate().take(end).skip(start) {
        if i > start {
            spans.push(Span::raw(" "));
            left = left.saturating_sub(1);
        }
        // Only a lone candidate wider than the line is cut.
        let shown = cut(name, left.saturating_sub(reserve).max(1));
        left = left.saturating_sub(width(&shown));
        let style = if Some(i) == current {
            theme.selected()
        } else {
            Style::default()
        };
        spans.push(Span::styled(shown, style));
    }
    if end < names.len() {
        spans.push(Span::styled(
            format!(" +{} more", names.len() - end),
            theme.dim(),
        ));
    }
    Line::from(spans)
}

/// One grapheme of the (sanitized) input as drawn.
struct Cell {
    /// Byte range in the sanitized text.
    at: usize,
    len: usize,
    /// Screen column from the text's start, and width in columns.
    col: usize,
    width: usize,
}

/// The input as it fits on its line: scrolled sideways so that the cursor shows, with `…`
/// where the text is cut. The scroll follows from the text and the cursor alone (the bar is
/// drawn from a copy each frame, so there is nowhere to keep one): the cursor stays at the
/// right edge, a few columns in when there is text after it, until the start comes into view.
struct InputView {
    /// What the line shows after the prompt.
    text: String,
    /// Screen column of the cursor, from the text's start.
    cursor_col: usize,
    /// The sanitized input's bytes where each input character starts, in order.
    map: Vec<(usize, usize)>,
    /// Sanitized length.
    len: usize,
    cells: Vec<Cell>,
    /// The text column drawn at the line's first column, and the text columns drawn whole.
    offset: usize,
    shown: Range<usize>,
}

impl InputView {
    fn new(input: &str, cursor: usize, room: usize) -> Self {
        let mut clean = String::with_capacity(input.len());
        let mut map = Vec::with_capacity(input.len());
        // A character at a time, in context: a mark stays on its base.
        let mut sanitizer = crate::format::Sanitizer::default();
        for (i, c) in input.char_indices() {
            map.push((i, clean.len()));
            sanitizer.push(&mut clean, c);
        }
        let base = clean.as_ptr() as usize;
        let mut cells = Vec::new();
        let mut total = 0;
        for g in Span::raw(clean.as_str()).styled_graphemes(Style::default()) {
            let w = usize::from(g.symbol.cell_width());
            cells.push(Cell {
                at: g.symbol.as_ptr() as usize - base,
                len: g.symbol.len(),
                col: total,
                width: w,
            });
            total += w;
        }
        let mut view = InputView {
            text: String::new(),
            cursor_col: 0,
            map,
            len: clean.len(),
            cells,
            offset: 0,
            shown: 0..0,
        };
        let cursor_col = view.col_of(cursor);
        // One column more than the text, for the cursor after it.
        let need = total + 1;
        let (offset, left_cut, right_cut) = if need <= room {
            (0, false, false)
        } else {
            let ahead = (room / 4).min(8);
            let offset = (cursor_col + 1 + ahead).min(need).saturating_sub(room);
            (offset, offset > 0, total > offset + room)
        };
        let lo = offset + usize::from(left_cut);
        let hi = (offset + room)
            .saturating_sub(usize::from(right_cut))
            .max(lo);
        let mut text = String::new();
        if left_cut {
            text.push('…');
        }
        for cell in &view.cells {
            let symbol = clean.get(cell.at..cell.at + cell.len).unwrap_or_default();
            let end = cell.col + cell.width;
            if cell.width > 0 && cell.col >= lo && end <= hi {
                text.push_str(symbol);
            } else {
                // A wide character cut by an edge leaves blanks, to keep the columns.
                let visible = end.min(hi).saturating_sub(cell.col.max(lo));
                text.push_str(&" ".repeat(visible));
            }
        }
        if right_cut {
            text.push('…');
        }
        view.text = text;
        view.cursor_col = cursor_col.saturating_sub(offset);
        view.offset = offset;
        view.shown = lo..hi;
        view
    }

    /// The text column where the input's byte `at` is drawn.
    fn col_of(&self, at: usize) -> usize {
        let clean_at = match self.map.binary_search_by_key(&at, |&(i, _)| i) {
            Ok(k) => self.map[k].1,
            Err(k) => self.map.get(k).map_or(self.len, |&(_, c)| c),
        };
        self.cells
            .iter()
            .take_while(|c| c.at < clean_at)
            .map(|c| c.width)
            .sum()
    }

    /// Where the `^^^` under the input's byte range go: screen column from the text's start,
    /// and width; `None` when the range is scrolled out of view.
    fn marker(&self, span: &Range<usize>) -> Option<(usize, usize)> {
        let from = self.col_of(span.start);
        let to = self.col_of(span.end).max(from + 1);
        let from = from.max(self.shown.start);
        let to = to.min(self.shown.end);
        (from < to).then(|| (from - self.offset, to - from))
    }
}

/// Display width, measured as the screen draws.
fn width(s: &str) -> usize {
    Span::raw(s)
        .styled_graphemes(Style::default())
        .map(|g| usize::from(g.symbol.cell_width()))
        .sum()
}

/// `s` cut to `max` columns, ending in `…` when cut.
fn cut(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for g in Span::raw(s).styled_graphemes(Style::default()) {
        let w = usize::from(g.symbol.cell_width());
        if used + w + 1 > max {
            break;
        }
        out.push_str(g.symbol);
        used += w;
    }
    if max > 0 {
        out.push('…');
    }
    out
}

/// `s` in lines of at most `max` columns, at most `max_lines` of them, the last ending in `…`
/// if more was left. Lines break after a space or a comma when that still fits everything,
/// else anywhere.
fn wrap(s: &str, max: usize, max_lines: usize) -> Vec<String> {
    let span = Span::raw(s);
    let graphemes: Vec<(&str, usize)> = span
        .styled_graphemes(Style::default())
        .map(|g| (g.symbol, usize::from(g.symbol.cell_width())))
        .collect();
    let soft = line_ends(&graphemes, max, true);
    let ends = if soft.len() <= max_lines {
        soft
    } else {
        line_ends(&graphemes, max, false)
    };
    let text = |r: Range<usize>| graphemes[r].iter().map(|g| g.0).collect::<String>();
    let mut lines = Vec::new();
    let mut start = 0;
    for (k, &end) in ends.iter().enumerate().take(max_lines) {
        if k + 1 == max_lines && end < graphemes.len() {
            lines.push(cut(&text(start..graphemes.len()), max));
        } else {
            lines.push(text(start..end).trim_end().to_string());
        }
        start = end;
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// Where each line of `graphemes` ends when they are broken into lines of `max` columns: after
/// a space or a comma in a line's second half if `soft`, else at the last one that fits.
fn line_ends(graphemes: &[(&str, usize)], max: usize, soft: bool) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut i = 0;
    while i < graphemes.len() {
        let mut used = 0;
        let mut end = i;
        while end < graphemes.len() && (end == i || used + graphemes[end].1 <= max) {
            used += graphemes[end].1;
            end += 1;
        }
        if soft && end < graphemes.len() {
            let half = i + (end - i) / 2;
            if let Some(k) = (half..end)
                .rev()
                .find(|&k| matches!(graphemes[k].0, " " | ","))
            {
                end = k + 1;
            }
        }
        ends.push(end);
        i = end;
    }
    ends
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::flags::FLAG_NAMES;
    use crate::tui::filterbar::Vocabulary;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ratatui::{Terminal, backend::TestBackend, buffer::Buffer, style::Modifier};

    const LONG: &str = "--verdict DROPPED --from-pod shop/payments-7d9f8b6c5-hs6zj --to-pod ingest/kafka-0 --protocol tcp --not --to-port 8080";

    fn bar_at(input: &str, cursor: usize) -> FilterBar {
        let mut bar = FilterBar::new(input.into());
        bar.cursor = cursor;
        bar
    }

    /// Draws the bar alone on a `w`x`h` screen: the buffer and where the cursor is.
    fn draw_bar(bar: &FilterBar, w: u16, h: u16) -> (Buffer, (u16, u16)) {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| draw(f, &Theme { no_color: true }, bar, f.area()))
            .unwrap();
        let pos = t.get_cursor_position().unwrap();
        (t.backend().buffer().clone(), (pos.x, pos.y))
    }

    /// A row as text, each wide character once.
    fn row(buf: &Buffer, y: u16) -> String {
        let mut out = String::new();
        let mut x = 0;
        while x < buf.area.width {
            let s = buf[(x, y)].symbol();
            out.push_str(s);
            x += u16::try_from(width(s).max(1)).unwrap();
        }
        out
    }

    fn rows(buf: &Buffer) -> Vec<String> {
        (0..buf.area.height).map(|y| row(buf, y)).collect()
    }

    /// The box's rows (from its top border to the bottom).
    fn boxed(buf: &Buffer) -> Vec<String> {
        let all = rows(buf);
        let top = all.iter().position(|r| r.starts_with('┌')).unwrap();
        all[top..].to_vec()
    }

    fn key(bar: &mut FilterBar, code: KeyCode) {
        bar.handle_key(KeyEvent::new(code, KeyModifiers::NONE), &[], &|| {
            Vocabulary::default()
        });
    }

    #[test]
    fn text_wraps_after_a_space_or_comma_when_all_of_it_then_fits() {
        assert_eq!(wrap("aaaa bbb cc", 9, 2), ["aaaa bbb", "cc"]);
        assert_eq!(wrap("aaaaa,bbbbb", 8, 2), ["aaaaa,", "bbbbb"]);
        // Breaking at the comma would need a third line: break anywhere instead.
        assert_eq!(wrap("aaaaa,bbbbbbbb", 7, 2), ["aaaaa,b", "bbbbbbb"]);
        assert_eq!(wrap("aaaaaaaaaaaaaaaaaa", 7, 2), ["aaaaaaa", "aaaaaa…"]);
        assert_eq!(wrap("名名名名", 5, 1), ["名名…"]);
        assert_eq!(wrap("", 5, 2), [""]);
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abcd", 4), "abcd");
    }

    #[test]
    fn a_short_filter_shows_whole_in_a_six_row_box() {
        let bar = FilterBar::new("--verdict DROPPED".into());
        let (buf, cursor) = draw_bar(&bar, 80, 12);
        let rows = boxed(&buf);
        assert_eq!(rows.len(), 6);
        assert!(rows[1].starts_with("│/ --verdict DROPPED  "), "{rows:#?}");
        assert!(rows[2].starts_with(r#"│✓ allow: [{"verdict":["DROPPED"]}]"#));
        assert!(rows[3].starts_with("│  deny:  []"));
        assert_eq!(cursor, (1 + 2 + 17, 7));
    }

    #[test]
    fn the_title_is_the_longest_that_fits() {
        let bar = FilterBar::new(String::new());
        let (buf, _) = draw_bar(&bar, 80, 12);
        assert!(row(&buf, 6).contains(&format!(" {} ", TITLES[1])));
        let (buf, _) = draw_bar(&bar, 160, 12);
        assert!(row(&buf, 6).contains(&format!(" {} ", TITLES[0])));
    }

    #[test]
    fn a_long_filter_scrolls_to_keep_the_cursor_in_view() {
        assert!(LONG.len() > 80);
        // At the end: the start is cut, the end shows with the cursor after it.
        let (buf, (x, y)) = draw_bar(&bar_at(LONG, LONG.len()), 80, 12);
        let input = row(&buf, y);
        assert!(input.starts_with("│/ …"), "{input}");
        assert!(input.ends_with("--to-port 8080 │"), "{input}");
        assert_eq!(x, 78);
        // At the start: the end is cut.
        let (buf, (x, y)) = draw_bar(&bar_at(LONG, 0), 80, 12);
        let input = row(&buf, y);
        assert!(input.starts_with("│/ --verdict DROPPED"), "{input}");
        assert!(input.ends_with("…│"), "{input}");
        assert_eq!(x, 3);
        // In the middle: cut on both sides.
        let (buf, (_, y)) = draw_bar(&bar_at(LONG, 70), 80, 12);
        let input = row(&buf, y);
        assert!(
            input.starts_with("│/ …") && input.ends_with("…│"),
            "{input}"
        );
    }

    /// Wherever the cursor is, it sits on its own character, never on a `…` or off the box.
    #[test]
    fn the_cursor_is_on_its_character_at_every_position() {
        let wide = "--pod 名前空間/ポッド-7d9f8b6c5-hs6zj --to-pod 🦀/crab-0 --node-name é\u{301}x-worker-0 --verdict DROPPED";
        for text in [LONG, wide] {
            for width in [40u16, 60, 80] {
                for (at, c) in text.char_indices().chain([(text.len(), ' ')]) {
                    let (buf, (x, y)) = draw_bar(&bar_at(text, at), width, 12);
                    assert!(x > 2 && x < width - 1, "{text:?} at {at}: x {x}");
                    let drawn = buf[(x, y)].symbol();
                    // Inside a grapheme (before its accent) the cursor shows after it.
                    let want = if c == '\u{301}' {
                        &text[at + c.len_utf8()..]
                    } else {
                        &text[at..]
                    };
                    assert!(
                        want.starts_with(drawn) || drawn.starts_with(c),
                        "{text:?} at {at}, width {width}: {drawn:?} under the cursor\n{}",
                        row(&buf, y)
                    );
                }
            }
        }
    }

    #[test]
    fn wide_characters_count_their_columns() {
        let view = InputView::new("ab名前x", "ab名前".len(), 20);
        assert_eq!(view.cursor_col, 6);
        assert_eq!(view.text, "ab名前x");
        // Cut on the left through a wide character: a blank keeps the columns.
        let text = "名".repeat(30);
        let view = InputView::new(&text, text.len(), 21);
        assert_eq!(view.text, format!("… {}", "名".repeat(9)));
        assert_eq!(view.cursor_col, 20, "in the last column, after the text");
    }

    #[test]
    fn the_error_marker_follows_the_scrolled_text() {
        let text = "--verdict DROPPED --from-pod shop/payments-7d9f8b6c5-hs6zj --to-pod ingest/kafka-0 --from-ip 10.0.0.0/33";
        let bad = "10.0.0.0/33";
        // The word in view: the carets sit exactly under it.
        let (buf, (_, y)) = draw_bar(&bar_at(text, text.len()), 80, 14);
        let input = row(&buf, y);
        let marker = row(&buf, y + 1);
        let at = input.find(bad).unwrap();
        let carets: Vec<usize> = marker
            .char_indices()
            .filter(|(_, c)| *c == '^')
            .map(|(i, _)| i)
            .collect();
        let chars_before = input[..at].chars().count();
        assert_eq!(carets.len(), bad.len(), "{input}\n{marker}");
        assert_eq!(
            marker[..carets[0]].chars().count(),
            chars_before,
            "{input}\n{marker}"
        );
        // Scrolled out of view: no carets, and the line stays so the box does not jump.
        let (buf, (_, y)) = draw_bar(&bar_at(text, 0), 80, 14);
        assert!(!row(&buf, y + 1).contains('^'), "{}", row(&buf, y + 1));
        assert!(row(&buf, y + 2).starts_with("│✗ "));
        // Half in view: carets under the part shown, none under the `…`.
        let at = text.find(bad).unwrap();
        let (buf, (_, y)) = draw_bar(&bar_at(text, at - 8), 80, 14);
        let input = row(&buf, y);
        let marker = row(&buf, y + 1);
        let shown = input.trim_end_matches('│').trim_end_matches('…');
        let tail = shown.rsplit(' ').next().unwrap();
        assert!(bad.starts_with(tail) && tail.len() < bad.len(), "{input}");
        assert_eq!(
            marker.matches('^').count(),
            tail.chars().count(),
            "{input}\n{marker}"
        );
    }

    #[test]
    fn long_lists_wrap_once_then_end_in_an_ellipsis() {
        let pods: Vec<String> = (0..12)
            .map(|i| format!("--to-pod shop/payments-7d9f8b6c5-{i:05}"))
            .collect();
        let bar = FilterBar::new(pods.join(" "));
        let (buf, _) = draw_bar(&bar, 80, 14);
        let rows = boxed(&buf);
        assert!(
            rows[2].starts_with("│✓ allow: [{\"destination_pod\":[\""),
            "{rows:#?}"
        );
        assert!(rows[3].starts_with("│         "), "continued under itself");
        assert!(rows[3].ends_with("…│"), "{rows:#?}");
        assert!(rows[4].starts_with("│  deny:  []"));
        let Check::Ok(flags, _) = &bar.check else {
            panic!()
        };
        let json = serde_json::to_string(&flags.allowlist).unwrap();
        let inner = |r: &str| r.trim_start_matches('│').trim_end_matches('│').to_string();
        let shown = format!(
            "{}{}",
            inner(&rows[2]).trim_start_matches("✓ allow: "),
            inner(&rows[3]).trim_start().trim_end_matches('…')
        );
        assert!(json.starts_with(&shown), "{shown}");
    }

    #[test]
    fn a_long_error_and_the_candidates_make_the_box_taller() {
        let mut bar = FilterBar::new("--to-pod api -n prod --from-p".into());
        key(&mut bar, KeyCode::Tab);
        let (buf, _) = draw_bar(&bar, 80, 20);
        let rows = boxed(&buf);
        assert_eq!(rows.len(), 7, "{rows:#?}");
        assert!(rows[2].contains('^'));
        assert!(
            rows[3].starts_with("│✗ invalid argument \"prod\""),
            "{rows:#?}"
        );
        assert!(
            rows[4].starts_with("│  ") && rows[4].contains("combined"),
            "{rows:#?}"
        );
        assert!(
            rows[5].starts_with("│Tab: --from-pod --from-port"),
            "{rows:#?}"
        );
        // Where there is no room, the box keeps to the area.
        let (buf, _) = draw_bar(&bar, 80, 5);
        assert_eq!(boxed(&buf).len(), 5);
    }

    #[test]
    fn the_candidates_fit_the_line_and_show_the_current_one() {
        let mut bar = FilterBar::new(String::new());
        key(&mut bar, KeyCode::Tab);
        let (buf, _) = draw_bar(&bar, 80, 12);
        let rows = boxed(&buf);
        let line = rows.iter().find(|r| r.starts_with("│Tab: ")).unwrap();
        assert!(line.starts_with("│Tab: --not --uuid --node-name"), "{line}");
        let shown = line
            .split_whitespace()
            .filter(|w| w.starts_with("--"))
            .count();
        let more: usize = line
            .split(" +")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(shown + more, FLAG_NAMES.len(), "{line}");
        // Far down the list, the current one is on the line, lit, after a `…`.
        for _ in 0..41 {
            key(&mut bar, KeyCode::Tab);
        }
        assert_eq!(bar.input, FLAG_NAMES[40]);
        let (buf, _) = draw_bar(&bar, 80, 12);
        let y = (0..12)
            .find(|&y| row(&buf, y).starts_with("│Tab: "))
            .unwrap();
        let line = row(&buf, y);
        assert!(line.starts_with("│Tab: … "), "{line}");
        let x = line.find(&format!(" {} ", FLAG_NAMES[40])).unwrap() + 1;
        let x = u16::try_from(line[..x].chars().count()).unwrap();
        assert!(buf[(x, y)].modifier.contains(Modifier::REVERSED), "{line}");
        assert!(
            !buf[(x - 2, y)].modifier.contains(Modifier::REVERSED),
            "{line}"
        );
        // The last page has no `+N more`.
        key(&mut bar, KeyCode::BackTab);
        for _ in 0..(FLAG_NAMES.len() - 40) {
            key(&mut bar, KeyCode::Tab);
        }
        assert_eq!(bar.input, FLAG_NAMES[FLAG_NAMES.len() - 1]);
        let (buf, _) = draw_bar(&bar, 80, 12);
        let line = boxed(&buf)
            .into_iter()
            .find(|r| r.starts_with("│Tab: "))
            .unwrap();
        assert!(
            line.contains("--denylist") && !line.contains("more"),
            "{line}"
        );
    }

    #[test]
    fn a_candidate_wider_than_the_line_is_cut() {
        let long = format!("shop/{}", "x".repeat(200));
        let mut bar = FilterBar::new("--pod sh".into());
        bar.handle_key(
            KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE),
            &[],
            &|| Vocabulary {
                namespaces: vec![],
                pods: vec![long.clone(), format!("{long}y")],
            },
        );
        let (buf, _) = draw_bar(&bar, 80, 12);
        let line = boxed(&buf)
            .into_iter()
            .find(|r| r.starts_with("│Tab: "))
            .unwrap();
        assert_eq!(line.trim_end_matches([' ', '│']), "│Tab: shop/ +2 more");
        for _ in 0..2 {
            key(&mut bar, KeyCode::Tab);
        }
        let (buf, _) = draw_bar(&bar, 80, 12);
        let line = boxed(&buf)
            .into_iter()
            .find(|r| r.starts_with("│Tab: "))
            .unwrap();
        assert!(line.starts_with("│Tab: … shop/xxx"), "{line}");
        assert!(line.ends_with("… +1 more│"), "{line}");
    }

    #[test]
    fn nothing_from_the_text_reaches_the_terminal_unescaped() {
        let bar = FilterBar::new("--node-name 'a\u{1b}[31mb' --pod \u{202e}x/y".into());
        let (buf, _) = draw_bar(&bar, 120, 12);
        let text = rows(&buf).join("\n");
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{202e}'),
            "{text}"
        );
        assert!(text.contains("a^[[31mb"), "{text}");
        assert!(text.contains("\\u{202e}x/y"), "{text}");
    }

    /// Random text, cursors and sizes: drawing never panics and the cursor stays in the box.
    #[test]
    fn any_text_at_any_size_draws() {
        use rand::{Rng, SeedableRng, rngs::SmallRng};
        let pieces = [
            "--verdict ",
            "DROPPED ",
            "--pod ",
            "shop/",
            "名前",
            "🦀",
            "e\u{301}",
            "\u{1b}",
            "\u{202e}",
            "'",
            "--",
            "=",
            " ",
            "10.0.0.0/33 ",
            "--protocol tpc ",
            "\u{ff9e}",
            "\u{200b}",
        ];
        let mut rng = SmallRng::seed_from_u64(80);
        for _ in 0..400 {
            let text: String = (0..rng.random_range(0..30))
                .map(|_| pieces[rng.random_range(0..pieces.len())])
                .collect();
            let bounds: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            let mut bar = bar_at(&text, bounds[rng.random_range(0..bounds.len())]);
            if rng.random_range(0..3) == 0 {
                key(&mut bar, KeyCode::Tab);
            }
            let (w, h) = (rng.random_range(1..140), rng.random_range(1..30));
            let (_, (x, y)) = draw_bar(&bar, w, h);
            if w > 2 && h > 2 {
                assert!(x < w - 1 && y < h - 1, "{text:?} at {w}x{h}: {x},{y}");
            }
        }
    }
}
