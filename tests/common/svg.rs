//! A ratatui `Buffer` as an SVG picture of the terminal: monospace text in each cell's colours,
//! bold, dim, italic, underline and reverse, on a dark background. For the screenshots in
//! `assets/` (tests/assets.rs). The output depends on the buffer only (integers, cells in
//! order), so the same screen gives the same bytes.

use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use unicode_width::UnicodeWidthStr;

/// A cell's size and the text's baseline in it, in pixels.
const CELL_W: u32 = 9;
const CELL_H: u32 = 18;
const BASELINE: u32 = 14;
const FONT_SIZE: u32 = 15;
/// Space around the screen.
const PAD: u32 = 12;

/// The terminal's own colours, for `Color::Reset`.
const DEFAULT_FG: &str = "#d7dae0";
const DEFAULT_BG: &str = "#1b1f27";

/// The 16 ANSI colours, in a palette that reads on the dark background.
const ANSI: [&str; 16] = [
    "#282c34", "#e06c75", "#98c379", "#e5c07b", "#61afef", "#c678dd", "#56b6c2", "#abb2bf",
    "#5c6370", "#ff7b86", "#b5e890", "#ffd68a", "#8cc8ff", "#de9bf0", "#7fd8e3", "#ffffff",
];

/// What a run of cells looks like.
#[derive(Clone, PartialEq, Eq)]
struct Look {
    fg: String,
    bg: String,
    bold: bool,
    dim: bool,
    italic: bool,
    underline: bool,
    crossed: bool,
    hidden: bool,
}

fn look(fg: Color, bg: Color, m: Modifier) -> Look {
    let (mut fg, mut bg) = (hex(fg, DEFAULT_FG), hex(bg, DEFAULT_BG));
    if m.contains(Modifier::REVERSED) {
        std::mem::swap(&mut fg, &mut bg);
    }
    Look {
        fg,
        bg,
        bold: m.contains(Modifier::BOLD),
        dim: m.contains(Modifier::DIM),
        italic: m.contains(Modifier::ITALIC),
        underline: m.contains(Modifier::UNDERLINED),
        crossed: m.contains(Modifier::CROSSED_OUT),
        hidden: m.contains(Modifier::HIDDEN),
    }
}

/// A ratatui colour as `#rrggbb`; `Reset` is the terminal's default.
pub fn hex(c: Color, default: &str) -> String {
    let ansi = |i: usize| ANSI[i].to_string();
    match c {
        Color::Reset => default.to_string(),
        Color::Black => ansi(0),
        Color::Red => ansi(1),
        Color::Green => ansi(2),
        Color::Yellow => ansi(3),
        Color::Blue => ansi(4),
        Color::Magenta => ansi(5),
        Color::Cyan => ansi(6),
        Color::Gray => ansi(7),
        Color::DarkGray => ansi(8),
        Color::LightRed => ansi(9),
        Color::LightGreen => ansi(10),
        Color::LightYellow => ansi(11),
        Color::LightBlue => ansi(12),
        Color::LightMagenta => ansi(13),
        Color::LightCyan => ansi(14),
        Color::White => ansi(15),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(i) if i < 16 => ansi(usize::from(i)),
        Color::Indexed(i) if i < 232 => {
            // xterm's 6×6×6 cube.
            let level = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
            let i = i - 16;
            format!(
                "#{:02x}{:02x}{:02x}",
                level(i / 36),
                level(i / 6 % 6),
                level(i % 6)
            )
        }
        Color::Indexed(i) => {
            let v = 8 + 10 * (i - 232);
            format!("#{v:02x}{v:02x}{v:02x}")
        }
    }
}

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

/// One cell as drawn: its column, the columns it covers, its text and look.
struct Drawn {
    x: u32,
    width: u32,
    text: String,
    look: Look,
}

