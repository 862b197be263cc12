//! Provider `docker`: one container per run through the Docker Engine API (bollard), so
//! that Docker and Podman's Docker-compatible service serve alike, under the engine's
//! default runtime or another one (`runsc` for gVisor).
//!
//! A run creates a container of the language's image (no network unless asked, read-only
//! root, a size-limited tmpfs /tmp where the program runs, uid 1000, no capabilities,
//! no-new-privileges, memory with swap off, pids and CPU limits), attaches to it, starts it,
//! having copied rock's launcher (harness, code and arguments inside) into its own layer
//! with the archive API; the container's command runs it. The one host path ever mounted
//! is a runtime env's directory, read-only, for `rock exec --env`. The output streams back,
//! the launcher's marker lines give the result and how the program ended, and the
//! container is removed, also after an error, a timeout or Ctrl-C. `rock serve` keeps
//! containers created ahead (`prepare_instance`), each started for one request.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bollard::container::LogOutput;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, CreateContainerOptionsBuilder,
    DownloadFromContainerOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    UploadToContainerOptionsBuilder,
};
use bollard::{ClientVersion, Docker};
use futures_util::StreamExt;
use serde_json::{json, Map};

use super::remote::{self, Program, RunOutput};
use super::{
    schema, ConfigError, ConfigField, ConfigSchema, FieldType, Health, HostRuntimeEnv, Instance,
    Provider, ProviderContext, ProviderError, Sink,
};
use crate::exec::{ExecRequest, ExecutionResult, Language};

/// The API version rock speaks: old enough for every Docker since 20.10 and for Podman 4.
const API_VERSION: ClientVersion = ClientVersion {
    major_version: 1,
    minor_version: 41,
};

/// The pids limit of a gVisor container: room for the sandbox's own threads.
const GVISOR_PIDS: i64 = 1024;

/// The label on every container rock makes, to find them (`docker ps -a --filter label=rock`).
pub const LABEL: &str = "rock";

/// Where an engine listens when neither `host` nor `$DOCKER_HOST` says: Docker's socket,
/// then Podman's (root, then the user's).
fn usual_sockets() -> Vec<String> {
    let mut sockets = vec![
        "/var/run/docker.sock".to_string(),
        "/run/podman/podman.sock".to_string(),
    ];
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR") {
        sockets.push(format!("{}/podman/podman.sock", dir.to_string_lossy()));
    }
    sockets
}

#[derive(Debug, Clone)]
struct Settings {
    host: Option<String>,
    runtime: Option<String>,
    python_image: String,
    nodejs_image: String,
    max_processes: i64,
    cpus: f64,
    tmpfs_size_mb: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            host: None,
            runtime: None,
            python_image: "python:3.12-slim".into(),
            nodejs_image: "node:22-slim".into(),
            max_processes: 64,
            cpus: 1.0,
            tmpfs_size_mb: 64,
        }
    }
}

#[derive(Default)]
pub struct DockerProvider {
    settings: Settings,
    /// Mounted read-only into containers of its language (`rock exec --env`).
    runtime_env: Option<HostRuntimeEnv>,
    /// The runtime containers will run under, once checked against the engine.
    runtime_checked: tokio::sync::OnceCell<String>,
}

/// A container made for one run: created, not started.
struct Container {
    id: String,
    engine: Docker,
    /// What it was made with, which a request must match to run in it.
    memory_bytes: u64,
    network: bool,
}

impl Container {
    fn fits(&self, request: &ExecRequest) -> bool {
        self.memory_bytes == request.memory_bytes && self.network == request.network
    }
}

