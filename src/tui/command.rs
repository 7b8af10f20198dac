//! `:` — a small command line, as in k9s and vim: `:q`, `:filter FLAGS`, `:clear`, `:help`, the
//! views by name, `:pause` / `:resume`, `:retry`, `:since` / `:until`, `:cmd`. An unknown command
//! or a bad filter is answered in the prompt, which stays open to be corrected; Tab completes a command's name.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::filterbar::closest;
use super::views::View;
use crate::window::TimeBound;

/// The commands, with what `:help` and the prompt say about them.
pub const COMMANDS: &[(&str, &str)] = &[
    ("q", "quit (also :quit)"),
    (
        "filter FLAGS",
        "set the filter, as hubble observe flags (also :f)",
    ),
    ("clear", "clear the filter and the search"),
    ("help", "the keys and commands (also :h)"),
    ("flows", "the flows view (also :1)"),
    ("groups", "the groups view (also :2)"),
    ("l7", "the L7 view (also :3)"),
    ("changes", "the changes view (also :4)"),
    ("pause", "pause the table"),
    ("resume", "resume following (also :follow)"),
    (
        "cmd",
        "the hubble observe command for this view; y copies it (c copies at once)",
    ),
    (
        "retry",
        "connect to the server again now (also :reconnect, or r)",
    ),
    (
        "w [FILE]",
        "write the view's flows as jsonpb lines (also w; :w! FILE replaces a file)",
    ),
    (
        "since TIME",
        "flows since TIME: 5m, 1h30m, RFC 3339 (alone: no start)",
    ),
    ("until TIME", "flows until TIME, same forms (alone: no end)"),
    (
        "note [FILE]",
        "write an incident note (Markdown) for the ticket (also W); :note! FILE overwrites",
    ),
];

/// Every name a command answers to, for matching, completion and suggestions.
const NAMES: &[&str] = &[
    "q",
    "quit",
    "filter",
    "f",
    "clear",
    "help",
    "h",
    "flows",
    "groups",
    "l7",
    "changes",
    "1",
    "2",
    "3",
    "4",
    "pause",
    "resume",
    "follow",
    "retry",
    "reconnect",
    "w",
    "write",
    "note",
    "since",
    "until",
    "cmd",
];

/// What a command asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Quit,
    /// Flags as typed after `:filter` (empty: no filter).
    Filter(String),
    Clear,
    Help,
    View(View),
    Pause,
    Resume,
    /// Connect again now.
    Retry,
    /// Write the view's flows to this file (a default name without one); `force` (`:w!`)
    /// replaces an existing file.
    Write {
        file: Option<String>,
        force: bool,
    },
    /// Write the incident note to this file (`None`: the default name), over an existing one
    /// only with `:note!`.
    Note {
        file: Option<String>,
        overwrite: bool,
    },
    /// `:since TIME` / `:until TIME`: one end of the window (`None`: open).
    Since(Option<TimeBound>),
    Until(Option<TimeBound>),
    /// Show the `hubble observe` command for the view.
    Cmd,
}

/// The prompt, while open.
#[derive(Debug, Default, Clone)]
pub struct CommandLine {
    pub input: String,
    /// Byte offset of the cursor in `input`.
    pub cursor: usize,
    /// Why the last Enter did nothing.
    pub error: Option<String>,
}

/// What a key in the prompt did.
#[derive(Debug, PartialEq, Eq)]
pub enum CommandKey {
    Editing,
    Closed,
    Run(Command),
}

impl CommandLine {
    pub fn key(&mut self, key: KeyEvent) -> CommandKey {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return CommandKey::Closed,
            KeyCode::Char('c') if ctrl => return CommandKey::Closed,
            // Backspace on an empty line closes it, as in vim.
            KeyCode::Backspace if self.input.is_empty() => return CommandKey::Closed,
            KeyCode::Enter => match parse(&self.input) {
                Ok(cmd) => return CommandKey::Run(cmd),
                Err(e) => self.error = Some(e),
            },
            KeyCode::Tab => self.complete(),
            KeyCode::Left => self.cursor = prev(&self.input, self.cursor),
            KeyCode::Right => self.cursor = next(&self.input, self.cursor),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.input.len(),
            KeyCode::Char('u') if ctrl => {
                self.input.replace_range(..self.cursor, "");
                self.cursor = 0;
                self.error = None;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                let p = prev(&self.input, self.cursor);
                self.input.replace_range(p..self.cursor, "");
                self.cursor = p;
                self.error = None;
            }
            KeyCode::Delete if self.cursor < self.input.len() => {
                let n = next(&self.input, self.cursor);
                self.input.replace_range(self.cursor..n, "");
                self.error = None;
            }
            KeyCode::Char(c) if !ctrl && !c.is_control() => {
                self.input.insert(self.cursor, c);
                self.cursor += c.len_utf8();
                self.error = None;
            }
            _ => {}
        }
        CommandKey::Editing
    }

    /// Pasted text at the cursor, on one line.
    pub fn paste(&mut self, text: &str) {
        let clean: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        self.input.insert_str(self.cursor, &clean);
        self.cursor += clean.len();
        self.error = None;
    }

    /// Tab on the command's name: the one name it starts, or the common start of several.
    fn complete(&mut self) {
        if self.input.contains(' ') {
            return;
        }
        let cands: Vec<&str> = NAMES
            .iter()
            .copied()
            .filter(|n| n.len() > 1 && n.starts_with(self.input.as_str()))
            .collect();
        match cands.as_slice() {
            [] => self.error = Some(format!("no command starts with {:?}", self.input)),
            [one] => {
                self.input = format!("{one} ");
                self.cursor = self.input.len();
            }
            many => {
                self.error = Some(format!("Tab: {}", many.join(" ")));
            }
        }
    }
}

