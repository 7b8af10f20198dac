//! The filter bar: `hubble observe` flags typed at `/`, checked as you type (the error points at
//! the bad word; otherwise the compiled allow/deny FlowFilters are shown), with history and Tab
//! completion of flag names and of values the cluster has shown us.

use std::ops::Range;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::words;
use crate::api::flow::{DropReason, Verdict};
use crate::filter::FlowMatcher;
use crate::filter::flags::{self as filter_flags, FLAG_NAMES, FilterFlags};

/// The outcome of checking the text.
#[derive(Debug, Clone)]
pub enum Check {
    Ok(FilterFlags, FlowMatcher),
    /// Message and the byte range of the word at fault (empty when none can be named).
    Err(String, Range<usize>),
}

#[derive(Debug, Clone)]
pub struct FilterBar {
    pub input: String,
    /// Byte offset of the cursor in `input`.
    pub cursor: usize,
    pub check: Check,
    /// Position in the history while walking it with Up/Down.
    history_pos: Option<usize>,
    /// Candidates of the Tab being cycled, and which one is shown.
    completion: Option<(Vec<String>, usize, Range<usize>)>,
}

/// What a key in the bar leads to.
#[derive(Debug, PartialEq)]
pub enum BarOutcome {
    Editing,
    Cancel,
    Apply,
}

/// Values Tab can offer beyond flag names.
#[derive(Debug, Default)]
pub struct Vocabulary {
    pub namespaces: Vec<String>,
    /// `namespace/pod`.
    pub pods: Vec<String>,
}

impl FilterBar {
    pub fn new(initial: String) -> Self {
        let cursor = initial.len();
        let check = check(&initial);
        FilterBar {
            input: initial,
            cursor,
            check,
            history_pos: None,
            completion: None,
        }
    }

    fn edited(&mut self) {
        self.check = check(&self.input);
        self.completion = None;
    }

    pub fn handle_key(
        &mut self,
        key: KeyEvent,
        history: &[String],
        vocab: &dyn Fn() -> Vocabulary,
    ) -> BarOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return BarOutcome::Cancel,
            KeyCode::Char('c') if ctrl => return BarOutcome::Cancel,
            KeyCode::Enter => return BarOutcome::Apply,
            KeyCode::Tab => {
                self.complete(vocab);
                return BarOutcome::Editing;
            }
            KeyCode::Up => self.walk_history(history, -1),
            KeyCode::Down => self.walk_history(history, 1),
            KeyCode::Left => self.cursor = prev_boundary(&self.input, self.cursor),
            KeyCode::Right => self.cursor = next_boundary(&self.input, self.cursor),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.input.len(),
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = self.input.len(),
            KeyCode::Char('u') if ctrl => {
                self.input.replace_range(..self.cursor, "");
                self.cursor = 0;
                self.edited();
            }
            KeyCode::Char('w') if ctrl => {
                let before = self.input[..self.cursor].trim_end();
                let start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
                self.input.replace_range(start..self.cursor, "");
                self.cursor = start;
                self.edited();
            }
            KeyCode::Backspace if self.cursor > 0 => {
                let p = prev_boundary(&self.input, self.cursor);
                self.input.replace_range(p..self.cursor, "");
                self.cursor = p;
                self.edited();
            }
            KeyCode::Delete if self.cursor < self.input.len() => {
                let n = next_boundary(&self.input, self.cursor);
                self.input.replace_range(self.cursor..n, "");
                self.edited();
            }
            KeyCode::Char(c) if !ctrl && !c.is_control() => {
                self.input.insert(self.cursor, c);
                self.cursor += c.len_utf8();
                self.edited();
            }
            _ => {}
        }
        BarOutcome::Editing
    }

    fn walk_history(&mut self, history: &[String], step: isize) {
        if history.is_empty() {
            return;
        }
        let next = match (self.history_pos, step) {
            (None, -1) => Some(history.len() - 1),
            (None, _) => None,
            (Some(p), -1) => Some(p.saturating_sub(1)),
            (Some(p), _) if p + 1 < history.len() => Some(p + 1),
            (Some(_), _) => None,
        };
        self.history_pos = next;
        self.input = next.map(|p| history[p].clone()).unwrap_or_default();
        self.cursor = self.input.len();
        self.edited();
    }

    /// Pasted text at the cursor: line breaks and tabs become spaces (a filter is one line), other
    /// control characters are dropped.
    pub fn insert(&mut self, text: &str) {
        let clean: String = text
            .chars()
            .filter_map(|c| match c {
                '\n' | '\r' | '\t' => Some(' '),
                c if c.is_control() => None,
                c => Some(c),
            })
            .collect();
        self.input.insert_str(self.cursor, &clean);
        self.cursor += clean.len();
        self.edited();
    }

    /// Tab: completes the word before the cursor; pressed again, cycles through the candidates.
    fn complete(&mut self, vocab: &dyn Fn() -> Vocabulary) {
        if let Some((cands, i, span)) = self.completion.take() {
            let next = (i + 1) % cands.len();
            self.replace_word(span.clone(), &cands[next]);
            let new_span = span.start..span.start + cands[next].len();
            self.completion = Some((cands, next, new_span));
            return;
        }
        let start = self.input[..self.cursor]
            .rfind(char::is_whitespace)
            .map_or(0, |i| i + 1);
        let word = self.input[start..self.cursor].to_string();
        let previous = self.input[..start]
            .split_whitespace()
            .last()
            .unwrap_or("")
            .to_string();
        let cands = candidates(&previous, &word, vocab);
        match cands.len() {
            0 => {}
            1 => {
                let with_space = format!("{} ", cands[0]);
                self.replace_word(start..self.cursor, &with_space);
            }
            _ => {
                let common = common_prefix(&cands);
                if common.len() > word.len() {
                    self.replace_word(start..self.cursor, &common);
                } else {
                    self.replace_word(start..self.cursor, &cands[0]);
                    let span = start..start + cands[0].len();
                    self.check = check(&self.input);
                    self.completion = Some((cands, 0, span));
                    return;
                }
            }
        }
        self.check = check(&self.input);
    }

    fn replace_word(&mut self, span: Range<usize>, with: &str) {
        self.input.replace_range(span.clone(), with);
        self.cursor = span.start + with.len();
        self.check = check(&self.input);
    }

    /// The candidates Tab is cycling through, for the screen.
    pub fn completions(&self) -> Option<(&[String], usize)> {
        self.completion.as_ref().map(|(c, i, _)| (c.as_slice(), *i))
    }
}