pub fn schema() -> ConfigSchema {
    ConfigSchema {
        fields: vec![
            ConfigField::new("host", FieldType::String, "Engine", "The engine's address: unix:///path/to.sock or tcp://host:port; default $DOCKER_HOST, else Docker's or Podman's usual socket")
                .env("DOCKER_HOST"),
            ConfigField::new("runtime", FieldType::String, "Runtime", "The OCI runtime the engine runs containers with (runc, crun, runsc for gVisor, …); default the engine's own"),
            ConfigField::new("python_image", FieldType::String, "Python image", "The image Python code runs in; it needs python3")
                .default("python:3.12-slim"),
            ConfigField::new("nodejs_image", FieldType::String, "Node.js image", "The image Node.js code runs in; it needs node")
                .default("node:22-slim"),
            ConfigField::new("max_processes", FieldType::Integer, "Processes", "The container's pids limit")
                .default(64)
                .range(8, 4096),
            ConfigField::new("cpu_percent", FieldType::Integer, "CPU (% of a core)", "The container's CPU quota")
                .default(100)
                .range(10, 6400),
            ConfigField::new("tmpfs_size_mb", FieldType::Integer, "tmpfs size (MiB)", "The size of /tmp, the container's one writable place")
                .default(64)
                .range(1, 4096),
        ],
    }
}

#[async_trait]
impl Provider for DockerProvider {
    fn name(&self) -> &'static str {
        "docker"
    }

    fn description(&self) -> &'static str {
        "containers through the Docker Engine API (Docker, or Podman's Docker-compatible service)"
    }

    fn config_schema(&self) -> ConfigSchema {
        schema()
    }

    fn initialize(
        &mut self,
        config: &toml::Table,
        context: &ProviderContext,
    ) -> Result<(), ConfigError> {
        self.runtime_env = context.runtime_env.clone();
        let text = |key: &str| schema::text_setting(config, key);
        let number = |key: &str| schema::integer_setting(config, key);
        let s = &mut self.settings;
        s.host = text("host");
        s.runtime = text("runtime");
        if let Some(image) = text("python_image") {
            s.python_image = image;
        }
        if let Some(image) = text("nodejs_image") {
            s.nodejs_image = image;
        }
        if let Some(n) = number("max_processes") {
            s.max_processes = n;
        }
        if let Some(percent) = number("cpu_percent") {
            s.cpus = percent as f64 / 100.0;
        }
        if let Some(n) = number("tmpfs_size_mb") {
            s.tmpfs_size_mb = n;
        }
        Ok(())
    }

    async fn health_check(&self) -> Health {
        let outcome = async {
            let (engine, address) = self.engine()?;
            let version = engine
                .version()
                .await
                .map_err(|e| unreachable(&address, e))?;
            let mut detail = format!(
                "{} {} (API {}) at {address}",
                version
                    .components
                    .as_ref()
                    .and_then(|c| c.first())
                    .map(|c| c.name.clone())
                    .unwrap_or_else(|| "engine".into()),
                version.version.unwrap_or_default(),
                version.api_version.unwrap_or_default()
            );
            let runtime = self.verify_runtime(&engine, &address).await?;
            detail.push_str(&format!(", runtime {runtime}"));
            Ok::<_, ProviderError>(detail)
        };
        match outcome.await {
            Ok(detail) => Health {
                healthy: true,
                detail,
            },
            Err(err) => Health {
                healthy: false,
                detail: err.to_string(),
            },
        }
    }

    fn takes_host_runtime_envs(&self) -> bool {
        true
    }

    async fn create_instance(&self, request: &ExecRequest) -> Result<Instance, ProviderError> {
        self.create(request, "run").await
    }

    /// A container created for requests like `template`, not started: a pooled run pays
    /// for the copy of its program, the start and the run.
    async fn prepare_instance(
        &self,
        template: &ExecRequest,
    ) -> Result<Option<Instance>, ProviderError> {
        self.create(template, "pool").await.map(Some)
    }

    async fn execute_code(
        &self,
        instance: &Instance,
        request: &ExecRequest,
        sink: Sink,
    ) -> Result<ExecutionResult, ProviderError> {
        let container = container_of(instance)?;
        if container.fits(request) {
            return self.execute_in(container, request, sink).await;
        }
        // Memory and network are the container's own from its creation: a request that
        // asks for others runs in a container made for it.
        let fresh = self.create(request, "run").await?;
        let result = self.execute_in(container_of(&fresh)?, request, sink).await;
        let destroyed = self.destroy_instance(fresh).await;
        let result = result?;
        destroyed?;
        Ok(result)
    }

    async fn destroy_instance(&self, instance: Instance) -> Result<(), ProviderError> {
        let container = container_of(&instance)?;
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        match container
            .engine
            .remove_container(&container.id, Some(options))
            .await
        {
            Ok(()) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(err) => Err(ProviderError::Unavailable(format!(
                "cannot remove container {}: {err}",
                short(&container.id)
            ))),
        }
    }
}

