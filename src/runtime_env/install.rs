//! `rock env create`: everything is checked before anything is written; then the work
//! dir is made, the runtime installed (ROCK's override variable, else the built-in
//! installer), and the steps run in ROCK's order: pip index and packages (python) or the
//! npm registry (node), `custom_install_cmd`, symlinks. Each step's real exit code is
//! checked, the whole install is bounded by `install_timeout`, and a failed or
//! interrupted create removes what it made.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::catalog::{self, Installer, Resolved};
use super::download::{DownloadError, Downloads};
use super::progress::Progress;
use super::registry::{self, EnvConfig, EnvRecord, Registry, RemoteEnv, Status};
use super::shell;
use super::store::{self, StoreError};
use crate::config::{Config, Env};

/// ROCK's default bound on an install.
pub const DEFAULT_INSTALL_TIMEOUT: f64 = 600.0;

/// What `rock env create` was asked for.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub type_name: String,
    pub version: Option<String>,
    pub name: Option<String>,
    pub pip: Vec<String>,
    pub requirements: Option<PathBuf>,
    pub pip_index_url: Option<String>,
    pub npm_registry: Option<String>,
    pub symlink_dir: Option<PathBuf>,
    /// Empty: the type's default set (when a symlink dir is given).
    pub symlinks: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub install_timeout: Option<f64>,
    pub custom_install_cmd: Option<String>,
}

/// What the install reads besides the options.
pub struct Context<'a> {
    pub config: &'a Config,
    pub env: Env<'a>,
    pub registry: &'a Registry,
    pub cache_dir: PathBuf,
    pub progress: Progress,
    /// Stream each step's output to stderr as it comes.
    pub verbose: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// Bad input, found before anything was written.
    #[error("{0}")]
    Invalid(String),
    #[error("{what} failed with exit code {code}{}", output_tail(output))]
    Step {
        what: String,
        code: i32,
        output: String,
    },
    #[error("{what} was killed by signal {signal}{}", output_tail(output))]
    StepSignaled {
        what: String,
        signal: i32,
        output: String,
    },
    #[error("the install did not finish within its install_timeout of {0} s; nothing was kept")]
    Timeout(f64),
    #[error("{0}")]
    Download(#[from] DownloadError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(String),
    #[error("interrupted by signal {0}; the half-made env was removed")]
    Interrupted(i32),
}

impl EnvError {
    pub fn signal(&self) -> Option<i32> {
        match self {
            EnvError::Interrupted(signal)
            | EnvError::Download(DownloadError::Interrupted(signal))
            | EnvError::Store(StoreError::Interrupted(signal)) => Some(*signal),
            _ => None,
        }
    }
}

fn output_tail(output: &str) -> String {
    let trimmed = output.trim_end();
    if trimmed.is_empty() {
        return "; it printed nothing".to_string();
    }
    // The end of the output says what went wrong; keep it readable.
    let lines: Vec<&str> = trimmed.lines().collect();
    let tail = &lines[lines.len().saturating_sub(40)..];
    format!("; its output:\n{}", tail.join("\n"))
}

/// Makes the work dir of a new env and saves its record, `installing` by this rock;
/// `remote` says where it will live, given its id, when a provider's sandbox holds it.
pub(super) fn start_record(
    options: &CreateOptions,
    context: &Context,
    resolved: &Resolved,
    config: EnvConfig,
    remote: impl FnOnce(&str) -> Option<RemoteEnv>,
) -> Result<EnvRecord, EnvError> {
    let id = context.registry.new_id();
    let record = EnvRecord {
        name: options.name.clone(),
        type_name: resolved.type_name.clone(),
        version: resolved.version.clone(),
        config,
        created: registry::now_rfc3339(),
        status: Status::Installing,
        installed_from: String::new(),
        symlinks: Vec::new(),
        remote: remote(&id),
        pid: Some(std::process::id()),
        dir: context
            .registry
            .work_dir(&resolved.type_name, &resolved.version, &id),
        id,
    };
    std::fs::create_dir_all(&record.dir)
        .and_then(|()| context.registry.save(&record))
        .map_err(|e| EnvError::Io(format!("cannot create {}: {e}", record.dir.display())))?;
    Ok(record)
}

