//! Provider `rock`: sandboxes from a ROCK admin server, which schedules them on Ray or
//! Kubernetes (DESIGN.md "Remote providers").
//!
//! A run starts a sandbox (`start_async`, then `get_status` until it is alive), writes
//! rock's launcher into it (`write_file`), runs it with `python3` (`execute`, which answers
//! with the whole output once the command ends), and stops the sandbox (`stop`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::remote::http::JsonBody;
use super::remote::{self, Program, Repeat, RunOutput, Service};
use super::{
    schema, CommandOutput, CommandRequest, CommandSink, ConfigError, ConfigField, ConfigSchema,
    FieldType, Health, Instance, KeptSandboxes, Provider, ProviderContext, ProviderError, Sink,
};
use crate::exec::{ExecRequest, ExecutionResult};
use crate::sandbox::Stream;

const API: &str = "/apis/envs/sandbox/v1";
const DEFAULT_IMAGE: &str = "python:3.11";
/// A runtime env's sandbox gets this much memory: enough for pip and npm.
const ENV_SANDBOX_MEMORY: u64 = 2 << 30;

#[derive(Debug, Clone)]
struct Settings {
    base_url: Option<String>,
    api_key: Option<String>,
    cluster: Option<String>,
    image: String,
    cpus: i64,
    startup_timeout: Duration,
    request_timeout: Duration,
    /// How long the server keeps a runtime env's sandbox.
    env_lifetime: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            base_url: None,
            api_key: None,
            cluster: None,
            image: DEFAULT_IMAGE.into(),
            cpus: 1,
            startup_timeout: Duration::from_secs(180),
            request_timeout: Duration::from_secs(30),
            env_lifetime: Duration::from_secs(6 * 3600),
        }
    }
}

#[derive(Default)]
pub struct RockProvider {
    settings: Settings,
    service: Option<Service>,
}

/// What rock keeps of a sandbox the admin server started.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RockSandbox {
    pub id: String,
}

pub fn schema() -> ConfigSchema {
    ConfigSchema {
        fields: vec![
            ConfigField::new(
                "base_url",
                FieldType::String,
                "Admin server",
                "The ROCK admin server's base URL, e.g. http://rock-admin:8080",
            )
            .env("ROCK_BASE_URL"),
            ConfigField::new("api_key", FieldType::String, "API key", "Sent as X-API-Key")
                .secret()
                .env("ROCK_API_KEY"),
            ConfigField::new(
                "cluster",
                FieldType::String,
                "Cluster",
                "Sent as X-Cluster: the cluster to schedule sandboxes on",
            )
            .env("ROCK_CLUSTER"),
            ConfigField::new(
                "image",
                FieldType::String,
                "Image",
                "The sandbox image; it must have python3 (and node for Node.js code)",
            )
            .default(DEFAULT_IMAGE),
            ConfigField::new("cpus", FieldType::Integer, "CPUs", "CPUs of each sandbox")
                .default(1)
                .range(1, 64),
            ConfigField::new(
                "startup_timeout",
                FieldType::Integer,
                "Start-up timeout (s)",
                "Seconds a new sandbox may take to come alive",
            )
            .default(180)
            .range(1, 3600),
            ConfigField::new(
                "request_timeout",
                FieldType::Integer,
                "HTTP timeout (s)",
                "Seconds a call may take beyond the run's own timeout",
            )
            .default(30)
            .range(1, 3600),
            ConfigField::new(
                "env_lifetime",
                FieldType::Integer,
                "Env sandbox lifetime (s)",
                "How long the server keeps the sandbox of a runtime env before it clears it",
            )
            .default(6 * 3600)
            .range(60, 30 * 86400),
        ],
    }
}