impl DockerProvider {
    /// Creates a container for requests like `request`, labelled `rock=<purpose>`.
    ///
    /// The engine's runtime is checked once per process, while the container is created
    /// (Podman takes a quarter of a second to answer what it runs): the container is made
    /// for the runtime configured, else runc, and made again in the rare case that the
    /// check finds gVisor where it was not expected (its pids limit differs). Nothing
    /// starts before the check has passed.
    async fn create(
        &self,
        request: &ExecRequest,
        purpose: &str,
    ) -> Result<Instance, ProviderError> {
        let (engine, address) = self.engine()?;
        let expected = match self.runtime_checked.get() {
            Some(checked) => checked.clone(),
            None => self
                .settings
                .runtime
                .clone()
                .unwrap_or_else(|| "runc".into()),
        };
        let checked = self
            .runtime_checked
            .get_or_try_init(|| self.verify_runtime(&engine, &address));
        let created = self.create_for(&engine, &address, request, &expected, purpose);
        let (checked, created) = tokio::join!(checked, created);
        let runtime = match checked {
            Ok(runtime) if is_gvisor(runtime) == is_gvisor(&expected) => return created,
            Ok(runtime) => runtime.clone(),
            Err(err) => {
                if let Ok(instance) = created {
                    let _ = self.destroy_instance(instance).await;
                }
                return Err(err);
            }
        };
        if let Ok(instance) = created {
            let _ = self.destroy_instance(instance).await;
        }
        self.create_for(&engine, &address, request, &runtime, purpose)
            .await
    }

    async fn create_for(
        &self,
        engine: &Docker,
        address: &str,
        request: &ExecRequest,
        runtime: &str,
        purpose: &str,
    ) -> Result<Instance, ProviderError> {
        let image = self.image(request.language);
        let body = self.container_body(request, image, runtime, purpose);
        let options = CreateContainerOptionsBuilder::default()
            .name(&format!("rock-{}", remote::token()))
            .build();
        let created = engine
            .create_container(Some(options), body)
            .await
            .map_err(|e| self.create_failed(address, image, e))?;
        let engine = engine.clone();
        Ok(Instance {
            id: created.id.clone(),
            language: request.language,
            state: Arc::new(Container {
                id: created.id,
                engine,
                memory_bytes: request.memory_bytes,
                network: request.network,
            }),
        })
    }