/// Creates an env; on any failure, nothing of it is left.
pub fn create(options: &CreateOptions, context: &Context) -> Result<EnvRecord, EnvError> {
    let (resolved, config) = checked(options, context, false)?;

    let mut record = start_record(options, context, &resolved, config, |_| None)?;
    let deadline = Instant::now() + Duration::from_secs_f64(record.config.install_timeout);
    match install(&mut record, &resolved, context, deadline) {
        Ok(()) => {
            record.status = Status::Ready;
            record.pid = None;
            context.registry.save(&record).map_err(|e| {
                let _ = context.registry.remove(&record);
                EnvError::Io(format!("cannot write {}: {e}", record.dir.display()))
            })?;
            Ok(record)
        }
        Err(err) => {
            let _ = context.registry.remove(&record);
            Err(err)
        }
    }
}

/// The type and version asked for, and the env's config: every input checked before
/// anything is made (`remote`: for a sandbox of a remote provider).
pub(super) fn checked(
    options: &CreateOptions,
    context: &Context,
    remote: bool,
) -> Result<(Resolved, EnvConfig), EnvError> {
    let resolved = catalog::resolve(
        &options.type_name,
        options.version.as_deref(),
        context.config,
    )
    .map_err(|e| EnvError::Invalid(e.to_string()))?;
    let config = checked_config(options, &resolved, context, remote)?;
    if let Some(name) = &options.name {
        check_name(name, context.registry)?;
    }
    Ok((resolved, config))
}

/// The env's config, every input checked, with the config file's defaults applied. In a
/// `remote` sandbox, the symlink dir is a path there, which can't be checked from here.
fn checked_config(
    options: &CreateOptions,
    resolved: &Resolved,
    context: &Context,
    remote: bool,
) -> Result<EnvConfig, EnvError> {
    let invalid = |message: String| Err(EnvError::Invalid(message));
    if !resolved.is_python()
        && (!options.pip.is_empty()
            || options.requirements.is_some()
            || options.pip_index_url.is_some())
    {
        return invalid(format!(
            "--pip, --requirements and --pip-index-url are for python envs, not {}",
            resolved.type_name
        ));
    }
    if !resolved.is_node() && options.npm_registry.is_some() {
        return invalid(format!(
            "--npm-registry is for node envs, not {}",
            resolved.type_name
        ));
    }
    let requirements = match &options.requirements {
        None => None,
        // ROCK's own sentence.
        Some(path) if !path.is_file() => {
            return invalid(format!("Requirements file not found: {}", path.display()))
        }
        Some(path) => Some(
            std::fs::canonicalize(path)
                .map_err(|e| EnvError::Invalid(format!("cannot read {}: {e}", path.display())))?,
        ),
    };
    let timeout = options.install_timeout.unwrap_or(DEFAULT_INSTALL_TIMEOUT);
    if !(timeout > 0.0 && timeout <= 86_400.0) {
        return invalid(format!(
            "--install-timeout must be more than 0 and at most 86400 seconds, got {timeout}"
        ));
    }
    let mut symlinks = options.symlinks.clone();
    match &options.symlink_dir {
        None if !symlinks.is_empty() => {
            return invalid("--symlink needs --symlink-dir: where should the links go?".into())
        }
        None => {}
        Some(dir) => {
            if remote && !dir.is_absolute() {
                return invalid(format!(
                    "--symlink-dir {} must be an absolute path in the remote sandbox",
                    dir.display()
                ));
            }
            if !remote && !dir.is_dir() {
                return invalid(format!(
                    "cannot make symlinks in {}: it is not a directory",
                    dir.display()
                ));
            }
            if !remote && !writable(dir) {
                return invalid(format!(
                    "cannot make symlinks in {}: permission denied",
                    dir.display()
                ));
            }
            if symlinks.is_empty() {
                symlinks = catalog::default_symlinks(&resolved.type_name);
                if symlinks.is_empty() {
                    symlinks = resolved.executables.clone();
                }
            }
            if let Some(bad) = symlinks
                .iter()
                .find(|s| s.is_empty() || s.contains('/') || *s == "." || *s == "..")
            {
                return invalid(format!(
                    "--symlink `{bad}` must be a file name in runtime-env/bin"
                ));
            }
        }
    }
    let pip_index_url = match &options.pip_index_url {
        Some(url) => Some(url.clone()),
        None if resolved.is_python() => config_string("runtime_envs.pip_index_url", context)?,
        None => None,
    };
    let npm_registry = match &options.npm_registry {
        Some(url) => Some(url.clone()),
        None if resolved.is_node() => config_string("runtime_envs.npm_registry", context)?,
        None => None,
    };
    // pip runs in the env's work dir: a wheel, archive or project named by a path from
    // here would not be found there.
    let pip = options
        .pip
        .iter()
        .map(|spec| match std::fs::canonicalize(spec) {
            Ok(path) if !remote && spec.contains('/') => path.to_string_lossy().into_owned(),
            _ => spec.clone(),
        })
        .collect();
    Ok(EnvConfig {
        pip,
        requirements,
        pip_index_url,
        npm_registry,
        extra_symlink_dir: options.symlink_dir.as_ref().map(|d| match remote {
            true => d.clone(),
            false => std::fs::canonicalize(d).unwrap_or_else(|_| d.clone()),
        }),
        extra_symlink_executables: symlinks,
        env: options.env.clone(),
        install_timeout: timeout,
        custom_install_cmd: options.custom_install_cmd.clone(),
    })
}