/// Parses the text as hubble flags and compiles the filters; errors point at the word at fault.
pub fn check(input: &str) -> Check {
    let words = match words::split(input) {
        Ok(w) => w,
        Err((msg, span)) => return Check::Err(msg, span),
    };
    let args: Vec<String> = words.iter().map(|w| w.text.clone()).collect();
    let (flags, rest) = match filter_flags::parse(&args) {
        Ok(v) => v,
        Err(e) => {
            let at = find_word(&words, e.value(), e.flag());
            return Check::Err(e.to_string(), at);
        }
    };
    if let Some(extra) = rest.first() {
        let at = words
            .iter()
            .find(|w| &w.text == extra)
            .map_or(0..0, |w| w.span.clone());
        return Check::Err(
            format!("{extra:?} is not a filter flag (Tab lists them)"),
            at,
        );
    }
    match FlowMatcher::compile(&flags.allowlist, &flags.denylist) {
        Ok(m) => Check::Ok(flags, m),
        Err(e) => {
            let at = find_word(&words, e.bad_value(), None);
            Check::Err(e.to_string(), at)
        }
    }
}

fn find_word(words: &[words::Word], value: Option<&str>, flag: Option<&str>) -> Range<usize> {
    let by_value = value.and_then(|v| {
        words
            .iter()
            .find(|w| w.text == v || w.text.ends_with(&format!("={v}")))
    });
    let by_flag = flag.and_then(|f| {
        f.split(", ").find_map(|name| {
            words
                .iter()
                .find(|w| w.text == name || w.text.starts_with(&format!("{name}=")))
        })
    });
    by_value.or(by_flag).map_or(0..0, |w| w.span.clone())
}

fn candidates(previous: &str, word: &str, vocab: &dyn Fn() -> Vocabulary) -> Vec<String> {
    let mut out: Vec<String> = if word.starts_with('-') {
        FLAG_NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        match previous {
            "--verdict" => (0..8)
                .filter_map(|v| Verdict::try_from(v).ok())
                .map(|v| v.as_str_name().to_string())
                .collect(),
            "--drop-reason-desc" => (0..=255)
                .filter_map(|v| DropReason::try_from(v).ok())
                .map(|v| v.as_str_name().to_string())
                .collect(),
            "--protocol" => [
                "tcp", "udp", "icmpv4", "icmpv6", "sctp", "http", "dns", "kafka", "vrrp", "igmp",
            ]
            .map(String::from)
            .to_vec(),
            "--traffic-direction" => vec!["ingress".into(), "egress".into()],
            "-t" | "--type" => [
                "trace",
                "drop",
                "l7",
                "capture",
                "policy-verdict",
                "trace:to-endpoint",
                "trace:to-stack",
                "trace:from-endpoint",
                "trace:to-overlay",
            ]
            .map(String::from)
            .to_vec(),
            "-n" | "--namespace" | "--from-namespace" | "--to-namespace" => vocab().namespaces,
            "--pod" | "--from-pod" | "--to-pod" => vocab().pods,
            _ => vec![],
        }
    };
    out.retain(|c| c.starts_with(word));
    out.sort();
    out.dedup();
    out
}

