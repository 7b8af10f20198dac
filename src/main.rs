//! `hubtop`: the TUI on a live Hubble server, `hubtop demo`, `hubtop serve`, `hubtop observe`,
//! and `hubtop completion` / `hubtop man`.

use std::io::IsTerminal;
use std::sync::Arc;

use clap::{CommandFactory, FromArgMatches};
use color_eyre::eyre::{Result, WrapErr};

use hubtop::cli::{
    Cli, Command, ConfigAction, ConnectionArgs, DemoArgs, IncidentArgs, ServeArgs, TuiArgs,
};
use hubtop::filter::FlowMatcher;
use hubtop::filter::flags::{self as filter_flags, FilterFlags};
use hubtop::serve::{self, DemoConfig, FlowSource, ServeOptions};
use hubtop::source::{RecordSpec, SourceConfig, eventlog::EventLog};
use hubtop::tui::Origin;
use hubtop::window::TimeWindow;

fn main() {
    // Panics (bugs) get color-eyre's report, in colour only on a terminal that wants it. Errors
    // a person caused or can fix (a bad flag, an unreachable file) get one plain line, without a
    // backtrace, whatever RUST_BACKTRACE says.
    let plain = !std::io::stderr().is_terminal() || hubtop::tui::colours_off();
    let mut hooks = color_eyre::config::HookBuilder::default().display_env_section(false);
    if plain {
        hooks = hooks.theme(color_eyre::config::Theme::new());
    }
    if let Err(e) = hooks.install() {
        eprintln!("Error: {e}");
    }
    let code = match run() {
        Ok(()) => hubtop::tui::signal_received().map_or(0, |signal| 128 + signal),
        Err(e) => {
            eprintln!("Error: {}", error_line(&e));
            1
        }
    };
    std::process::exit(code);
}

