//! Runtime envs in a remote provider's sandbox (`rock env create --provider e2b|rock`):
//! the same steps as on this machine, in ROCK's order, each one a shell command run
//! through the provider's command API with its real exit code checked. The work dir
//! follows ROCK's layout, `/tmp/rock-runtime-envs/<type>/<version>/<id>`. The env's record
//! stays here, with the sandbox's handle; a failed or interrupted create destroys the
//! sandbox and leaves no record.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use super::catalog::{self, Installer, Resolved};
use super::download::join;
use super::install::{checked, config_string, start_record, Context, EnvError};
use super::registry::{EnvRecord, RemoteEnv, Status};
use super::shell::{self, quote};
use super::CreateOptions;
use crate::provider::{CommandRequest, KeptSandboxes, ProviderError};
use crate::sandbox::Stream;

/// ROCK's root for runtime envs inside a sandbox.
pub const REMOTE_ROOT: &str = "/tmp/rock-runtime-envs";

/// Creates an env in a new sandbox of `provider` (its name: `provider_name`).
pub fn create(
    options: &CreateOptions,
    context: &Context,
    provider_name: &str,
    provider: &dyn KeptSandboxes,
) -> Result<EnvRecord, EnvError> {
    let (resolved, config) = checked(options, context, true)?;
    // The requirements file is read here and written there.
    let requirements = match &config.requirements {
        Some(path) => Some(
            std::fs::read(path)
                .map_err(|e| EnvError::Invalid(format!("cannot read {}: {e}", path.display())))?,
        ),
        None => None,
    };

    let root = config_string("runtime_envs.remote_root", context)?
        .unwrap_or_else(|| REMOTE_ROOT.to_string());
    if !root.starts_with('/') {
        return Err(EnvError::Invalid(format!(
            "runtime_envs.remote_root must be an absolute path in the sandbox, got `{root}`"
        )));
    }
    let mut record = start_record(options, context, &resolved, config, |id| {
        Some(RemoteEnv {
            provider: provider_name.to_string(),
            sandbox: serde_json::Value::Null,
            work_dir: format!(
                "{}/{}/{}/{id}",
                root.trim_end_matches('/'),
                resolved.type_name,
                resolved.version
            ),
        })
    })?;

    let timeout = record.config.install_timeout;
    let deadline = Instant::now() + Duration::from_secs_f64(timeout);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| EnvError::Io(format!("cannot start the async runtime: {e}")))?;
    let outcome = runtime.block_on(async {
        let work = Install {
            record: &mut record,
            resolved: &resolved,
            context,
            provider,
            deadline,
            requirements: requirements.as_deref(),
        }
        .run();
        tokio::select! {
            outcome = tokio::time::timeout_at(deadline.into(), work) => {
                outcome.unwrap_or(Err(EnvError::Timeout(timeout)))
            }
            signal = crate::interrupt::wait() => Err(EnvError::Interrupted(signal)),
        }
    });
    let outcome = outcome.and_then(|()| {
        record.status = Status::Ready;
        record.pid = None;
        context
            .registry
            .save(&record)
            .map_err(|e| EnvError::Io(format!("cannot write {}: {e}", record.dir.display())))
    });
    if let Err(err) = outcome {
        let handle = record.remote.as_ref().map(|r| r.sandbox.clone());
        if let Some(handle) = handle.filter(|h| !h.is_null()) {
            if let Err(destroyed) = runtime.block_on(provider.destroy_kept(&handle)) {
                eprintln!("rock: warning: {destroyed}");
            }
        }
        let _ = context.registry.remove(&record);
        return Err(err);
    }
    runtime.shutdown_background();
    Ok(record)
}

struct Install<'a> {
    record: &'a mut EnvRecord,
    resolved: &'a Resolved,
    context: &'a Context<'a>,
    provider: &'a dyn KeptSandboxes,
    deadline: Instant,
    requirements: Option<&'a [u8]>,
}

