//! The filter bar: `hubble observe` flags typed at `/`, checked as you type (the error points at
//! the bad word and suggests the closest flag or value; otherwise the compiled allow/deny
//! FlowFilters are shown), with history and Tab completion of flag names, of the values a flag
//! takes, and of the namespaces and pods the cluster has shown us (workload prefixes first).

use std::collections::BTreeSet;
use std::ops::Range;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::words;
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
    /// The candidates of the Tab being cycled.
    completion: Option<Completion>,
}

/// What Tab found for the word at the cursor; further Tabs (Shift-Tab backwards) cycle through it.
#[derive(Debug, Clone)]
struct Completion {
    candidates: Vec<String>,
    /// The candidate in the text; `None` while the list is only shown (the first Tab on a word
    /// many candidates share, e.g. an empty one).
    current: Option<usize>,
    /// Byte range of the word the candidates replace.
    span: Range<usize>,
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

/// What the word at the cursor stands for.
#[derive(Debug, PartialEq)]
enum Slot {
    /// A flag name (or an empty word where one may go).
    Flag,
    /// The value of this flag (as typed: `--verdict`, `-n`).
    Value(String),
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
        if !matches!(key.code, KeyCode::Tab | KeyCode::BackTab) {
            // Any other key ends the cycling: the next Tab looks at the word afresh.
            self.completion = None;
        }
        match key.code {
            KeyCode::Esc => return BarOutcome::Cancel,
            KeyCode::Char('c') if ctrl => return BarOutcome::Cancel,
            KeyCode::Enter => return BarOutcome::Apply,
            KeyCode::Tab => self.complete(true, vocab),
            KeyCode::BackTab => self.complete(false, vocab),
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
                let start = word_start(before, before.len());
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

    /// Tab: completes the word before the cursor. One candidate is taken (with a space after
    /// it); several fill in what they share and are listed, and further Tabs cycle through them;
    /// none, for a typo, takes the closest flag or value; none at all for an unknown flag lists
    /// every flag.
    fn complete(&mut self, forward: bool, vocab: &dyn Fn() -> Vocabulary) {
        if let Some(c) = &mut self.completion {
            let n = c.candidates.len();
            let next = match (c.current, forward) {
                (None, true) => 0,
                (None, false) => n - 1,
                (Some(i), true) => (i + 1) % n,
                (Some(i), false) => (i + n - 1) % n,
            };
            let with = c.candidates[next].clone();
            let start = c.span.start;
            let span = std::mem::replace(&mut c.span, start..start + with.len());
            c.current = Some(next);
            self.replace_word(span, &with);
            return;
        }
        let (start, slot) = slot_at(&self.input, self.cursor);
        let word = self.input[start..self.cursor].to_string();
        let universe = universe(&slot, vocab);
        let matches = prefixed(&universe, &word);
        match matches.len() {
            0 => {
                if let Some(fix) = closest(&word, universe.iter().map(String::as_str)) {
                    let fix = fix.to_string();
                    self.take(start, &fix);
                } else if slot == Slot::Flag && word.starts_with('-') && !known_flag(&word) {
                    self.list(start, FLAG_NAMES.iter().map(|s| s.to_string()).collect());
                }
            }
            1 => {
                let only = matches[0].clone();
                self.take(start, &only);
            }
            _ => {
                // The word itself stays a candidate but does not hold back what the others share.
                let others: Vec<String> = matches.iter().filter(|c| **c != word).cloned().collect();
                let common = common_prefix(&others);
                if common.len() <= word.len() {
                    self.list(start, matches);
                    return;
                }
                let longer = prefixed(&universe, &common);
                if let [only] = longer.as_slice() {
                    self.take(start, only);
                } else {
                    self.replace_word(start..self.cursor, &common);
                    self.list(start, longer);
                }
            }
        }
    }

    /// Shows `candidates` for the word from `start` to the cursor without choosing one yet.
    fn list(&mut self, start: usize, candidates: Vec<String>) {
        self.completion = Some(Completion {
            candidates,
            current: None,
            span: start..self.cursor,
        });
    }

    /// Replaces the word from `start` to the cursor by a complete value and steps past it: a
    /// space follows unless the value is a prefix meant to be continued (`shop/`, `payments-`).
    fn take(&mut self, start: usize, value: &str) {
        let open = value.ends_with('/') || value.ends_with('-') && !value.starts_with('-');
        self.replace_word(start..self.cursor, value);
        if open {
            return;
        }
        match self.input[self.cursor..].chars().next() {
            Some(c) if c.is_whitespace() => self.cursor += c.len_utf8(),
            _ => {
                self.input.insert(self.cursor, ' ');
                self.cursor += 1;
                self.check = check(&self.input);
            }
        }
    }

    fn replace_word(&mut self, span: Range<usize>, with: &str) {
        self.input.replace_range(span.clone(), with);
        self.cursor = span.start + with.len();
        self.check = check(&self.input);
    }

    /// The candidates Tab is cycling through, and which one is in the text (none while they are
    /// only listed), for the screen.
    pub fn completions(&self) -> Option<(&[String], Option<usize>)> {
        self.completion
            .as_ref()
            .map(|c| (c.candidates.as_slice(), c.current))
    }
}

/// Parses the text as hubble flags and compiles the filters; errors point at the word at fault
/// and, for a misspelt flag or value, name the closest one.
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
            let hint = e.value().and_then(|v| value_hint(&words, at, v));
            return Check::Err(with_hint(e.to_string(), hint), span_of(&words, at));
        }
    };
    if let Some(extra) = rest.first() {
        let at = words.iter().position(|w| &w.text == extra);
        let name = extra.split('=').next().unwrap_or(extra);
        let fix = name
            .starts_with('-')
            .then(|| closest(name, FLAG_NAMES.iter().copied()))
            .flatten();
        let msg = match fix {
            Some(fix) => format!("unknown flag {name}: did you mean {fix}?"),
            None => format!("{extra:?} is not a filter flag (Tab lists them)"),
        };
        return Check::Err(msg, span_of(&words, at));
    }
    match FlowMatcher::compile(&flags.allowlist, &flags.denylist) {
        Ok(m) => Check::Ok(flags, m),
        Err(e) => {
            let at = find_word(&words, e.bad_value(), None);
            let hint = e.bad_value().and_then(|v| value_hint(&words, at, v));
            Check::Err(with_hint(e.to_string(), hint), span_of(&words, at))
        }
    }
}

