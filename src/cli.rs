//! Command-line interface. Connection flags carry the hubble CLI's names, meanings and env
//! variables, so runbooks and muscle memory work unchanged.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand};

use crate::serve::Scenario;

#[derive(Debug, Parser)]
#[command(
    name = "hubtop",
    version = env!("HUBTOP_VERSION_TEXT"),
    about = "A terminal UI for Cilium Hubble network flows",
    long_about = "A terminal UI for Cilium Hubble network flows.\n\n\
        Run `kubectl -n kube-system port-forward svc/hubble-relay 4245:80`, then `hubtop` \
        (or `hubtop -P` to have hubtop run the port-forward). `hubtop demo` needs no cluster; \
        `hubtop doctor` says why a connection fails.",
    args_conflicts_with_subcommands = true,
    after_help = "Filter flags: every filter flag of `hubble observe` (--verdict DROPPED, --to-pod \
        ns/pod, --from-label app=x, --not, --allowlist JSON, ...) is accepted by `hubtop` and \
        `hubtop demo` and becomes the starting filter; press / in the TUI to change it. `hubtop \
        man` lists them."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub conn: ConnectionArgs,
    #[command(flatten)]
    pub tui: TuiArgs,
    /// Browse a capture instead of a server: jsonpb lines as `hubble observe -o jsonpb` writes
    /// them, gzip-compressed too (.gz), `-` for stdin. Several files (repeat the flag, or list
    /// them after it) are merged in time order.
    #[arg(long, value_name = "FILE", num_args = 1.., help_heading = "Capture")]
    pub input_file: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the TUI on a built-in demo cluster (a Hubble server on 127.0.0.1, over real gRPC).
    Demo(DemoArgs),
    /// Serve the Hubble Observer API from the demo generator or a capture file.
    Serve(ServeArgs),
    /// Check the path to Hubble step by step and say what failed (exit 0 when all pass).
    #[command(
        long_about = "Check the path to Hubble step by step and say what failed: where the \
            address comes from, kubectl, its context, the hubble-relay service, the port-forward \
            (-P), TCP, TLS, basic auth, ServerStatus and a first flow. Each step waits at most \
            --timeout. Exit 0 when no step failed, 1 otherwise."
    )]
    Doctor {
        #[command(flatten)]
        conn: ConnectionArgs,
    },
    /// Print flows headless, exactly like `hubble observe` (same flags, formats and exit codes).
    Observe {
        /// `hubble observe` flags; see `hubtop observe --help`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// hubble's config file (~/.config/hubble/config.yaml): `hubtop config view`.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Print a shell completion script (filter flags and their values included).
    Completion {
        /// bash: `source <(hubtop completion bash)`; see the README for zsh and fish.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page hubtop(1) as roff, or write a page per command with --dir.
    Man {
        /// Print this command's page instead: `hubtop man observe` is hubtop-observe(1).
        #[arg(value_name = "COMMAND", value_parser = MAN_PAGES, conflicts_with = "dir")]
        command: Option<String>,
        /// Write hubtop.1, hubtop-demo.1, hubtop-observe.1, ... into this directory.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print the connection settings in force and where each came from (flag > env > file >
    /// default).
    View {
        #[command(flatten)]
        conn: ConnectionArgs,
    },
}

/// The commands with a page of their own (`hubtop man COMMAND`): every subcommand.
pub const MAN_PAGES: [&str; 7] = [
    "demo",
    "serve",
    "doctor",
    "observe",
    "config",
    "completion",
    "man",
];

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Connection")]
pub struct ConnectionArgs {
    /// hubble's config file (default: $XDG_CONFIG_HOME/hubble/config.yaml, which is
    /// ~/.config/hubble/config.yaml). Each setting: flag > env > file > default; `hubtop config
    /// view` shows them.
    #[arg(long, value_name = "FILE", env = "HUBBLE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address of a Hubble server or Relay; a `tls://` prefix means TLS.
    #[arg(long, env = "HUBBLE_SERVER", default_value = "localhost:4245")]
    pub server: String,
    /// Use TLS to connect to the server.
    #[arg(long, env = "HUBBLE_TLS")]
    pub tls: bool,
    /// Accept any certificate and host name the server presents (insecure).
    #[arg(long, env = "HUBBLE_TLS_ALLOW_INSECURE")]
    pub tls_allow_insecure: bool,
    /// Paths to custom CA certificates (comma-separated or repeated).
    #[arg(long, env = "HUBBLE_TLS_CA_CERT_FILES", value_delimiter = ',')]
    pub tls_ca_cert_files: Vec<PathBuf>,
    /// Path to the client certificate for mutual TLS.
    #[arg(
        long,
        env = "HUBBLE_TLS_CLIENT_CERT_FILE",
        requires = "tls_client_key_file"
    )]
    pub tls_client_cert_file: Option<PathBuf>,
    /// Path to the client private key for mutual TLS.
    #[arg(
        long,
        env = "HUBBLE_TLS_CLIENT_KEY_FILE",
        requires = "tls_client_cert_file"
    )]
    pub tls_client_key_file: Option<PathBuf>,
    /// Server name to verify in the server's certificate (default: the host of --server).
    #[arg(long, env = "HUBBLE_TLS_SERVER_NAME")]
    pub tls_server_name: Option<String>,
    /// Hubble server dialing timeout (Go duration: 5s, 500ms, 1m).
    #[arg(long, env = "HUBBLE_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Specify a username for basic auth (sent on every call; like hubble, only over TLS, or to
    /// a loopback address such as a kubectl port-forward).
    #[arg(
        long,
        value_name = "USER",
        env = "HUBBLE_BASIC_AUTH_USERNAME",
        default_value = ""
    )]
    pub basic_auth_username: String,
    /// Specify a password for basic auth.
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "HUBBLE_BASIC_AUTH_PASSWORD",
        default_value = "",
        hide_env_values = true
    )]
    pub basic_auth_password: String,
    /// Run `kubectl port-forward` to hubble-relay and connect through it.
    #[arg(short = 'P', long, env = "HUBBLE_PORT_FORWARD")]
    pub port_forward: bool,
    /// Namespace of hubble-relay for --port-forward.
    #[arg(long, env = "HUBBLE_KUBE_NAMESPACE", default_value = "kube-system")]
    pub kube_namespace: String,
    /// Kubernetes context for --port-forward.
    #[arg(long, env = "HUBBLE_KUBE_CONTEXT")]
    pub kube_context: Option<String>,
    /// Kubeconfig file for --port-forward (kubectl's own default, $KUBECONFIG or ~/.kube/config,
    /// without it).
    #[arg(long, env = "HUBBLE_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubectl program --port-forward runs.
    #[arg(long, env = "HUBTOP_KUBECTL", default_value = "kubectl", hide = true)]
    pub kubectl: PathBuf,
}