impl Install<'_> {
    async fn run(self) -> Result<(), EnvError> {
        let Install {
            record,
            resolved,
            context,
            provider,
            deadline,
            requirements,
        } = self;
        let spinner = context.progress.step("Making the remote sandbox");
        let handle = provider.create_kept().await.map_err(provider_failed)?;
        spinner.finish_and_clear();
        if let Some(remote) = record.remote.as_mut() {
            remote.sandbox = handle.clone();
        }
        // Saved at once: an install that dies now leaves a record that says where.
        context
            .registry
            .save(record)
            .map_err(|e| EnvError::Io(format!("cannot write {}: {e}", record.dir.display())))?;
        let work_dir = record
            .remote
            .as_ref()
            .map(|r| r.work_dir.clone())
            .unwrap_or_default();
        let runner = Runner {
            provider,
            handle: &handle,
            work_dir: &work_dir,
            env: &record.config.env,
            deadline,
            context,
        };

        runner.make_work_dir().await?;
        // 1. The runtime itself.
        let override_var = resolved.override_var();
        if let Some(command) = (context.env)(&override_var) {
            runner
                .step(
                    &format!("the install command in ${override_var}"),
                    &command,
                    true,
                )
                .await?;
            record.installed_from = format!("${override_var}");
        } else {
            match &resolved.installer {
                Installer::Archive(archive) => {
                    let mirror =
                        config_string(&format!("runtime_envs.{}", archive.mirror_key), context)?;
                    if mirror.as_deref().is_some_and(|m| m.starts_with("file://")) {
                        return Err(EnvError::Invalid(format!(
                            "runtime_envs.{} is a file:// mirror, which a remote sandbox can't read: use an http(s) mirror, or ${override_var}",
                            archive.mirror_key
                        )));
                    }
                    runner
                        .step(
                            &format!("downloading {}", archive.file_name),
                            &download_script(archive, mirror.as_deref()),
                            true,
                        )
                        .await?;
                    record.installed_from = match mirror {
                        Some(mirror) => format!(
                            "{} (checked against the mirror's checksums)",
                            join(&mirror, &archive.mirror_path)
                        ),
                        None => format!("sha256:{}", archive.sha256),
                    };
                }
                Installer::Command(command) => {
                    runner
                        .step(
                            &format!("the install command of runtime type {}", resolved.type_name),
                            command,
                            true,
                        )
                        .await?;
                    record.installed_from =
                        format!("runtime_envs.types.{}.install_cmd", resolved.type_name);
                }
            }
        }
        let bin = record.bin_dir();
        let main_exe = quote(&resolved.executables[0]);
        runner
            .step(
                &format!("checking runtime-env/bin/{}", resolved.executables[0]),
                &format!("test -x runtime-env/bin/{main_exe}"),
                false,
            )
            .await
            .map_err(|_| {
                EnvError::Io(format!(
                    "the install finished but left no runtime-env/bin/{} in {work_dir} of the remote sandbox",
                    resolved.executables[0]
                ))
            })?;

        // 2. The type's own steps, as on this machine.
        let wrapped = |cmd: &str| shell::with_path(&bin, cmd);
        if resolved.is_python() {
            runner
                .step(
                    "adding python and pip",
                    "cd runtime-env/bin && { [ -e python ] || ln -s python3 python; } && { [ -e pip ] || [ ! -e pip3 ] || ln -s pip3 pip; }",
                    false,
                )
                .await?;
            if let Some(url) = &record.config.pip_index_url {
                let conf = format!("[global]\nindex-url = {url}\n");
                runner
                    .step(
                        "writing pip.conf",
                        &write_file("runtime-env/pip.conf", conf.as_bytes()),
                        false,
                    )
                    .await?;
            }
            let mut args: Vec<String> = record.config.pip.clone();
            if let Some(bytes) = requirements {
                runner
                    .step(
                        "writing requirements.txt",
                        &write_file("requirements.txt", bytes),
                        false,
                    )
                    .await?;
                args.push("-r".into());
                args.push("requirements.txt".into());
            }
            if !args.is_empty() {
                let command = format!(
                    "PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 python3 -m pip install {}",
                    shell::join(&args)
                );
                runner.step("pip install", &wrapped(&command), true).await?;
            }
        }
        if resolved.is_node() {
            if let Some(url) = &record.config.npm_registry {
                runner
                    .step(
                        "writing npmrc",
                        &write_file(
                            "runtime-env/etc/npmrc",
                            format!("registry={url}\n").as_bytes(),
                        ),
                        false,
                    )
                    .await?;
            }
        }

        // 3. The user's own command, with the env on PATH, in the work dir.
        if let Some(command) = &record.config.custom_install_cmd {
            runner
                .step("custom_install_cmd", &wrapped(command), true)
                .await?;
        }

        // 4. Symlinks, as `ln -sf` makes them (gone with the sandbox).
        if let Some(dir) = &record.config.extra_symlink_dir {
            for exe in &record.config.extra_symlink_executables {
                let target = bin.join(exe);
                let script = format!(
                    "test -e {target} && mkdir -p {dir} && ln -sf {target} {link}",
                    target = quote(&target.to_string_lossy()),
                    dir = quote(&dir.to_string_lossy()),
                    link = quote(&dir.join(exe).to_string_lossy()),
                );
                runner
                    .step(&format!("linking {exe}"), &script, false)
                    .await?;
            }
        }
        Ok(())
    }
}