fn with_hint(msg: String, hint: Option<String>) -> String {
    match hint {
        Some(h) => format!("{msg}: did you mean {h}?"),
        None => msg,
    }
}

fn span_of(words: &[words::Word], at: Option<usize>) -> Range<usize> {
    at.map_or(0..0, |i| words[i].span.clone())
}

/// The index of the word an error names: the refused value, else the flag.
fn find_word(words: &[words::Word], value: Option<&str>, flag: Option<&str>) -> Option<usize> {
    let by_value = value.and_then(|v| {
        words
            .iter()
            .position(|w| w.text == v || w.text.ends_with(&format!("={v}")))
    });
    let by_flag = || {
        flag.and_then(|f| {
            f.split(", ").find_map(|name| {
                words
                    .iter()
                    .position(|w| w.text == name || w.text.starts_with(&format!("{name}=")))
            })
        })
    };
    by_value.or_else(by_flag)
}

/// The closest known value to a refused one, from the flag it was given to (`--flag=value` in
/// one word, or the word before).
fn value_hint(words: &[words::Word], at: Option<usize>, value: &str) -> Option<String> {
    let at = at?;
    let flag = match words[at].text.split_once('=') {
        Some((flag, _)) if flag.starts_with('-') => flag,
        _ => &words[at.checked_sub(1)?].text,
    };
    let known = filter_flags::flag_values(flag)?;
    closest(value, known.iter().map(String::as_str)).map(str::to_string)
}

/// Where the word at the cursor starts, and what it stands for: `--flag=` and the word after a
/// flag that takes a value are that flag's value; anything else may be a flag.
fn slot_at(input: &str, cursor: usize) -> (usize, Slot) {
    let start = word_start(input, cursor);
    let word = &input[start..cursor];
    if word.starts_with('-') {
        return match word.find('=') {
            Some(eq) => (start + eq + 1, Slot::Value(word[..eq].to_string())),
            None => (start, Slot::Flag),
        };
    }
    let previous = input[..start].split_whitespace().last().unwrap_or("");
    if previous.starts_with('-') && filter_flags::flag_values(previous).is_some() {
        return (start, Slot::Value(previous.to_string()));
    }
    (start, Slot::Flag)
}

