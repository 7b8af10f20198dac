//! What went wrong with a connection, and what follows from it: try again after the usual
//! backoff, try again at once (a silent server may answer any moment), or stop until the user
//! asks for another try, because trying again cannot help until something changes.

use tonic::{Code, Status};

use super::connect::{DialError, DialFailure};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Refused, reset, the server restarting, `Unavailable`, …: retried with capped
    /// exponential backoff.
    Transient(String),
    /// The server stopped answering (or never answered on a new connection): retried within a
    /// second, so that a server that was stopped or cut off is back as soon as it answers.
    Silent(String),
    /// Retrying cannot help until the credentials, the server or the filter change: retried
    /// only when the user asks (`r`) or sets another filter.
    Permanent {
        /// What the server or the connection said.
        error: String,
        /// What is wrong, and what to do about it.
        advice: String,
    },
}

impl Failure {
    /// The error in one line, as logged and shown.
    pub fn text(&self) -> &str {
        match self {
            Failure::Transient(e) | Failure::Silent(e) => e,
            Failure::Permanent { error, .. } => error,
        }
    }

    /// A gRPC status from a call or a stream; `credentials`: whether we sent some.
    pub fn from_status(status: &Status, credentials: bool) -> Failure {
        let error = status_text(status);
        match advice(status.code(), credentials) {
            Some(advice) => Failure::Permanent {
                error,
                advice: advice.into(),
            },
            None => Failure::Transient(error),
        }
    }

    /// A dial that failed: the address is named by the caller.
    pub fn from_dial(e: DialError, addr: &str) -> Failure {
        let error = format!("failed to connect to {addr}: {}", e.cause);
        let permanent = |advice: &str| Failure::Permanent {
            error: error.clone(),
            advice: advice.into(),
        };
        match e.kind {
            DialFailure::Other => Failure::Transient(error),
            DialFailure::Timeout => Failure::Silent(error),
            DialFailure::NotTls => permanent(
                "the server does not speak TLS on this port: drop --tls and tls://, or check the port",
            ),
            DialFailure::Untrusted => permanent(
                "the server's certificate is not trusted: --tls-ca-cert-files CA.crt, \
                 --tls-server-name NAME, or --tls-allow-insecure",
            ),
            DialFailure::Config => permanent("check the --tls-* options"),
        }
    }
}

/// What to do about a status code that trying again cannot change; `None` for the codes worth
/// retrying (`Unavailable`, `Internal`, `ResourceExhausted`, `Unknown`, …).
fn advice(code: Code, credentials: bool) -> Option<&'static str> {
    Some(match code {
        Code::Unauthenticated if credentials => {
            "the server refused the credentials: check --basic-auth-username/--basic-auth-password \
             (or HUBBLE_BASIC_AUTH_USERNAME/PASSWORD)"
        }
        Code::Unauthenticated => {
            "server requires credentials: --basic-auth-username/--basic-auth-password \
             or HUBBLE_BASIC_AUTH_USERNAME/PASSWORD"
        }
        Code::PermissionDenied => {
            "the server denies these credentials access to flows: check the user and its rights"
        }
        Code::Unimplemented => {
            "this server does not serve the Hubble Observer API: point --server at Hubble Relay \
             (e.g. hubble-relay:80) or a Hubble server"
        }
        Code::InvalidArgument => "the server rejected the request: check the filter (/ edits it)",
        Code::FailedPrecondition => "the server cannot serve flows as it is: see its message",
        _ => return None,
    })
}

/// A status in one line: the code, the message, and what the transport error under it adds.
pub fn status_text(s: &Status) -> String {
    let mut text = s.message().to_string();
    let mut cur = std::error::Error::source(s);
    while let Some(e) = cur {
        let link = e.to_string();
        if link.starts_with(&text) {
            // tonic's message for a transport error is the first link of the chain.
            text = link;
        } else if !text.contains(&link) {
            text = format!("{text}: {link}");
        }
        cur = e.source();
    }
    if text.is_empty() {
        format!("{:?}", s.code())
    } else {
        format!("{:?}: {text}", s.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_that_retrying_cannot_change_stop_with_advice_and_the_rest_back_off() {
        for code in [
            Code::Unauthenticated,
            Code::PermissionDenied,
            Code::Unimplemented,
            Code::InvalidArgument,
            Code::FailedPrecondition,
        ] {
            let f = Failure::from_status(&Status::new(code, "no"), false);
            assert!(matches!(f, Failure::Permanent { .. }), "{code:?}: {f:?}");
        }
        for code in [
            Code::Cancelled,
            Code::Unknown,
            Code::DeadlineExceeded,
            Code::NotFound,
            Code::AlreadyExists,
            Code::ResourceExhausted,
            Code::Aborted,
            Code::OutOfRange,
            Code::Internal,
            Code::Unavailable,
            Code::DataLoss,
        ] {
            let f = Failure::from_status(&Status::new(code, "busy"), false);
            assert_eq!(f, Failure::Transient(format!("{code:?}: busy")));
        }
    }

    #[test]
    fn unauthenticated_says_which_flags_give_credentials_or_that_they_were_refused() {
        let status = Status::unauthenticated("invalid basic auth credentials");
        let Failure::Permanent { error, advice } = Failure::from_status(&status, false) else {
            panic!("permanent");
        };
        assert_eq!(error, "Unauthenticated: invalid basic auth credentials");
        assert!(advice.starts_with(
            "server requires credentials: --basic-auth-username/--basic-auth-password"
        ));
        let Failure::Permanent { advice, .. } = Failure::from_status(&status, true) else {
            panic!("permanent");
        };
        assert!(
            advice.starts_with("the server refused the credentials"),
            "{advice}"
        );
    }

    #[test]
    fn a_transport_error_reads_once_not_twice() {
        let status = Status::from_error(Box::new(std::io::Error::other("connection reset")));
        assert_eq!(status_text(&status), "Unknown: connection reset");
        assert_eq!(status_text(&Status::new(Code::Internal, "")), "Internal");
    }
}
