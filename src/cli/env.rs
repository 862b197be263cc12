use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand};

use super::output::outln;
use super::{Context, Failure};
use crate::config::process_env;
use crate::runtime_env::install::Context as InstallContext;
use crate::runtime_env::progress::Progress;
use crate::runtime_env::{self, CreateOptions, EnvRecord, Registry};

#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// Install a runtime env: a standalone Python or Node.js (or a custom type) with packages
    #[command(disable_version_flag = true)]
    Create(Box<CreateArgs>),
    /// Run a command with the env's bin first on PATH; its exit code is rock's
    Run {
        /// The env's id (or a prefix of it) or name
        env: String,
        /// The command and its arguments
        #[arg(last = true, required = true, value_name = "CMD")]
        command: Vec<String>,
    },
    /// Print the command `run` would execute (ROCK's wrapped_cmd)
    Wrap {
        env: String,
        #[arg(last = true, required = true, value_name = "CMD")]
        command: Vec<String>,
    },
    /// List the envs
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one env: type, version, config, paths
    Show {
        env: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove envs, with the symlinks they made
    Rm {
        #[arg(required = true)]
        envs: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// python, node, or a type from [runtime_envs.types] in the config
    #[arg(value_name = "TYPE")]
    pub type_name: String,
    /// python: 3.11 or 3.12; node: 22.18.0 [default: the type's default]
    #[arg(long)]
    pub version: Option<String>,
    /// A name to use instead of the id
    #[arg(long)]
    pub name: Option<String>,
    /// A package to pip install (python); repeat for more
    #[arg(long = "pip", value_name = "PKG")]
    pub pip: Vec<String>,
    /// A requirements file to pip install (python)
    #[arg(long, value_name = "FILE")]
    pub requirements: Option<PathBuf>,
    /// The package index for this env's pip [default: runtime_envs.pip_index_url]
    #[arg(long, value_name = "URL")]
    pub pip_index_url: Option<String>,
    /// The npm registry for this env (node) [default: runtime_envs.npm_registry]
    #[arg(long, value_name = "URL")]
    pub npm_registry: Option<String>,
    /// Make symlinks to the env's executables in this directory
    #[arg(long, value_name = "DIR")]
    pub symlink_dir: Option<PathBuf>,
    /// An executable to link [default: python, python3, pip, pip3 / node, npm, npx]
    #[arg(long = "symlink", value_name = "EXE")]
    pub symlinks: Vec<String>,
    /// An environment variable for every install step, K=V; repeat for more
    #[arg(long = "env", value_name = "K=V")]
    pub env: Vec<String>,
    /// Bound on the whole install, in seconds [default: 600]
    #[arg(long, value_name = "SECS")]
    pub install_timeout: Option<f64>,
    /// A command run in the env's work dir, with the env on PATH, after the install
    #[arg(long, value_name = "CMD")]
    pub custom_install_cmd: Option<String>,
    /// Make the env in a sandbox of this provider (e2b, rock) instead of on this machine
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,
    /// Print the new env as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(command: EnvCommand, context: &Context) -> Result<i32, Failure> {
    let registry = Registry::new(runtime_env::root(&context.config, &process_env)?);
    match command {
        EnvCommand::Create(args) => create(*args, &registry, context),
        EnvCommand::Run { env, command } => {
            let record = find(&registry, &env)?;
            match &record.remote {
                Some(remote) => run_remote(&record, remote, &command, context),
                None => run_in(&record, &command),
            }
        }
        EnvCommand::Wrap { env, command } => {
            outln!(
                "{}",
                runtime_env::wrapped(&find(&registry, &env)?, &command)
            );
            Ok(0)
        }
        EnvCommand::List { json } => list(&registry, json),
        EnvCommand::Show { env, json } => show(&find(&registry, &env)?, json),
        EnvCommand::Rm { envs } => remove(&registry, &envs, context),
    }
}

fn find(registry: &Registry, key: &str) -> Result<EnvRecord, Failure> {
    registry.find(key).map_err(Failure::rock)
}

fn create(args: CreateArgs, registry: &Registry, context: &Context) -> Result<i32, Failure> {
    let mut env = BTreeMap::new();
    for pair in &args.env {
        let Some((key, value)) = pair.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return Err(Failure::rock(format!("--env `{pair}` must be KEY=VALUE")));
        };
        env.insert(key.to_string(), value.to_string());
    }
    let options = CreateOptions {
        type_name: args.type_name,
        version: args.version,
        name: args.name,
        pip: args.pip,
        requirements: args.requirements,
        pip_index_url: args.pip_index_url,
        npm_registry: args.npm_registry,
        symlink_dir: args.symlink_dir,
        symlinks: args.symlinks,
        env,
        install_timeout: args.install_timeout,
        custom_install_cmd: args.custom_install_cmd,
    };
    let cache_dir = crate::dirs::cache_dir()
        .ok_or_else(|| Failure::rock("no cache directory: set $HOME or $XDG_CACHE_HOME"))?;
    let install = InstallContext {
        config: &context.config,
        env: &process_env,
        registry,
        cache_dir,
        progress: Progress::for_terminal(context.global.quiet),
        verbose: context.global.verbose > 0,
    };
    crate::interrupt::install()
        .map_err(|e| Failure::rock(format!("cannot handle signals: {e}")))?;
    let started = Instant::now();
    let remote = match args.provider.as_deref() {
        None | Some("local") => None,
        Some(name) => Some(context.provider(name)?),
    };
    let created = match &remote {
        None => runtime_env::create(&options, &install),
        Some(provider) => {
            let kept = provider.kept_sandboxes().ok_or_else(|| {
                Failure::rock(format!(
                    "provider {} can't hold runtime envs: use e2b or rock, or leave out --provider",
                    provider.name()
                ))
            })?;
            runtime_env::remote::create(&options, &install, provider.name(), kept)
        }
    };
    let record = created.map_err(|err| match err.signal() {
        Some(signal) => Failure::new(128 + signal, err),
        None => Failure::rock(err),
    })?;
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&json(&record)).unwrap_or_default()
        );
    } else {
        match &record.name {
            Some(name) => outln!("{} {name}", record.id),
            None => outln!("{}", record.id),
        }
    }
    if !context.global.quiet {
        eprintln!(
            "rock: created {} {} env {} in {:.1} s",
            record.type_name,
            record.version,
            record.label(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(0)
}

/// Runs ROCK's wrapped command with the env's variables; the exit code is the command's.
fn run_in(record: &EnvRecord, words: &[String]) -> Result<i32, Failure> {
    use std::os::unix::process::ExitStatusExt;
    // What `bash -c` gets here is exactly the quoted part of `wrap`'s output.
    let command = runtime_env::command_line(record, words);
    let status = std::process::Command::new("bash")
        .arg("-c")
        .arg(&command)
        .envs(&record.config.env)
        .status()
        .map_err(|e| Failure::rock(format!("cannot start bash: {e}")))?;
    Ok(status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1))
}

/// How long `rock env run` waits for a command in a remote sandbox.
const REMOTE_RUN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);

