//! `p`: the suggested policy popup. On a dropped flow (the selected row, or the detail view) or a
//! group of the groups view (its dropped flows), [`crate::suggest`] writes the
//! CiliumNetworkPolicy that would allow exactly that traffic; the popup shows it as YAML with its
//! notes, `y` copies it, `w` writes it to a new file. hubtop never applies it: the YAML says so
//! in its first lines, and so does the popup's title.

use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{App, Effect};
use crate::api::flow::{Flow, Verdict};
use crate::filter::RingMatcher;
use crate::filter::flags as filter_flags;
use crate::store::Store;
use crate::suggest::{self, Suggestion};

/// The most dropped flows of a group a suggestion is made from (the newest): enough to cover
/// every peer and port a group has, and a key press stays quick on a 1M-flow ring.
pub const MAX_GROUP_FLOWS: usize = 5_000;

/// The popup, while open.
#[derive(Debug, Clone)]
pub struct PolicyPopup {
    /// What it was made from: `the selected drop`, `3,214 drops of shop/frontend → shop/cart`.
    pub from: String,
    pub suggestion: Suggestion,
    /// The first line shown.
    pub scroll: usize,
    /// Lines shown at the last frame (for PgUp/PgDn).
    pub page: usize,
}

impl PolicyPopup {
    /// The popup's text for `width` columns: the YAML, its comments (which carry the notes)
    /// wrapped as comments; other lines are left whole (a wrapped YAML line would read as
    /// another key), for the drawing to cut.
    pub fn lines(&self, width: usize) -> Vec<String> {
        let mut out = Vec::new();
        for line in self.suggestion.yaml.lines() {
            if line.trim_start().starts_with('#') && super::shorten::width(line) > width {
                wrap_comment(line, width.max(12), &mut out);
            } else {
                out.push(line.to_string());
            }
        }
        out
    }

    /// The policy's name (`metadata.name`, a DNS label), for the file `w` writes.
    pub fn name(&self) -> String {
        let name = &self.suggestion.policy.name;
        let safe = !name.is_empty()
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if safe {
            name.clone()
        } else {
            "hubtop-suggested-policy".into()
        }
    }

    /// Clamps the scroll to `lines` shown `height` at a time; returns it.
    pub fn clamp(&mut self, lines: usize, height: usize) -> usize {
        self.page = height.max(1);
        self.scroll = self.scroll.min(lines.saturating_sub(height));
        self.scroll
    }
}

impl App {
    /// `p`: a policy for the flow the keys are on, or for the selected group's drops.
    pub(crate) fn suggest_policy(&mut self, store: &Store) {
        let made = match (self.screen, self.view) {
            (super::app::Screen::Flows, super::views::View::Groups) => self.suggest_for_group(store),
            (super::app::Screen::Flows, super::views::View::L7 | super::views::View::Changes) => {
                Err("p works on a dropped flow (1, or its details) or a group's drops (2)".into())
            }
            _ => match self.current_flow(store) {
                None => Err("no flow selected".to_string()),
                Some(flow) if flow.verdict != Verdict::Dropped as i32 => Err(
                    "p suggests a policy for a DROPPED flow: select one (f v filters on the verdict)"
                        .to_string(),
                ),
                Some(flow) => suggest::suggest(std::slice::from_ref(&flow))
                    .map(|s| ("the selected drop".to_string(), s))
                    .map_err(|e| e.to_string()),
            },
        };
        match made {
            Ok((from, suggestion)) => {
                self.suggestion = Some(PolicyPopup {
                    from,
                    suggestion,
                    scroll: 0,
                    page: 20,
                })
            }
            Err(why) => self.note(format!("no policy to suggest: {why}")),
        }
    }

    /// The selected group's dropped flows (the newest [`MAX_GROUP_FLOWS`] the view counts: the
    /// filter in force and the group's own), as one policy.
    fn suggest_for_group(&mut self, store: &Store) -> Result<(String, Suggestion), String> {
        let at = self.views.group_pos.selected;
        let row = self
            .views
            .groups
            .rows_in(self.views.group_sort, self.now_secs, at..at + 1)
            .pop()
            .ok_or("no group selected")?;
        if row.filter.is_empty() {
            return Err(format!("{}: no filter selects this row", row.key));
        }
        if row.dropped == 0 {
            return Err(format!(
                "{} has no drops to allow",
                crate::format::sanitize(&row.key)
            ));
        }
        let mut args = self.filters.base_args.clone();
        args.extend(self.filters.crumbs.iter().flatten().cloned());
        args.extend(row.filter.iter().cloned());
        let (flags, _) = filter_flags::parse(&args).map_err(|e| e.to_string())?;
        let matcher =
            RingMatcher::compile(&flags.allowlist, &flags.denylist).map_err(|e| e.to_string())?;
        let dropped = Verdict::Dropped as i32;
        let limit = self.table.paused_at.unwrap_or(u64::MAX);
        let flows: Vec<Flow> = store
            .ring
            .range(0, limit)
            .rev()
            .filter(|f| f.verdict() == dropped && matcher.matches(f))
            .take(MAX_GROUP_FLOWS)
            .map(|f| f.flow())
            .collect();
        if flows.is_empty() {
            return Err(format!(
                "the drops of {} have left the buffer",
                crate::format::sanitize(&row.key)
            ));
        }
        let from = format!(
            "{} drops of {}",
            crate::format::thousands(flows.len() as u64),
            crate::format::sanitize(&row.key)
        );
        suggest::suggest(&flows)
            .map(|s| (from, s))
            .map_err(|e| e.to_string())
    }

