//! Shared helpers: run the real `rock` binary with an isolated config and cache.
#![allow(dead_code)]

pub mod fakes;
pub mod http;
pub mod podman;
pub mod serve;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

pub struct Rock {
    home: tempfile::TempDir,
}

impl Rock {
    pub fn new() -> Self {
        Rock {
            home: tempfile::tempdir().expect("temp home"),
        }
    }

    /// A `rock` command that sees no user config and caches in a temp dir.
    pub fn cmd(&self) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.std_cmd())
    }

    /// A `std::process::Command` for rock with the same isolation, for tests that need to
    /// signal or read a running rock.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("rock"));
        let home = self.home.path();
        for var in [
            "ROCK_CONFIG",
            "ROCK_TIMEOUT",
            "ROCK_MEMORY",
            "ROCK_PROVIDER",
            "ROCK_NETWORK",
            "ROCK_OUTPUT_CAP",
            "ROCK_PYTHON_MIRROR",
            "ROCK_NODE_MIRROR",
            "VISUAL",
            "EDITOR",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("NO_COLOR", "1");
        cmd
    }

    /// A rock command whose runtime envs come from the fixtures' mirrors.
    pub fn cmd_with_mirrors(&self) -> assert_cmd::Command {
        let mut cmd = self.cmd();
        cmd.env(
            "ROCK_PYTHON_MIRROR",
            file_url(&fixtures().join("python-mirror")),
        )
        .env(
            "ROCK_NODE_MIRROR",
            file_url(&fixtures().join("node-mirror")),
        );
        cmd
    }

    /// Runs `rock ARGS…` to its end.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run rock")
    }

    /// Runs `rock --config <a file holding CONFIG> ARGS…`.
    pub fn run_with_config(&self, config: &str, args: &[&str]) -> Output {
        let path = self.file("config.toml", config);
        self.cmd()
            .arg("--config")
            .arg(path)
            .args(args)
            .output()
            .expect("run rock")
    }

    /// The config file rock uses when nothing names another: the one in the temp home.
    pub fn config_path(&self) -> PathBuf {
        self.home
            .path()
            .join("config")
            .join("rock")
            .join("config.toml")
    }

    pub fn dir(&self) -> &Path {
        self.home.path()
    }

    /// Writes a file under the temp home and returns its path.
    pub fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.home.path().join(name);
        std::fs::write(&path, contents).expect("write test file");
        path
    }

    /// Writes a config file selecting `memory_enforcement` for the local provider.
    pub fn config_with_memory(&self, mode: &str) -> PathBuf {
        self.file(
            &format!("config-{mode}.toml"),
            &format!("[providers.local]\nmemory_enforcement = \"{mode}\"\n"),
        )
    }

    /// `rock exec --json` of inline code; returns the parsed result and the exit status.
    pub fn exec_json(&self, lang: &str, code: &str, extra: &[&str]) -> (Value, i32) {
        let mut args = vec!["exec", "--json", "--lang", lang, "--code", code];
        args.extend_from_slice(extra);
        parse_json(&self.run(&args))
    }
}

impl Rock {
    /// `rock --config <a file holding CONFIG> exec --json` of inline code.
    pub fn exec_json_with_config(&self, config: &str, lang: &str, code: &str) -> (Value, i32) {
        parse_json(
            &self.run_with_config(config, &["exec", "--json", "--lang", lang, "--code", code]),
        )
    }
}

/// The offline test fixtures: real, runnable runtime archives in mirrors laid out like the
/// upstream ones, and a wheel (`scripts/fixtures` builds them).
pub fn fixtures() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-fixtures");
    assert!(
        dir.join("node-mirror/v22.18.0/SHASUMS256.txt").is_file()
            && dir.join("python-mirror/20251120/SHA256SUMS").is_file(),
        "the test fixtures are missing: run scripts/fixtures (scripts/test runs it)"
    );
    dir
}

pub fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

pub fn parse_json(output: &Output) -> (Value, i32) {
    let code = output.status.code().unwrap_or(-1);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "rock printed no JSON ({e}); exit {code}\nstdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (value, code)
}

/// Both languages, with the same behaviour written in each.
pub const LANGS: [&str; 2] = ["python", "nodejs"];

/// A marker no other process on the machine has in its command line; usable as a
/// `sleep` duration. Fixed width, so that no marker is a prefix of another.
pub fn unique_marker() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let count = COUNTER.fetch_add(1, Ordering::Relaxed) % 100;
    format!("{}{:02}.{:09}", 40 + std::process::id() % 50, count, nanos)
}

/// Processes whose command line contains `needle`.
pub fn processes_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .chars()
            .all(|c| c.is_ascii_digit())
        {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(needle) {
                found.push(format!(
                    "{}: {cmdline}",
                    entry.file_name().to_string_lossy()
                ));
            }
        }
    }
    found
}

pub fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Every `rock-…` cgroup directory of this machine (v1 hierarchies and v2).
pub fn rock_cgroups() -> Vec<String> {
    fn collect(dir: &Path, depth: usize, out: &mut Vec<String>) {
        if depth > 4 {
            return;
        }
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with("rock-") {
                out.push(path.display().to_string());
            } else {
                collect(&path, depth + 1, out);
            }
        }
    }
    let mut cgroups = Vec::new();
    for hierarchy in ["memory", "pids", "cpu", "unified", ""] {
        collect(
            &Path::new("/sys/fs/cgroup").join(hierarchy),
            0,
            &mut cgroups,
        );
    }
    cgroups
}

/// The cgroups a rock with this pid made (named `rock-<id>-<pid>`).
pub fn cgroups_of_rock(pid: u32) -> Vec<String> {
    let suffix = format!("-{pid}");
    rock_cgroups()
        .into_iter()
        .filter(|path| path.ends_with(&suffix))
        .collect()
}

/// Whether the tests run as root.
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        == Some("0")
}

/// The bundle directories runsc runs from (`rock-gvisor-…`), in the temp dir.
pub fn runsc_bundles() -> Vec<String> {
    std::fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("rock-gvisor-"))
        .collect()
}

/// rock as uid 65534 through setpriv, for tests that run as root; `None` (with the reason
/// printed) where that can't be done.
pub struct Unprivileged {
    home: tempfile::TempDir,
    rock: PathBuf,
}

impl Unprivileged {
    pub fn new() -> Option<Unprivileged> {
        if !is_root() || !Path::new("/usr/bin/setpriv").exists() {
            eprintln!("skipped: needs root and /usr/bin/setpriv");
            return None;
        }
        let home = tempfile::tempdir().unwrap();
        std::fs::set_permissions(
            home.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )
        .unwrap();
        // A copy the unprivileged user can reach, wherever the checkout lives.
        let rock = home.path().join("rock");
        std::fs::copy(assert_cmd::cargo::cargo_bin("rock"), &rock).unwrap();
        Some(Unprivileged { home, rock })
    }

    /// Runs `rock ARGS…` as uid 65534 with a minimal environment.
    pub fn run(&self, args: &[&str]) -> Output {
        let home = self.home.path();
        std::process::Command::new("/usr/bin/setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&self.rock)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", home)
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .output()
            .unwrap()
    }
}
