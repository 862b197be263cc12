//! Provider `e2b`: Firecracker microVMs from E2B (DESIGN.md "Remote providers").
//!
//! A run makes a sandbox through the control plane (`POST /sandboxes`), sends rock's
//! launcher to the code interpreter in it (`POST /execute` on port 49999, answered with
//! JSON lines as the code prints), and deletes the sandbox. Shell commands (runtime envs)
//! go to envd (port 49983) as Connect-RPC `process.Process/Start`, whose events stream
//! back in Connect envelopes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::remote::http::JsonBody;
use super::remote::stream::{Envelope, Envelopes, JsonLines};
use super::remote::{self, Program, Repeat, RunOutput, Service};
use super::{
    schema, CommandOutput, CommandRequest, CommandSink, ConfigError, ConfigField, ConfigSchema,
    FieldType, Health, Instance, KeptSandboxes, Provider, ProviderContext, ProviderError, Sink,
};
use crate::exec::{ExecRequest, ExecutionResult};
use crate::sandbox::Stream;

const DEFAULT_DOMAIN: &str = "e2b.app";
const DEFAULT_TEMPLATE: &str = "code-interpreter-v1";
const INTERPRETER_PORT: u16 = 49999;
const ENVD_PORT: u16 = 49983;
/// E2B's own domains, whose sandboxes are reached through one host.
const SHARED_HOST_DOMAINS: [&str; 4] = ["e2b.app", "e2b.dev", "e2b.pro", "e2b-staging.dev"];
/// A sandbox outlives its run by this much at most, should rock never delete it.
const LIFETIME_MARGIN: u64 = 60;

#[derive(Debug, Clone)]
struct Settings {
    api_key: Option<String>,
    domain: String,
    api_url: String,
    sandbox_url: Option<String>,
    template: String,
    request_timeout: Duration,
    /// Seconds a runtime env's sandbox lives after its last command.
    env_lifetime: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            api_key: None,
            domain: DEFAULT_DOMAIN.into(),
            api_url: format!("https://api.{DEFAULT_DOMAIN}"),
            sandbox_url: None,
            template: DEFAULT_TEMPLATE.into(),
            request_timeout: Duration::from_secs(30),
            env_lifetime: 3600,
        }
    }
}

#[derive(Default)]
pub struct E2bProvider {
    settings: Settings,
    service: Option<Service>,
}

/// What rock keeps of a sandbox E2B made.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct E2bSandbox {
    pub id: String,
    /// `envdAccessToken`: sent as X-Access-Token to the sandbox's own services.
    pub access_token: Option<String>,
    /// `trafficAccessToken`: sent as E2B-Traffic-Access-Token where given.
    pub traffic_token: Option<String>,
    /// The domain its traffic goes to, as the control plane said.
    pub domain: Option<String>,
}

pub fn schema() -> ConfigSchema {
    ConfigSchema {
        fields: vec![
            ConfigField::new("api_key", FieldType::String, "API key", "Your E2B API key (X-API-Key)")
                .secret()
                .env("E2B_API_KEY"),
            ConfigField::new("domain", FieldType::String, "Domain", "E2B's domain: the API is api.<domain>, sandboxes <port>-<id>.<domain>")
                .default(DEFAULT_DOMAIN)
                .env("E2B_DOMAIN"),
            ConfigField::new("api_url", FieldType::String, "API URL", "The control plane's URL instead of https://api.<domain>")
                .env("E2B_API_URL"),
            ConfigField::new("sandbox_url", FieldType::String, "Sandbox URL", "One URL for all sandbox traffic (headers E2b-Sandbox-Id and E2b-Sandbox-Port say where), instead of https://<port>-<id>.<domain>")
                .env("E2B_SANDBOX_URL"),
            ConfigField::new("template", FieldType::String, "Template", "The sandbox template; it must serve E2B's code interpreter on port 49999")
                .default(DEFAULT_TEMPLATE),
            ConfigField::new("request_timeout", FieldType::Integer, "HTTP timeout (s)", "Seconds a call may take beyond the run's own timeout")
                .default(30)
                .range(1, 3600),
            ConfigField::new("env_lifetime", FieldType::Integer, "Env sandbox lifetime (s)", "How long the sandbox of a runtime env lives after its last command (E2B's plan caps it: 1 h on Hobby, 24 h on Pro)")
                .default(3600)
                .range(60, 86400),
        ],
    }
}