#[async_trait]
impl Provider for RockProvider {
    fn name(&self) -> &'static str {
        "rock"
    }

    fn description(&self) -> &'static str {
        "a ROCK admin server: sandboxes scheduled on Ray or Kubernetes"
    }

    fn config_schema(&self) -> ConfigSchema {
        schema()
    }

    fn initialize(
        &mut self,
        config: &toml::Table,
        _context: &ProviderContext,
    ) -> Result<(), ConfigError> {
        let text = |key: &str| schema::text_setting(config, key);
        let number = |key: &str| schema::integer_setting(config, key);
        let s = &mut self.settings;
        s.base_url = text("base_url")
            .map(|url| remote::checked_url("providers.rock.base_url", &url))
            .transpose()?;
        s.api_key = text("api_key");
        s.cluster = text("cluster");
        if let Some(image) = text("image") {
            s.image = image;
        }
        if let Some(cpus) = number("cpus") {
            s.cpus = cpus;
        }
        if let Some(seconds) = number("startup_timeout") {
            s.startup_timeout = Duration::from_secs(seconds as u64);
        }
        if let Some(seconds) = number("request_timeout") {
            s.request_timeout = Duration::from_secs(seconds as u64);
        }
        if let Some(seconds) = number("env_lifetime") {
            s.env_lifetime = Duration::from_secs(seconds as u64);
        }
        self.service = Some(
            Service::new(
                "the ROCK admin server",
                "providers.rock.api_key or $ROCK_API_KEY".into(),
                "providers.rock.request_timeout".into(),
                s.request_timeout,
            )
            .map_err(ConfigError::Invalid)?,
        );
        Ok(())
    }

    async fn health_check(&self) -> Health {
        // A status call for a sandbox that can't exist: the server must answer, in its
        // envelope, and accept the key.
        let outcome = self
            .call(
                "checking the server",
                Repeat::Idempotent,
                Call::Get("get_status?sandbox_id=rock-health-check"),
            )
            .await;
        let base = self.settings.base_url.as_deref().unwrap_or("(no base_url)");
        match outcome {
            Ok(_) | Err(CallError::Failed(_)) => Health {
                healthy: true,
                detail: format!("{base} answered"),
            },
            Err(CallError::Provider(err)) => Health {
                healthy: false,
                detail: err.to_string(),
            },
        }
    }

    async fn create_instance(&self, request: &ExecRequest) -> Result<Instance, ProviderError> {
        let lifetime = request.timeout + self.settings.startup_timeout + Duration::from_secs(60);
        let sandbox = self.start_sandbox(request.memory_bytes, lifetime).await?;
        Ok(Instance {
            id: sandbox.id.clone(),
            language: request.language,
            state: Arc::new(sandbox),
        })
    }

    async fn execute_code(
        &self,
        instance: &Instance,
        request: &ExecRequest,
        sink: Sink,
    ) -> Result<ExecutionResult, ProviderError> {
        let sandbox = sandbox_of(instance)?;
        let path = format!("/tmp/rock-launch-{}.py", remote::token());
        let program = Program::new(request, Some(&path));
        let mut output = RunOutput::new(&program, request, sink);
        let run = async {
            self.write_file(sandbox, &path, &program.source).await?;
            self.execute(
                sandbox,
                &CommandRequest {
                    command: format!("python3 {path}"),
                    cwd: Some("/tmp".into()),
                    env: Default::default(),
                    timeout: request.timeout + self.settings.request_timeout,
                },
            )
            .await
        };
        let answer = remote::unless_interrupted(run).await?;
        output.stdout(&answer.stdout);
        output.stderr(&answer.stderr);
        if output.ended().is_none() && answer.exit_code == 127 {
            return Err(ProviderError::Interpreter {
                message: format!(
                    "the ROCK sandbox (image {}) has no python3, which rock's launcher needs",
                    self.settings.image
                ),
                exit_code: 127,
            });
        }
        let mut metadata = Map::new();
        metadata.insert("provider".into(), json!("rock"));
        metadata.insert("sandbox_id".into(), json!(sandbox.id));
        metadata.insert("image".into(), json!(self.settings.image));
        metadata.insert(
            "memory_held_by".into(),
            json!("the ROCK sandbox's memory limit"),
        );
        output.finish("ROCK", request, metadata)
    }

    async fn destroy_instance(&self, instance: Instance) -> Result<(), ProviderError> {
        let sandbox = sandbox_of(&instance)?;
        self.stop_sandbox(&sandbox.id).await
    }

    fn kept_sandboxes(&self) -> Option<&dyn KeptSandboxes> {
        Some(self)
    }
}

/// Runtime envs live in sandboxes the admin server clears after their lifetime; commands
/// go to `execute`, which answers with the whole output at the end.
#[async_trait]
impl KeptSandboxes for RockProvider {
    async fn create_kept(&self) -> Result<Value, ProviderError> {
        let sandbox = self
            .start_sandbox(ENV_SANDBOX_MEMORY, self.settings.env_lifetime)
            .await?;
        Ok(json!({ "id": sandbox.id }))
    }

    async fn run_command(
        &self,
        handle: &Value,
        command: &CommandRequest,
        sink: CommandSink<'_>,
    ) -> Result<CommandOutput, ProviderError> {
        let sandbox = handle_of(handle)?;
        let output = self.execute(&sandbox, command).await?;
        sink(Stream::Stdout, &output.stdout);
        sink(Stream::Stderr, &output.stderr);
        Ok(output)
    }

