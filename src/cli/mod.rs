//! The command line: clap definitions and one file per command group. Commands stay
//! thin: they resolve settings, call the library and render what it returns.

mod output;

mod completions;
mod config;
mod env;
mod exec;
mod provider;
mod serve;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Config;
use crate::exec::Language;
use crate::provider::ProviderContext;

#[derive(Debug, Parser)]
#[command(
    name = "rock",
    version,
    about = "Run untrusted Python and Node.js code in sandboxes",
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Config file to use instead of $ROCK_CONFIG or the default location
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Print only the program's output and errors: no summary line
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Say more about what rock does (sandbox, interpreter, limits)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// When to color rock's own messages
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run code in a sandbox, calling main(**arguments) when the code defines it
    Exec(exec::ExecArgs),
    /// List, test and describe sandbox providers
    #[command(subcommand)]
    Provider(provider::ProviderCommand),
    /// Create and use runtime envs: standalone Python and Node.js with packages
    #[command(subcommand)]
    Env(env::EnvCommand),
    /// Read and change the config file
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Serve the executor HTTP API (RAGFlow's sandbox executor manager) over rock's sandboxes
    Serve(serve::ServeArgs),
    /// Print a shell completion script
    Completions(completions::CompletionsArgs),
}

/// A failure of rock itself: one sentence and the exit status to end with.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    pub fn new(code: i32, message: impl std::fmt::Display) -> Self {
        Failure {
            code,
            message: message.to_string(),
        }
    }

    /// Bad input, bad config, an unusable provider: exit 125.
    pub fn rock(message: impl std::fmt::Display) -> Self {
        Failure::new(125, message)
    }
}

impl From<crate::config::ConfigFileError> for Failure {
    fn from(err: crate::config::ConfigFileError) -> Self {
        Failure::rock(err)
    }
}

impl From<crate::provider::ProviderError> for Failure {
    fn from(err: crate::provider::ProviderError) -> Self {
        Failure::new(err.exit_code(), err)
    }
}

/// What every command shares: the global flags and the config file, read once.
pub struct Context {
    pub global: GlobalArgs,
    pub config: Config,
}

impl Context {
    pub fn color(&self, stream_is_terminal: bool) -> bool {
        match self.global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stream_is_terminal && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    /// Interpreter commands from `[languages.*]` and the cache dir, for providers.
    pub fn provider_context(&self) -> Result<ProviderContext, Failure> {
        let mut interpreters = std::collections::BTreeMap::new();
        for language in Language::ALL {
            if let Some(command) = self.config.interpreter(language)? {
                interpreters.insert(language, command);
            }
        }
        let cache_dir = crate::dirs::cache_dir();
        Ok(ProviderContext {
            interpreters,
            cache_dir,
            runtime_env: None,
        })
    }

    /// The named provider, configured from the config file and environment.
    pub fn provider(&self, name: &str) -> Result<Box<dyn crate::provider::Provider>, Failure> {
        let entry = crate::provider::lookup(name)?;
        let table = self
            .config
            .provider_table(entry.name, &crate::config::process_env)?;
        Ok(crate::provider::build(
            entry.name,
            &table,
            &self.provider_context()?,
        )?)
    }
}

/// Parses the command line, runs the command and returns the process exit status.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return match err.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                // Usage errors are rock's, not the program's: 125, like any bad input.
                _ => 125,
            };
        }
    };
    let flag = cli.global.config.as_deref();
    let loaded = match &cli.command {
        // `config` may create the file it names, and `path` and `edit` must work on a
        // file that doesn't parse: `edit` is how it gets fixed.
        Command::Config(command) => Config::load_or_empty(flag, command.needs_valid_file()),
        _ => Config::load(flag),
    };
    let outcome = match loaded {
        Err(err) => Err(Failure::from(err)),
        Ok(config) => {
            if matches!(cli.command, Command::Exec(_) | Command::Provider(_)) {
                for problem in config.unknown_keys() {
                    eprintln!(
                        "rock: warning: {problem} in {}; it is ignored",
                        config.display_path()
                    );
                }
            }
            let context = Context {
                global: cli.global,
                config,
            };
            dispatch(cli.command, &context)
        }
    };
    match outcome {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            failure.code
        }
    }
}

fn dispatch(command: Command, context: &Context) -> Result<i32, Failure> {
    match command {
        Command::Exec(args) => exec::run(args, context),
        Command::Provider(command) => provider::run(command, context),
        Command::Env(command) => env::run(command, context),
        Command::Config(command) => config::run(command, context),
        Command::Serve(args) => serve::run(args, context),
        Command::Completions(args) => completions::run(args),
    }
}

/// Runs one future to its end on a fresh runtime. The runtime is shut down without
/// waiting for its idle blocking threads: rock is about to exit, and joining them costs
/// a measurable part of a millisecond on every `rock exec`.
fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, Failure> {
    let runtime = runtime()?;
    let output = runtime.block_on(future);
    runtime.shutdown_background();
    Ok(output)
}

/// A current-thread runtime: the CLI runs one thing at a time.
fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::rock(format!("cannot start the async runtime: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
