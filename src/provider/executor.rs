//! Provider `executor` (alias `self_managed`): a client of the executor API (DESIGN.md
//! "Executor API"), as served by RAGFlow's sandbox executor manager or by `rock serve`.
//! Code goes out as `POST /run`; the answer becomes the common result.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::{
    ConfigError, ConfigField, ConfigSchema, FieldType, Health, Instance, Provider, ProviderContext,
    ProviderError, Sink,
};
use crate::exec::artifacts::Artifact;
use crate::exec::{ExecRequest, ExecutionResult, ResultValue, Status, Truncated};
use crate::sandbox::Stream;
use crate::server::api::{self, RunResponse};
use crate::server::TOKEN_ENV;

const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:9385";

#[derive(Debug, Clone)]
struct Settings {
    endpoint: String,
    /// How long an HTTP request may take beyond the run's own timeout.
    timeout: Duration,
    token: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            endpoint: DEFAULT_ENDPOINT.to_string(),
            timeout: Duration::from_secs(30),
            token: None,
        }
    }
}

#[derive(Debug, Default)]
pub struct ExecutorProvider {
    settings: Settings,
}

pub fn schema() -> ConfigSchema {
    ConfigSchema {
        fields: vec![
            ConfigField::new(
                "endpoint",
                FieldType::String,
                "Endpoint",
                "Base URL of the executor: rock serve, or RAGFlow's sandbox executor manager",
            )
            .default(DEFAULT_ENDPOINT),
            ConfigField::new(
                "timeout",
                FieldType::Integer,
                "HTTP timeout (s)",
                "Seconds an HTTP request may take beyond the run's own timeout",
            )
            .default(30)
            .range(1, 3600),
            ConfigField::new(
                "token",
                FieldType::String,
                "API token",
                "Sent as Authorization: Bearer; the executor's SANDBOX_EXECUTOR_MANAGER_API_TOKEN",
            )
            .secret()
            .env(TOKEN_ENV),
        ],
    }
}

#[async_trait]
impl Provider for ExecutorProvider {
    fn name(&self) -> &'static str {
        "executor"
    }

    fn description(&self) -> &'static str {
        "an executor API over HTTP: rock serve, or RAGFlow's self-managed sandbox executor manager"
    }

    fn config_schema(&self) -> ConfigSchema {
        schema()
    }

    fn initialize(
        &mut self,
        config: &toml::Table,
        _context: &ProviderContext,
    ) -> Result<(), ConfigError> {
        let s = &mut self.settings;
        if let Some(endpoint) = config.get("endpoint").and_then(toml::Value::as_str) {
            let endpoint = endpoint.trim_end_matches('/');
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return Err(ConfigError::Invalid(format!(
                    "providers.executor.endpoint must be an http:// or https:// URL, got `{endpoint}`"
                )));
            }
            s.endpoint = endpoint.to_string();
        }
        if let Some(seconds) = config.get("timeout").and_then(toml::Value::as_integer) {
            s.timeout = Duration::from_secs(seconds as u64);
        }
        s.token = config
            .get("token")
            .and_then(toml::Value::as_str)
            .map(str::to_string);
        Ok(())
    }

    async fn health_check(&self) -> Health {
        let url = format!("{}/healthz", self.settings.endpoint);
        let answer = async {
            let response = client(Duration::from_secs(5))?
                .get(&url)
                .send()
                .await
                .map_err(|e| unreachable(&self.settings.endpoint, e))?;
            let status = response.status();
            let body: Value = response.json_value().await?;
            if status.is_success() && body["status"] == "ok" {
                Ok(())
            } else {
                Err(format!("{url} answered {status}: {body}"))
            }
        };
        match answer.await {
            Ok(()) => Health {
                healthy: true,
                detail: format!("{url} answered ok"),
            },
            Err(detail) => Health {
                healthy: false,
                detail,
            },
        }
    }

    async fn create_instance(&self, request: &ExecRequest) -> Result<Instance, ProviderError> {
        Ok(Instance {
            id: crate::process::random_id(),
            language: request.language,
            state: std::sync::Arc::new(()),
        })
    }

    async fn execute_code(
        &self,
        instance: &Instance,
        request: &ExecRequest,
        mut sink: Sink,
    ) -> Result<ExecutionResult, ProviderError> {
        let settings = &self.settings;
        let body = json!({
            "code_b64": base64::engine::general_purpose::STANDARD.encode(request.code.as_bytes()),
            "language": request.language.name(),
            "arguments": request.arguments.clone().unwrap_or_default(),
            "timeout": request.timeout.as_secs_f64(),
            "memory": request.memory_bytes,
        });
        let url = format!("{}/run", settings.endpoint);
        let mut post = client(request.timeout + settings.timeout)
            .map_err(ProviderError::Unavailable)?
            .post(&url)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(token) = &settings.token {
            post = post.bearer_auth(token);
        }
        let response = post
            .send()
            .await
            .map_err(|e| ProviderError::Unavailable(unreachable(&settings.endpoint, e)))?;
        let status = response.status();
        let body = response
            .json_value()
            .await
            .map_err(ProviderError::Unavailable)?;
        match status.as_u16() {
            200 | 429 => {}
            401 => {
                return Err(ProviderError::Unavailable(format!(
                "the executor at {} refused the token: set providers.executor.token or {TOKEN_ENV}",
                settings.endpoint
            )))
            }
            422 => {
                return Err(ProviderError::BadInput(format!(
                    "the executor refused the request: {}",
                    detail_text(&body["detail"])
                )))
            }
            other => {
                return Err(ProviderError::Unavailable(format!(
                    "the executor at {} answered HTTP {other}: {body}",
                    settings.endpoint
                )))
            }
        }
        let answer: RunResponse = serde_json::from_value(body.clone()).map_err(|e| {
            ProviderError::Unavailable(format!(
                "the executor at {} sent an answer rock can't read ({e})",
                settings.endpoint
            ))
        })?;
        let result = to_result(answer, instance, request, &settings.endpoint)?;
        sink.output(Stream::Stdout, result.stdout.as_bytes());
        sink.output(Stream::Stderr, result.stderr.as_bytes());
        Ok(result)
    }

    async fn destroy_instance(&self, _instance: Instance) -> Result<(), ProviderError> {
        Ok(())
    }
}