#[async_trait]
impl Provider for E2bProvider {
    fn name(&self) -> &'static str {
        "e2b"
    }

    fn description(&self) -> &'static str {
        "E2B's cloud sandboxes (Firecracker microVMs), through its code interpreter"
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
        let s = &mut self.settings;
        s.api_key = text("api_key");
        if let Some(domain) = text("domain") {
            s.domain = domain;
        }
        s.api_url = match text("api_url") {
            Some(url) => remote::checked_url("providers.e2b.api_url", &url)?,
            None => format!("https://api.{}", s.domain),
        };
        s.sandbox_url = text("sandbox_url")
            .map(|url| remote::checked_url("providers.e2b.sandbox_url", &url))
            .transpose()?;
        if let Some(template) = text("template") {
            s.template = template;
        }
        if let Some(seconds) = schema::integer_setting(config, "request_timeout") {
            s.request_timeout = Duration::from_secs(seconds as u64);
        }
        if let Some(seconds) = schema::integer_setting(config, "env_lifetime") {
            s.env_lifetime = seconds as u64;
        }
        self.service = Some(
            Service::new(
                "E2B",
                "providers.e2b.api_key or $E2B_API_KEY".into(),
                "providers.e2b.request_timeout".into(),
                s.request_timeout,
            )
            .map_err(ConfigError::Invalid)?,
        );
        Ok(())
    }

    async fn health_check(&self) -> Health {
        let url = format!("{}/v2/sandboxes?limit=1", self.settings.api_url);
        let outcome = async {
            let service = self.service()?;
            let key = self.api_key()?;
            let response = service
                .send("listing sandboxes", Repeat::Idempotent, || {
                    service
                        .client
                        .get(&url)
                        .header("X-API-Key", key)
                        .timeout(service.request_timeout)
                })
                .await?;
            service
                .json("listing sandboxes", response)
                .await
                .map(|_| ())
        };
        match outcome.await {
            Ok(()) => Health {
                healthy: true,
                detail: format!("{} accepted the API key", self.settings.api_url),
            },
            Err(err) => Health {
                healthy: false,
                detail: err.to_string(),
            },
        }
    }

    async fn create_instance(&self, request: &ExecRequest) -> Result<Instance, ProviderError> {
        let lifetime = request.timeout.as_secs() + LIFETIME_MARGIN;
        let sandbox = self.create_sandbox(lifetime, request.network).await?;
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
        let program = Program::new(request, None);
        let mut output = RunOutput::new(&program, request, sink);
        remote::unless_interrupted(self.interpret(sandbox, &program, request, &mut output)).await?;
        let mut metadata = Map::new();
        metadata.insert("provider".into(), json!("e2b"));
        metadata.insert("sandbox_id".into(), json!(sandbox.id));
        metadata.insert("template".into(), json!(self.settings.template));
        metadata.insert("memory_held_by".into(), json!("the E2B sandbox's own size"));
        output.finish("E2B", request, metadata)
    }

    async fn destroy_instance(&self, instance: Instance) -> Result<(), ProviderError> {
        let sandbox = sandbox_of(&instance)?;
        self.delete_sandbox(&sandbox.id).await
    }

    fn kept_sandboxes(&self) -> Option<&dyn KeptSandboxes> {
        Some(self)
    }
}

/// Runtime envs live in sandboxes that E2B keeps for their lifetime (each command given
/// to one makes it live that long again from then); commands go to envd.
#[async_trait]
impl KeptSandboxes for E2bProvider {
    async fn create_kept(&self) -> Result<Value, ProviderError> {
        let lifetime = self.settings.env_lifetime;
        let sandbox = self.create_sandbox(lifetime, true).await?;
        let mut handle = serde_json::to_value(&sandbox).unwrap_or_default();
        handle["lifetime"] = json!(lifetime);
        Ok(handle)
    }

    async fn run_command(
        &self,
        handle: &Value,
        command: &CommandRequest,
        sink: CommandSink<'_>,
    ) -> Result<CommandOutput, ProviderError> {
        let sandbox: E2bSandbox = handle_of(handle)?;
        if let Some(lifetime) = handle["lifetime"].as_u64() {
            self.extend(&sandbox.id, lifetime + command.timeout.as_secs())
                .await?;
        }
        self.command(&sandbox, command, sink).await
    }

    async fn destroy_kept(&self, handle: &Value) -> Result<(), ProviderError> {
        let sandbox: E2bSandbox = handle_of(handle)?;
        self.delete_sandbox(&sandbox.id).await
    }
}

