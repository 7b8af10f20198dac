//! Scanning an argument vector the way pflag does: `--flag=value`, `--flag value`, bare flags
//! with a default (`--not`, `-4`, `-A`), shorthand clusters (`-4n kube-system`, `-nprod`,
//! `-n=prod`), `--` ending the flags. Filter flags are handed to the caller in order; every
//! other argument is kept, untouched and in order, for the caller's own parser.

use super::FlagError;
use super::table::{self, FlagSpec};

/// Walks `args`, calling `on_flag` for each filter flag with its value; returns the rest.
pub(crate) fn scan(
    args: &[String],
    mut on_flag: impl FnMut(&'static FlagSpec, String) -> Result<(), FlagError>,
) -> Result<Vec<String>, FlagError> {
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg.len() < 2 || !arg.starts_with('-') {
            rest.push(arg.clone());
        } else if arg == "--" {
            rest.extend_from_slice(&args[i - 1..]);
            break;
        } else if let Some(body) = arg.strip_prefix("--") {
            long(arg, body, args, &mut i, &mut rest, &mut on_flag)?;
        } else {
            shorts(arg, args, &mut i, &mut rest, &mut on_flag)?;
        }
    }
    Ok(rest)
}

fn long(
    arg: &str,
    body: &str,
    args: &[String],
    i: &mut usize,
    rest: &mut Vec<String>,
    on_flag: &mut impl FnMut(&'static FlagSpec, String) -> Result<(), FlagError>,
) -> Result<(), FlagError> {
    let (name, inline) = match body.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (body, None),
    };
    if let Some(spec) = table::by_name(name).filter(|_| !name.is_empty()) {
        let value = match (inline, spec.bare) {
            (Some(v), _) => v.to_string(),
            (None, Some(bare)) => bare.to_string(),
            (None, None) => match args.get(*i) {
                Some(v) => {
                    *i += 1;
                    v.clone()
                }
                None => {
                    return Err(FlagError::other(
                        spec,
                        format!("flag needs an argument: {arg}"),
                    ));
                }
            },
        };
        return on_flag(spec, value);
    }
    rest.push(arg.to_string());
    if inline.is_none() && table::other_long_takes_value(name) == Some(true) && *i < args.len() {
        rest.push(args[*i].clone());
        *i += 1;
    }
    Ok(())
}

/// A shorthand cluster such as `-4n kube-system`. Non-filter shorthands are passed on as one
/// `-…` argument each run; an unknown one ends the cluster (its value is not ours to judge).
fn shorts(
    arg: &str,
    args: &[String],
    i: &mut usize,
    rest: &mut Vec<String>,
    on_flag: &mut impl FnMut(&'static FlagSpec, String) -> Result<(), FlagError>,
) -> Result<(), FlagError> {
    let cluster = &arg[1..];
    let mut pending = String::new();
    let flush = |pending: &mut String, rest: &mut Vec<String>| {
        if !pending.is_empty() {
            rest.push(format!("-{pending}"));
            pending.clear();
        }
    };
    let mut pos = 0;
    while pos < cluster.len() {
        let here = &cluster[pos..];
        let c = here.as_bytes()[0];
        if let Some(spec) = c.is_ascii().then(|| table::by_short(c)).flatten() {
            flush(&mut pending, rest);
            let value = if here.len() > 2 && here.as_bytes()[1] == b'=' {
                pos = cluster.len();
                here[2..].to_string()
            } else if let Some(bare) = spec.bare {
                pos += 1;
                bare.to_string()
            } else if here.len() > 1 {
                pos = cluster.len();
                here[1..].to_string()
            } else if let Some(v) = args.get(*i) {
                *i += 1;
                pos = cluster.len();
                v.clone()
            } else {
                let msg = format!("flag needs an argument: '{}' in -{here}", c as char);
                return Err(FlagError::other(spec, msg));
            };
            on_flag(spec, value)?;
            continue;
        }
        match c
            .is_ascii()
            .then(|| table::other_short_takes_value(c))
            .flatten()
        {
            Some(false) => {
                pending.push(c as char);
                pos += 1;
            }
            Some(true) => {
                // `-ojson`, `-o=json` or `-o json`: the rest of the cluster is the value.
                pending.push_str(here);
                flush(&mut pending, rest);
                if here.len() == 1 && *i < args.len() {
                    rest.push(args[*i].clone());
                    *i += 1;
                }
                return Ok(());
            }
            None => {
                pending.push_str(here);
                flush(&mut pending, rest);
                return Ok(());
            }
        }
    }
    flush(&mut pending, rest);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Scanned = (Vec<(String, String)>, Vec<String>);

    fn run(args: &[&str]) -> Result<Scanned, FlagError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut seen = Vec::new();
        let rest = scan(&args, |spec, v| {
            seen.push((spec.name.to_string(), v));
            Ok(())
        })?;
        Ok((seen, rest))
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn long_flags_take_inline_next_or_bare_values() {
        let (seen, rest) =
            run(&["--pod=a", "--pod", "-b", "--not", "--encrypted", "--not=x"]).unwrap();
        assert_eq!(
            seen,
            pairs(&[
                ("pod", "a"),
                ("pod", "-b"),
                ("not", "true"),
                ("encrypted", "true"),
                ("not", "x")
            ])
        );
        assert!(rest.is_empty());
    }

    #[test]
    fn shorthand_clusters_split_like_pflag() {
        let (seen, rest) = run(&["-4n", "kube-system", "-nprod", "-n=x", "-n=", "-A6"]).unwrap();
        assert_eq!(
            seen,
            pairs(&[
                ("ipv4", "v4"),
                ("namespace", "kube-system"),
                ("namespace", "prod"),
                ("namespace", "x"),
                ("namespace", "="),
                ("all-namespaces", "true"),
                ("ipv6", "v6")
            ])
        );
        assert!(rest.is_empty());
    }

    #[test]
    fn other_flags_and_their_values_are_kept_in_order() {
        let (seen, rest) = run(&[
            "--last",
            "5",
            "-o",
            "jsonpb",
            "--all",
            "--verdict",
            "DROPPED",
            "-fn",
            "ns",
            "--since=1h",
            "x",
            "--",
            "--pod",
            "p",
        ])
        .unwrap();
        assert_eq!(seen, pairs(&[("verdict", "DROPPED"), ("namespace", "ns")]));
        assert_eq!(
            rest,
            [
                "--last",
                "5",
                "-o",
                "jsonpb",
                "--all",
                "-f",
                "--since=1h",
                "x",
                "--",
                "--pod",
                "p"
            ]
        );
    }

    #[test]
    fn a_value_flag_of_hubble_shields_a_dash_value() {
        let (seen, rest) = run(&["--server", "--pod", "-ojson", "-Xn", "y"]).unwrap();
        assert!(seen.is_empty());
        assert_eq!(rest, ["--server", "--pod", "-ojson", "-Xn", "y"]);
    }

    #[test]
    fn a_filter_flag_without_its_value_is_an_error() {
        assert_eq!(
            run(&["--pod"]).unwrap_err().to_string(),
            "flag needs an argument: --pod"
        );
        assert_eq!(
            run(&["-n"]).unwrap_err().to_string(),
            "flag needs an argument: 'n' in -n"
        );
    }

    #[test]
    fn odd_arguments_never_panic() {
        for a in ["-", "--", "---", "--=", "-é", "--é=ü", "-4é", "-\u{0}", ""] {
            let _ = run(&[a, "x"]);
            let _ = run(&[a]);
        }
    }
}