    async fn execute_in(
        &self,
        container: &Container,
        request: &ExecRequest,
        sink: Sink,
    ) -> Result<ExecutionResult, ProviderError> {
        let program = Program::in_language(request, None, request.language);
        let mut output = RunOutput::new(&program, request, sink);
        // The launcher ends the program at its timeout; this bounds the whole container.
        let bound = request.timeout + Duration::from_secs(15);
        let started = std::time::Instant::now();
        let run = tokio::time::timeout(
            bound,
            self.run(container, request.language, &program, &mut output),
        );
        remote::unless_interrupted(async {
            run.await.map_err(|_| {
                ProviderError::Unavailable(format!(
                    "container {} did not end within {} s of its start",
                    short(&container.id),
                    bound.as_secs()
                ))
            })?
        })
        .await?;
        if output.ended().is_none() {
            // The launcher did not report: the memory limit may have ended it with the
            // program (OOMKilled), or under gVisor the whole sandbox (137, OOMKilled unset):
            // nothing else SIGKILLs a container rock didn't time out.
            let inspected = container
                .engine
                .inspect_container(
                    &container.id,
                    None::<bollard::query_parameters::InspectContainerOptions>,
                )
                .await
                .ok();
            let state = inspected.as_ref().and_then(|i| i.state.as_ref());
            let oom = state.and_then(|s| s.oom_killed).unwrap_or(false);
            if oom || state.and_then(|s| s.exit_code) == Some(137) {
                output.killed_for_memory(started.elapsed().as_secs_f64());
            }
        }
        let mut metadata = Map::new();
        metadata.insert("provider".into(), json!("docker"));
        metadata.insert("sandbox_id".into(), json!(short(&container.id)));
        metadata.insert("image".into(), json!(self.image(request.language)));
        if let Some(runtime) = self.runtime_checked.get() {
            metadata.insert("runtime".into(), json!(runtime));
        }
        metadata.insert("memory_held_by".into(), json!("the container's cgroup"));
        if let Some(env) = self.env_for(request.language) {
            metadata.insert("runtime_env".into(), json!(env.dir));
        }
        output.finish("container", request, metadata)
    }

    /// The runtime env mounted into containers of `language`, if any.
    fn env_for(&self, language: Language) -> Option<&HostRuntimeEnv> {
        self.runtime_env
            .as_ref()
            .filter(|env| env.language == language)
    }

    fn image(&self, language: Language) -> &str {
        match language {
            Language::Python => &self.settings.python_image,
            Language::Nodejs => &self.settings.nodejs_image,
        }
    }

    /// The engine, and its address as errors name it.
    fn engine(&self) -> Result<(Docker, String), ProviderError> {
        let address = match &self.settings.host {
            Some(host) => host.clone(),
            None => usual_sockets()
                .into_iter()
                .find(|path| std::path::Path::new(path).exists())
                .map(|path| format!("unix://{path}"))
                .ok_or_else(|| {
                    ProviderError::Unavailable(format!(
                        "no container engine found: none of {} exists; start Docker or `podman system service`, or set providers.docker.host",
                        usual_sockets().join(", ")
                    ))
                })?,
        };
        let engine = if let Some(path) = address.strip_prefix("unix://") {
            Docker::connect_with_unix(path, 120, &API_VERSION)
        } else if address.starts_with("tcp://") || address.starts_with("http://") {
            Docker::connect_with_http(&address, 120, &API_VERSION)
        } else {
            return Err(ProviderError::Unavailable(format!(
                "providers.docker.host must be unix://PATH or tcp://HOST:PORT, got `{address}`"
            )));
        }
        .map_err(|e| unreachable(&address, e))?;
        Ok((engine, address))
    }

    /// The runtime containers will run under: the configured one, which the engine must
    /// know and (Podman) must be its default, since Podman's Docker-compatible API ignores
    /// a container's own runtime; else the engine's default.
    async fn verify_runtime(
        &self,
        engine: &Docker,
        address: &str,
    ) -> Result<String, ProviderError> {
        let info = engine.info().await.map_err(|e| unreachable(address, e))?;
        let default = info
            .default_runtime
            .clone()
            .unwrap_or_else(|| "runc".into());
        let Some(runtime) = &self.settings.runtime else {
            return Ok(default);
        };
        let known = info
            .runtimes
            .as_ref()
            .is_some_and(|r| r.contains_key(runtime));
        if !known {
            return Err(runtime_missing(runtime, address));
        }
        if *runtime == default {
            return Ok(default);
        }
        let podman = engine
            .version()
            .await
            .map_err(|e| unreachable(address, e))?
            .components
            .unwrap_or_default()
            .iter()
            .any(|c| c.name.contains("Podman"));
        if podman {
            return Err(ProviderError::Unavailable(format!(
                "Podman at {address} runs every container of its Docker-compatible API under its default runtime ({default}), not {runtime}: start a Podman service whose containers.conf says `runtime = \"{runtime}\"` under [engine], or unset providers.docker.runtime"
            )));
        }
        Ok(runtime.clone())
    }