impl E2bProvider {
    fn service(&self) -> Result<&Service, ProviderError> {
        self.service
            .as_ref()
            .ok_or_else(|| ProviderError::Unavailable("provider e2b is not initialized".into()))
    }

    fn api_key(&self) -> Result<&str, ProviderError> {
        self.settings.api_key.as_deref().ok_or_else(|| {
            ProviderError::Unavailable(
                "provider e2b has no API key: set providers.e2b.api_key or $E2B_API_KEY".into(),
            )
        })
    }

    /// Makes a sandbox that E2B ends by itself after `lifetime` seconds.
    pub async fn create_sandbox(
        &self,
        lifetime: u64,
        internet: bool,
    ) -> Result<E2bSandbox, ProviderError> {
        let service = self.service()?;
        let key = self.api_key()?;
        let url = format!("{}/sandboxes", self.settings.api_url);
        let body = json!({
            "templateID": self.settings.template,
            "timeout": lifetime,
            "metadata": {"created_by": "rock"},
            "envVars": {},
            "secure": true,
            "allow_internet_access": internet,
        });
        let what = format!("creating a sandbox of template {}", self.settings.template);
        let response = service
            .send(&what, Repeat::Once, || {
                service
                    .client
                    .post(&url)
                    .header("X-API-Key", key)
                    .json_body(&body)
                    .timeout(service.request_timeout)
            })
            .await?;
        let created = service.json(&what, response).await?;
        let id = created["sandboxID"].as_str().ok_or_else(|| {
            ProviderError::Unavailable(format!(
                "E2B answered {what} without a sandboxID: {created}"
            ))
        })?;
        Ok(E2bSandbox {
            id: id.to_string(),
            access_token: created["envdAccessToken"].as_str().map(str::to_string),
            traffic_token: created["trafficAccessToken"].as_str().map(str::to_string),
            domain: created["domain"].as_str().map(str::to_string),
        })
    }

    /// Makes sandbox `id` live `seconds` from now (`POST /sandboxes/{id}/timeout`).
    async fn extend(&self, id: &str, seconds: u64) -> Result<(), ProviderError> {
        let service = self.service()?;
        let key = self.api_key()?;
        let url = format!("{}/sandboxes/{id}/timeout", self.settings.api_url);
        let what = format!("keeping sandbox {id} alive");
        let body = json!({ "timeout": seconds });
        let response = service
            .send(&what, Repeat::Idempotent, || {
                service
                    .client
                    .post(&url)
                    .header("X-API-Key", key)
                    .json_body(&body)
                    .timeout(service.request_timeout)
            })
            .await?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = remote::http::read_json(response)
            .await
            .unwrap_or(Value::Null);
        Err(sandbox_refusal(service, &what, status, &body, id))
    }

    /// Deletes a sandbox; one that is gone already is no error.
    pub async fn delete_sandbox(&self, id: &str) -> Result<(), ProviderError> {
        let service = self.service()?;
        let key = self.api_key()?;
        let url = format!("{}/sandboxes/{id}", self.settings.api_url);
        let what = format!("deleting sandbox {id}");
        let response = service
            .send(&what, Repeat::Idempotent, || {
                service
                    .client
                    .delete(&url)
                    .header("X-API-Key", key)
                    .timeout(service.request_timeout)
            })
            .await?;
        let status = response.status();
        if status.is_success() || status.as_u16() == 404 {
            return Ok(());
        }
        let body = remote::http::read_json(response)
            .await
            .unwrap_or(Value::Null);
        Err(service.refusal(&what, status, &body))
    }

    /// A request to one of the sandbox's own services: to `sandbox_url` when set; for
    /// E2B's own domains to `https://sandbox.<domain>`, which routes by the two headers;
    /// else to `https://<port>-<id>.<domain>`.
    fn to_sandbox(
        &self,
        service: &Service,
        sandbox: &E2bSandbox,
        port: u16,
        path: &str,
    ) -> reqwest::RequestBuilder {
        let domain = sandbox.domain.as_deref().unwrap_or(&self.settings.domain);
        let base = match &self.settings.sandbox_url {
            Some(base) => base.clone(),
            None if SHARED_HOST_DOMAINS.contains(&domain) => format!("https://sandbox.{domain}"),
            None => format!("https://{port}-{}.{domain}", sandbox.id),
        };
        let mut builder = service
            .client
            .post(format!("{base}{path}"))
            .header("E2b-Sandbox-Id", &sandbox.id)
            .header("E2b-Sandbox-Port", port.to_string());
        if let Some(token) = &sandbox.access_token {
            builder = builder.header("X-Access-Token", token);
        }
        if let Some(token) = &sandbox.traffic_token {
            builder = builder.header("E2B-Traffic-Access-Token", token);
        }
        builder
    }