/// Everything that may go in a slot, best first.
fn universe(slot: &Slot, vocab: &dyn Fn() -> Vocabulary) -> Vec<String> {
    match slot {
        Slot::Flag => FLAG_NAMES.iter().map(|s| s.to_string()).collect(),
        Slot::Value(flag) => match flag.as_str() {
            "-n" | "--namespace" | "--from-namespace" | "--to-namespace" => namespaces(&vocab())
                .into_iter()
                .map(str::to_string)
                .collect(),
            "--pod" | "--from-pod" | "--to-pod" => pod_values(&vocab()),
            flag => filter_flags::flag_values(flag).unwrap_or_default(),
        },
    }
}

/// The candidates that start with `word`, in the universe's order; when none does, those that
/// do ignoring case (`dro` finds `DROPPED`).
fn prefixed(universe: &[String], word: &str) -> Vec<String> {
    let mut out: Vec<String> = universe
        .iter()
        .filter(|c| c.starts_with(word))
        .cloned()
        .collect();
    if out.is_empty() {
        let lower = word.to_lowercase();
        out = universe
            .iter()
            .filter(|c| c.to_lowercase().starts_with(&lower))
            .cloned()
            .collect();
    }
    let mut seen = BTreeSet::new();
    out.retain(|c| seen.insert(c.clone()));
    out
}

/// Every namespace we know of, from the server's list and from the pods seen.
fn namespaces(v: &Vocabulary) -> BTreeSet<&str> {
    let of_pods = v
        .pods
        .iter()
        .filter_map(|p| p.split_once('/').map(|(ns, _)| ns));
    v.namespaces
        .iter()
        .map(String::as_str)
        .chain(of_pods)
        .filter(|ns| !ns.is_empty())
        .collect()
}

/// Values for `--pod`, `--from-pod`, `--to-pod`, which hubble matches as a prefix: `namespace/`
/// first, then each workload's prefix (`shop/payments-`, what outlives a rollout), then the
/// replicas themselves.
fn pod_values(v: &Vocabulary) -> Vec<String> {
    let prefixes: BTreeSet<&str> = v.pods.iter().filter_map(|p| workload_prefix(p)).collect();
    let mut pods: Vec<&String> = v.pods.iter().collect();
    pods.sort();
    namespaces(v)
        .into_iter()
        .map(|ns| format!("{ns}/"))
        .chain(prefixes.into_iter().map(str::to_string))
        .chain(pods.into_iter().cloned())
        .collect()
}

/// The characters Kubernetes draws generated name parts from (no vowels, so they spell no words,
/// and none of `0`, `1`, `3`).
const GENERATED: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The part of `namespace/pod` its workload's replicas share, through the `-` before what the
/// controller appended: a ReplicaSet's pod-template hash and a random suffix (Deployment,
/// `payments-7d9f8b6c5-hs6zj`; a Job's number likewise), a random suffix alone (DaemonSet,
/// `cilium-x7k2p`), or an ordinal (StatefulSet, `kafka-2`).
fn workload_prefix(pod: &str) -> Option<&str> {
    let name_at = pod.find('/').map_or(0, |i| i + 1);
    let (rest, last) = pod[name_at..].rsplit_once('-')?;
    let generated = |s: &str| s.bytes().all(|b| GENERATED.contains(&b));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let keep = if last.len() == 5 && generated(last) {
        match rest.rsplit_once('-') {
            Some((base, hash))
                if !base.is_empty()
                    && (6..=10).contains(&hash.len())
                    && (generated(hash) || digits(hash)) =>
            {
                base.len() + 1
            }
            _ => rest.len() + 1,
        }
    } else if digits(last) {
        rest.len() + 1
    } else {
        return None;
    };
    (!rest.is_empty()).then(|| &pod[..name_at + keep])
}

/// Is this word a filter flag of hubble's (`-nshop` and `--pod` are; `--last` is not)?
fn known_flag(word: &str) -> bool {
    !matches!(filter_flags::parse(&[word.to_string()]), Ok((_, rest)) if !rest.is_empty())
}

