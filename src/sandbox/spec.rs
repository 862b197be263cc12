//! What the parent asks the sandbox init to build: serialized as one JSON line
//! on the control socket, so the helper process needs no other input.

use serde::{Deserialize, Serialize};

/// The uid and gid the program runs as inside the sandbox. Never 0.
pub const SANDBOX_UID: u32 = 1000;
pub const SANDBOX_GID: u32 = 1000;

/// The size of each writable tmpfs unless the provider's settings say otherwise; mounted
/// at this size before the request is known, resized only when it asks for another.
pub const DEFAULT_TMPFS_BYTES: u64 = 64 * 1024 * 1024;

/// Where the program's writable scratch space lives inside the sandbox.
pub const WORK_DIR: &str = "/work";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SandboxSpec {
    /// Program argv; `argv[0]` is an absolute path that exists inside the sandbox.
    pub argv: Vec<String>,
    /// The program's whole environment: nothing of rock's own leaks in.
    pub env: Vec<(String, String)>,
    /// Host paths bound read-only at the same path inside (interpreter prefixes, runtime envs).
    pub ro_binds: Vec<String>,
    /// Files written into the sandbox before the program starts.
    pub files: Vec<SandboxFile>,
    /// Share the host's network instead of a private loopback-only one.
    pub network: bool,
    pub limits: ProcessLimits,
    /// The program gets fd 4, a pipe that yields one byte once it is inside its cgroup;
    /// the harness reads it before running any user code. Set by `sandbox::run`.
    #[serde(default)]
    pub gated: bool,
    /// Install the seccomp filter (`seccomp.rs`) before the program's `execve`.
    #[serde(default = "yes")]
    pub seccomp: bool,
    /// Restrict the program with Landlock (`landlock.rs`) before its `execve`.
    #[serde(default = "yes")]
    pub landlock: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SandboxFile {
    /// Absolute path inside the sandbox: under `/work` (owned by the sandbox user)
    /// or under `/rock` (read-only for the program).
    pub path: String,
    /// Text (code, harness, JSON arguments): a JSON string, not an array of numbers.
    pub contents: String,
}

/// Limits applied inside the sandbox: rlimits (set by the program's own process before
/// exec) and tmpfs sizes (by the init).
/// Wall-clock timeout, output caps and cgroups are the parent's job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProcessLimits {
    pub cpu_seconds: u64,
    pub processes: u64,
    pub open_files: u64,
    pub file_size_bytes: u64,
    pub tmpfs_bytes: u64,
    /// Set when no cgroup holds memory: RLIMIT_DATA is the fallback.
    pub data_bytes: Option<u64>,
}

/// What the helper and the init report to the parent, one JSON line each.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum InitEvent {
    /// The helper made its namespaces; the parent may now write the id maps.
    Unshared,
    /// The init (pid 1 of the sandbox) runs, with this host pid.
    Init { pid: i32 },
    /// The init forked the program (its host pid is the init's only child).
    Forked,
    /// Building the sandbox failed before the program started.
    SetupError { message: String },
    /// `execve` of the interpreter failed.
    ExecError { errno: i32 },
    /// The program ended, and every other process of the sandbox was killed and reaped;
    /// `status` is the program's raw wait status.
    Exited {
        status: i32,
        cpu_micros: u64,
        max_rss_kib: u64,
    },
    /// The init itself ended without reporting the program (killed, e.g. by the OOM killer).
    InitDied { status: i32 },
    /// The program tried a system call the seccomp filter refuses (it got EPERM).
    Denied { syscall: String },
}

/// The parent's answer once the id maps are written.
pub const MAPPED: &[u8] = b"mapped\n";