/// Whether a symlink can be made in `dir`: tried, since permissions alone don't tell
/// (root, read-only mounts, special file systems).
fn writable(dir: &Path) -> bool {
    let probe = dir.join(format!(".rock-probe-{}", std::process::id()));
    let made = std::os::unix::fs::symlink("rock-probe", &probe).is_ok();
    if made {
        let _ = std::fs::remove_file(&probe);
    }
    made
}

fn check_name(name: &str, registry: &Registry) -> Result<(), EnvError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && !name.starts_with(['.', '-']);
    if !valid {
        return Err(EnvError::Invalid(format!(
            "`{name}` can't name an env: use letters, digits, ., _ and -, up to 64 characters"
        )));
    }
    if let Some(other) = registry
        .all()
        .into_iter()
        .find(|r| r.name.as_deref() == Some(name) || r.id == name)
    {
        return Err(EnvError::Invalid(format!(
            "an env named `{name}` exists already ({} {}, id {}): pick another name or `rock env rm {name}`",
            other.type_name, other.version, other.id
        )));
    }
    Ok(())
}

fn install(
    record: &mut EnvRecord,
    resolved: &Resolved,
    context: &Context,
    deadline: Instant,
) -> Result<(), EnvError> {
    let work_dir = record.dir.clone();
    let env = record.config.env.clone();
    let timeout = record.config.install_timeout;
    let step = |what: &str, script: &str| {
        run_step(what, script, &work_dir, &env, deadline, timeout, context)
    };

    // 1. The runtime itself.
    let override_var = resolved.override_var();
    if let Some(command) = (context.env)(&override_var) {
        step(&format!("the install command in ${override_var}"), &command)?;
        record.installed_from = format!("${override_var}");
    } else {
        match &resolved.installer {
            Installer::Archive(archive) => {
                let mirror =
                    config_string(&format!("runtime_envs.{}", archive.mirror_key), context)?;
                let downloads = Downloads::new(&context.cache_dir)?;
                let fetched = block_on(
                    downloads.fetch(archive, mirror.as_deref(), &context.progress),
                    deadline,
                    timeout,
                )??;
                let unpacked = store::ensure(
                    &context.registry.root,
                    &resolved.type_name,
                    &resolved.version,
                    &fetched,
                    &archive.top_dir,
                    &context.progress,
                )?;
                store::link_tree(&unpacked, &record.runtime_dir()).map_err(|e| {
                    match crate::interrupt::received() {
                        Some(signal) => EnvError::Interrupted(signal),
                        None => EnvError::Io(format!(
                            "cannot make {}: {e}",
                            record.runtime_dir().display()
                        )),
                    }
                })?;
                record.installed_from = format!("sha256:{}", fetched.sha256);
            }
            Installer::Command(command) => {
                step(
                    &format!("the install command of runtime type {}", resolved.type_name),
                    command,
                )?;
                record.installed_from =
                    format!("runtime_envs.types.{}.install_cmd", resolved.type_name);
            }
        }
    }
    let bin = record.bin_dir();
    let main_exe = bin.join(&resolved.executables[0]);
    if !main_exe.is_file() {
        return Err(EnvError::Io(format!(
            "the install finished but left no runtime-env/bin/{} in {}",
            resolved.executables[0],
            work_dir.display()
        )));
    }

    // 2. The type's own steps, as ROCK's _post_init does them.
    let wrapped = |cmd: &str| shell::with_path(&bin, cmd);
    if resolved.is_python() {
        add_alias(&bin, "python", "python3")?;
        add_alias(&bin, "pip", "pip3")?;
        if let Some(url) = &record.config.pip_index_url {
            // The env's own pip config (pip reads `sys.prefix/pip.conf`), not the user's.
            write_file(
                &record.runtime_dir().join("pip.conf"),
                &format!("[global]\nindex-url = {url}\n"),
            )?;
        }
        let mut args: Vec<String> = record.config.pip.clone();
        if let Some(requirements) = &record.config.requirements {
            args.push("-r".into());
            args.push(requirements.to_string_lossy().into_owned());
        }
        if !args.is_empty() {
            let command = format!(
                "PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 python3 -m pip install {}",
                shell::join(&args)
            );
            step("pip install", &wrapped(&command))?;
        }
    }
    if resolved.is_node() {
        if let Some(url) = &record.config.npm_registry {
            // npm's global config file is `$PREFIX/etc/npmrc`; the prefix is this env's.
            write_file(
                &record.runtime_dir().join("etc").join("npmrc"),
                &format!("registry={url}\n"),
            )?;
        }
    }

    // 3. The user's own command, with the env on PATH, in the work dir.
    if let Some(command) = &record.config.custom_install_cmd {
        step("custom_install_cmd", &wrapped(command))?;
    }

    // 4. Symlinks, as `ln -sf` makes them.
    if let Some(dir) = record.config.extra_symlink_dir.clone() {
        for exe in record.config.extra_symlink_executables.clone() {
            let target = bin.join(&exe);
            if !target.exists() {
                return Err(EnvError::Io(format!(
                    "cannot link {exe}: runtime-env/bin/{exe} does not exist in this env"
                )));
            }
            let link = dir.join(&exe);
            if std::fs::symlink_metadata(&link).is_ok() {
                std::fs::remove_file(&link)
                    .map_err(|e| EnvError::Io(format!("cannot replace {}: {e}", link.display())))?;
            }
            std::os::unix::fs::symlink(&target, &link)
                .map_err(|e| EnvError::Io(format!("cannot make {}: {e}", link.display())))?;
            record.symlinks.push(link);
        }
    }
    if let Some(signal) = crate::interrupt::received() {
        return Err(EnvError::Interrupted(signal));
    }
    Ok(())
}