    /// A call to one of the sandbox's services whose answer streams: sent once (it may
    /// have run), and refused unless it succeeds.
    async fn open_stream(
        &self,
        what: &str,
        sandbox: &E2bSandbox,
        port: u16,
        path: &str,
        finish: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ProviderError> {
        let service = self.service()?;
        let response = service
            .send(what, Repeat::Once, || {
                finish(self.to_sandbox(service, sandbox, port, path))
            })
            .await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = remote::http::read_json(response)
            .await
            .unwrap_or(Value::Null);
        Err(sandbox_refusal(service, what, status, &body, &sandbox.id))
    }

    /// Sends the program to the code interpreter and reads its JSON lines as they come.
    async fn interpret(
        &self,
        sandbox: &E2bSandbox,
        program: &Program,
        request: &ExecRequest,
        output: &mut RunOutput,
    ) -> Result<(), ProviderError> {
        let service = self.service()?;
        let body = json!({
            "code": program.source,
            "context_id": null,
            "language": "python",
            "env_vars": null,
        });
        let what = format!("running code in sandbox {}", sandbox.id);
        // The launcher ends the program at its timeout; this bounds the call around it.
        let bound = request.timeout + service.request_timeout;
        let mut response = self
            .open_stream(&what, sandbox, INTERPRETER_PORT, "/execute", |b| {
                b.json_body(&body).timeout(bound)
            })
            .await?;
        let mut lines = JsonLines::default();
        let mut error: Option<String> = None;
        let mut done = false;
        loop {
            let piece = response
                .chunk()
                .await
                .map_err(|e| service.unreachable(&what, response.url().as_str(), &e))?;
            let Some(piece) = piece else { break };
            for line in lines.feed(&piece) {
                match line {
                    Ok(message) => match message["type"].as_str() {
                        Some("stdout") => output.stdout(text_of(&message).as_bytes()),
                        Some("stderr") => output.stderr(text_of(&message).as_bytes()),
                        Some("error") => {
                            error = Some(format!(
                                "{}: {}",
                                message["name"].as_str().unwrap_or("Error"),
                                message["value"].as_str().unwrap_or("")
                            ))
                        }
                        Some("end_of_execution") => done = true,
                        Some("unexpected_end_of_execution") => {
                            error = Some("the code interpreter's kernel ended unexpectedly".into())
                        }
                        _ => {}
                    },
                    Err(line) => {
                        return Err(ProviderError::Unavailable(format!(
                            "E2B's code interpreter sent a line rock can't read: {line}"
                        )))
                    }
                }
            }
            if done {
                break;
            }
        }
        if output.ended().is_none() {
            let why = error.unwrap_or_else(|| {
                if done {
                    "the launcher printed no end report".into()
                } else {
                    "the stream ended early".into()
                }
            });
            return Err(ProviderError::Unavailable(format!(
                "E2B's code interpreter in sandbox {} did not finish the run: {why}",
                sandbox.id
            )));
        }
        Ok(())
    }

    /// Runs a shell command through envd, streaming its output to `sink`; the exit code
    /// is the command's own.
    pub async fn command(
        &self,
        sandbox: &E2bSandbox,
        command: &CommandRequest,
        sink: CommandSink<'_>,
    ) -> Result<CommandOutput, ProviderError> {
        let service = self.service()?;
        let mut process = json!({
            "cmd": "/bin/bash",
            "args": ["-l", "-c", command.command],
            "envs": command.env,
        });
        if let Some(cwd) = &command.cwd {
            process["cwd"] = json!(cwd);
        }
        // envd takes a missing `stdin` as true and would wait for input.
        let message =
            serde_json::to_vec(&json!({ "process": process, "stdin": false })).unwrap_or_default();
        let framed = Envelope::encode(0, &message);
        let what = format!("running a command in sandbox {}", sandbox.id);
        let bound = command.timeout + service.request_timeout;
        let started = Instant::now();
        let mut response = self
            .open_stream(&what, sandbox, ENVD_PORT, "/process.Process/Start", |b| {
                b.header("Content-Type", "application/connect+json")
                    .header("Connect-Protocol-Version", "1")
                    .header(
                        "Connect-Timeout-Ms",
                        command.timeout.as_millis().to_string(),
                    )
                    .header("Authorization", format!("Basic {}", BASE64.encode("user:")))
                    .header("Keepalive-Ping-Interval", "50")
                    .body(framed.clone())
                    .timeout(bound)
            })
            .await?;
        let mut envelopes = Envelopes::default();
        let mut outcome = CommandOutput::default();
        let mut exit: Option<i32> = None;
        loop {
            let piece = tokio::time::timeout_at((started + bound).into(), response.chunk())
                .await
                .map_err(|_| {
                    ProviderError::Unavailable(format!(
                        "{what}: no end within {} s",
                        bound.as_secs()
                    ))
                })?
                .map_err(|e| service.unreachable(&what, response.url().as_str(), &e))?;
            let Some(piece) = piece else { break };
            for envelope in envelopes
                .feed(&piece)
                .map_err(|e| ProviderError::Unavailable(format!("envd sent {e} while {what}")))?
            {
                let message: Value =
                    serde_json::from_slice(&envelope.message).unwrap_or(Value::Null);
                if envelope.is_end() {
                    if let Some(error) = message.get("error") {
                        return Err(ProviderError::Unavailable(format!(
                            "envd refused {what}: {}",
                            remote::http::message_of(&json!({ "error": error }))
                        )));
                    }
                    continue;
                }
                let event = &message["event"];
                if let Some(data) = event.get("data") {
                    for (key, stream) in [("stdout", Stream::Stdout), ("stderr", Stream::Stderr)] {
                        if let Some(text) = data[key].as_str() {
                            let bytes = BASE64.decode(text).unwrap_or_default();
                            sink(stream, &bytes);
                            match stream {
                                Stream::Stdout => outcome.stdout.extend_from_slice(&bytes),
                                Stream::Stderr => outcome.stderr.extend_from_slice(&bytes),
                            }
                        }
                    }
                }
                if let Some(end) = event.get("end") {
                    // proto3 JSON leaves zero values out: a missing exitCode is 0. A
                    // process killed by a signal has -1 and "signal: killed" as status.
                    outcome.signal = signal_of(end["status"].as_str().unwrap_or(""));
                    let code = end["exitCode"].as_i64().unwrap_or(0) as i32;
                    exit = Some(match outcome.signal {
                        Some(signal) if code < 0 => 128 + signal,
                        _ => code,
                    });
                }
            }
        }
        outcome.exit_code = exit.ok_or_else(|| {
            ProviderError::Unavailable(format!(
                "envd ended the stream without the command's end while {what}"
            ))
        })?;
        Ok(outcome)
    }
}

fn sandbox_refusal(
    service: &Service,
    what: &str,
    status: reqwest::StatusCode,
    body: &Value,
    id: &str,
) -> ProviderError {
    match status.as_u16() {
        // The edge proxy's answer for a sandbox that is not running.
        502 | 404 => ProviderError::Unavailable(format!(
            "E2B sandbox {id} was not found while {what}: it ended (its timeout passed, or it was deleted)"
        )),
        _ => service.refusal(what, status, body),
    }
}

/// "signal: killed" → 9, as envd words a process's end by signal.
fn signal_of(status: &str) -> Option<i32> {
    let name = status.strip_prefix("signal: ")?;
    Some(match name {
        "killed" => libc::SIGKILL,
        "terminated" => libc::SIGTERM,
        "interrupt" => libc::SIGINT,
        "aborted" => libc::SIGABRT,
        "segmentation fault" => libc::SIGSEGV,
        _ => return None,
    })
}

fn text_of(message: &Value) -> String {
    message["text"].as_str().unwrap_or("").to_string()
}

fn handle_of(handle: &Value) -> Result<E2bSandbox, ProviderError> {
    serde_json::from_value(handle.clone())
        .map_err(|e| ProviderError::Unavailable(format!("not an E2B sandbox handle: {e}")))
}

fn sandbox_of(instance: &Instance) -> Result<&E2bSandbox, ProviderError> {
    instance
        .state
        .downcast_ref::<E2bSandbox>()
        .ok_or_else(|| ProviderError::Unavailable("not an E2B sandbox".into()))
}
