//! Provider `aliyun` (alias `aliyun_codeinterpreter`): Aliyun AgentRun's code interpreter,
//! RAGFlow's default SaaS provider (DESIGN.md "Remote providers").
//!
//! A run makes a sandbox from the configured template on the data plane
//! (`POST /sandboxes`, then `GET /sandboxes/{id}/health` until it is ok), sends rock's
//! launcher to `POST /sandboxes/{id}/contexts/execute` (answered once the code has ended,
//! with its output as a list of results), and deletes the sandbox. Data-plane calls are
//! signed AGENTRUN4-HMAC-SHA256 ([`agentrun4`]); the health check reads the template from
//! the control plane, signed ACS3-HMAC-SHA256 ([`acs3`]).

pub mod acs3;
pub mod agentrun4;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Map, Value};

use super::remote::http::{message_of, JsonBody};
use super::remote::{self, Program, Repeat, RunOutput, Service};
use super::{
    schema, ConfigError, ConfigField, ConfigSchema, FieldType, Health, Instance, Provider,
    ProviderContext, ProviderError, Sink,
};
use crate::exec::{ExecRequest, ExecutionResult};

/// The regions RAGFlow's provider accepts, and AgentRun's international one.
pub const REGIONS: &[&str] = &[
    "cn-hangzhou",
    "cn-beijing",
    "cn-shanghai",
    "cn-shenzhen",
    "cn-guangzhou",
    "ap-southeast-1",
];
const API_VERSION: &str = "2025-09-10";
/// AgentRun ends an execution after at most this many seconds: a hard limit.
pub const LONGEST_TIMEOUT: i64 = 30;

#[derive(Debug, Clone, Default)]
struct Settings {
    access_key_id: String,
    access_key_secret: String,
    account_id: String,
    region: String,
    template_name: String,
    timeout: u64,
    data_endpoint: String,
    control_endpoint: String,
}

#[derive(Default)]
pub struct AliyunProvider {
    settings: Settings,
    service: Option<Service>,
}

/// What rock keeps of a sandbox AgentRun made.
#[derive(Debug, Clone)]
pub struct AgentRunSandbox {
    pub id: String,
}

pub fn schema() -> ConfigSchema {
    ConfigSchema {
        fields: vec![
            ConfigField::new("access_key_id", FieldType::String, "AccessKey ID", "A RAM user's AccessKey ID")
                .env("AGENTRUN_ACCESS_KEY_ID"),
            ConfigField::new("access_key_secret", FieldType::String, "AccessKey secret", "That AccessKey's secret")
                .secret()
                .env("AGENTRUN_ACCESS_KEY_SECRET"),
            ConfigField::new("account_id", FieldType::String, "Account ID", "The Aliyun main account's ID, part of the data plane's host")
                .env("AGENTRUN_ACCOUNT_ID"),
            ConfigField::new("region", FieldType::String, "Region", "Where AgentRun runs the sandboxes")
                .default("cn-hangzhou")
                .options(REGIONS)
                .env("AGENTRUN_REGION"),
            ConfigField::new("template_name", FieldType::String, "Template", "A code interpreter template of the account (AgentRun console or CreateTemplate)"),
            ConfigField::new("timeout", FieldType::Integer, "Execution timeout (s)", "AgentRun's own bound on an execution, at most 30 s (a hard limit); a run's --timeout must not exceed it")
                .default(LONGEST_TIMEOUT)
                .range(1, LONGEST_TIMEOUT),
            ConfigField::new("data_endpoint", FieldType::String, "Data endpoint", "The data plane's URL instead of https://<account_id>-ram.agentrun-data.<region>.aliyuncs.com")
                .env("AGENTRUN_DATA_ENDPOINT"),
            ConfigField::new("control_endpoint", FieldType::String, "Control endpoint", "The control plane's URL instead of https://agentrun.<region>.aliyuncs.com")
                .env("AGENTRUN_CONTROL_ENDPOINT"),
            ConfigField::new("request_timeout", FieldType::Integer, "HTTP timeout (s)", "Seconds a call may take beyond the run's own timeout")
                .default(30)
                .range(1, 3600),
        ],
    }
}

