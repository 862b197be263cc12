use std::time::Duration;

use serde_json::{Map, Value};

use super::Language;

/// One piece of code to run, whatever the provider.
#[derive(Debug, Clone)]
pub struct ExecRequest {
    pub code: String,
    pub language: Language,
    /// The file name the code had (kept for tracebacks); `None` for stdin.
    pub file_name: Option<String>,
    /// `Some` when arguments were given: the code must then define `main`.
    pub arguments: Option<Map<String, Value>>,
    pub timeout: Duration,
    pub memory_bytes: u64,
    pub network: bool,
    pub output_cap: usize,
    pub stdin: Option<Vec<u8>>,
}

impl ExecRequest {
    /// Defaults: 10 s, 256 MiB, no network, 1 MiB per output stream.
    pub fn new(language: Language, code: impl Into<String>) -> Self {
        ExecRequest {
            code: code.into(),
            language,
            file_name: None,
            arguments: None,
            timeout: Duration::from_secs(10),
            memory_bytes: 256 * 1024 * 1024,
            network: false,
            output_cap: 1024 * 1024,
            stdin: None,
        }
    }

    /// The code's file name inside the sandbox: the original base name, or `main.<ext>`.
    pub fn sandbox_file_name(&self) -> String {
        self.file_name
            .as_deref()
            .and_then(|n| std::path::Path::new(n).file_name())
            .and_then(|n| n.to_str())
            .filter(|n| !n.starts_with('.'))
            .map(str::to_string)
            .unwrap_or_else(|| self.language.default_file_name().to_string())
    }
}