/// An error and its causes on one line, as Go's wrapped errors read
/// (`cannot open --log-file /x/log: No such file or directory (os error 2)`).
fn error_line(e: &color_eyre::eyre::Report) -> String {
    let mut line = String::new();
    for (i, cause) in e.chain().enumerate() {
        let text = cause.to_string();
        if i > 0 {
            if line.ends_with(&text) {
                continue; // a wrapper that already printed its cause
            }
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    hubtop::format::sanitize(&line).into_owned()
}

fn run() -> Result<()> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    // `kubectl hubtop`: kubectl runs the binary under the name kubectl-hubtop.
    let plugin = std::env::args_os()
        .next()
        .is_some_and(|a| hubtop::config::invoked_as_kubectl_plugin(&a));
    hubtop::config::set_kubectl_plugin(plugin);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .wrap_err("starting the async runtime")?;
    if argv.first().is_some_and(|a| a == "observe") {
        // Headless, like `hubble observe`: its own flags, output and exit codes.
        let code = runtime.block_on(hubtop::observe::run(argv[1..].to_vec()));
        std::process::exit(code);
    }
    // Filter flags are hubble's, parsed as hubble parses them; clap reads what is left.
    let (filters, rest) = match filter_flags::parse(&argv) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("Error: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = FlowMatcher::compile(&filters.allowlist, &filters.denylist) {
        eprintln!("Error: {e}");
        std::process::exit(1);
    }
    let mut command = Cli::command();
    if plugin {
        command = command.bin_name("kubectl hubtop");
    }
    let matches = command.get_matches_from(std::iter::once("hubtop".to_string()).chain(rest));
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Some(("config", sub)) = matches.subcommand() {
        let Some(Command::Config {
            action: ConfigAction::View { conn },
        }) = &mut cli.command
        else {
            unreachable!("clap parsed `config` into Command::Config");
        };
        let view = sub.subcommand_matches("view").unwrap_or(sub);
        let resolved = hubtop::config::apply(conn, view).map_err(color_eyre::eyre::Report::msg)?;
        print!("{}", hubtop::config::view(conn, &resolved));
        return Ok(());
    }
    // hubble's config file, under the flags and the environment, for what connects to a server.
    let mut server_origin = None;
    match (&mut cli.command, matches.subcommand()) {
        (None, _) if cli.input_file.is_empty() => {
            hubtop::config::apply(&mut cli.conn, &matches)
                .map_err(color_eyre::eyre::Report::msg)?;
        }
        (Some(Command::Doctor { conn }), Some((_, m))) => {
            let resolved = hubtop::config::apply(conn, m).map_err(color_eyre::eyre::Report::msg)?;
            server_origin = Some(hubtop::doctor::ServerOrigin::of(&resolved));
        }
        _ => {}
    }
    runtime.block_on(async move {
        match cli.command {
            None if !cli.input_file.is_empty() => capture(cli.input_file, cli.tui, filters).await,
            None => tui(cli.conn, cli.tui, filters).await,
            Some(Command::Demo(args)) => demo(args, filters).await,
            Some(Command::Serve(args)) => serve_cmd(args).await,
            Some(Command::Doctor { conn }) => {
                doctor(conn, server_origin.unwrap_or_default(), &filters).await
            }
            // `main` hands `observe` over before clap; this arm serves `hubtop -- observe`-like
            // spellings that reach clap anyway.
            Some(Command::Observe { args }) => std::process::exit(hubtop::observe::run(args).await),
            Some(Command::Config { .. }) => Ok(()),
            Some(Command::Completion { shell }) => Ok(hubtop::completion::print(
                &hubtop::completion::completion_script(shell),
            )?),
            Some(Command::Man { command, dir: None }) => {
                let page = hubtop::completion::man_page(command.as_deref())?;
                Ok(hubtop::completion::print(&page)?)
            }
            Some(Command::Man { dir: Some(dir), .. }) => {
                for file in hubtop::completion::write_man_pages(&dir)? {
                    println!("{}", file.display());
                }
                Ok(())
            }
        }
    })
}

/// `hubtop doctor`: its exit code is the verdict.
async fn doctor(
    conn: ConnectionArgs,
    origin: hubtop::doctor::ServerOrigin,
    filters: &FilterFlags,
) -> Result<()> {
    if !filters.allowlist.is_empty() || !filters.denylist.is_empty() {
        color_eyre::eyre::bail!("hubtop doctor takes no filter flags: it checks the connection");
    }
    std::process::exit(hubtop::doctor::run(conn, origin).await)
}

fn source_config(
    conn: ConnectionArgs,
    tui: &TuiArgs,
    filters: FilterFlags,
) -> Result<SourceConfig> {
    let log = match &tui.log_file {
        Some(path) => {
            Some(Arc::new(EventLog::create(path).wrap_err_with(|| {
                format!("cannot open --log-file {}", path.display())
            })?))
        }
        None => None,
    };
    let window = TimeWindow::parse(tui.since.as_deref(), tui.until.as_deref())
        .map_err(color_eyre::eyre::Report::msg)?;
    let record = tui.record.clone().map(|path| RecordSpec {
        path,
        max_size: tui.record_max_size,
        keep: tui.record_keep,
    });
    Ok(SourceConfig {
        last: tui.last,
        whitelist: filters.allowlist,
        blacklist: filters.denylist,
        log,
        window,
        record,
        ..SourceConfig::new(conn, tui.buffer as usize)
    })
}

async fn tui(conn: ConnectionArgs, args: TuiArgs, filters: FilterFlags) -> Result<()> {
    if !conn.port_forward {
        // A typo in --server is an error now, not a reconnect loop behind the TUI.
        hubtop::source::ServerAddr::parse(&conn.server, conn.tls)?;
    }
    conn.basic_auth().map_err(color_eyre::eyre::Report::msg)?;
    let mut cfg = source_config(conn.clone(), &args, filters)?;
    cfg.metrics = metrics_listener(&args).await?;
    hubtop::tui::run(cfg, Origin::Server(Box::new(conn))).await
}

/// `hubtop --input-file FILE…`: the captures, merged in time order, in the TUI.
async fn capture(
    files: Vec<std::path::PathBuf>,
    args: TuiArgs,
    filters: FilterFlags,
) -> Result<()> {
    // A file that cannot be opened is an error now, in one line, not a TUI that says so.
    for f in files.iter().filter(|f| f.as_os_str() != "-") {
        std::fs::File::open(f)
            .wrap_err_with(|| format!("cannot open flow file {}", f.display()))?;
    }
    if files.iter().filter(|f| f.as_os_str() == "-").count() > 1 {
        color_eyre::eyre::bail!("--input-file - (stdin) can be given once");
    }
    let conn = ConnectionArgs::plain("127.0.0.1:0".into());
    let cfg = SourceConfig {
        capture: files.clone(),
        metrics: metrics_listener(&args).await?,
        ..source_config(conn, &args, filters)?
    };
    hubtop::tui::run(cfg, Origin::Capture(files)).await
}

/// The demo cluster the flags ask for.
fn demo_config(rate: f64, incident: &IncidentArgs) -> DemoConfig {
    DemoConfig {
        rate,
        seed: incident.seed,
        scenario: incident.scenario,
        scenario_at: incident.scenario_at,
    }
}

/// `--metrics-listen`, bound now: a port in use is an error before the TUI starts.
async fn metrics_listener(args: &TuiArgs) -> Result<Option<tokio::net::TcpListener>> {
    match &args.metrics_listen {
        Some(addr) => Ok(Some(hubtop::metrics::bind(addr).await?)),
        None => Ok(None),
    }
}

async fn demo(args: DemoArgs, filters: FilterFlags) -> Result<()> {
    let metrics = metrics_listener(&args.tui).await?;
    let (addr, server) = serve::spawn_local(ServeOptions {
        source: FlowSource::Demo(demo_config(args.rate, &args.incident)),
        buffer: 65_535,
        basic_auth: None,
    })
    .await
    .wrap_err("starting the demo server")?;
    let conn = ConnectionArgs::plain(addr.to_string());
    let mut cfg = source_config(conn, &args.tui, filters)?;
    cfg.metrics = metrics;
    let result = hubtop::tui::run(cfg, Origin::Demo(addr.to_string())).await;
    server.stop().await;
    result
}

async fn serve_cmd(args: ServeArgs) -> Result<()> {
    let source = match args.input_file {
        Some(path) => FlowSource::File(path),
        None => FlowSource::Demo(demo_config(args.rate, &args.incident)),
    };
    // On the server's terminal only: `hubtop demo` shows nothing of the scenario on its screen.
    if let FlowSource::Demo(DemoConfig {
        scenario: Some(s),
        scenario_at,
        ..
    }) = &source
    {
        eprintln!("hubtop serve: the {s} incident begins {scenario_at:?} after start");
    }
    let opts = ServeOptions {
        source,
        buffer: args.buffer,
        basic_auth: args.basic_auth_username.zip(args.basic_auth_password),
    };
    // The source first: a capture that cannot be read fails before anything is bound, and the
    // port is not taken (connections waiting unanswered) while a big one loads.
    let prepared = serve::prepare_metered(opts, args.metrics_listen.is_some()).await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .wrap_err_with(|| format!("cannot listen on {}", args.listen))?;
    let _metrics = match (&args.metrics_listen, prepared.metrics()) {
        (Some(addr), Some(render)) => {
            let endpoint = hubtop::metrics::spawn(hubtop::metrics::bind(addr).await?, render)?;
            // Before the listening line, which scripts and tests wait for.
            eprintln!("hubtop serve: metrics on http://{}/metrics", endpoint.addr);
            Some(endpoint)
        }
        _ => None,
    };
    // The address actually bound (`--listen 127.0.0.1:0` picks a free port), once the source is
    // ready: scripts and tests wait for this line, then connect.
    let ready = |addr| eprintln!("hubtop serve: listening on {addr}");
    serve::serve_prepared(listener, prepared, ready, hubtop::tui::quit_signal()).await
}
