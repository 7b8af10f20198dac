//! A yes/no question in the footer (`overwrite FILE? y/n`), holding what to do on yes. While it
//! is open it has the keys: `y` answers yes; `n`, `Esc` and `Ctrl-c` answer no; other keys are
//! ignored, so a stray key neither confirms nor loses the question.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone)]
pub struct Confirm<T> {
    /// The question, as shown (without ` y/n`).
    pub question: String,
    /// What a yes carries out.
    pub on_yes: T,
}

/// The answer a key gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer<T> {
    Yes(T),
    No,
    /// Not an answer: the question stays.
    Waiting(Confirm<T>),
}

impl<T> Confirm<T> {
    pub fn new(question: String, on_yes: T) -> Self {
        Confirm { question, on_yes }
    }

    /// The question as the footer shows it.
    pub fn prompt(&self) -> String {
        format!("{} y/n", self.question)
    }

    pub fn key(self, key: KeyEvent) -> Answer<T> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('c') if ctrl => Answer::No,
            KeyCode::Char('y' | 'Y') => Answer::Yes(self.on_yes),
            KeyCode::Char('n' | 'N') | KeyCode::Esc => Answer::No,
            _ => Answer::Waiting(self),
        }
    }
}

impl<T: PartialEq> PartialEq for Confirm<T> {
    fn eq(&self, other: &Self) -> bool {
        self.question == other.question && self.on_yes == other.on_yes
    }
}

impl<T: Eq> Eq for Confirm<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn y_confirms_n_and_esc_refuse_other_keys_wait() {
        let c = Confirm::new("overwrite ./x? ".trim().into(), 7);
        assert_eq!(c.prompt(), "overwrite ./x? y/n");
        assert_eq!(c.clone().key(key(KeyCode::Char('y'))), Answer::Yes(7));
        assert_eq!(c.clone().key(key(KeyCode::Char('n'))), Answer::No);
        assert_eq!(c.clone().key(key(KeyCode::Esc)), Answer::No);
        assert_eq!(
            c.clone()
                .key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Answer::No
        );
        assert_eq!(
            c.clone().key(key(KeyCode::Char('q'))),
            Answer::Waiting(c.clone())
        );
        assert_eq!(c.clone().key(key(KeyCode::Enter)), Answer::Waiting(c));
    }
}