#[async_trait]
impl Provider for AliyunProvider {
    fn name(&self) -> &'static str {
        "aliyun"
    }

    fn description(&self) -> &'static str {
        "Aliyun AgentRun's code interpreter (RAGFlow's aliyun_codeinterpreter)"
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
        let region = text("region").unwrap_or_else(|| "cn-hangzhou".into());
        let account_id = text("account_id").unwrap_or_default();
        let data_endpoint = match text("data_endpoint") {
            Some(url) => remote::checked_url("providers.aliyun.data_endpoint", &url)?,
            None => format!("https://{account_id}-ram.agentrun-data.{region}.aliyuncs.com"),
        };
        let control_endpoint = match text("control_endpoint") {
            Some(url) => remote::checked_url("providers.aliyun.control_endpoint", &url)?,
            None => format!("https://agentrun.{region}.aliyuncs.com"),
        };
        let request_timeout = Duration::from_secs(number("request_timeout").unwrap_or(30) as u64);
        self.settings = Settings {
            access_key_id: text("access_key_id").unwrap_or_default(),
            access_key_secret: text("access_key_secret").unwrap_or_default(),
            account_id,
            region,
            template_name: text("template_name").unwrap_or_default(),
            timeout: number("timeout").unwrap_or(LONGEST_TIMEOUT) as u64,
            data_endpoint,
            control_endpoint,
        };
        self.service = Some(
            Service::new(
                "AgentRun",
                "providers.aliyun.access_key_id and access_key_secret (or $AGENTRUN_ACCESS_KEY_ID and $AGENTRUN_ACCESS_KEY_SECRET)".into(),
                "providers.aliyun.request_timeout".into(),
                request_timeout,
            )
            .map_err(ConfigError::Invalid)?,
        );
        Ok(())
    }

    async fn health_check(&self) -> Health {
        let outcome = async {
            self.ready()?;
            let what = format!("reading template {}", self.settings.template_name);
            let path = format!(
                "/{API_VERSION}/templates/{}",
                acs3::percent_encode(&self.settings.template_name)
            );
            let answer = self.control(&what, "GetTemplate", &path).await?;
            let template = if answer["data"].is_object() {
                &answer["data"]
            } else {
                &answer
            };
            match template["status"].as_str() {
                Some(status) if status.eq_ignore_ascii_case("READY") => Ok(()),
                Some(status) => Err(ProviderError::Unavailable(format!(
                    "template {} is {status}, not READY",
                    self.settings.template_name
                ))),
                None => Ok(()),
            }
        };
        match outcome.await {
            Ok(()) => Health {
                healthy: true,
                detail: format!(
                    "template {} is ready at {}",
                    self.settings.template_name, self.settings.control_endpoint
                ),
            },
            Err(err) => Health {
                healthy: false,
                detail: err.to_string(),
            },
        }
    }

    async fn create_instance(&self, request: &ExecRequest) -> Result<Instance, ProviderError> {
        self.ready()?;
        self.check_timeout(request)?;
        let what = format!(
            "creating a sandbox of template {}",
            self.settings.template_name
        );
        // Idle this long, AgentRun ends the sandbox itself, should rock never delete it.
        let idle = request.timeout.as_secs() + 60;
        let body = json!({
            "templateName": self.settings.template_name,
            "sandboxIdleTimeoutSeconds": idle,
        });
        let answer = self
            .data(
                &what,
                Repeat::Once,
                Method::POST,
                "/sandboxes",
                Some(&body),
                None,
            )
            .await?;
        let data = enveloped(&what, answer)?;
        let id = data["sandboxId"]
            .as_str()
            .ok_or_else(|| {
                ProviderError::Unavailable(format!(
                    "AgentRun answered {what} without a sandboxId: {data}"
                ))
            })?
            .to_string();
        let sandbox = AgentRunSandbox { id };
        if let Err(err) = remote::unless_interrupted(self.wait_healthy(&sandbox.id)).await {
            let _ = self.delete(&sandbox.id).await;
            return Err(err);
        }
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
        self.check_timeout(request)?;
        let sandbox = sandbox_of(instance)?;
        let program = Program::new(request, None);
        let mut output = RunOutput::new(&program, request, sink);
        let what = format!("running code in sandbox {}", sandbox.id);
        let body = json!({
            "code": program.source,
            "language": "python",
            "timeout": self.settings.timeout,
        });
        let path = format!("/sandboxes/{}/contexts/execute", sandbox.id);
        let bound = Duration::from_secs(self.settings.timeout) + self.service()?.request_timeout;
        let answer = remote::unless_interrupted(self.data(
            &what,
            Repeat::Once,
            Method::POST,
            &path,
            Some(&body),
            Some(bound),
        ))
        .await;
        let mut metadata = Map::new();
        metadata.insert("provider".into(), json!("aliyun"));
        metadata.insert("sandbox_id".into(), json!(sandbox.id));
        metadata.insert("template".into(), json!(self.settings.template_name));
        metadata.insert(
            "memory_held_by".into(),
            json!("the AgentRun template's memory"),
        );
        let answer = match answer {
            Ok(answer) => answer,
            Err(ProviderError::Unavailable(said)) if said.contains("HTTP 408") => {
                output.cut_by_provider(self.settings.timeout as f64);
                metadata.insert("timed_out_by".into(), json!("aliyun"));
                return output.finish("AgentRun", request, metadata);
            }
            Err(err) => return Err(err),
        };
        let answer = if answer["results"].is_array() {
            answer
        } else {
            answer["data"].clone()
        };
        let mut errors = Vec::new();
        for item in answer["results"].as_array().into_iter().flatten() {
            let text = item["text"].as_str().unwrap_or("");
            match item["type"].as_str() {
                Some("stdout") => output.stdout(text.as_bytes()),
                Some("stderr") => output.stderr(text.as_bytes()),
                Some("error") => errors.push(text.to_string()),
                _ => {}
            }
        }
        if output.ended().is_none() {
            let said = errors.join("; ");
            if said.to_ascii_lowercase().contains("timeout") || said.contains("timed out") {
                output.cut_by_provider(self.settings.timeout as f64);
                metadata.insert("timed_out_by".into(), json!("aliyun"));
            } else {
                return Err(ProviderError::Unavailable(format!(
                    "AgentRun's code interpreter in sandbox {} did not finish the run{}",
                    sandbox.id,
                    if said.is_empty() {
                        String::new()
                    } else {
                        format!(": {said}")
                    }
                )));
            }
        }
        output.finish("AgentRun", request, metadata)
    }

    async fn destroy_instance(&self, instance: Instance) -> Result<(), ProviderError> {
        let sandbox = sandbox_of(&instance)?;
        self.delete(&sandbox.id).await
    }
}

