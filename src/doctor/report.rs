//! The doctor's output: one line per step (`✓`, `✗`, `–`, what, the finding), hints under a
//! failure, a last line that counts. Colour only on a terminal without NO_COLOR.

use std::io::{IsTerminal, Write};

use crate::format::sanitize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Pass,
    Fail,
    /// Not run (a step it needs failed, or not asked for), or informative only.
    Skip,
}

impl Mark {
    fn symbol(self) -> &'static str {
        match self {
            Mark::Pass => "✓",
            Mark::Fail => "✗",
            Mark::Skip => "–",
        }
    }

    fn colour(self) -> &'static str {
        match self {
            Mark::Pass => "\x1b[32m",
            Mark::Fail => "\x1b[1;31m",
            Mark::Skip => "\x1b[2m",
        }
    }
}

/// One step's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub mark: Mark,
    pub what: &'static str,
    pub finding: String,
    /// What to do about it, a line each.
    pub hints: Vec<String>,
}

impl Step {
    pub fn pass(what: &'static str, finding: impl Into<String>) -> Step {
        Step::new(Mark::Pass, what, finding)
    }

    pub fn fail(what: &'static str, finding: impl Into<String>) -> Step {
        Step::new(Mark::Fail, what, finding)
    }

    pub fn skip(what: &'static str, finding: impl Into<String>) -> Step {
        Step::new(Mark::Skip, what, finding)
    }

    fn new(mark: Mark, what: &'static str, finding: impl Into<String>) -> Step {
        Step {
            mark,
            what,
            finding: finding.into(),
            hints: vec![],
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Step {
        self.hints.push(hint.into());
        self
    }

    /// A failure turned informative: shown with `–`, not counted.
    pub fn informative(mut self) -> Step {
        if self.mark == Mark::Fail {
            self.mark = Mark::Skip;
        }
        self
    }
}

/// Where the steps are written.
pub struct Report {
    out: Box<dyn Write + Send>,
    colour: bool,
    /// Whether a "running…" line stands unfinished on the terminal.
    running: bool,
    passed: usize,
    failed: usize,
}

impl Report {
    /// Stdout, in colour when it is a terminal and NO_COLOR is not set.
    pub fn stdout() -> Report {
        let colour = std::io::stdout().is_terminal() && !crate::tui::colours_off();
        Report::new(Box::new(std::io::stdout()), colour)
    }

    pub fn new(out: Box<dyn Write + Send>, colour: bool) -> Report {
        Report {
            out,
            colour,
            running: false,
            passed: 0,
            failed: 0,
        }
    }

    /// On a terminal, says which step is running (the step's line replaces it).
    pub fn running(&mut self, what: &str) {
        if self.colour {
            let _ = write!(self.out, "\x1b[2m… {what}\x1b[0m");
            let _ = self.out.flush();
            self.running = true;
        }
    }

    pub fn step(&mut self, step: Step) {
        match step.mark {
            Mark::Pass => self.passed += 1,
            Mark::Fail => self.failed += 1,
            Mark::Skip => {}
        }
        let text = render(&step, self.colour);
        if self.running {
            let _ = write!(self.out, "\r\x1b[2K");
            self.running = false;
        }
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }

    pub fn failures(&self) -> usize {
        self.failed
    }

    /// The last line: how many passed, or failed.
    pub fn summary(&mut self) {
        let line = match (self.failed, self.passed) {
            (0, p) => format!("All {p} checks passed."),
            (1, _) => "1 check failed.".to_string(),
            (f, _) => format!("{f} checks failed."),
        };
        let _ = writeln!(self.out, "{line}");
        let _ = self.out.flush();
    }
}

/// A step's lines. The finding and hints may hold text from the server or from kubectl: it is
/// sanitised here, once, whoever made it.
pub fn render(step: &Step, colour: bool) -> String {
    let mark = if colour {
        format!("{}{}\x1b[0m", step.mark.colour(), step.mark.symbol())
    } else {
        step.mark.symbol().to_string()
    };
    let mut s = format!("{mark} {}: {}\n", step.what, sanitize(&step.finding));
    for hint in &step.hints {
        s.push_str(&format!("    hint: {}\n", sanitize(hint)));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_is_one_line_and_its_hints_are_indented_under_it() {
        let step = Step::fail("TCP", "cannot connect to localhost:4245: refused")
            .hint("start a port-forward");
        assert_eq!(
            render(&step, false),
            "✗ TCP: cannot connect to localhost:4245: refused\n    hint: start a port-forward\n"
        );
        assert_eq!(
            render(&Step::pass("context", "kind-kind"), true),
            "\x1b[32m✓\x1b[0m context: kind-kind\n"
        );
    }

    #[test]
    fn control_characters_from_the_server_never_reach_the_terminal() {
        let text = render(&Step::pass("ServerStatus", "version 1.16\x1b[2J"), false);
        assert!(!text.contains('\x1b'), "{text:?}");
    }

    #[test]
    fn an_informative_failure_is_not_counted() {
        let step = Step::fail("kubectl", "not found").informative();
        assert_eq!(step.mark, Mark::Skip);
        let mut r = Report::new(Box::new(std::io::sink()), false);
        r.step(step);
        r.step(Step::fail("TCP", "refused"));
        assert_eq!(r.failures(), 1);
    }
}