/// A command line's meaning, or what is wrong with it.
pub fn parse(input: &str) -> Result<Command, String> {
    let input = input.trim();
    let (name, rest) = input.split_once(' ').unwrap_or((input, ""));
    let rest = rest.trim();
    let no_args = |cmd: Command| {
        if rest.is_empty() {
            Ok(cmd)
        } else {
            Err(format!(":{name} takes no arguments"))
        }
    };
    match name {
        "" => Err("type a command: :q, :filter FLAGS, :clear, :help".into()),
        "q" | "quit" | "q!" => no_args(Command::Quit),
        "filter" | "f" => Ok(Command::Filter(rest.to_string())),
        "clear" => no_args(Command::Clear),
        "help" | "h" => no_args(Command::Help),
        "flows" | "1" => no_args(Command::View(View::Flows)),
        "groups" | "2" => no_args(Command::View(View::Groups)),
        "l7" | "3" => no_args(Command::View(View::L7)),
        "changes" | "4" => no_args(Command::View(View::Changes)),
        "pause" => no_args(Command::Pause),
        "resume" | "follow" => no_args(Command::Resume),
        "retry" | "reconnect" => no_args(Command::Retry),
        "w" | "write" | "w!" | "write!" => Ok(Command::Write {
            file: (!rest.is_empty()).then(|| rest.to_string()),
            force: name.ends_with('!'),
        }),
        "note" => Ok(Command::Note {
            file: (!rest.is_empty()).then(|| rest.to_string()),
            overwrite: false,
        }),
        "note!" if rest.is_empty() => {
            Err(":note! FILE: name the file to overwrite (:note alone picks a new name)".into())
        }
        "note!" => Ok(Command::Note {
            file: Some(rest.to_string()),
            overwrite: true,
        }),
        "since" | "until" => {
            let bound = match rest {
                "" => None,
                t => Some(TimeBound::parse(t).map_err(|e| format!(":{name}: {e}"))?),
            };
            Ok(if name == "since" {
                Command::Since(bound)
            } else {
                Command::Until(bound)
            })
        }
        "cmd" => no_args(Command::Cmd),
        other => Err(match closest(other, NAMES.iter().copied()) {
            Some(near) => format!("unknown command :{other}: did you mean :{near}?"),
            None => format!(
                "unknown command :{other}: try :q, :filter FLAGS, :clear, :help (Tab completes)"
            ),
        }),
    }
}

fn prev(s: &str, i: usize) -> usize {
    s[..i].char_indices().last().map_or(0, |(p, _)| p)
}

fn next(s: &str, i: usize) -> usize {
    s[i..].chars().next().map_or(i, |c| i + c.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> (CommandLine, CommandKey) {
        let mut c = CommandLine::default();
        c.paste(text);
        let out = c.key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
        (c, out)
    }

    #[test]
    fn commands_parse_with_their_aliases() {
        assert_eq!(parse("q"), Ok(Command::Quit));
        assert_eq!(parse(" quit "), Ok(Command::Quit));
        assert_eq!(
            parse("filter --verdict DROPPED"),
            Ok(Command::Filter("--verdict DROPPED".into()))
        );
        assert_eq!(parse("f"), Ok(Command::Filter(String::new())));
        assert_eq!(parse("clear"), Ok(Command::Clear));
        assert_eq!(parse("h"), Ok(Command::Help));
        assert_eq!(parse("2"), Ok(Command::View(View::Groups)));
        assert_eq!(parse("l7"), Ok(Command::View(View::L7)));
        assert_eq!(parse("pause"), Ok(Command::Pause));
        assert_eq!(parse("follow"), Ok(Command::Resume));
        assert_eq!(parse("retry"), Ok(Command::Retry));
        assert_eq!(parse("reconnect"), Ok(Command::Retry));
        assert_eq!(
            parse("w"),
            Ok(Command::Write {
                file: None,
                force: false
            })
        );
        assert_eq!(
            parse("w! out dir/drops.jsonl "),
            Ok(Command::Write {
                file: Some("out dir/drops.jsonl".into()),
                force: true
            })
        );
        assert_eq!(
            parse("write x.jsonl"),
            Ok(Command::Write {
                file: Some("x.jsonl".into()),
                force: false
            })
        );
        assert_eq!(parse("cmd"), Ok(Command::Cmd));
        assert!(
            parse("clear now")
                .unwrap_err()
                .contains("takes no arguments")
        );
    }

    #[test]
    fn unknown_commands_are_answered_in_place_with_a_suggestion() {
        let (c, out) = typed("fitler --verdict DROPPED");
        assert_eq!(out, CommandKey::Editing);
        let e = c.error.unwrap();
        assert!(e.contains("did you mean :filter?"), "{e}");
        let (c, _) = typed("zzzzzz");
        assert!(c.error.unwrap().contains("try :q, :filter FLAGS"));
        let (c, _) = typed("");
        assert!(c.error.is_some());
    }

    #[test]
    fn tab_completes_names_and_esc_or_backspace_on_empty_closes() {
        let mut c = CommandLine::default();
        c.paste("gr");
        c.key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
        assert_eq!(c.input, "groups ");
        let mut c = CommandLine::default();
        c.paste("f");
        c.key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
        assert!(c.error.unwrap().contains("filter flows follow"));
        let mut c = CommandLine::default();
        assert_eq!(
            c.key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)),
            CommandKey::Closed
        );
        assert_eq!(
            c.key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
            CommandKey::Closed
        );
    }

    #[test]
    fn typos_of_command_names_are_recognised() {
        assert_eq!(closest("qiut", NAMES.iter().copied()), Some("quit"));
        assert_eq!(closest("xyz", NAMES.iter().copied()), None);
    }
}
