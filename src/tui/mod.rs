//! The terminal UI: state (`app`), drawing (`render`), the terminal itself (`terminal`) and the
//! event loop below, which is generic over the backend and the input stream so tests drive the
//! real loop on a `TestBackend`.

pub mod app;
pub mod filterbar;
pub mod quick;
pub mod render;
pub mod rowtext;
pub mod terminal;
pub mod view;
pub mod views;
pub mod words;

use std::{
    future::Future,
    time::{Duration, Instant},
};

use color_eyre::eyre::Result;
use crossterm::event::Event;
use futures::{Stream, StreamExt};
use ratatui::{Terminal, backend::Backend};
use tokio::sync::mpsc;

pub use app::App;

use crate::filter::FilterFlags;
use crate::source::{self, Shared, SourceConfig};

/// Frames per second at most; the flow rate never drives the frame rate.
const FRAME: Duration = Duration::from_millis(33);
/// Keys draw at once, but not more often than this.
const KEY_FRAME: Duration = Duration::from_millis(8);
/// Redraw at least this often even when idle (countdowns, decaying rates).
const IDLE_REDRAW: Duration = Duration::from_secs(1);

/// Starts the source task and runs the TUI on the real terminal until the user quits or a
/// signal (SIGTERM, SIGHUP, SIGINT) arrives; the terminal is restored on every path.
pub async fn run(cfg: SourceConfig) -> Result<()> {
    let shared = Shared::new(cfg.capacity, cfg.conn.server.clone());
    let (commands, rx) = mpsc::unbounded_channel();
    let flags = FilterFlags {
        allowlist: cfg.whitelist.clone(),
        denylist: cfg.blacklist.clone(),
    };
    let source = tokio::spawn(source::run(cfg, shared.clone(), rx));
    let mut app = App::new(shared).with_filter(flags);
    app.commands = Some(commands);
    let result = {
        let mut guard = terminal::TerminalGuard::enter()?;
        let input = crossterm::event::EventStream::new();
        event_loop(
            &mut guard.terminal,
            &mut app,
            input,
            quit_signal(),
            &mut osc52,
        )
        .await
    };
    // Closing the command channel stops the source (and any kubectl it started).
    app.commands = None;
    let _ = tokio::time::timeout(Duration::from_secs(2), source).await;
    result
}

/// Puts text on the clipboard of the terminal (and of the machine behind ssh or tmux, where the
/// terminal allows it) with the OSC 52 escape sequence.
fn osc52(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout();
    let _ = write!(
        out,
        "\x1b]52;c;{}\x07",
        crate::format::base64(text.as_bytes())
    );
    let _ = out.flush();
}

/// Resolves on SIGTERM, SIGHUP or SIGINT.
pub async fn quit_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut streams = Vec::new();
    for kind in [
        SignalKind::terminate(),
        SignalKind::hangup(),
        SignalKind::interrupt(),
    ] {
        if let Ok(s) = signal(kind) {
            streams.push(s);
        }
    }
    if streams.is_empty() {
        return std::future::pending().await;
    }
    let waits = streams.iter_mut().map(|s| Box::pin(s.recv()));
    futures::future::select_all(waits).await;
}

/// Draws when something changed (at most every [`FRAME`]) and handles input until quit.
pub async fn event_loop<B, S>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    mut input: S,
    quit: impl Future<Output = ()>,
    clipboard: &mut dyn FnMut(&str),
) -> Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = std::io::Result<Event>> + Unpin,
{
    tokio::pin!(quit);
    let mut tick = tokio::time::interval(FRAME);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut drawn: Option<(u64, u64, Instant)> = None;
    let mut dirty = true;
    loop {
        if app.quit {
            return Ok(());
        }
        tokio::select! {
            biased;
            _ = &mut quit => return Ok(()),
            ev = input.next() => match ev {
                None => return Ok(()),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(Event::Key(key))) => {
                    dirty |= app.handle_key(key);
                    if let Some(text) = app.clipboard.take() {
                        clipboard(&text);
                    }
                    // A key is answered at once, not at the next tick (up to a frame later);
                    // a burst of keys (a paste, key repeat) still draws at most every KEY_FRAME.
                    if dirty && drawn.is_none_or(|(_, _, at)| at.elapsed() >= KEY_FRAME) {
                        let store_v = app.shared.store().version;
                        let conn_v = app.shared.conn().version;
                        app.now_secs = chrono::Utc::now().timestamp();
                        terminal.draw(|f| render::draw(f, app))?;
                        drawn = Some((store_v, conn_v, Instant::now()));
                        dirty = false;
                    }
                }
                Some(Ok(Event::Resize(..))) => dirty = true,
                Some(Ok(_)) => {}
            },
            _ = tick.tick() => {
                let store_v = app.shared.store().version;
                let conn_v = app.shared.conn().version;
                let stale = match drawn {
                    None => true,
                    Some((s, c, at)) => s != store_v || c != conn_v || at.elapsed() >= IDLE_REDRAW,
                };
                // A filter still testing older flows, or a view still counting them, wants the next
                // frame too.
                let filtering = app.busy(&app.shared.store());
                if dirty || stale || filtering {
                    app.now_secs = chrono::Utc::now().timestamp();
                    terminal.draw(|f| render::draw(f, app))?;
                    drawn = Some((store_v, conn_v, Instant::now()));
                    dirty = false;
                }
            }
        }
    }
}
