use serde::Serialize;
use serde_json::{Map, Value};

/// The executor API's status vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Success,
    ProgramError,
    ResourceLimitExceeded,
    UnauthorizedAccess,
    RuntimeError,
    ProgramRunnerError,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::ProgramError => "program_error",
            Status::ResourceLimitExceeded => "resource_limit_exceeded",
            Status::UnauthorizedAccess => "unauthorized_access",
            Status::RuntimeError => "runtime_error",
            Status::ProgramRunnerError => "program_runner_error",
        }
    }

    pub const ALL: [Status; 6] = [
        Status::Success,
        Status::ProgramError,
        Status::ResourceLimitExceeded,
        Status::UnauthorizedAccess,
        Status::RuntimeError,
        Status::ProgramRunnerError,
    ];

    /// The status named `name` in the executor API's vocabulary.
    pub fn parse(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// Which limit ended a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitHit {
    Time,
    Memory,
    Cpu,
    FileSize,
}

/// What `main` returned, on its own channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResultValue {
    pub present: bool,
    pub value: Value,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

impl ResultValue {
    pub fn json(value: Value) -> Self {
        ResultValue {
            present: true,
            value,
            kind: "json",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Truncated {
    pub stdout: bool,
    pub stderr: bool,
}

/// The same shape from every provider.
#[derive(Debug, Clone, Serialize)]
pub struct ExecutionResult {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
    /// Seconds.
    pub execution_time: f64,
    pub status: Status,
    pub result: Option<ResultValue>,
    pub truncated: Truncated,
    /// Provider, sandbox id, cpu time, peak memory, limit hit, how memory was held, …
    pub metadata: Map<String, Value>,
    /// Files the program left in `./artifacts/` that the rules allow (`artifacts.rs`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<super::artifacts::Artifact>,
}

impl ExecutionResult {
    pub fn limit_hit(&self) -> Option<&str> {
        self.metadata.get("limit_hit").and_then(Value::as_str)
    }
}