/// Runs ROCK's wrapped command in the env's remote sandbox, its output streamed here;
/// the exit code is the command's.
fn run_remote(
    record: &EnvRecord,
    remote: &runtime_env::registry::RemoteEnv,
    words: &[String],
    context: &Context,
) -> Result<i32, Failure> {
    use std::io::Write;
    let provider = context.provider(&remote.provider)?;
    let kept = provider.kept_sandboxes().ok_or_else(|| {
        Failure::rock(format!(
            "provider {} can't hold runtime envs",
            remote.provider
        ))
    })?;
    let command = crate::provider::CommandRequest {
        command: runtime_env::command_line(record, words),
        cwd: Some(remote.work_dir.clone()),
        env: record.config.env.clone(),
        timeout: REMOTE_RUN_TIMEOUT,
    };
    let mut sink = |stream: crate::sandbox::Stream, bytes: &[u8]| {
        let _ = match stream {
            crate::sandbox::Stream::Stdout => std::io::stdout().write_all(bytes),
            crate::sandbox::Stream::Stderr => std::io::stderr().write_all(bytes),
        };
    };
    crate::interrupt::install()
        .map_err(|e| Failure::rock(format!("cannot handle signals: {e}")))?;
    let output = super::block_on(crate::provider::remote::unless_interrupted(
        kept.run_command(&remote.sandbox, &command, &mut sink),
    ))??;
    Ok(match output.signal {
        Some(signal) if output.exit_code < 0 => 128 + signal,
        _ => output.exit_code,
    })
}