/// Runs each step in the env's work dir, within what is left of the install's time.
struct Runner<'a> {
    provider: &'a dyn KeptSandboxes,
    handle: &'a serde_json::Value,
    work_dir: &'a str,
    env: &'a std::collections::BTreeMap<String, String>,
    deadline: Instant,
    context: &'a Context<'a>,
}

impl Runner<'_> {
    /// The work dir, made from `/` since the steps run in it.
    async fn make_work_dir(&self) -> Result<(), EnvError> {
        let script = format!("mkdir -p {}", quote(self.work_dir));
        self.run("making the work dir", &script, None, false).await
    }

    async fn step(&self, what: &str, script: &str, shown: bool) -> Result<(), EnvError> {
        self.run(what, script, Some(self.work_dir), shown).await
    }

    async fn run(
        &self,
        what: &str,
        script: &str,
        cwd: Option<&str>,
        shown: bool,
    ) -> Result<(), EnvError> {
        let spinner = shown.then(|| self.context.progress.step(&format!("Running {what}")));
        let command = CommandRequest {
            command: script.to_string(),
            cwd: Some(cwd.unwrap_or("/").to_string()),
            env: self.env.clone(),
            timeout: self.deadline.saturating_duration_since(Instant::now()),
        };
        let echo = self.context.verbose;
        let mut sink = |_: Stream, bytes: &[u8]| {
            if echo {
                use std::io::Write;
                let _ = std::io::stderr().write_all(bytes);
            }
        };
        let output = self
            .provider
            .run_command(self.handle, &command, &mut sink)
            .await
            .map_err(provider_failed)?;
        if let Some(spinner) = spinner {
            spinner.finish_and_clear();
        }
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        match (output.exit_code, output.signal) {
            (0, _) => Ok(()),
            (_, Some(signal)) => Err(EnvError::StepSignaled {
                what: what.to_string(),
                signal,
                output: text,
            }),
            (code, None) => Err(EnvError::Step {
                what: what.to_string(),
                code,
                output: text,
            }),
        }
    }
}

fn provider_failed(err: ProviderError) -> EnvError {
    match err {
        ProviderError::Interrupted { signal, .. } => EnvError::Interrupted(signal),
        other => EnvError::Io(other.to_string()),
    }
}

/// A shell step that writes `bytes` to `path` (relative to the work dir).
fn write_file(path: &str, bytes: &[u8]) -> String {
    format!(
        "mkdir -p \"$(dirname {path})\" && printf %s {} | base64 -d > {path}",
        quote(&BASE64.encode(bytes)),
        path = quote(path)
    )
}

/// Downloads the archive in the sandbox (curl, else wget), checks its SHA-256 (rock's
/// pinned digest, or the mirror's checksum file) and unpacks it as `runtime-env/`.
fn download_script(archive: &catalog::Archive, mirror: Option<&str>) -> String {
    let file = quote(&archive.file_name);
    let fetch = |url: &str, to: &str| {
        format!(
            "{{ if command -v curl >/dev/null; then curl -fsSL --retry 3 -o {to} {url}; else wget -q -O {to} {url}; fi; }}",
            url = quote(url),
        )
    };
    let check = match mirror {
        Some(base) => format!(
            "{} && grep -E \"[ *]{}$\" checksums.txt | head -n 1 | sed 's/ \\*/  /' > archive.sha256 && test -s archive.sha256",
            fetch(&join(base, &archive.mirror_checksums), "checksums.txt"),
            regex_escape(&archive.file_name),
        ),
        None => format!("printf '%s  %s\\n' {} {file} > archive.sha256", archive.sha256),
    };
    let url = match mirror {
        Some(base) => join(base, &archive.mirror_path),
        None => archive.upstream.clone(),
    };
    format!(
        "set -e; rm -rf runtime-env {top}; {fetch}; {check}; sha256sum -c archive.sha256; tar -xzf {file}; mv {top} runtime-env; rm -f {file} archive.sha256 checksums.txt",
        top = quote(&archive.top_dir),
        fetch = fetch(&url, &archive.file_name),
    )
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '.' | '+' | '*' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '^' | '$' | '\\' => {
                format!("\\\\{c}")
            }
            c => c.to_string(),
        })
        .collect()
}
