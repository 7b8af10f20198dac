//! The terminal UI. One frame is one snapshot: each frame locks the store once, and
//! [`App::prepare`] advances what must advance, clamps the cursors and copies what the frame
//! shows into a plain [`Model`]; [`render::draw`] then draws that model without the store. Events
//! (keys, pastes, resizes, ticks, source changes) go to [`App::update`], whose components
//! return [`Effect`]s (a new filter for the source, the clipboard, quit) that the loop carries
//! out. The loop is generic over the backend and the input stream, so tests drive the real loop
//! on a `TestBackend`.
//!
//! | module | what it holds |
//! |--------|---------------|
//! | `app` | [`App`]: the components, key routing, [`Event`], [`Effect`] |
//! | `prepare`, `model` | the frame model and how it is made under the lock |
//! | `render` | drawing the model (one file per part of the screen) |
//! | `cursor` | the cursor the flow table, the groups and the L7 lists share |
//! | `table`, `view` | the flow table's selection and pause; the local filter's index |
//! | `views` | the groups, L7 and changes engines and their cursors |
//! | `alerts` | the drop-rate alerts the status line tells once per episode (`!`, `x`) |
//! | `filters`, `filterbar`, `words` | the filter in force, breadcrumbs, history; the bar |
//! | `search`, `quick`, `counters`, `detail` | the search, the `f` menu, the counters pane, the detail view |
//! | `lost`, `help` | the lost events acknowledged (`L`); the help's scroll |
//! | `note` | the incident note (`W`, `:note`): Markdown for the ticket |
//! | `terminal` | raw mode, the alternate screen, one buffered write per frame, restoring |

pub mod alerts;
pub mod app;
pub mod command;
pub mod confirm;
pub mod counters;
pub mod cursor;
pub mod detail;
pub mod filterbar;
pub mod filters;
pub mod handover;
pub mod help;
pub mod lost;
pub mod model;
pub mod note;
pub mod policy;
mod prepare;
pub mod quick;
pub mod render;
pub mod rowtext;
pub mod search;
pub mod shorten;
pub mod suggest;
pub mod table;
pub mod terminal;
pub mod view;
pub mod views;
pub mod words;
pub mod write;

use std::{
    future::Future,
    io::IsTerminal,
    sync::Arc,
    time::{Duration, Instant},
};

use color_eyre::eyre::Result;
use futures::{Stream, StreamExt};
use ratatui::{Terminal, backend::Backend, layout::Rect};
use tokio::sync::mpsc;

pub use app::{App, Ctx, Effect, Event, Origin, colours_off};
pub use model::Model;

use crate::filter::FilterFlags;
use crate::source::{self, Shared, SourceCommand, SourceConfig};

/// Frames per second at most; the flow rate never drives the frame rate.
const FRAME: Duration = Duration::from_millis(33);
/// Keys draw at once, but not more often than this.
const KEY_FRAME: Duration = Duration::from_millis(8);
/// Redraw at least this often even when idle (countdowns, decaying rates).
const IDLE_REDRAW: Duration = Duration::from_secs(1);

/// The app and what it reads: events and frames each take the locks once, briefly.
pub struct Ui {
    pub app: App,
    pub shared: Arc<Shared>,
    /// Cells [`render::sweep`] had to replace in the frames drawn so far: 0 unless some text
    /// reached the screen without going through `format::sanitize` (tests assert it stays 0).
    pub swept: u64,
}

impl Ui {
    pub fn new(app: App, shared: Arc<Shared>) -> Self {
        Ui {
            app,
            shared,
            swept: 0,
        }
    }

    /// Applies an event with the store (and the connection) locked once.
    pub fn handle(&mut self, event: Event) -> Vec<Effect> {
        // Both locks at once, the connection's first (see `Shared`): nothing is copied.
        let conn = self.shared.conn();
        let store = self.shared.store();
        self.app.update(
            event,
            &Ctx {
                store: &store,
                conn: &conn,
            },
        )
    }

    /// Prepares the next frame for a terminal of this size, with the store locked once.
    pub fn prepare(&mut self, area: Rect) -> Model {
        self.prepare_within(area, Duration::MAX)
    }

