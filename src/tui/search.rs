//! `Ctrl-f`: a regular expression over the rows' text. The prompt takes the keys while open;
//! the search in force highlights the rows it matches, and `n` / `N` jump between them.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The prompt, while open.
#[derive(Debug, Default, Clone)]
pub struct SearchPrompt {
    pub input: String,
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub struct Search {
    pub prompt: Option<SearchPrompt>,
    /// The search in force.
    pub regex: Option<regex::Regex>,
}

/// What a key in the prompt did.
#[derive(Debug, PartialEq, Eq)]
pub enum SearchKey {
    Editing,
    Closed,
    /// A new search is in force: jump to its newest match.
    Applied,
}

impl Search {
    /// Opens the prompt on the search in force.
    pub fn open(&mut self) {
        let input = self
            .regex
            .as_ref()
            .map(|r| r.as_str().to_string())
            .unwrap_or_default();
        self.prompt = Some(SearchPrompt { input, error: None });
    }

    /// A key while the prompt is open.
    pub fn key(&mut self, key: KeyEvent) -> SearchKey {
        let Some(prompt) = &mut self.prompt else {
            return SearchKey::Closed;
        };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        prompt.error = None;
        match key.code {
            KeyCode::Esc => {
                self.prompt = None;
                return SearchKey::Closed;
            }
            KeyCode::Char('c') if ctrl => {
                self.prompt = None;
                return SearchKey::Closed;
            }
            KeyCode::Char('u') if ctrl => prompt.input.clear(),
            KeyCode::Backspace => {
                prompt.input.pop();
            }
            KeyCode::Char(c) if !ctrl && !c.is_control() => prompt.input.push(c),
            KeyCode::Enter if prompt.input.is_empty() => {
                self.regex = None;
                self.prompt = None;
                return SearchKey::Closed;
            }
            KeyCode::Enter => match regex::RegexBuilder::new(&prompt.input)
                .size_limit(1 << 20)
                .build()
            {
                Ok(re) => {
                    self.regex = Some(re);
                    self.prompt = None;
                    return SearchKey::Applied;
                }
                Err(e) => {
                    let text = e.to_string();
                    prompt.error = Some(text.lines().last().unwrap_or("invalid regex").to_string());
                }
            },
            _ => {}
        }
        SearchKey::Editing
    }

    /// Pasted text goes into the prompt (one line).
    pub fn paste(&mut self, text: &str) -> bool {
        let Some(prompt) = &mut self.prompt else {
            return false;
        };
        prompt
            .input
            .extend(text.chars().filter(|c| !c.is_control()));
        prompt.error = None;
        true
    }

    /// Whether this row's text matches the search in force.
    pub fn hit(&self, text: &str) -> bool {
        self.regex.as_ref().is_some_and(|re| re.is_match(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn a_bad_regex_says_why_and_a_good_one_applies() {
        let mut s = Search::default();
        s.open();
        for c in "a(b".chars() {
            s.key(key(KeyCode::Char(c)));
        }
        assert_eq!(s.key(key(KeyCode::Enter)), SearchKey::Editing);
        assert!(s.prompt.as_ref().unwrap().error.is_some());
        s.key(key(KeyCode::Backspace));
        assert!(s.paste(")\n"), "a paste goes into the open prompt");
        assert_eq!(s.key(key(KeyCode::Enter)), SearchKey::Applied);
        assert!(s.hit("xxab"));
        assert!(!s.hit("b"));
    }
}