impl ConnectionArgs {
    /// Plain-text gRPC to `server` with every other option at its default.
    pub fn plain(server: String) -> Self {
        ConnectionArgs {
            config: None,
            server,
            tls: false,
            tls_allow_insecure: false,
            tls_ca_cert_files: vec![],
            tls_client_cert_file: None,
            tls_client_key_file: None,
            tls_server_name: None,
            timeout: Duration::from_secs(5),
            basic_auth_username: String::new(),
            basic_auth_password: String::new(),
            port_forward: false,
            kube_namespace: "kube-system".into(),
            kube_context: None,
            kubeconfig: None,
            kubectl: "kubectl".into(),
        }
    }

    /// The basic auth credentials (user, password) to send, if any. Both or neither, as hubble
    /// insists: one without the other is an error in hubble's words.
    pub fn basic_auth(&self) -> Result<Option<(String, String)>, String> {
        match (
            self.basic_auth_username.is_empty(),
            self.basic_auth_password.is_empty(),
        ) {
            (true, true) => Ok(None),
            (false, false) => Ok(Some((
                self.basic_auth_username.clone(),
                self.basic_auth_password.clone(),
            ))),
            _ => Err("must specify both basic-auth-username and basic-auth-password".into()),
        }
    }
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Display")]
pub struct TuiArgs {
    /// Flows to backfill at start-up, then follow (default: as many as the ring holds).
    #[arg(long, value_name = "N")]
    pub last: Option<u64>,
    /// Ring capacity: the most flows held in memory.
    #[arg(long, value_name = "N", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=50_000_000))]
    pub buffer: u64,
    /// Write connection events and every GetFlows request sent as JSON lines to this file.
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// Flows since this time: relative (5m, 1h30m) or absolute (RFC 3339, 2006-01-02); for a
    /// capture, relative times count back from its newest flow. `:since` changes it.
    #[arg(long, value_name = "TIME", help_heading = "Time window")]
    pub since: Option<String>,
    /// Flows until this time (same forms as --since). `:until` changes it.
    #[arg(long, value_name = "TIME", help_heading = "Time window")]
    pub until: Option<String>,
    /// Append every flow received (before local filtering) to this file as jsonpb lines, as
    /// `hubble observe -o jsonpb` writes them.
    #[arg(long, value_name = "FILE", help_heading = "Recording")]
    pub record: Option<PathBuf>,
    /// Start a new --record file when the current one reaches this size (bytes; K, M, G
    /// suffixes; 0: never).
    #[arg(long, value_name = "SIZE", default_value = "100M", value_parser = parse_size, help_heading = "Recording")]
    pub record_max_size: u64,
    /// Rotated --record files kept besides the current one (FILE.1 is the newest).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 5,
        help_heading = "Recording"
    )]
    pub record_keep: u32,
    /// Serve OpenMetrics for Prometheus at http://ADDR/metrics (`127.0.0.1:9965`, or `:9965`
    /// for every interface): every flow received, by verdict, drop reason, workload, route.
    #[arg(long, value_name = "ADDR", value_parser = crate::metrics::parse_listen, help_heading = "Metrics")]
    pub metrics_listen: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Flows per second the demo cluster produces.
    #[arg(long, default_value_t = 300.0, value_parser = parse_rate)]
    pub rate: f64,
    #[command(flatten)]
    pub incident: IncidentArgs,
    #[command(flatten)]
    pub tui: TuiArgs,
}