    fn prepare_within(&mut self, area: Rect, budget: Duration) -> Model {
        let conn = self.shared.conn();
        let store = self.shared.store();
        self.app.prepare(&store, &conn, area, budget)
    }

    /// Prepares and draws one frame; returns whether more work waits for the next frames (a
    /// filter or a view still going through older flows).
    pub fn draw<B: Backend>(&mut self, terminal: &mut Terminal<B>) -> Result<bool>
    where
        B::Error: Send + Sync + 'static,
    {
        self.draw_within(terminal, Duration::MAX)
    }

    /// [`Ui::draw`], spending at most `budget` on older flows (a frame that answers a key).
    fn draw_within<B: Backend>(
        &mut self,
        terminal: &mut Terminal<B>,
        budget: Duration,
    ) -> Result<bool>
    where
        B::Error: Send + Sync + 'static,
    {
        let size = terminal.size()?;
        let model = self.prepare_within(Rect::new(0, 0, size.width, size.height), budget);
        let mut swept = 0;
        terminal.draw(|f| {
            render::draw(f, &model);
            swept = render::sweep(f.buffer_mut());
        })?;
        self.swept += swept as u64;
        Ok(model.busy())
    }

    /// The selected flow's sequence number, if any flow is shown.
    pub fn selection(&mut self) -> Option<u64> {
        let store = self.shared.store();
        self.app.selection(&store)
    }

    /// The versions of the store and the connection, to tell whether to redraw.
    fn versions(&self) -> (u64, u64) {
        let conn = self.shared.conn().version;
        (self.shared.store().version, conn)
    }
}

/// Starts the source task and runs the TUI on the real terminal until the user quits or a
/// signal (SIGTERM, SIGHUP, SIGINT) arrives; the terminal is restored on every path.
pub async fn run(cfg: SourceConfig, origin: Origin) -> Result<()> {
    let shared = Shared::new(cfg.capacity, cfg.conn.server.clone());
    let (commands, rx) = mpsc::unbounded_channel();
    let flags = FilterFlags {
        allowlist: cfg.whitelist.clone(),
        denylist: cfg.blacklist.clone(),
    };
    if !std::io::stdout().is_terminal() {
        color_eyre::eyre::bail!(
            "the TUI needs a terminal, and stdout is not one (piped or redirected?); \
             `hubtop observe` prints flows as text, with hubble observe's flags and formats"
        );
    }
    let app = App::new()
        .with_filter(flags)
        .with_origin(origin, cfg.window.clone());
    let source = tokio::spawn(source::run(cfg, shared.clone(), rx));
    let mut ui = Ui::new(app, shared.clone());
    let result = {
        let mut guard = terminal::TerminalGuard::enter().map_err(|e| {
            color_eyre::eyre::eyre!(
                "cannot use the terminal: {e} (no controlling terminal? the TUI needs one; \
                 `hubtop observe` prints flows without one)"
            )
        })?;
        let input = crossterm::event::EventStream::new();
        event_loop(
            &mut guard.terminal,
            &mut ui,
            input,
            quit_signal(),
            &mut |effect| carry_out(effect, &commands, &shared),
        )
        .await
    };
    // Closing the command channel stops the source (and any kubectl it started).
    drop(commands);
    let _ = tokio::time::timeout(Duration::from_secs(2), source).await;
    result
}