/// The candidate a misspelt word most likely meant: the closest by edit distance (adjacent
/// swaps count one, case is ignored), when it is at most a third of the word's length and at
/// most 2; `None` when the word is itself a candidate.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let max = (word.trim_start_matches('-').chars().count() / 3).min(2);
    let w: Vec<char> = word.to_lowercase().chars().collect();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == word {
            return None;
        }
        let cs: Vec<char> = c.to_lowercase().chars().collect();
        if cs.len().abs_diff(w.len()) > max {
            continue;
        }
        let d = distance(&w, &cs);
        if d <= max && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Damerau–Levenshtein distance (optimal string alignment): insertions, deletions,
/// substitutions and swaps of two neighbours each cost one.
fn distance(a: &[char], b: &[char]) -> usize {
    let n = b.len();
    let mut before: Vec<usize> = vec![0; n + 1];
    let mut prev: Vec<usize> = (0..=n).collect();
    let mut cur: Vec<usize> = vec![0; n + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=n {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[n]
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

/// Where the word ending at `i` starts: just past the whitespace before it (which may be wider
/// than a byte).
fn word_start(s: &str, i: usize) -> usize {
    s[..i]
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(0, |(p, c)| p + c.len_utf8())
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

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn no_vocab() -> Vocabulary {
        Vocabulary {
            namespaces: vec!["ingest".into(), "kube-system".into(), "shop".into()],
            pods: vec!["shop/cart-1".into(), "shop/frontend-2".into()],
        }
    }

    /// A cluster as Kubernetes names it: Deployments, a StatefulSet, a DaemonSet, a Job.
    fn cluster() -> Vocabulary {
        Vocabulary {
            namespaces: vec!["db".into(), "kube-system".into(), "shop".into()],
            pods: vec![
                "db/kafka-0".into(),
                "db/kafka-2".into(),
                "kube-system/cilium-x7k2p".into(),
                "kube-system/cilium-b4d9z".into(),
                "shop/payments-7d9f8b6c5-hs6zj".into(),
                "shop/payments-7d9f8b6c5-x2k4q".into(),
                "shop/cart-5f8d7c9b6-h7j2m".into(),
                "shop/report-28391234-x7k2p".into(),
            ],
        }
    }

    fn type_text(bar: &mut FilterBar, text: &str) {
        for c in text.chars() {
            bar.handle_key(key(KeyCode::Char(c)), &[], &no_vocab);
        }
    }

    fn tab(bar: &mut FilterBar, vocab: &dyn Fn() -> Vocabulary) {
        bar.handle_key(key(KeyCode::Tab), &[], vocab);
    }

    fn error(text: &str) -> (String, String) {
        match check(text) {
            Check::Err(msg, span) => (msg, text[span].to_string()),
            Check::Ok(..) => panic!("{text:?} checks"),
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
        assert!(!msg.contains("did you mean"), "nothing is close: {msg}");
        assert_eq!(span, 10..14);
        let Check::Err(msg, _) = check("--last 5") else {
            panic!()
        };
        assert_eq!(msg, r#""--last" is not a filter flag (Tab lists them)"#);
    }

    #[test]
    fn edit_distance_counts_a_swap_of_neighbours_as_one() {
        let d = |a: &str, b: &str| {
            let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            distance(&a, &b)
        };
        assert_eq!(d("verdcit", "verdict"), 1);
        assert_eq!(d("kitten", "sitting"), 3);
        assert_eq!(d("", "abc"), 3);
        assert_eq!(d("abc", ""), 3);
        assert_eq!(d("ab", "ba"), 1);
        assert_eq!(d("ca", "abc"), 3, "no edits inside a swapped pair");
        assert_eq!(d("é名", "é名"), 0);
    }

    #[test]
    fn the_closest_candidate_must_be_close_for_its_length() {
        let flags = || FLAG_NAMES.iter().copied();
        assert_eq!(closest("--verdcit", flags()), Some("--verdict"));
        assert_eq!(closest("--Verdict", flags()), Some("--verdict"));
        assert_eq!(closest("--to-pdo", flags()), Some("--to-pod"));
        assert_eq!(closest("--verdict", flags()), None, "itself");
        // A third of the length: a short word may be one edit off, none is two off.
        assert_eq!(closest("--pdo", flags()), Some("--pod"));
        assert_eq!(closest("--xyz", flags()), None);
        assert_eq!(closest("--last", flags()), None);
        assert_eq!(closest("--", flags()), None);
        // At most two, however long the word.
        assert_eq!(closest("--drop-reason-xxxx", flags()), None);
        assert_eq!(closest("dropped", ["DROPPED"]), Some("DROPPED"), "case");
        assert_eq!(closest("L7", ["trace", "l7"]), Some("l7"));
    }

    #[test]
    fn a_misspelt_flag_is_named_with_the_closest_one() {
        let (msg, word) = error("--verdcit DROPPED");
        assert_eq!(msg, "unknown flag --verdcit: did you mean --verdict?");
        assert_eq!(word, "--verdcit");
        let (msg, word) = error("-n shop --to-pdo=shop/cart");
        assert_eq!(msg, "unknown flag --to-pdo: did you mean --to-pod?");
        assert_eq!(word, "--to-pdo=shop/cart");
        let (msg, _) = error("-verdict DROPPED");
        assert_eq!(msg, "unknown flag -verdict: did you mean --verdict?");
    }

    #[test]
    fn a_misspelt_value_is_named_with_the_closest_one() {
        for (text, word, fix) in [
            ("--verdict DROPED", "DROPED", "DROPPED"),
            ("--verdict dropped", "dropped", "DROPPED"),
            ("--verdict=FORWADED", "--verdict=FORWADED", "FORWARDED"),
            ("--protocol tpc", "tpc", "tcp"),
            ("--traffic-direction egres", "egres", "egress"),
            ("-t trce", "trce", "trace"),
            (
                "--type trace:to-endpont",
                "trace:to-endpont",
                "trace:to-endpoint",
            ),
            ("--type L7", "L7", "l7"),
            (
                "--drop-reason-desc POLICY_DENIE",
                "POLICY_DENIE",
                "POLICY_DENIED",
            ),
            ("--identity wrold", "wrold", "world"),
        ] {
            let (msg, at) = error(text);
            assert!(
                msg.ends_with(&format!(": did you mean {fix}?")),
                "{text}: {msg}"
            );
            assert_eq!(at, word, "{text}");
        }
        // Hubble's own message comes first, unchanged.
        let (msg, _) = error("--verdict DROPED");
        assert_eq!(
            msg,
            "invalid argument \"DROPED\" for \"--verdict\" flag: invalid --verdict value: DROPED: did you mean DROPPED?"
        );
    }

    #[test]
    fn what_hubble_accepts_is_unchanged_and_gets_no_suggestion() {
        assert!(matches!(check("--traffic-direction EGRESS"), Check::Ok(..)));
        assert!(matches!(check("--protocol TCP"), Check::Ok(..)));
        let (msg, _) = error("--to-pod shop/cart -n shop");
        assert!(msg.contains("cannot be combined") && !msg.contains("did you mean"));
    }

    #[test]
    fn every_offered_value_is_accepted() {
        for flag in [
            "--verdict",
            "--drop-reason-desc",
            "--type",
            "--protocol",
            "--traffic-direction",
            "--identity",
        ] {
            let values = filter_flags::flag_values(flag).unwrap();
            assert!(!values.is_empty(), "{flag}");
            for v in values {
                let text = format!("{flag} {v}");
                assert!(matches!(check(&text), Check::Ok(..)), "{text}");
            }
        }
        assert_eq!(filter_flags::flag_values("-n"), Some(vec![]));
        assert_eq!(filter_flags::flag_values("--not"), None);
        assert_eq!(filter_flags::flag_values("-A"), None);
        assert_eq!(filter_flags::flag_values("--last"), None);
    }

    #[test]
    fn tab_completes_flags_and_values() {
        let mut bar = FilterBar::new(String::new());
        type_text(&mut bar, "--verd");
        tab(&mut bar, &no_vocab);
        assert_eq!(bar.input, "--verdict ");
        type_text(&mut bar, "DR");
        tab(&mut bar, &no_vocab);
        assert_eq!(bar.input, "--verdict DROPPED ");
        type_text(&mut bar, "-n s");
        tab(&mut bar, &no_vocab);
        assert_eq!(bar.input, "--verdict DROPPED -n shop ");
        type_text(&mut bar, "--drop-reason-desc POLICY_DENI");
        tab(&mut bar, &no_vocab);
        assert_eq!(
            bar.input,
            "--verdict DROPPED -n shop --drop-reason-desc POLICY_DENIED "
        );
        let mut bar = FilterBar::new("--verdict=DR".into());
        tab(&mut bar, &no_vocab);
        assert_eq!(bar.input, "--verdict=DROPPED ");
        let mut bar = FilterBar::new("--verdict dro".into());
        tab(&mut bar, &no_vocab);
        assert_eq!(bar.input, "--verdict DROPPED ", "any case finds the value");
    }

    #[test]
    fn tab_before_a_space_steps_over_it_instead_of_adding_one() {
        let mut bar = FilterBar::new("--verd DROPPED".into());
        bar.cursor = "--verd".len();
        tab(&mut bar, &no_vocab);
        assert_eq!(bar.input, "--verdict DROPPED");
        assert_eq!(bar.cursor, "--verdict ".len());
    }

    #[test]
    fn tab_on_a_typo_takes_the_suggestion() {
        let mut bar = FilterBar::new("--verdcit".into());
        tab(&mut bar, &no_vocab);
        assert_eq!(bar.input, "--verdict ");
        type_text(&mut bar, "DROPED");
        tab(&mut bar, &no_vocab);
        assert_eq!(bar.input, "--verdict DROPPED ");
        assert!(matches!(bar.check, Check::Ok(..)));
        type_text(&mut bar, "-n shpo");
        tab(&mut bar, &no_vocab);
        assert_eq!(bar.input, "--verdict DROPPED -n shop ");
        let mut bar = FilterBar::new("--zzzzzz".into());
        tab(&mut bar, &no_vocab);
        assert_eq!(bar.input, "--zzzzzz", "nothing is close");
    }

    #[test]
    fn tab_on_empty_input_or_a_bare_dash_lists_every_flag_then_cycles() {
        for start in ["", "-", "--", "--verdict DROPPED "] {
            let mut bar = FilterBar::new(start.into());
            tab(&mut bar, &no_vocab);
            let prefix = start.trim_end_matches('-');
            assert_eq!(
                bar.input,
                format!("{prefix}--"),
                "the first Tab fills in what all share and lists them"
            );
            let (cands, current) = bar.completions().unwrap();
            assert_eq!(cands, FLAG_NAMES, "{start:?}");
            assert_eq!(current, None);
            tab(&mut bar, &no_vocab);
            assert_eq!(bar.input, format!("{prefix}--not"));
            tab(&mut bar, &no_vocab);
            assert_eq!(bar.input, format!("{prefix}--uuid"));
            bar.handle_key(key(KeyCode::BackTab), &[], &no_vocab);
            assert_eq!(bar.input, format!("{prefix}--not"));
            assert_eq!(bar.completions().unwrap().1, Some(0));
            bar.handle_key(key(KeyCode::BackTab), &[], &no_vocab);
            assert_eq!(bar.input, format!("{prefix}--denylist"), "wraps around");
        }
    }

    #[test]
    fn tab_on_an_unknown_flag_lists_every_flag_as_the_error_says() {
        let mut bar = FilterBar::new("--last".into());
        let Check::Err(msg, _) = &bar.check else {
            panic!()
        };
        assert!(msg.contains("Tab lists them"));
        tab(&mut bar, &no_vocab);
        assert_eq!(bar.completions().unwrap().0, FLAG_NAMES);
        tab(&mut bar, &no_vocab);
        assert_eq!(bar.input, "--not");
        // A flag hubble knows, shorthand and value in one word, is left alone.
        let mut bar = FilterBar::new("-nshop".into());
        tab(&mut bar, &no_vocab);
        assert!(bar.completions().is_none());
        assert_eq!(bar.input, "-nshop");
    }

    #[test]
    fn tab_after_a_flag_that_takes_a_value_lists_its_values() {
        let mut bar = FilterBar::new("--traffic-direction ".into());
        tab(&mut bar, &no_vocab);
        assert_eq!(
            bar.completions().unwrap().0,
            ["ingress".to_string(), "egress".to_string()]
        );
        // A free value gets no flag names.
        let mut bar = FilterBar::new("--from-ip ".into());
        tab(&mut bar, &no_vocab);
        assert!(bar.completions().is_none());
        assert_eq!(bar.input, "--from-ip ");
    }

    #[test]
    fn repeated_tab_cycles_through_candidates() {
        let mut bar = FilterBar::new("--from-pod shop/".into());
        tab(&mut bar, &no_vocab);
        assert_eq!(bar.input, "--from-pod shop/");
        assert_eq!(
            bar.completions().unwrap().0,
            [
                "shop/",
                "shop/cart-",
                "shop/frontend-",
                "shop/cart-1",
                "shop/frontend-2"
            ]
        );
        tab(&mut bar, &no_vocab);
        assert_eq!(bar.input, "--from-pod shop/");
        tab(&mut bar, &no_vocab);
        assert_eq!(bar.input, "--from-pod shop/cart-");
        tab(&mut bar, &no_vocab);
        assert_eq!(bar.input, "--from-pod shop/frontend-");
        assert_eq!(bar.cursor, bar.input.len());
        assert_eq!(bar.completions().unwrap().1, Some(2));
        // Any other key ends the cycle: the next Tab starts from the word as it is.
        bar.handle_key(key(KeyCode::Left), &[], &no_vocab);
        assert!(bar.completions().is_none());
    }

    #[test]
    fn workloads_are_named_by_what_their_replicas_share() {
        for (pod, prefix) in [
            ("shop/payments-7d9f8b6c5-hs6zj", Some("shop/payments-")),
            ("shop/api-v2-5d78c9869d-4vq8s", Some("shop/api-v2-")),
            ("db/kafka-2", Some("db/kafka-")),
            ("db/kafka-10", Some("db/kafka-")),
            ("kube-system/cilium-x7k2p", Some("kube-system/cilium-")),
            (
                "kube-system/node-exporter-b4d9z",
                Some("kube-system/node-exporter-"),
            ),
            // A Job's pods: the controller's number, then the random suffix.
            ("shop/report-28391234-x7k2p", Some("shop/report-")),
            // An older ReplicaSet hash, in decimal.
            ("shop/web-3712376832-x2k4q", Some("shop/web-")),
            // Words, not generated parts: no workload to name.
            ("shop/my-app-proxy", None),
            ("shop/api", None),
            ("shop/-2", None),
            ("kind-control-plane", None),
        ] {
            assert_eq!(workload_prefix(pod), prefix, "{pod}");
        }
    }

    #[test]
    fn tab_offers_workload_prefixes_before_replicas() {
        let mut bar = FilterBar::new("--to-pod shop/pay".into());
        tab(&mut bar, &cluster);
        assert_eq!(bar.input, "--to-pod shop/payments-");
        assert_eq!(
            bar.completions().unwrap().0,
            [
                "shop/payments-",
                "shop/payments-7d9f8b6c5-hs6zj",
                "shop/payments-7d9f8b6c5-x2k4q"
            ]
        );
        let mut bar = FilterBar::new("--pod db/".into());
        tab(&mut bar, &cluster);
        assert_eq!(bar.input, "--pod db/kafka-");
        assert_eq!(
            bar.completions().unwrap().0,
            ["db/kafka-", "db/kafka-0", "db/kafka-2"]
        );
        let mut bar = FilterBar::new("--from-pod kube-system/c".into());
        tab(&mut bar, &cluster);
        assert_eq!(bar.input, "--from-pod kube-system/cilium-");
        // The whole list: namespaces, then workloads, then replicas.
        let mut bar = FilterBar::new("--from-pod ".into());
        tab(&mut bar, &cluster);
        let (cands, _) = bar.completions().unwrap();
        assert_eq!(
            cands[..7],
            [
                "db/",
                "kube-system/",
                "shop/",
                "db/kafka-",
                "kube-system/cilium-",
                "shop/cart-",
                "shop/payments-"
            ]
        );
        assert_eq!(cands[7], "shop/report-");
        assert_eq!(cands[8], "db/kafka-0");
        assert_eq!(cands.len(), 8 + cluster().pods.len());
    }

    #[test]
    fn a_word_that_is_itself_a_candidate_completes_to_the_only_longer_one() {
        let one_pod = || Vocabulary {
            namespaces: vec!["shop".into()],
            pods: vec!["shop/api".into()],
        };
        let mut bar = FilterBar::new("--pod shop/".into());
        tab(&mut bar, &one_pod);
        assert_eq!(bar.input, "--pod shop/api ");
        assert!(bar.completions().is_none());
    }

    #[test]
    fn a_bare_namespace_as_a_pod_value_completes_to_namespace_slash() {
        let mut bar = FilterBar::new("--to-pod kube-sys".into());
        tab(&mut bar, &cluster);
        assert_eq!(
            bar.input, "--to-pod kube-system/",
            "no space: a pod may follow"
        );
        let only_ns = || Vocabulary {
            namespaces: vec!["ingest".into()],
            pods: vec![],
        };
        let mut bar = FilterBar::new("--pod ing".into());
        tab(&mut bar, &only_ns);
        assert_eq!(bar.input, "--pod ingest/");
        assert!(matches!(bar.check, Check::Ok(..)));
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
        bar.handle_key(ctrl('w'), &[], &no_vocab);
        assert_eq!(bar.input, "--verdict ");
        bar.handle_key(key(KeyCode::Home), &[], &no_vocab);
        bar.handle_key(key(KeyCode::Delete), &[], &no_vocab);
        assert_eq!(bar.input, "-verdict ");
        assert_eq!(
            bar.handle_key(key(KeyCode::Esc), &[], &no_vocab),
            BarOutcome::Cancel
        );
    }

    #[test]
    fn words_end_at_any_whitespace_however_wide() {
        let mut bar = FilterBar::new("-n\u{3000}sh".into());
        tab(&mut bar, &no_vocab);
        assert_eq!(bar.input, "-n\u{3000}shop ");
        bar.handle_key(ctrl('w'), &[], &no_vocab);
        assert_eq!(bar.input, "-n\u{3000}");
        bar.handle_key(ctrl('w'), &[], &no_vocab);
        assert_eq!(bar.input, "");
    }

    /// Thousands of random keys, multibyte and wide characters among them: nothing panics, the
    /// cursor stays on a character boundary, and the check always matches the text.
    #[test]
    fn random_keys_never_panic_or_split_a_character() {
        use rand::{Rng, SeedableRng, rngs::SmallRng};
        let chars = [
            'a', 'z', '-', '-', '=', '/', ' ', ' ', '\'', '"', '\\', 'é', 'ß', '名', '🦀',
            '\u{301}', '\u{3000}', '\u{202e}', 'D', 'R', 'O', 'P',
        ];
        let words = [
            "--verdict",
            "--to-pod",
            "shop/",
            "DROPPED",
            "--not",
            "-n",
            "--",
        ];
        let history = vec!["--verdict DROPPED".to_string(), "-n 名前".to_string()];
        let mut rng = SmallRng::seed_from_u64(10);
        for _ in 0..300 {
            let mut bar = FilterBar::new(String::new());
            for _ in 0..40 {
                let code = match rng.random_range(0..20) {
                    0 => KeyCode::Backspace,
                    1 => KeyCode::Delete,
                    2 => KeyCode::Left,
                    3 => KeyCode::Right,
                    4 => KeyCode::Home,
                    5 => KeyCode::End,
                    6 | 7 => KeyCode::Tab,
                    8 => KeyCode::BackTab,
                    9 => KeyCode::Up,
                    10 => KeyCode::Down,
                    11 => {
                        let w = words[rng.random_range(0..words.len())];
                        bar.insert(&format!("{w} \t\u{0}"));
                        KeyCode::Null
                    }
                    _ => KeyCode::Char(chars[rng.random_range(0..chars.len())]),
                };
                let modifiers = if rng.random_range(0..8) == 0 {
                    KeyModifiers::CONTROL
                } else {
                    KeyModifiers::NONE
                };
                let vocab = || Vocabulary {
                    namespaces: vec!["名前".into(), "shop".into()],
                    pods: vec!["名前/pod-0".into(), "shop/payments-7d9f8b6c5-hs6zj".into()],
                };
                let out = bar.handle_key(KeyEvent::new(code, modifiers), &history, &vocab);
                assert!(bar.cursor <= bar.input.len(), "{:?}", bar.input);
                assert!(bar.input.is_char_boundary(bar.cursor), "{:?}", bar.input);
                if out != BarOutcome::Editing {
                    continue;
                }
                let fresh = check(&bar.input);
                assert_eq!(
                    matches!(fresh, Check::Ok(..)),
                    matches!(bar.check, Check::Ok(..)),
                    "{:?}",
                    bar.input
                );
                if let Check::Err(_, span) = &bar.check {
                    assert!(bar.input.get(span.clone()).is_some(), "{:?}", bar.input);
                }
            }
        }
    }
}
