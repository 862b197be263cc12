//! `rock serve`: the executor HTTP API over rock's sandboxes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{Context, Failure};
use crate::config::{keys, process_env};
use crate::exec::Language;
use crate::provider;
use crate::server::{self, admission, ServeOptions, TOKEN_ENV};
use crate::settings::{RunFlags, RunSettings};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; without a token only a loopback address is allowed
    #[arg(long, default_value = "127.0.0.1:9385", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// The provider whose sandboxes run the code: local, gvisor or docker
    #[arg(long, default_value = "local", value_name = "PROVIDER")]
    pub sandbox: String,
    /// Warm sandboxes to keep ready per language [default: serve.pool.python and
    /// serve.pool.nodejs in the config, 4 and 2]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(0..=256))]
    pub pool: Option<u16>,
    /// Programs that may run at once [default: the number of CPUs]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub max_concurrency: Option<u16>,
    /// Requests that may wait for a free slot; beyond that they are refused as busy
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub queue: usize,
    /// How long a request may wait for a free slot before it is refused as busy
    #[arg(long, default_value = "30", value_name = "SECS")]
    pub queue_timeout: String,
    /// File holding the API token [default: $SANDBOX_EXECUTOR_MANAGER_API_TOKEN]
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Runs per minute for all callers together, such as 600/min or 10/s
    #[arg(long, value_name = "N/min")]
    pub rate_limit: Option<String>,
    /// Largest timeout a request may ask for
    #[arg(long, default_value = "60", value_name = "SECS")]
    pub max_timeout: String,
    /// Largest memory a request may ask for
    #[arg(long, default_value = "1g", value_name = "SIZE")]
    pub max_memory: String,
    /// Log one JSON object per line instead of text
    #[arg(long)]
    pub log_json: bool,
}

pub fn run(args: ServeArgs, context: &Context) -> Result<i32, Failure> {
    let token = token(&args)?;
    server::check_exposure(&args.listen, token.as_deref()).map_err(Failure::rock)?;
    // Requests without a timeout or memory of their own get the configured defaults.
    let settings = RunSettings::resolve(&context.config, &process_env, &RunFlags::default())?;
    let seconds = |flag: &str, text: &str| -> Result<Duration, Failure> {
        let spec = keys::lookup("default.timeout").map_err(|e| Failure::rock(e.to_string()))?;
        let value = keys::parse_as(&spec, flag, text).map_err(Failure::rock)?;
        let seconds = value
            .as_float()
            .or_else(|| value.as_integer().map(|n| n as f64))
            .unwrap_or(0.0);
        Ok(Duration::from_secs_f64(seconds))
    };
    let max_timeout = seconds("--max-timeout", &args.max_timeout)?;
    let queue_timeout = seconds("--queue-timeout", &args.queue_timeout)?;
    let max_memory = crate::size::parse(&args.max_memory)
        .map_err(|e| Failure::rock(format!("--max-memory: {e}")))?;
    let rate_limit = args
        .rate_limit
        .as_deref()
        .map(admission::parse_rate)
        .transpose()
        .map_err(Failure::rock)?;

    let entry = provider::lookup(&args.sandbox)?;
    if !matches!(entry.name, "local" | "gvisor" | "docker") {
        return Err(Failure::rock(format!(
            "--sandbox must be local, gvisor or docker, whose sandboxes run on this machine or its container engine, not {}",
            entry.name
        )));
    }
    let table = context.config.provider_table(entry.name, &process_env)?;
    let provider = provider::build(entry.name, &table, &context.provider_context()?)?;
    let max_concurrency = args
        .max_concurrency
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let mut pool = Vec::new();
    for language in Language::ALL {
        let size = match args.pool {
            Some(size) => usize::from(size),
            None => context
                .config
                .value(&format!("serve.pool.{}", language.name()), &process_env)?
                .and_then(|v| v.as_integer())
                .unwrap_or(0) as usize,
        };
        pool.push((language, size));
    }
    let options = ServeOptions {
        provider: std::sync::Arc::from(provider),
        pool,
        max_concurrency,
        queue_size: args.queue,
        queue_timeout,
        token: token.clone(),
        rate_limit,
        default_timeout: settings.timeout.value.min(max_timeout),
        max_timeout,
        default_memory: settings.memory.value.min(max_memory),
        max_memory,
        output_cap: usize::try_from(settings.output_cap.value).unwrap_or(usize::MAX),
    };

    init_logs(args.log_json);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::rock(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| Failure::rock(format!("cannot listen on {}: {e}", args.listen)))?;
        let address = listener
            .local_addr()
            .map_err(|e| Failure::rock(format!("cannot listen on {}: {e}", args.listen)))?;
        let access = if token.is_some() {
            "token required"
        } else {
            "no token: loopback only"
        };
        tracing::info!(
            "listening on http://{address} (sandbox {}, {max_concurrency} at once, {access})",
            entry.name
        );
        server::serve(listener, options, shutdown_signal())
            .await
            .map_err(|e| Failure::rock(format!("the server failed: {e}")))?;
        tracing::info!("stopped: every running program finished");
        Ok::<_, Failure>(())
    })?;
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(0)
}

/// The API token: from --token-file, else the environment, else none.
fn token(args: &ServeArgs) -> Result<Option<String>, Failure> {
    let token = match &args.token_file {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
            Failure::rock(format!(
                "cannot read the token file {}: {e}",
                path.display()
            ))
        })?),
        None => std::env::var(TOKEN_ENV).ok(),
    };
    match token.map(|t| t.trim().to_string()) {
        Some(t) if t.is_empty() => Err(Failure::rock(match &args.token_file {
            Some(path) => format!("the token file {} is empty", path.display()),
            None => format!("{TOKEN_ENV} is set but empty"),
        })),
        other => Ok(other),
    }
}

/// Logs go to stderr: one line per event, text or JSON.
fn init_logs(json: bool) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false);
    if json {
        builder.json().init();
    } else {
        builder.with_ansi(false).init();
    }
}

/// SIGTERM or Ctrl-C: stop accepting, let running programs finish.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = match signal(SignalKind::terminate()) {
        Ok(stream) => stream,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("shutting down: no new requests; waiting for running programs");
}