fn common_prefix(cands: &[String]) -> String {
    let first = &cands[0];
    let mut len = first.len();
    for c in &cands[1..] {
        len = len.min(
            first
                .bytes()
                .zip(c.bytes())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    while !first.is_char_boundary(len) {
        len -= 1;
    }
    first[..len].to_string()
}

fn prev_boundary(s: &str, i: usize) -> usize {
    s[..i].char_indices().last().map_or(0, |(p, _)| p)
}

fn next_boundary(s: &str, i: usize) -> usize {
    s[i..].chars().next().map_or(i, |c| i + c.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn no_vocab() -> Vocabulary {
        Vocabulary {
            namespaces: vec!["ingest".into(), "kube-system".into(), "shop".into()],
            pods: vec!["shop/cart-1".into(), "shop/frontend-2".into()],
        }
    }

    fn type_text(bar: &mut FilterBar, text: &str) {
        for c in text.chars() {
            bar.handle_key(key(KeyCode::Char(c)), &[], &no_vocab);
        }
    }

    #[test]
    fn a_paste_lands_at_the_cursor_on_one_line() {
        let mut bar = FilterBar::new("--verdict DROPPED".into());
        bar.handle_key(key(KeyCode::Home), &[], &no_vocab);
        bar.insert("--to-pod ingest/kafka\r\n\x1b");
        assert_eq!(bar.input, "--to-pod ingest/kafka  --verdict DROPPED");
        assert_eq!(bar.cursor, "--to-pod ingest/kafka  ".len());
        assert!(
            matches!(bar.check, Check::Ok(..)),
            "checked after the paste"
        );
    }

    #[test]
    fn a_valid_filter_compiles_to_flow_filters() {
        let Check::Ok(flags, _) = check("--verdict DROPPED --to-pod ingest/kafka") else {
            panic!()
        };
        let json = serde_json::to_string(&flags.allowlist).unwrap();
        assert_eq!(
            json,
            r#"[{"destination_pod":["ingest/kafka"],"verdict":["DROPPED"]}]"#
        );
    }

    #[test]
    fn errors_point_at_the_bad_word() {
        let text = "--verdict DROPPED --from-ip 10.0.0.0/33";
        let Check::Err(msg, span) = check(text) else {
            panic!()
        };
        assert!(msg.contains("10.0.0.0/33"), "{msg}");
        assert_eq!(&text[span], "10.0.0.0/33");
        let Check::Err(msg, span) = check("--verdict NOPE") else {
            panic!()
        };
        assert!(msg.contains("NOPE"), "{msg}");
        assert_eq!(span, 10..14);
        let Check::Err(msg, _) = check("--last 5") else {
            panic!()
        };
        assert!(msg.contains("not a filter flag"));
    }

    #[test]
    fn tab_completes_flags_and_values() {
        let mut bar = FilterBar::new(String::new());
        type_text(&mut bar, "--verd");
        bar.handle_key(key(KeyCode::Tab), &[], &no_vocab);
        assert_eq!(bar.input, "--verdict ");
        type_text(&mut bar, "DR");
        bar.handle_key(key(KeyCode::Tab), &[], &no_vocab);
        assert_eq!(bar.input, "--verdict DROPPED ");
        type_text(&mut bar, "-n s");
        bar.handle_key(key(KeyCode::Tab), &[], &no_vocab);
        assert_eq!(bar.input, "--verdict DROPPED -n shop ");
        type_text(&mut bar, "--drop-reason-desc POLICY_DENI");
        bar.handle_key(key(KeyCode::Tab), &[], &no_vocab);
        assert_eq!(
            bar.input,
            "--verdict DROPPED -n shop --drop-reason-desc POLICY_DENIED "
        );
    }

    #[test]
    fn repeated_tab_cycles_through_candidates() {
        let mut bar = FilterBar::new("--from-pod shop/".into());
        bar.handle_key(key(KeyCode::Tab), &[], &no_vocab);
        assert_eq!(bar.input, "--from-pod shop/cart-1");
        bar.handle_key(key(KeyCode::Tab), &[], &no_vocab);
        assert_eq!(bar.input, "--from-pod shop/frontend-2");
        assert_eq!(bar.completions().unwrap().1, 1);
    }

    #[test]
    fn up_and_down_walk_the_history() {
        let history = vec!["--verdict DROPPED".to_string(), "-n shop".to_string()];
        let mut bar = FilterBar::new(String::new());
        bar.handle_key(key(KeyCode::Up), &history, &no_vocab);
        assert_eq!(bar.input, "-n shop");
        bar.handle_key(key(KeyCode::Up), &history, &no_vocab);
        assert_eq!(bar.input, "--verdict DROPPED");
        bar.handle_key(key(KeyCode::Down), &history, &no_vocab);
        assert_eq!(bar.input, "-n shop");
        bar.handle_key(key(KeyCode::Down), &history, &no_vocab);
        assert_eq!(bar.input, "");
    }

    #[test]
    fn editing_keys_move_and_delete_by_character_and_word() {
        let mut bar = FilterBar::new("--verdict DROPPED".into());
        bar.handle_key(
            KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL),
            &[],
            &no_vocab,
        );
        assert_eq!(bar.input, "--verdict ");
        bar.handle_key(key(KeyCode::Home), &[], &no_vocab);
        bar.handle_key(key(KeyCode::Delete), &[], &no_vocab);
        assert_eq!(bar.input, "-verdict ");
        assert_eq!(
            bar.handle_key(key(KeyCode::Esc), &[], &no_vocab),
            BarOutcome::Cancel
        );
    }
}
