//! The TUI on a `TestBackend`: a UI over a store of given flows, and its screen as text.

use std::sync::Arc;

use hubtop::api::flow::Flow;
use hubtop::source::{ConnState, Shared};
use hubtop::tui::{App, Ui};
use ratatui::{Terminal, backend::TestBackend};

/// The wall clock of the UIs made here (a second after the sample flows).
pub const NOW: i64 = 1_763_900_010;

/// A UI (colours on, clock at [`NOW`], connection live) over a store holding `flows`, counted at
/// [`NOW`], in a ring of `capacity`.
pub fn live_ui(flows: Vec<Flow>, capacity: usize) -> Ui {
    let shared = Shared::new(capacity, "127.0.0.1:4245".into());
    {
        let mut store = shared.store();
        for f in flows {
            store.push_flow(f, NOW);
        }
    }
    shared.set_state_for_tests(ConnState::Live);
    let mut app = App::new();
    app.now_secs = NOW;
    app.no_color = false;
    Ui::new(app, shared)
}

/// The store and connection the UI reads.
pub fn shared(ui: &Ui) -> Arc<Shared> {
    Arc::clone(&ui.shared)
}

/// One frame drawn at `w` x `h`, as text: a line per row, each cell's symbol.
pub fn screen(ui: &mut Ui, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    ui.draw(&mut term).unwrap();
    let buf = term.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// An insta snapshot of a screen, with the times that change from run to run filtered out.
#[macro_export]
macro_rules! screen_snapshot {
    ($name:expr, $text:expr) => {
        insta::with_settings!({filters => vec![
            (r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?( \S+|Z)", "[datetime]"),
            (r"\d\d:\d\d:\d\d\.\d\d\d", "[time]"),
            (r"\b\d\d:\d\d:\d\d\b", "[hh:mm:ss]"),
        ]}, {
            insta::assert_snapshot!($name, $text);
        });
    };
}