/// The executor's answer as the common result, with the container exit codes.
fn to_result(
    answer: RunResponse,
    instance: &Instance,
    request: &ExecRequest,
    endpoint: &str,
) -> Result<ExecutionResult, ProviderError> {
    let refused = |what: &str| {
        ProviderError::Unavailable(format!(
            "the executor at {endpoint} {what}: {}",
            answer.stderr.trim()
        ))
    };
    match answer.exit_code {
        api::EXIT_BUSY => return Err(refused("has no free sandbox")),
        api::EXIT_RATE_LIMITED => return Err(refused("rate-limited the request")),
        api::EXIT_INTERNAL => return Err(refused("failed")),
        _ => {}
    }
    if answer.detail.as_deref() == Some("bad_input") {
        return Err(ProviderError::BadInput(answer.stderr.trim().to_string()));
    }
    let status = Status::parse(&answer.status).ok_or_else(|| {
        ProviderError::Unavailable(format!(
            "the executor at {endpoint} sent an unknown status `{}`",
            answer.status
        ))
    })?;
    let mut metadata = Map::new();
    metadata.insert("provider".into(), json!("executor"));
    metadata.insert("endpoint".into(), json!(endpoint));
    metadata.insert("sandbox_id".into(), json!(instance.id));
    let exit_code = match answer.exit_code {
        api::EXIT_TIMEOUT => 124,
        api::EXIT_MEMORY => 137,
        code => code,
    };
    let limit = match (answer.resource_limit_type.as_deref(), answer.exit_code) {
        (Some("memory"), _) | (_, api::EXIT_MEMORY) => Some("memory"),
        (Some("time"), 152) => Some("cpu"),
        (Some("time"), _) | (_, api::EXIT_TIMEOUT) => Some("time"),
        (Some("output"), _) => Some("file_size"),
        _ => None,
    };
    if let Some(limit) = limit {
        metadata.insert("limit_hit".into(), json!(limit));
    }
    if status == Status::RuntimeError && exit_code > 128 {
        metadata.insert("signal".into(), json!(exit_code - 128));
    }
    if let Some(kind) = &answer.unauthorized_access_type {
        metadata.insert("unauthorized_access_type".into(), json!(kind));
    }
    if answer.memory_used_kb > 0.0 {
        metadata.insert(
            "peak_memory_bytes".into(),
            json!((answer.memory_used_kb * 1024.0) as u64),
        );
    }
    let detail = answer.detail.clone().unwrap_or_default();
    let (stdout, stdout_cut) = cap(answer.stdout, request.output_cap);
    let (stderr, stderr_cut) = cap(answer.stderr, request.output_cap);
    let result = answer
        .result
        .filter(|r| r["present"] == true)
        .map(|r| ResultValue::json(r["value"].clone()));
    let artifacts: Vec<Artifact> = answer.artifacts;
    Ok(ExecutionResult {
        stdout,
        stderr,
        exit_code,
        execution_time: answer.time_used_ms / 1000.0,
        status,
        result,
        truncated: Truncated {
            stdout: stdout_cut || detail.contains("stdout truncated"),
            stderr: stderr_cut || detail.contains("stderr truncated"),
        },
        metadata,
        artifacts,
    })
}

/// Cuts `text` to `cap` bytes (at a character boundary); says whether it cut.
fn cap(mut text: String, cap: usize) -> (String, bool) {
    if text.len() <= cap {
        return (text, false);
    }
    let mut end = cap;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    (text, true)
}

fn detail_text(detail: &Value) -> String {
    match detail {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| format!("cannot make an HTTP client: {e}"))
}

fn unreachable(endpoint: &str, err: reqwest::Error) -> String {
    if err.is_timeout() {
        return format!("the executor at {endpoint} did not answer in time");
    }
    // The innermost cause says what happened ("Connection refused"); reqwest's own text
    // only repeats the URL.
    let mut cause: &dyn std::error::Error = &err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    format!(
        "cannot reach the executor at {endpoint} ({cause}): is rock serve (or RAGFlow's executor) running there?"
    )
}

/// Reads a JSON body, whatever the status.
trait JsonValue {
    async fn json_value(self) -> Result<Value, String>;
}

impl JsonValue for reqwest::Response {
    async fn json_value(self) -> Result<Value, String> {
        let url = self.url().clone();
        let bytes = self
            .bytes()
            .await
            .map_err(|e| format!("reading the answer of {url} failed: {e}"))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("{url} did not answer with JSON ({e})"))
    }
}