impl AliyunProvider {
    fn service(&self) -> Result<&Service, ProviderError> {
        self.service
            .as_ref()
            .ok_or_else(|| ProviderError::Unavailable("provider aliyun is not initialized".into()))
    }

    /// Every setting a call needs is there.
    fn ready(&self) -> Result<(), ProviderError> {
        let s = &self.settings;
        let missing: Vec<&str> = [
            ("access_key_id", &s.access_key_id),
            ("access_key_secret", &s.access_key_secret),
            ("account_id", &s.account_id),
            ("template_name", &s.template_name),
        ]
        .iter()
        .filter(|(_, value)| value.is_empty())
        .map(|(key, _)| *key)
        .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(ProviderError::Unavailable(format!(
            "provider aliyun needs {}: set providers.aliyun.<key> (or the AGENTRUN_* variables)",
            missing.join(", ")
        )))
    }

    fn check_timeout(&self, request: &ExecRequest) -> Result<(), ProviderError> {
        if request.timeout.as_secs_f64() > self.settings.timeout as f64 {
            return Err(ProviderError::BadInput(format!(
                "AgentRun runs code for at most {} s (providers.aliyun.timeout; 30 s is its hard limit): lower --timeout to {} or less",
                self.settings.timeout, self.settings.timeout
            )));
        }
        Ok(())
    }