/// A string key's value (its variable, else the config file, else its default).
pub(super) fn config_string(key: &str, context: &Context) -> Result<Option<String>, EnvError> {
    Ok(context
        .config
        .value(key, context.env)
        .map_err(|e| EnvError::Invalid(e.to_string()))?
        .and_then(|v| v.as_str().map(str::to_string)))
}

/// `bin/<alias>` → `<target>` when the archive has the target but not the alias.
fn add_alias(bin: &Path, alias: &str, target: &str) -> Result<(), EnvError> {
    let link = bin.join(alias);
    if std::fs::symlink_metadata(&link).is_err() && bin.join(target).exists() {
        std::os::unix::fs::symlink(target, &link)
            .map_err(|e| EnvError::Io(format!("cannot make {}: {e}", link.display())))?;
    }
    Ok(())
}

fn write_file(path: &Path, contents: &str) -> Result<(), EnvError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| EnvError::Io(format!("cannot make {}: {e}", parent.display())))?;
    }
    std::fs::write(path, contents)
        .map_err(|e| EnvError::Io(format!("cannot write {}: {e}", path.display())))
}

/// Runs the download on a runtime of its own, within what is left of the install's time.
fn block_on<T>(
    future: impl std::future::Future<Output = T>,
    deadline: Instant,
    timeout: f64,
) -> Result<T, EnvError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| EnvError::Io(format!("cannot start the downloader: {e}")))?;
    let left = deadline.saturating_duration_since(Instant::now());
    let outcome = runtime.block_on(async { tokio::time::timeout(left, future).await });
    runtime.shutdown_background();
    outcome.map_err(|_| EnvError::Timeout(timeout))
}