    fn container_body(
        &self,
        request: &ExecRequest,
        image: &str,
        runtime: &str,
        purpose: &str,
    ) -> ContainerCreateBody {
        let s = &self.settings;
        let tmpfs_options = format!("rw,nosuid,nodev,size={}m,mode=1777", s.tmpfs_size_mb);
        let memory = i64::try_from(request.memory_bytes).unwrap_or(i64::MAX);
        let env = self.env_for(request.language);
        let interpreter = match env {
            Some(env) => env.interpreter.to_string_lossy().into_owned(),
            None => interpreter_name(request.language).to_string(),
        };
        let command = vec![interpreter, launcher_path(request.language).to_string()];
        let mut variables = vec![
            "HOME=/work".to_string(),
            "TMPDIR=/tmp".to_string(),
            "LANG=C.UTF-8".to_string(),
        ];
        // The env at the path it was made for (its scripts name their interpreter by
        // that path), read-only, first on PATH.
        let binds = env.map(|env| {
            let dir = env.dir.to_string_lossy();
            variables.push(format!(
                "PATH={dir}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
            ));
            vec![format!("{dir}:{dir}:ro")]
        });
        ContainerCreateBody {
            image: Some(image.to_string()),
            cmd: Some(command),
            user: Some("1000:1000".into()),
            working_dir: Some("/work".into()),
            env: Some(variables),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(false),
            labels: Some(HashMap::from([(LABEL.to_string(), purpose.to_string())])),
            network_disabled: Some(!request.network),
            host_config: Some(HostConfig {
                network_mode: Some(if request.network { "bridge" } else { "none" }.into()),
                readonly_rootfs: Some(true),
                binds,
                // The one writable place: the launcher's run directory is made in it.
                tmpfs: Some(HashMap::from([("/tmp".to_string(), tmpfs_options)])),
                cap_drop: Some(vec!["ALL".into()]),
                security_opt: Some(vec!["no-new-privileges".into()]),
                memory: Some(memory),
                memory_swap: Some(memory),
                // gVisor's own threads count in the container's pids cgroup: there memory
                // and time bound the program's processes.
                pids_limit: Some(if is_gvisor(runtime) {
                    GVISOR_PIDS
                } else {
                    s.max_processes
                }),
                nano_cpus: Some((s.cpus * 1e9) as i64),
                // No ulimits: RLIMIT_NPROC would count every process of uid 1000 on the
                // host (no user namespace), so a host user 1000 with 64 processes would
                // stop the interpreter from starting; and Podman 4.3 adds an RLIMIT_NPROC of
                // 1048576 to any list without one, which runc can't set under a lower hard
                // limit. Open files are the engine's default, processes the pids limit's.
                runtime: s.runtime.clone(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// Attaches, starts, sends the program and relays the output to its end.
    async fn run(
        &self,
        container: &Container,
        language: Language,
        program: &Program,
        output: &mut RunOutput,
    ) -> Result<(), ProviderError> {
        let engine = &container.engine;
        let id = &container.id;
        let fail = |what: &str, e: bollard::errors::Error| {
            ProviderError::Unavailable(format!("{what} container {} failed: {e}", short(id)))
        };
        // The program goes in before the start, into the container's own layer (a
        // read-only root only binds the running container): no stdin, no host mount.
        let path = launcher_path(language);
        let archive = launcher_archive(&path[1..], program.source.as_bytes())
            .map_err(|e| ProviderError::Unavailable(format!("cannot pack the program: {e}")))?;
        engine
            .upload_to_container(
                id,
                Some(UploadToContainerOptionsBuilder::default().path("/").build()),
                bollard::body_full(archive.into()),
            )
            .await
            .map_err(|e| fail("copying the program into", e))?;
        let options = AttachContainerOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .stream(true)
            .build();
        let mut attached = match engine.attach_container(id, Some(options)).await {
            Ok(attached) => attached,
            Err(e) => {
                return Err(self
                    .start_failed(container, language, "attaching to", e)
                    .await)
            }
        };
        if let Err(e) = engine
            .start_container(id, None::<bollard::query_parameters::StartContainerOptions>)
            .await
        {
            return Err(self.start_failed(container, language, "starting", e).await);
        }
        let (mut seen_out, mut seen_err) = (0usize, 0usize);
        while let Some(piece) = attached.output.next().await {
            match piece.map_err(|e| fail("reading the output of", e))? {
                LogOutput::StdOut { message } | LogOutput::Console { message } => {
                    seen_out += message.len();
                    output.stdout(&message)
                }
                LogOutput::StdErr { message } => {
                    seen_err += message.len();
                    output.stderr(&message)
                }
                LogOutput::StdIn { .. } => {}
            }
        }
        // The launcher's last line says how the program ended: the container's own end
        // (the engine's cleanup, 0.1-0.4 s with Podman) is the removal's to wait for.
        if output.ended().is_none() {
            let _ = engine
                .wait_container(id, None::<bollard::query_parameters::WaitContainerOptions>)
                .next()
                .await;
            // The attached stream can end before the last of the output (seen under gVisor):
            // the engine's log of the container has all of it.
            let options = LogsOptionsBuilder::default()
                .stdout(true)
                .stderr(true)
                .build();
            let mut logs = engine.logs(id, Some(options));
            let (mut out_at, mut err_at) = (0usize, 0usize);
            while let Some(Ok(piece)) = logs.next().await {
                let (message, at, seen, is_out) = match piece {
                    LogOutput::StdOut { message } => (message, &mut out_at, seen_out, true),
                    LogOutput::StdErr { message } => (message, &mut err_at, seen_err, false),
                    _ => continue,
                };
                let start = seen.saturating_sub(*at).min(message.len());
                *at += message.len();
                if start < message.len() {
                    match is_out {
                        true => output.stdout(&message[start..]),
                        false => output.stderr(&message[start..]),
                    }
                }
            }
        }
        Ok(())
    }

    fn create_failed(
        &self,
        address: &str,
        image: &str,
        err: bollard::errors::Error,
    ) -> ProviderError {
        match &err {
            bollard::errors::Error::DockerResponseServerError {
                status_code: 404,
                message,
            } if message.contains("image") || message.contains("No such") => {
                ProviderError::Unavailable(format!(
                    "image {image} is not on the engine at {address}: pull it (`docker pull {image}` or `podman pull {image}`), or set providers.docker.python_image/nodejs_image"
                ))
            }
            bollard::errors::Error::DockerResponseServerError { message, .. }
                if message.contains("runtime") =>
            {
                let runtime = self.settings.runtime.as_deref().unwrap_or("?");
                runtime_missing(runtime, address)
            }
            _ => unreachable(address, err),
        }
    }

    /// A container that could not start (Docker says so at the start, Podman already at
    /// the attach): the interpreter missing from the image, the runtime, or else.
    async fn start_failed(
        &self,
        container: &Container,
        language: Language,
        what: &str,
        err: bollard::errors::Error,
    ) -> ProviderError {
        let text = err.to_string();
        let missing = text.contains("executable file not found")
            || text.contains("no such file or directory")
            // runsc says no more than "exit status 128": look for the interpreter.
            || (self.env_for(language).is_none()
                && self.lacks_interpreter(container, language).await);
        if missing {
            let image = self.image(language);
            let message = match self.env_for(language) {
                Some(env) => format!(
                    "the runtime env's interpreter {} cannot run in image {image}: the env must be on the engine's machine, and the image must have the libraries it needs (glibc)",
                    env.interpreter.display()
                ),
                None => format!(
                    "image {image} has no `{}`: use an image that has it (providers.docker.{}_image), or bring one with --env and a runtime env",
                    interpreter_name(language),
                    language.name()
                ),
            };
            return ProviderError::Interpreter {
                message,
                exit_code: 127,
            };
        }
        if let Some(runtime) = &self.settings.runtime {
            if text.contains(runtime.as_str())
                && (text.contains("not found") || text.contains("no such"))
            {
                return ProviderError::Unavailable(format!(
                    "the engine cannot run runtime {runtime}: it is not registered (Docker: \"runtimes\" in daemon.json; Podman: [engine.runtimes] in containers.conf)"
                ));
            }
        }
        ProviderError::Unavailable(format!(
            "{what} container {} failed: {text}",
            short(&container.id)
        ))
    }

    /// Whether the container's file system has no `python3`/`node` in any directory of
    /// the image's PATH (false where the engine can't tell).
    async fn lacks_interpreter(&self, container: &Container, language: Language) -> bool {
        let engine = &container.engine;
        let image = engine.inspect_image(self.image(language)).await.ok();
        let path = image
            .as_ref()
            .and_then(|i| i.config.as_ref())
            .and_then(|c| c.env.as_ref())
            .and_then(|env| env.iter().find_map(|v| v.strip_prefix("PATH=")))
            .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .to_string();
        let name = interpreter_name(language);
        for dir in path.split(':').filter(|d| d.starts_with('/')) {
            let options = DownloadFromContainerOptionsBuilder::default()
                .path(&format!("{}/{name}", dir.trim_end_matches('/')))
                .build();
            let mut archive = engine.download_from_container(&container.id, Some(options));
            match archive.next().await {
                Some(Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404,
                    ..
                })) => continue,
                _ => return false,
            }
        }
        true
    }
}

fn is_gvisor(runtime: &str) -> bool {
    runtime.contains("runsc")
}

/// The command that runs `language` in an image.
fn interpreter_name(language: Language) -> &'static str {
    match language {
        Language::Python => "python3",
        Language::Nodejs => "node",
    }
}

fn runtime_missing(runtime: &str, address: &str) -> ProviderError {
    ProviderError::Unavailable(format!(
        "the engine at {address} has no runtime `{runtime}`: register it (Docker: \"runtimes\" in /etc/docker/daemon.json; Podman: [engine.runtimes] in containers.conf) or unset providers.docker.runtime"
    ))
}

/// A failed call to the engine as one sentence; a socket rock may not use says so.
fn unreachable(address: &str, err: bollard::errors::Error) -> ProviderError {
    if let bollard::errors::Error::SocketNotFoundError(path) = &err {
        return ProviderError::Unavailable(format!(
            "cannot reach the container engine at {address}: there is no socket {path}; is Docker or `podman system service` running?"
        ));
    }
    let text = err.to_string();
    let mut cause: &dyn std::error::Error = &err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    let cause = cause.to_string();
    if cause.contains("Permission denied") || text.contains("Permission denied") {
        return ProviderError::Unavailable(format!(
            "permission denied on the engine's socket {address}: run rock as a user who may use it (the docker group), or point providers.docker.host at one you may"
        ));
    }
    if cause.contains("No such file") || cause.contains("Connection refused") {
        return ProviderError::Unavailable(format!(
            "cannot reach the container engine at {address} ({cause}): is Docker or `podman system service` running there?"
        ));
    }
    ProviderError::Unavailable(format!("the container engine at {address} failed: {text}"))
}

/// Where the program is put in the container, and run from.
fn launcher_path(language: Language) -> &'static str {
    match language {
        Language::Python => "/rock-launch.py",
        Language::Nodejs => "/rock-launch.js",
    }
}

/// A tar archive of one read-only file.
fn launcher_archive(name: &str, contents: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut header = tar::Header::new_gnu();
    header.set_size(contents.len() as u64);
    header.set_mode(0o444);
    header.set_cksum();
    let mut archive = tar::Builder::new(Vec::new());
    archive.append_data(&mut header, name, contents)?;
    archive.into_inner()
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

fn container_of(instance: &Instance) -> Result<&Container, ProviderError> {
    instance
        .state
        .downcast_ref::<Container>()
        .ok_or_else(|| ProviderError::Unavailable("not a docker container".into()))
}