    /// Keys while the popup is open: scrolling, `y` copy, `w` write, Esc / `p` close.
    pub(crate) fn suggestion_key(&mut self, key: KeyEvent, fx: &mut Vec<Effect>) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let Some(popup) = self.suggestion.as_mut() else {
            return;
        };
        let page = popup.page.max(1);
        match key.code {
            KeyCode::Char('c') if ctrl => fx.push(Effect::Quit),
            KeyCode::Char('q') => fx.push(Effect::Quit),
            KeyCode::Esc | KeyCode::Char('p') => self.suggestion = None,
            KeyCode::Char('j') | KeyCode::Down => popup.scroll = popup.scroll.saturating_add(1),
            KeyCode::Char('k') | KeyCode::Up => popup.scroll = popup.scroll.saturating_sub(1),
            KeyCode::Char('d') if ctrl => popup.scroll = popup.scroll.saturating_add(page),
            KeyCode::Char('u') if ctrl => popup.scroll = popup.scroll.saturating_sub(page),
            KeyCode::PageDown | KeyCode::Char(' ') => {
                popup.scroll = popup.scroll.saturating_add(page)
            }
            KeyCode::PageUp => popup.scroll = popup.scroll.saturating_sub(page),
            KeyCode::Char('g') | KeyCode::Home => popup.scroll = 0,
            // Clamped to the last screenful when the frame is prepared.
            KeyCode::Char('G') | KeyCode::End => popup.scroll = usize::MAX,
            KeyCode::Char('y') => {
                let yaml = popup.suggestion.yaml.clone();
                self.note(format!(
                    "copied the suggested policy ({} lines of YAML, OSC 52): review it before applying",
                    yaml.lines().count()
                ));
                fx.push(Effect::Copy(yaml));
            }
            KeyCode::Char('w') => {
                let name = popup.name();
                let yaml = popup.suggestion.yaml.clone();
                let told = match write_new(self.note_dir.as_deref(), &name, &yaml) {
                    Ok(path) => format!(
                        "wrote {} (kubectl apply -f it after review; hubtop never applies it)",
                        path.display()
                    ),
                    Err(e) => format!("cannot write the policy: {e}"),
                };
                self.note(told);
            }
            _ => {}
        }
    }
}

/// A `# …` comment line as lines of at most `width` columns, continued as `#   …`.
fn wrap_comment(line: &str, width: usize, out: &mut Vec<String>) {
    use super::shorten::width as cols;
    let mut current = String::new();
    for word in line.split(' ') {
        let fits = cols(&current) + 1 + cols(word) <= width;
        if !current.is_empty() && !fits && current.trim() != "#" {
            out.push(std::mem::replace(&mut current, "#  ".into()));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    out.push(current);
}

/// Writes `text` to `NAME.yaml` in `dir` (the current directory when `None`), or `NAME-2.yaml`…
/// when that exists: a file already there is never replaced.
pub fn write_new(dir: Option<&Path>, name: &str, text: &str) -> std::io::Result<PathBuf> {
    use std::io::Write;
    let at = |n: String| dir.map_or_else(|| PathBuf::from(&n), |d| d.join(&n));
    for i in 1..=50 {
        let path = at(if i == 1 {
            format!("{name}.yaml")
        } else {
            format!("{name}-{i}.yaml")
        });
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                file.write_all(text.as_bytes())?;
                file.sync_all()?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!("{name}.yaml to {name}-50.yaml all exist"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_policy_never_replaces_a_file() {
        let dir = std::env::temp_dir().join(format!("hubtop-policy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let first = write_new(Some(&dir), "allow-x", "a: 1\n").unwrap();
        let second = write_new(Some(&dir), "allow-x", "a: 2\n").unwrap();
        assert_eq!(first, dir.join("allow-x.yaml"));
        assert_eq!(second, dir.join("allow-x-2.yaml"));
        assert_eq!(std::fs::read_to_string(first).unwrap(), "a: 1\n");
        assert_eq!(std::fs::read_to_string(second).unwrap(), "a: 2\n");
        let missing = dir.join("no/such/dir");
        assert!(write_new(Some(&missing), "allow-x", "").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn long_comments_wrap_as_comments() {
        let mut out = Vec::new();
        wrap_comment(
            "# - toFQDNs only works when Cilium's DNS proxy sees the lookups: add the rule",
            30,
            &mut out,
        );
        assert!(out.len() > 2, "{out:?}");
        for l in &out {
            assert!(l.starts_with('#'), "{l:?}");
            assert!(super::super::shorten::width(l) <= 30, "{l:?}");
        }
        let words: Vec<&str> = out
            .iter()
            .flat_map(|l| l.split_whitespace())
            .filter(|w| *w != "#")
            .collect();
        assert_eq!(
            words.join(" "),
            "- toFQDNs only works when Cilium's DNS proxy sees the lookups: add the rule"
        );
    }
}
