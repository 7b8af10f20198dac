//! Splitting the filter bar's text into arguments the way a shell would (spaces, '…' and "…"),
//! remembering where each word stands so an error can point at it.

use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    /// Byte range in the input, quotes included.
    pub span: Range<usize>,
}

/// Splits `input`; an unterminated quote is an error naming where it opened.
pub fn split(input: &str) -> Result<Vec<Word>, (String, Range<usize>)> {
    let mut words = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut text = String::new();
        let mut end = start;
        while let Some(&(i, c)) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            end = i + c.len_utf8();
            match c {
                '\'' | '"' => {
                    let quote = c;
                    let mut closed = false;
                    for (j, q) in chars.by_ref() {
                        end = j + q.len_utf8();
                        if q == quote {
                            closed = true;
                            break;
                        }
                        text.push(q);
                    }
                    if !closed {
                        return Err((format!("unterminated {quote} quote"), i..input.len()));
                    }
                }
                '\\' => {
                    if let Some((j, n)) = chars.next() {
                        end = j + n.len_utf8();
                        text.push(n);
                    }
                }
                c => text.push(c),
            }
        }
        words.push(Word {
            text,
            span: start..end,
        });
    }
    Ok(words)
}

/// Joins arguments back into text that [`split`] reads back the same.
pub fn join(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if !a.is_empty() && !a.chars().any(|c| c.is_whitespace() || "'\"\\".contains(c)) {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\"'\"'"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        split(s).unwrap().into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn words_split_on_spaces_and_keep_quoted_spaces() {
        assert_eq!(
            texts("--verdict DROPPED  --to-pod ingest/kafka"),
            ["--verdict", "DROPPED", "--to-pod", "ingest/kafka"]
        );
        assert_eq!(
            texts(r#"--http-path '/api v1' -l "app in (a, b)""#),
            ["--http-path", "/api v1", "-l", "app in (a, b)"]
        );
        assert_eq!(split("a  bc").unwrap()[1].span, 3..5);
    }

    #[test]
    fn an_open_quote_is_an_error_pointing_at_it() {
        let (msg, span) = split("--label 'app=x").unwrap_err();
        assert!(msg.contains("unterminated"));
        assert_eq!(span, 8..14);
    }

    #[test]
    fn join_round_trips_through_split() {
        let args: Vec<String> = ["--http-path", "/a b", "it's", "", "plain"]
            .map(String::from)
            .to_vec();
        assert_eq!(texts(&join(&args)), args);
    }
}