    async fn destroy_kept(&self, handle: &Value) -> Result<(), ProviderError> {
        self.stop_sandbox(&handle_of(handle)?.id).await
    }
}

fn handle_of(handle: &Value) -> Result<RockSandbox, ProviderError> {
    serde_json::from_value(handle.clone())
        .map_err(|e| ProviderError::Unavailable(format!("not a ROCK sandbox handle: {e}")))
}

/// A call to the admin server, by path under the API's base.
enum Call<'a> {
    Get(&'a str),
    Post(&'a str, Value),
}

enum CallError {
    /// The server answered in its envelope with `status: Failed`: what it said.
    Failed(String),
    Provider(ProviderError),
}

impl From<ProviderError> for CallError {
    fn from(err: ProviderError) -> Self {
        CallError::Provider(err)
    }
}

impl CallError {
    fn into_provider(self, what: &str) -> ProviderError {
        match self {
            CallError::Failed(said) => {
                ProviderError::Unavailable(format!("the ROCK admin server refused {what}: {said}"))
            }
            CallError::Provider(err) => err,
        }
    }
}

impl RockProvider {
    fn service(&self) -> Result<(&Service, &str), ProviderError> {
        let service = self
            .service
            .as_ref()
            .ok_or_else(|| ProviderError::Unavailable("provider rock is not initialized".into()))?;
        let base = self.settings.base_url.as_deref().ok_or_else(|| {
            ProviderError::Unavailable(
                "provider rock has no admin server: set providers.rock.base_url or $ROCK_BASE_URL"
                    .into(),
            )
        })?;
        Ok((service, base))
    }

    /// One call; the envelope's `result` on success.
    async fn call(&self, what: &str, repeat: Repeat, call: Call<'_>) -> Result<Value, CallError> {
        self.call_within(what, repeat, call, None).await
    }

    async fn call_within(
        &self,
        what: &str,
        repeat: Repeat,
        call: Call<'_>,
        bound: Option<Duration>,
    ) -> Result<Value, CallError> {
        let (service, base) = self.service()?;
        let bound = bound.unwrap_or(service.request_timeout);
        let response = service
            .send(what, repeat, || {
                let builder = match &call {
                    Call::Get(path) => service.client.get(format!("{base}{API}/{path}")),
                    Call::Post(path, body) => service
                        .client
                        .post(format!("{base}{API}/{path}"))
                        .json_body(body),
                };
                let mut builder = builder.timeout(bound);
                if let Some(key) = &self.settings.api_key {
                    builder = builder.header("X-API-Key", key);
                }
                if let Some(cluster) = &self.settings.cluster {
                    builder = builder.header("X-Cluster", cluster);
                }
                builder
            })
            .await?;
        let status = response.status();
        let body = remote::http::read_json(response).await;
        let body = match (status.is_success(), body) {
            (true, Ok(body)) => body,
            (false, body) => {
                return Err(service
                    .refusal(what, status, &body.unwrap_or(Value::Null))
                    .into())
            }
            (true, Err(e)) => {
                return Err(ProviderError::Unavailable(format!(
                    "the ROCK admin server sent an unreadable answer while {what}: {e}"
                ))
                .into())
            }
        };
        match body["status"].as_str() {
            Some("Success") => Ok(body["result"].clone()),
            Some(_) => Err(CallError::Failed(remote::http::message_of(&body))),
            None => Err(ProviderError::Unavailable(format!(
                "the ROCK admin server answered {what} outside its envelope: {body}"
            ))
            .into()),
        }
    }

    /// Starts a sandbox and waits until it is alive; one that never comes alive is stopped.
    pub async fn start_sandbox(
        &self,
        memory_bytes: u64,
        lifetime: Duration,
    ) -> Result<RockSandbox, ProviderError> {
        let what = format!("starting a sandbox of image {}", self.settings.image);
        let body = json!({
            "image": self.settings.image,
            "memory": format!("{}m", memory_bytes.div_ceil(1024 * 1024)),
            "cpus": self.settings.cpus,
            "startup_timeout": self.settings.startup_timeout.as_secs(),
            // The server clears the sandbox by itself after this, should rock never stop it.
            "auto_clear_time_minutes": lifetime.as_secs().div_ceil(60),
        });
        let started = self
            .call(&what, Repeat::Once, Call::Post("start_async", body))
            .await
            .map_err(|e| e.into_provider(&what))?;
        let id = started["sandbox_id"]
            .as_str()
            .ok_or_else(|| {
                ProviderError::Unavailable(format!(
                    "the ROCK admin server answered {what} without a sandbox_id: {started}"
                ))
            })?
            .to_string();
        let sandbox = RockSandbox { id };
        match remote::unless_interrupted(self.wait_alive(&sandbox.id)).await {
            Ok(()) => Ok(sandbox),
            Err(err) => {
                let _ = self.stop_sandbox(&sandbox.id).await;
                Err(err)
            }
        }
    }

    async fn wait_alive(&self, id: &str) -> Result<(), ProviderError> {
        let deadline = Instant::now() + self.settings.startup_timeout;
        let what = format!("waiting for sandbox {id} to start");
        let path = format!("get_status?sandbox_id={id}");
        let mut delay = Duration::from_millis(100);
        loop {
            let status = self
                .call(&what, Repeat::Idempotent, Call::Get(&path))
                .await
                .map_err(|e| e.into_provider(&what))?;
            // ROCK's own SDK takes a missing is_alive as alive.
            if status["is_alive"].as_bool().unwrap_or(true) {
                return Ok(());
            }
            if let Some(phases) = status["status"].as_object() {
                for (phase, state) in phases {
                    let said = state["status"].as_str().unwrap_or("");
                    if said == "failed" || said == "timeout" {
                        return Err(ProviderError::Unavailable(format!(
                            "sandbox {id} failed to start: {phase} {said}: {}",
                            state["message"].as_str().unwrap_or("")
                        )));
                    }
                }
            }
            if Instant::now() + delay > deadline {
                return Err(ProviderError::Unavailable(format!(
                    "sandbox {id} was not alive after {} s (providers.rock.startup_timeout); it was stopped",
                    self.settings.startup_timeout.as_secs()
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(2));
        }
    }

    /// Stops a sandbox; one the server no longer knows is no error.
    pub async fn stop_sandbox(&self, id: &str) -> Result<(), ProviderError> {
        let what = format!("stopping sandbox {id}");
        match self
            .call(
                &what,
                Repeat::Idempotent,
                Call::Post("stop", json!({"sandbox_id": id})),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(CallError::Failed(said))
                if said.contains("not found") || said.contains("not exist") =>
            {
                Ok(())
            }
            Err(err) => Err(err.into_provider(&what)),
        }
    }

    pub async fn write_file(
        &self,
        sandbox: &RockSandbox,
        path: &str,
        content: &str,
    ) -> Result<(), ProviderError> {
        let what = format!("writing {path} in sandbox {}", sandbox.id);
        let body = json!({"content": content, "path": path, "sandbox_id": sandbox.id});
        self.call(&what, Repeat::Idempotent, Call::Post("write_file", body))
            .await
            .map(|_| ())
            .map_err(|e| e.into_provider(&what))
    }

    /// Runs a command to its end; the answer holds its whole output and exit code.
    pub async fn execute(
        &self,
        sandbox: &RockSandbox,
        command: &CommandRequest,
    ) -> Result<CommandOutput, ProviderError> {
        let what = format!("running a command in sandbox {}", sandbox.id);
        // The server runs an argv without a shell unless told otherwise.
        let mut body = json!({
            "command": ["bash", "-c", command.command],
            "sandbox_id": sandbox.id,
            "timeout": command.timeout.as_secs_f64(),
            "env": command.env,
        });
        if let Some(cwd) = &command.cwd {
            body["cwd"] = json!(cwd);
        }
        let bound = command.timeout + self.settings.request_timeout;
        let answer = self
            .call_within(
                &what,
                Repeat::Once,
                Call::Post("execute", body),
                Some(bound),
            )
            .await
            .map_err(|e| e.into_provider(&what))?;
        let text = |key: &str| answer[key].as_str().unwrap_or("").as_bytes().to_vec();
        // -1 (or none) is the server's word for a command it ended or could not run.
        let exit_code = match answer["exit_code"].as_i64() {
            Some(code) if code >= 0 => code as i32,
            _ => {
                return Err(ProviderError::Unavailable(format!(
                    "the ROCK sandbox {} did not report an exit code while {what} (the server ended the command, or could not run it): {}",
                    sandbox.id,
                    String::from_utf8_lossy(&text("stderr")).trim()
                )))
            }
        };
        Ok(CommandOutput {
            stdout: text("stdout"),
            stderr: text("stderr"),
            exit_code,
            signal: None,
        })
    }
}

fn sandbox_of(instance: &Instance) -> Result<&RockSandbox, ProviderError> {
    instance
        .state
        .downcast_ref::<RockSandbox>()
        .ok_or_else(|| ProviderError::Unavailable("not a ROCK sandbox".into()))
}
