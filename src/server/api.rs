//! The executor API's bodies (RAGFlow's sandbox executor manager, DESIGN.md "Executor API"):
//! the `/run` request, its response, and how an `ExecutionResult` becomes one.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::exec::artifacts::Artifact;
use crate::exec::{ExecutionResult, Language, LimitHit, Status};

/// `POST /run`'s body. `timeout` and `memory` are rock's additions, capped by the server.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    pub code_b64: String,
    pub language: String,
    #[serde(default)]
    pub arguments: Option<Map<String, Value>>,
    /// Seconds.
    #[serde(default)]
    pub timeout: Option<f64>,
    /// Bytes as a number, or a size such as "256m".
    #[serde(default)]
    pub memory: Option<Value>,
}

impl RunRequest {
    /// The code as text, or why the body can't be run (a 422).
    pub fn code(&self) -> Result<String, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(self.code_b64.trim())
            .map_err(|e| format!("code_b64 is not valid base64: {e}"))?;
        String::from_utf8(bytes).map_err(|_| "code_b64 does not decode to UTF-8 text".to_string())
    }

    pub fn language(&self) -> Result<Language, String> {
        self.language.parse::<Language>().map_err(|e| e.to_string())
    }

    /// The requested memory in bytes, if one was given.
    pub fn memory_bytes(&self) -> Result<Option<u64>, String> {
        match &self.memory {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| "memory must be a positive number of bytes".to_string()),
            Some(Value::String(s)) => crate::size::parse(s)
                .map(Some)
                .map_err(|e| format!("memory: {e}")),
            Some(_) => Err("memory must be a number of bytes or a size such as \"256m\"".into()),
        }
    }
}

/// `POST /run`'s answer, every field always present (null where it does not apply).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunResponse {
    pub status: String,
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
    pub detail: Option<String>,
    pub time_used_ms: f64,
    pub memory_used_kb: f64,
    pub resource_limit_type: Option<String>,
    pub unauthorized_access_type: Option<String>,
    pub runtime_error_type: Option<String>,
    pub artifacts: Vec<Artifact>,
    pub result: Option<Value>,
}

/// The exit codes of the executor convention that are not a program's own.
pub const EXIT_TIMEOUT: i32 = -124;
pub const EXIT_MEMORY: i32 = -137;
pub const EXIT_BUSY: i32 = -10;
pub const EXIT_INTERNAL: i32 = -3;
pub const EXIT_RATE_LIMITED: i32 = -429;

impl RunResponse {
    /// A response that is rock's, not a program's (busy, internal error, rate limited).
    pub fn runner_error(exit_code: i32, stderr: &str, detail: &str) -> RunResponse {
        RunResponse {
            status: Status::ProgramRunnerError.as_str().to_string(),
            stdout: String::new(),
            stderr: stderr.to_string(),
            exit_code,
            detail: Some(detail.to_string()),
            time_used_ms: 0.0,
            memory_used_kb: 0.0,
            resource_limit_type: None,
            unauthorized_access_type: None,
            runtime_error_type: None,
            artifacts: Vec::new(),
            result: None,
        }
    }

    /// The program's run, in the executor's vocabulary.
    pub fn from_result(result: ExecutionResult) -> RunResponse {
        let limit = result
            .metadata
            .get("limit_hit")
            .and_then(|v| serde_json::from_value::<LimitHit>(v.clone()).ok());
        let exit_code = match limit {
            Some(LimitHit::Time) => EXIT_TIMEOUT,
            Some(LimitHit::Memory) => EXIT_MEMORY,
            _ => result.exit_code,
        };
        let resource_limit_type = limit.map(|l| match l {
            LimitHit::Memory => "memory",
            // CPU seconds and a full disk are time and output in this vocabulary.
            LimitHit::Time | LimitHit::Cpu => "time",
            LimitHit::FileSize => "output",
        });
        let unauthorized_access_type = result
            .metadata
            .get("unauthorized_access_type")
            .and_then(Value::as_str)
            .map(str::to_string);
        let runtime_error_type = match result.status {
            Status::RuntimeError => Some("signalled"),
            Status::ProgramError => Some("nonzero_exit"),
            _ => None,
        };
        let mut notes: Vec<String> = Vec::new();
        if result.truncated.stdout {
            notes.push("stdout truncated".into());
        }
        if result.truncated.stderr {
            notes.push("stderr truncated".into());
        }
        if let Some(Value::Array(refused)) = result.metadata.get("artifacts_refused") {
            notes.extend(refused.iter().filter_map(Value::as_str).map(str::to_string));
        }
        let memory_used_kb = result
            .metadata
            .get("peak_memory_bytes")
            .and_then(Value::as_u64)
            .map(|b| b as f64 / 1024.0)
            .unwrap_or(0.0);
        RunResponse {
            status: result.status.as_str().to_string(),
            stdout: result.stdout,
            stderr: result.stderr,
            exit_code,
            detail: (!notes.is_empty()).then(|| notes.join("; ")),
            time_used_ms: result.execution_time * 1000.0,
            memory_used_kb,
            resource_limit_type: resource_limit_type.map(str::to_string),
            unauthorized_access_type,
            runtime_error_type: runtime_error_type.map(str::to_string),
            artifacts: result.artifacts,
            result: result
                .result
                .map(|r| serde_json::to_value(r).unwrap_or(Value::Null)),
        }
    }
}