    /// A signed data-plane call; the JSON answer of a success.
    async fn data(
        &self,
        what: &str,
        repeat: Repeat,
        method: Method,
        path: &str,
        body: Option<&Value>,
        bound: Option<Duration>,
    ) -> Result<Value, ProviderError> {
        let service = self.service()?;
        let url = format!("{}{path}", self.settings.data_endpoint);
        let host = authority(&url);
        let credentials = agentrun4::Credentials {
            access_key_id: &self.settings.access_key_id,
            secret: &self.settings.access_key_secret,
            security_token: None,
            region: &self.settings.region,
        };
        let bound = bound.unwrap_or(service.request_timeout);
        let response = service
            .send(what, repeat, || {
                // Signed again on every try: the date is part of the signature.
                let date = crate::runtime_env::registry::now_rfc3339();
                let mut builder = service
                    .client
                    .request(method.clone(), &url)
                    .header("X-Acs-Parent-Id", &self.settings.account_id)
                    .timeout(bound);
                for (name, value) in
                    agentrun4::sign(method.as_str(), &host, path, "", &date, &credentials)
                {
                    if name != "host" {
                        builder = builder.header(name, value);
                    }
                }
                match body {
                    Some(body) => builder.json_body(body),
                    None => builder,
                }
            })
            .await?;
        service.json(what, response).await
    }

    /// A signed control-plane GET.
    async fn control(&self, what: &str, action: &str, path: &str) -> Result<Value, ProviderError> {
        let service = self.service()?;
        let url = format!("{}{path}", self.settings.control_endpoint);
        let host = authority(&url);
        let response = service
            .send(what, Repeat::Idempotent, || {
                let headers: Vec<(String, String)> = vec![
                    ("x-acs-action".into(), action.into()),
                    ("x-acs-version".into(), API_VERSION.into()),
                    (
                        "x-acs-date".into(),
                        crate::runtime_env::registry::now_rfc3339(),
                    ),
                    ("x-acs-signature-nonce".into(), remote::token()),
                    ("accept".into(), "application/json".into()),
                ];
                let request = acs3::Request {
                    method: "GET",
                    host: &host,
                    path,
                    query: &[],
                    headers: &headers,
                    body: b"",
                };
                let mut builder = service.client.get(&url).timeout(service.request_timeout);
                for (name, value) in acs3::sign(
                    &request,
                    &self.settings.access_key_id,
                    &self.settings.access_key_secret,
                ) {
                    if name != "host" {
                        builder = builder.header(name, value);
                    }
                }
                builder
            })
            .await?;
        service.json(what, response).await
    }

    async fn wait_healthy(&self, id: &str) -> Result<(), ProviderError> {
        let what = format!("waiting for sandbox {id} to be ready");
        let path = format!("/sandboxes/{id}/health");
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut delay = Duration::from_millis(100);
        loop {
            let answer = self
                .data(&what, Repeat::Idempotent, Method::GET, &path, None, None)
                .await?;
            let status = answer["status"]
                .as_str()
                .or_else(|| answer["data"]["status"].as_str())
                .unwrap_or("");
            if status.eq_ignore_ascii_case("ok") {
                return Ok(());
            }
            if Instant::now() + delay > deadline {
                return Err(ProviderError::Unavailable(format!(
                    "AgentRun sandbox {id} was not ready within 60 s (its health said `{status}`); it was deleted"
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(1));
        }
    }

    /// Deletes a sandbox; one that is gone already is no error.
    async fn delete(&self, id: &str) -> Result<(), ProviderError> {
        let what = format!("deleting sandbox {id}");
        match self
            .data(
                &what,
                Repeat::Idempotent,
                Method::DELETE,
                &format!("/sandboxes/{id}"),
                None,
                None,
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(ProviderError::Unavailable(said))
                if said.contains("HTTP 404") || said.to_ascii_lowercase().contains("not found") =>
            {
                Ok(())
            }
            Err(err) => Err(err),
        }
    }
}

/// The `data` of a `{code: "SUCCESS", requestId, data}` envelope.
fn enveloped(what: &str, answer: Value) -> Result<Value, ProviderError> {
    match answer["code"].as_str() {
        Some("SUCCESS") | None if answer.get("data").is_some() => Ok(answer["data"].clone()),
        _ => Err(ProviderError::Unavailable(format!(
            "AgentRun refused {what}: {} (request {})",
            message_of(&answer),
            answer["requestId"].as_str().unwrap_or("?")
        ))),
    }
}

/// `host[:port]` of a URL, as the signature's `host` header has it.
fn authority(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    rest.split('/').next().unwrap_or("").to_string()
}

fn sandbox_of(instance: &Instance) -> Result<&AgentRunSandbox, ProviderError> {
    instance
        .state
        .downcast_ref::<AgentRunSandbox>()
        .ok_or_else(|| ProviderError::Unavailable("not an AgentRun sandbox".into()))
}