fn json(record: &EnvRecord) -> serde_json::Value {
    let mut value = serde_json::to_value(record).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.remove("pid");
        // The sandbox's handle may hold an access token: its id is what a user needs.
        if let Some(sandbox) = object.get_mut("remote").and_then(|r| r.get_mut("sandbox")) {
            *sandbox = serde_json::json!({ "id": sandbox["id"] });
        }
        object.insert("work_dir".into(), record.dir.display().to_string().into());
        object.insert(
            "bin_dir".into(),
            record.bin_dir().display().to_string().into(),
        );
    }
    value
}

fn list(registry: &Registry, as_json: bool) -> Result<i32, Failure> {
    let records = registry.all();
    if as_json {
        let all: Vec<serde_json::Value> = records.iter().map(json).collect();
        outln!("{}", serde_json::to_string_pretty(&all).unwrap_or_default());
        return Ok(0);
    }
    if records.is_empty() {
        eprintln!("rock: no runtime envs yet: `rock env create python` makes one");
        return Ok(0);
    }
    outln!(
        "{:<8}  {:<16} {:<8} {:<10} CREATED",
        "ID",
        "NAME",
        "TYPE",
        "VERSION"
    );
    for r in &records {
        outln!(
            "{:<8}  {:<16} {:<8} {:<10} {}",
            r.id,
            r.name.as_deref().unwrap_or("-"),
            r.type_name,
            r.version,
            r.created
        );
    }
    Ok(0)
}

fn show(record: &EnvRecord, as_json: bool) -> Result<i32, Failure> {
    if as_json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&json(record)).unwrap_or_default()
        );
        return Ok(0);
    }
    outln!("id:        {}", record.id);
    outln!("name:      {}", record.name.as_deref().unwrap_or("-"));
    outln!("type:      {} {}", record.type_name, record.version);
    outln!("created:   {}", record.created);
    outln!("from:      {}", record.installed_from);
    match &record.remote {
        Some(remote) => {
            outln!("provider:  {}", remote.provider);
            let id = remote.sandbox["id"].as_str().unwrap_or("?");
            outln!("sandbox:   {id}");
            outln!("work dir:  {} (in the sandbox)", remote.work_dir);
        }
        None => outln!("work dir:  {}", record.dir.display()),
    }
    outln!("bin:       {}", record.bin_dir().display());
    let config = serde_json::to_value(&record.config).unwrap_or_default();
    if let Some(object) = config.as_object() {
        for (key, value) in object {
            outln!("{:<10} {value}", format!("{key}:"));
        }
    }
    for link in &record.symlinks {
        outln!("symlink:   {}", link.display());
    }
    Ok(0)
}

fn remove(registry: &Registry, keys: &[String], context: &Context) -> Result<i32, Failure> {
    // All are found first, so that a typo removes nothing.
    let records = keys
        .iter()
        .map(|k| find(registry, k))
        .collect::<Result<Vec<_>, _>>()?;
    for record in records {
        if let Some(remote) = &record.remote {
            // The sandbox first: a record without it would hide a sandbox still running.
            let provider = context.provider(&remote.provider)?;
            if let Some(kept) = provider.kept_sandboxes() {
                super::block_on(kept.destroy_kept(&remote.sandbox))?.map_err(|e| {
                    Failure::rock(format!(
                        "cannot destroy the sandbox of env {} ({e}); the env was kept: try again",
                        record.label()
                    ))
                })?;
            }
        }
        registry
            .remove(&record)
            .map_err(|e| Failure::rock(format!("cannot remove {}: {e}", record.dir.display())))?;
        if !context.global.quiet {
            eprintln!(
                "rock: removed {} {} env {}",
                record.type_name,
                record.version,
                record.label()
            );
        }
    }
    Ok(0)
}