/// The demo's cluster and the incident it plays (`hubtop demo`, `hubtop serve --demo`).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Demo cluster")]
pub struct IncidentArgs {
    /// Make the demo cluster (names, addresses, identities) and its traffic reproducible.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Play an incident on cue (after --scenario-at), amid the normal traffic.
    #[arg(long, value_name = "NAME")]
    pub scenario: Option<Scenario>,
    /// When the --scenario incident begins, counted from the start (Go duration: 45s, 2m): long
    /// enough for a baseline the changes view and the alerts compare against.
    #[arg(long, value_name = "DURATION", default_value = "45s", value_parser = parse_duration, requires = "scenario")]
    pub scenario_at: Duration,
}

#[derive(Debug, Clone, Args)]
#[command(group = clap::ArgGroup::new("source").required(true).args(["demo", "input_file"]))]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:4245")]
    pub listen: SocketAddr,
    /// Serve flows from the built-in demo cluster.
    #[arg(long)]
    pub demo: bool,
    /// Flows per second for --demo.
    #[arg(long, default_value_t = 300.0, value_parser = parse_rate, requires = "demo")]
    pub rate: f64,
    /// Serve the flows of a capture (jsonpb lines, as `hubble observe -o jsonpb` prints).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["seed", "scenario"])]
    pub input_file: Option<PathBuf>,
    /// Flows the server keeps for GetFlows backfills.
    #[arg(long, value_name = "N", default_value_t = 65_535)]
    pub buffer: usize,
    /// Require HTTP basic auth with this user name (with --basic-auth-password) on every call,
    /// as an authenticating proxy in front of Hubble would.
    #[arg(long, value_name = "USER", requires = "basic_auth_password")]
    pub basic_auth_username: Option<String>,
    /// The password for --basic-auth-username.
    #[arg(long, value_name = "PASSWORD", requires = "basic_auth_username")]
    pub basic_auth_password: Option<String>,
    /// Serve OpenMetrics for Prometheus at http://ADDR/metrics (`127.0.0.1:9965`, or `:9965`
    /// for every interface): every flow served, by verdict, drop reason, workload, route.
    #[arg(long, value_name = "ADDR", value_parser = crate::metrics::parse_listen)]
    pub metrics_listen: Option<String>,
    // Last: its help heading would go on to the flags after it.
    #[command(flatten)]
    pub incident: IncidentArgs,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && (0.0..=10_000_000.0).contains(&r) => Ok(r),
        _ => Err(format!(
            "{s:?} is not a rate in flows/s from 0 (an idle cluster) to 10000000"
        )),
    }
}

