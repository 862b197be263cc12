//! Finding the interpreter for a language: the configured command or `python3`/`node`
//! from PATH, resolved to its real executable and installation prefix (which the sandbox
//! must mount). Probing runs the interpreter once, so results are cached by path, size
//! and modification time, as uv does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use crate::exec::Language;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Interpreter {
    /// The real executable, symlinks and shims resolved.
    pub executable: PathBuf,
    /// Directories the interpreter needs at run time (its prefix, a venv's base).
    pub prefixes: Vec<PathBuf>,
    pub version: String,
}

#[derive(Debug, thiserror::Error)]
pub enum InterpreterError {
    #[error("{}", not_found(command, *language))]
    NotFound { command: String, language: Language },
    #[error("`{command}` could not be run to identify it ({reason}); check languages.{language}.interpreter")]
    Unusable {
        command: String,
        language: Language,
        reason: String,
    },
}

fn not_found(command: &str, language: Language) -> String {
    let problem = if command.contains('/') {
        format!("`{command}` does not exist or is not executable")
    } else {
        format!("`{command}` was not found on PATH")
    };
    format!("{problem}: install {language} or set languages.{language}.interpreter in the config")
}

impl InterpreterError {
    /// 127 when the interpreter isn't there, 126 when it can't run (shell convention).
    pub fn exit_code(&self) -> i32 {
        match self {
            InterpreterError::NotFound { .. } => 127,
            InterpreterError::Unusable { .. } => 126,
        }
    }
}

/// Finds and identifies the interpreter for `language`.
pub fn discover(
    language: Language,
    configured: Option<&str>,
    cache_dir: Option<&Path>,
) -> Result<Interpreter, InterpreterError> {
    let command = configured.unwrap_or(language.default_interpreter());
    let path = which(command).ok_or_else(|| InterpreterError::NotFound {
        command: command.to_string(),
        language,
    })?;
    let key = CacheKey::of(&path);
    let cache_file = cache_dir.map(|d| d.join("interpreters.json"));
    let mut cache: BTreeMap<String, CacheEntry> = cache_file
        .as_deref()
        .and_then(|f| std::fs::read(f).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let name = path.to_string_lossy().into_owned();
    if let (Some(key), Some(entry)) = (&key, cache.get(&name)) {
        if &entry.key == key && entry.interpreter.executable.exists() {
            return Ok(entry.interpreter.clone());
        }
    }
    let interpreter = probe(language, &path).map_err(|reason| InterpreterError::Unusable {
        command: command.to_string(),
        language,
        reason,
    })?;
    if let (Some(key), Some(file)) = (key, cache_file) {
        cache.insert(
            name,
            CacheEntry {
                key,
                interpreter: interpreter.clone(),
            },
        );
        // A cache that can't be written only costs a probe next time.
        let _ = crate::atomic_file::write(
            &file,
            &serde_json::to_vec_pretty(&cache).unwrap_or_default(),
            0o644,
        );
    }
    Ok(interpreter)
}

/// `command` itself when it has a slash, else the first executable match on PATH.
pub fn which(command: &str) -> Option<PathBuf> {
    if command.contains('/') {
        let path = PathBuf::from(command);
        return is_executable(&path).then(|| std::path::absolute(&path).unwrap_or(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(command))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

const PYTHON_PROBE: &str =
    "import sys, json; print(json.dumps([sys.executable, sys.prefix, sys.base_prefix, sys.version.split()[0]]))";
const NODE_PROBE: &str = "JSON.stringify([process.execPath, process.version.replace(/^v/, '')])";

fn probe(language: Language, path: &Path) -> Result<Interpreter, String> {
    let output = match language {
        Language::Python => Command::new(path).args(["-I", "-c", PYTHON_PROBE]).output(),
        Language::Nodejs => Command::new(path).args(["-p", NODE_PROBE]).output(),
    }
    .map_err(|e| e.to_string())?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "it exited with {}: {}",
            output.status,
            stderr.trim()
        ));
    }
    let fields: Vec<String> = serde_json::from_slice(&output.stdout)
        .map_err(|_| "it did not answer like a Python 3 or Node.js interpreter".to_string())?;
    let (executable, version, mut prefixes) = match (language, fields.as_slice()) {
        (Language::Python, [exe, prefix, base, version]) => (
            exe,
            version,
            vec![PathBuf::from(prefix), PathBuf::from(base)],
        ),
        (Language::Nodejs, [exe, version]) => (exe, version, vec![]),
        _ => return Err("it gave an unexpected answer".into()),
    };
    let executable = std::fs::canonicalize(executable).map_err(|e| format!("{executable}: {e}"))?;
    // bin/<exe> lives in the prefix; its libraries and packages sit beside bin/.
    if let Some(prefix) = executable.parent().and_then(Path::parent) {
        prefixes.push(prefix.to_path_buf());
    }
    let mut prefixes: Vec<PathBuf> = prefixes
        .into_iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .filter(|p| p != Path::new("/"))
        .collect();
    prefixes.sort();
    prefixes.dedup();
    Ok(Interpreter {
        executable,
        prefixes,
        version: version.clone(),
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CacheKey {
    size: u64,
    modified_ns: u128,
    target: PathBuf,
}

impl CacheKey {
    /// Changes when the command (or what its symlinks point at) is replaced.
    fn of(path: &Path) -> Option<CacheKey> {
        let target = std::fs::canonicalize(path).ok()?;
        let meta = std::fs::metadata(&target).ok()?;
        Some(CacheKey {
            size: meta.len(),
            modified_ns: meta
                .modified()
                .ok()?
                .duration_since(UNIX_EPOCH)
                .ok()?
                .as_nanos(),
            target,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct CacheEntry {
    key: CacheKey,
    interpreter: Interpreter,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_command_is_not_found() {
        let err = discover(Language::Python, Some("rock-no-such-python"), None).unwrap_err();
        assert_eq!(err.exit_code(), 127);
        assert!(err.to_string().contains("was not found on PATH"), "{err}");
    }

    #[test]
    fn which_needs_the_executable_bit() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tool");
        std::fs::write(&file, "#!/bin/sh\n").unwrap();
        assert_eq!(which(file.to_str().unwrap()), None);
    }
}