/// Runs `bash -c <script>` in `dir` with `env` added, in a process group of its own so
/// that a timeout or Ctrl-C ends all of it. The exit code is checked; the output is kept
/// for the error (and shown live with `-v`).
fn run_step(
    what: &str,
    script: &str,
    dir: &Path,
    env: &BTreeMap<String, String>,
    deadline: Instant,
    timeout: f64,
    context: &Context,
) -> Result<(), EnvError> {
    let spinner = context.progress.step(&format!("Running {what}"));
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| EnvError::Io(format!("cannot start bash for {what}: {e}")))?;
    let output = Arc::new(Mutex::new(Vec::new()));
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|mut stream| {
        let output = Arc::clone(&output);
        let echo = context.verbose;
        std::thread::spawn(move || {
            let mut buffer = [0u8; 8192];
            while let Ok(n) = stream.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                if echo {
                    use std::io::Write;
                    let _ = std::io::stderr().write_all(&buffer[..n]);
                }
                if let Ok(mut all) = output.lock() {
                    all.extend_from_slice(&buffer[..n]);
                }
            }
        })
    })
    .collect();
    let pid = child.id() as i32;
    let kill_group = || unsafe {
        libc::kill(-pid, libc::SIGKILL);
    };
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| EnvError::Io(format!("cannot wait for {what}: {e}")))?
        {
            break status;
        }
        if let Some(signal) = crate::interrupt::received() {
            kill_group();
            let _ = child.wait();
            return Err(EnvError::Interrupted(signal));
        }
        if Instant::now() >= deadline {
            kill_group();
            let _ = child.wait();
            return Err(EnvError::Timeout(timeout));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Whatever the step left running in its group goes with it.
    kill_group();
    for reader in readers {
        let _ = reader.join();
    }
    spinner.finish_and_clear();
    let output =
        String::from_utf8_lossy(&output.lock().map(|o| o.clone()).unwrap_or_default()).into_owned();
    match (status.code(), status.signal()) {
        (Some(0), _) => Ok(()),
        (Some(code), _) => Err(EnvError::Step {
            what: what.to_string(),
            code,
            output,
        }),
        (None, Some(signal)) => Err(EnvError::StepSignaled {
            what: what.to_string(),
            signal,
            output,
        }),
        (None, None) => Err(EnvError::Io(format!("{what} ended in an unknown way"))),
    }
}