/// A size in bytes: `1048576`, `512K`, `100M`, `2G` (powers of 1024; `KiB`/`MB` spellings too).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let bad = || format!("invalid size {s:?} (examples: 1048576, 512K, 100M, 2G)");
    let n: u64 = t[..digits].parse().map_err(|_| bad())?;
    let unit = t[digits..].trim().to_ascii_uppercase();
    let scale: u64 = match unit.trim_end_matches("IB").trim_end_matches('B') {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => return Err(bad()),
    };
    n.checked_mul(scale).ok_or_else(bad)
}

/// Go's `time.ParseDuration` subset people use: `500ms`, `5s`, `1m30s`, `2h`, `1.5s`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration {s:?} (examples: 500ms, 5s, 1m30s)");
    let mut rest = s.trim();
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let value: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += value * scale;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("512K"), Ok(512 << 10));
        assert_eq!(parse_size("100M"), Ok(100 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("0"), Ok(0));
        assert!(parse_size("10X").is_err());
        assert!(parse_size("M").is_err());
    }

    #[test]
    fn go_durations_parse_like_hubble_flags() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn server_defaults_to_localhost_4245_and_reads_the_flags() {
        let cli =
            Cli::try_parse_from(["hubtop", "--server", "tls://relay:443", "--last", "50"]).unwrap();
        assert_eq!(cli.conn.server, "tls://relay:443");
        assert_eq!(cli.tui.last, Some(50));
        assert!(cli.command.is_none());
        let demo = Cli::try_parse_from(["hubtop", "demo", "--rate", "1000"]).unwrap();
        assert!(matches!(demo.command, Some(Command::Demo(d)) if d.rate == 1000.0));
        // 0 is an idle cluster, as the error says; negative, NaN and too fast are refused.
        let idle = Cli::try_parse_from(["hubtop", "serve", "--demo", "--rate", "0"]).unwrap();
        assert!(matches!(idle.command, Some(Command::Serve(s)) if s.rate == 0.0));
        for bad in ["-1", "NaN", "inf", "10000001", "fast"] {
            let flag = format!("--rate={bad}");
            let e = Cli::try_parse_from(["hubtop", "demo", &flag]).unwrap_err();
            assert!(
                e.to_string()
                    .contains("from 0 (an idle cluster) to 10000000"),
                "{e}"
            );
        }
    }

    #[test]
    fn the_demo_takes_a_scenario_its_cue_and_a_seed() {
        let demo = Cli::try_parse_from(["hubtop", "demo", "--scenario", "label-change"]).unwrap();
        let Some(Command::Demo(d)) = demo.command else {
            panic!("{demo:?}")
        };
        assert_eq!(d.incident.scenario, Some(Scenario::LabelChange));
        assert_eq!(d.incident.scenario_at, Duration::from_secs(45));
        assert_eq!(d.incident.seed, None);
        let serve = Cli::try_parse_from([
            "hubtop",
            "serve",
            "--demo",
            "--seed",
            "7",
            "--scenario=fqdn-missing",
            "--scenario-at=1m30s",
        ])
        .unwrap();
        let Some(Command::Serve(s)) = serve.command else {
            panic!("{serve:?}")
        };
        assert_eq!(s.incident.scenario, Some(Scenario::FqdnMissing));
        assert_eq!(s.incident.scenario_at, Duration::from_secs(90));
        assert_eq!(s.incident.seed, Some(7));
    }

    #[test]
    fn serve_needs_a_source() {
        assert!(Cli::try_parse_from(["hubtop", "serve"]).is_err());
        assert!(
            Cli::try_parse_from(["hubtop", "serve", "--demo", "--listen", "127.0.0.1:0"]).is_ok()
        );
    }

    #[test]
    fn basic_auth_takes_both_flags_or_neither_in_hubbles_words() {
        let cli = Cli::try_parse_from([
            "hubtop",
            "--basic-auth-username",
            "ana",
            "--basic-auth-password",
            "s3cr:et",
        ])
        .unwrap();
        assert_eq!(
            cli.conn.basic_auth(),
            Ok(Some(("ana".into(), "s3cr:et".into())))
        );
        let none = Cli::try_parse_from(["hubtop"]).unwrap();
        assert_eq!(none.conn.basic_auth(), Ok(None));
        let half = Cli::try_parse_from(["hubtop", "--basic-auth-username", "ana"]).unwrap();
        assert_eq!(
            half.conn.basic_auth(),
            Err("must specify both basic-auth-username and basic-auth-password".into())
        );
    }
}
