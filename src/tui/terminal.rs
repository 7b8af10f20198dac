//! Owning the terminal: raw mode and the alternate screen on the way in, and their undoing on
//! every way out (normal exit, error, panic; signals end the loop, which then restores).
//! Frames are written through one buffer, large enough for a whole frame, and flushed once at
//! the end of each frame: the terminal never shows half of one.

use std::io::{self, BufWriter, Stdout};

use crossterm::{
    cursor,
    event::{DisableBracketedPaste, EnableBracketedPaste},
    execute,
    terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode},
};
use ratatui::{Terminal, backend::CrosstermBackend};

pub type Tui = Terminal<CrosstermBackend<BufWriter<Stdout>>>;

/// Bytes buffered per frame: a full 300x100 redraw with a colour change on every cell fits.
const FRAME_BUFFER: usize = 1 << 20;

/// Restores the terminal when dropped, so an early `?` return cannot leave it raw.
pub struct TerminalGuard {
    pub terminal: Tui,
}

impl TerminalGuard {
    pub fn enter() -> io::Result<Self> {
        install_panic_hook();
        enable_raw_mode()?;
        let mut stdout = io::stdout();
        if let Err(e) = execute!(
            stdout,
            EnterAlternateScreen,
            EnableBracketedPaste,
            cursor::Hide
        ) {
            restore();
            return Err(e);
        }
        let terminal = Terminal::new(CrosstermBackend::new(frame_writer(stdout)))
            .inspect_err(|_| restore())?;
        Ok(TerminalGuard { terminal })
    }
}

/// The writer frames go through: ratatui flushes it once at the end of each frame.
pub fn frame_writer<W: io::Write>(out: W) -> BufWriter<W> {
    BufWriter::with_capacity(FRAME_BUFFER, out)
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves raw mode and the alternate screen; safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
}

fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use ratatui::{
        style::{Color, Style},
        widgets::Paragraph,
    };

    use super::*;

    /// Records each write that reaches the "terminal".
    #[derive(Clone, Default)]
    struct Writes(Arc<Mutex<Vec<usize>>>);

    impl io::Write for Writes {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().push(buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_whole_frame_reaches_the_terminal_in_one_write() {
        let writes = Writes::default();
        let backend = CrosstermBackend::new(frame_writer(writes.clone()));
        let mut terminal = Terminal::with_options(
            backend,
            ratatui::TerminalOptions {
                viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 300, 100)),
            },
        )
        .unwrap();
        for frame in 0..3u8 {
            writes.0.lock().unwrap().clear();
            terminal
                .draw(|f| {
                    // Every cell differs from the last frame, in a colour of its own.
                    let lines: Vec<ratatui::text::Line> = (0..100u16)
                        .map(|y| {
                            ratatui::text::Line::from(
                                (0..300u16)
                                    .map(|x| {
                                        let c = (b'a' + ((x + y + u16::from(frame)) % 26) as u8)
                                            as char;
                                        ratatui::text::Span::styled(
                                            c.to_string(),
                                            Style::default().fg(Color::Indexed(
                                                ((x * 7 + y + u16::from(frame)) % 256) as u8,
                                            )),
                                        )
                                    })
                                    .collect::<Vec<_>>(),
                            )
                        })
                        .collect();
                    f.render_widget(Paragraph::new(lines), f.area());
                })
                .unwrap();
            let w = writes.0.lock().unwrap().clone();
            assert_eq!(w.len(), 1, "frame {frame}: {} writes", w.len());
            assert!(w[0] > 300 * 100, "the whole frame: {} bytes", w[0]);
        }
    }
}