/// The cells of row `y`, a wide character taking the cells it covers.
fn row(buf: &Buffer, y: u16) -> Vec<Drawn> {
    let mut cells = Vec::new();
    let mut x = 0u16;
    while x < buf.area.width {
        let cell = &buf[(buf.area.x + x, buf.area.y + y)];
        let text = cell.symbol();
        let width = text.width().clamp(1, 2) as u16;
        let text = if text.is_empty() { " " } else { text };
        cells.push(Drawn {
            x: u32::from(x),
            width: u32::from(width.min(buf.area.width - x)),
            text: text.to_string(),
            look: look(cell.fg, cell.bg, cell.modifier),
        });
        x += width;
    }
    cells
}

/// The picture of `buf`, `title` as its accessible name.
pub fn render(buf: &Buffer, title: &str) -> String {
    let w = u32::from(buf.area.width) * CELL_W + 2 * PAD;
    let h = u32::from(buf.area.height) * CELL_H + 2 * PAD;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\""
    );
    escape(title, &mut out);
    let _ = writeln!(
        out,
        "\" font-family=\"'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace\" \
         font-size=\"{FONT_SIZE}\">"
    );
    out.push_str("<title>");
    escape(title, &mut out);
    out.push_str("</title>\n");
    let _ = writeln!(
        out,
        "<rect width=\"{w}\" height=\"{h}\" rx=\"8\" fill=\"{DEFAULT_BG}\"/>"
    );
    for y in 0..buf.area.height {
        let cells = row(buf, y);
        let top = PAD + u32::from(y) * CELL_H;
        // Backgrounds: one rectangle per run of a colour other than the default.
        let mut i = 0;
        while i < cells.len() {
            let bg = &cells[i].look.bg;
            let mut j = i;
            while j < cells.len() && &cells[j].look.bg == bg {
                j += 1;
            }
            if bg != DEFAULT_BG {
                let x = PAD + cells[i].x * CELL_W;
                let width = (cells[j - 1].x + cells[j - 1].width - cells[i].x) * CELL_W;
                let _ = writeln!(
                    out,
                    "<rect x=\"{x}\" y=\"{top}\" width=\"{width}\" height=\"{CELL_H}\" fill=\"{bg}\"/>"
                );
            }
            i = j;
        }
        // Text: one element per run of a look, without the spaces at its ends, stretched to
        // exactly its cells whatever the font.
        let mut i = 0;
        while i < cells.len() {
            let mut j = i;
            let same = |a: &Look, b: &Look| {
                (
                    a.fg.as_str(),
                    a.bold,
                    a.dim,
                    a.italic,
                    a.underline,
                    a.crossed,
                    a.hidden,
                ) == (
                    b.fg.as_str(),
                    b.bold,
                    b.dim,
                    b.italic,
                    b.underline,
                    b.crossed,
                    b.hidden,
                )
            };
            while j < cells.len() && same(&cells[j].look, &cells[i].look) {
                j += 1;
            }
            let run = &cells[i..j];
            i = j;
            let Some(first) = run.iter().position(|c| c.text != " ") else {
                continue;
            };
            let last = run.iter().rposition(|c| c.text != " ").unwrap_or(first);
            let run = &run[first..=last];
            let l = &run[0].look;
            if l.hidden {
                continue;
            }
            let x = PAD + run[0].x * CELL_W;
            let cols = run[run.len() - 1].x + run[run.len() - 1].width - run[0].x;
            let _ = write!(
                out,
                "<text x=\"{x}\" y=\"{}\" textLength=\"{}\" lengthAdjust=\"spacingAndGlyphs\" \
                 xml:space=\"preserve\" fill=\"{}\"",
                top + BASELINE,
                cols * CELL_W,
                l.fg
            );
            if l.bold {
                out.push_str(" font-weight=\"bold\"");
            }
            if l.dim {
                out.push_str(" fill-opacity=\"0.6\"");
            }
            if l.italic {
                out.push_str(" font-style=\"italic\"");
            }
            match (l.underline, l.crossed) {
                (true, true) => out.push_str(" text-decoration=\"underline line-through\""),
                (true, false) => out.push_str(" text-decoration=\"underline\""),
                (false, true) => out.push_str(" text-decoration=\"line-through\""),
                (false, false) => {}
            }
            out.push('>');
            for c in run {
                escape(&c.text, &mut out);
            }
            out.push_str("</text>\n");
        }
    }
    out.push_str("</svg>\n");
    out
}