/// Carries out what the app asked for (quitting is the loop's).
fn carry_out(
    effect: Effect,
    commands: &mpsc::UnboundedSender<SourceCommand>,
    shared: &Arc<Shared>,
) {
    match effect {
        Effect::SetFilter(change) => {
            let _ = commands.send(SourceCommand::SetFilter {
                whitelist: change.flags.allowlist,
                blacklist: change.flags.denylist,
                id: change.id,
            });
        }
        Effect::Copy(text) => osc52(&text),
        Effect::Reconnect => {
            let _ = commands.send(SourceCommand::Reconnect);
        }
        Effect::Write(req) => {
            let shared = shared.clone();
            tokio::task::spawn_blocking(move || write::run(&shared, req));
        }
        Effect::SetWindow(window) => {
            let _ = commands.send(SourceCommand::SetWindow(window));
        }
        Effect::Quit => {}
    }
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

/// The signal [`quit_signal`] saw, 0 before one arrives.
static QUIT_SIGNAL: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// Resolves on SIGTERM, SIGHUP or SIGINT, and remembers which (see [`signal_received`]).
pub async fn quit_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    const SIGNALS: [(i32, fn() -> SignalKind); 3] = [
        (15, SignalKind::terminate),
        (1, SignalKind::hangup),
        (2, SignalKind::interrupt),
    ];
    let mut streams = Vec::new();
    for (number, kind) in SIGNALS {
        if let Ok(s) = signal(kind()) {
            streams.push((number, s));
        }
    }
    if streams.is_empty() {
        return std::future::pending().await;
    }
    let waits = streams.iter_mut().map(|(_, s)| Box::pin(s.recv()));
    let (_, which, _) = futures::future::select_all(waits).await;
    QUIT_SIGNAL.store(streams[which].0, std::sync::atomic::Ordering::Relaxed);
}

/// The signal that ended the run, if one did: the process then exits with 128 + its number, as
/// shells expect of a program a signal stopped.
pub fn signal_received() -> Option<i32> {
    match QUIT_SIGNAL.load(std::sync::atomic::Ordering::Relaxed) {
        0 => None,
        n => Some(n),
    }
}

/// Draws when something changed (at most every [`FRAME`]) and handles input until quit;
/// every effect but quitting goes to `effects`.
pub async fn event_loop<B, S>(
    terminal: &mut Terminal<B>,
    ui: &mut Ui,
    mut input: S,
    quit: impl Future<Output = ()>,
    effects: &mut dyn FnMut(Effect),
) -> Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = std::io::Result<crossterm::event::Event>> + Unpin,
{
    use crossterm::event::Event as Term;
    tokio::pin!(quit);
    let mut tick = tokio::time::interval(FRAME);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut drawn: Option<((u64, u64), Instant)> = None;
    let mut dirty = true;
    let mut busy = false;
    // Input that came too soon after a frame is drawn at this moment, not a tick later.
    let mut due: Option<tokio::time::Instant> = None;
    loop {
        let wake = due.unwrap_or_else(|| tokio::time::Instant::now() + IDLE_REDRAW);
        let event = tokio::select! {
            biased;
            _ = &mut quit => return Ok(()),
            ev = input.next() => match ev {
                None => return Ok(()),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(Term::Key(key))) => Event::Key(key),
                Some(Ok(Term::Paste(text))) => Event::Paste(text),
                Some(Ok(Term::Resize(w, h))) => Event::Resize(w, h),
                Some(Ok(_)) => continue,
            },
            _ = tokio::time::sleep_until(wake), if due.is_some() => Event::Tick,
            _ = tick.tick() => {
                let versions = ui.versions();
                match drawn {
                    Some((v, at)) if v == versions && at.elapsed() < IDLE_REDRAW => Event::Tick,
                    _ => Event::Source,
                }
            }
        };
        let input_event = matches!(event, Event::Key(_) | Event::Paste(_) | Event::Resize(..));
        let source = matches!(event, Event::Source);
        let tick = matches!(event, Event::Tick);
        for effect in ui.handle(event) {
            match effect {
                Effect::Quit => return Ok(()),
                other => effects(other),
            }
        }
        dirty |= input_event;
        // Input is answered at once; a burst of keys (key repeat) still draws at most every
        // KEY_FRAME, the last of them when that time comes.
        let since = drawn.map(|(_, at)| at.elapsed());
        let now = source || (dirty && since.is_none_or(|s| s >= KEY_FRAME)) || (busy && tick);
        if now {
            ui.app.now_secs = chrono::Utc::now().timestamp();
            let versions = ui.versions();
            // A frame for input shows it first; the ticks after it catch up on older flows.
            let budget = if dirty {
                prepare::INPUT_FRAME_BUDGET
            } else {
                Duration::MAX
            };
            busy = ui.draw_within(terminal, budget)?;
            drawn = Some((versions, Instant::now()));
            dirty = false;
            due = None;
        } else if dirty {
            let wait = KEY_FRAME.saturating_sub(since.unwrap_or_default());
            due = Some(tokio::time::Instant::now() + wait);
        }
    }
}
