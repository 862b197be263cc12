//! The OCI bundle rock writes for gVisor's `runsc`: a read-only root made of the host's
//! system dirs (bound read-only), rock's part of /etc and the run files, the interpreter
//! and runtime envs bound read-only, size-limited tmpfs for /work, /tmp and /dev/shm, and
//! one writable file, the harness's result channel.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::mounts::{
    extra_binds, own_etc_files, COPY_LIMIT, ETC_ENTRIES, ETC_NETWORK_ENTRIES, OFFLINE_HOSTS,
    SYSTEM_DIRS,
};
use super::spec::{SandboxSpec, SANDBOX_GID, SANDBOX_UID, WORK_DIR};

/// The file inside the sandbox the harness writes its message to (rock reads it after).
pub const RESULT_PATH: &str = "/rock/result";

/// The largest result file rock reads back: a value, and up to 10 artifacts of 10 MiB in
/// base64.
const RESULT_CAP: u64 = 160 * 1024 * 1024;

/// A bundle directory; removed with everything in it when dropped.
#[derive(Debug)]
pub struct Bundle {
    dir: PathBuf,
}

impl Bundle {
    /// Writes the bundle for `spec` as `dir` (which must not exist yet).
    pub fn write(spec: &SandboxSpec, dir: PathBuf) -> Result<Bundle, String> {
        fs::create_dir(&dir).map_err(|e| describe("create", &dir, e))?;
        // From here on, a failure removes what was written.
        let bundle = Bundle { dir };
        fs::set_permissions(&bundle.dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| describe("protect", &bundle.dir, e))?;
        let config = bundle.lay_out(spec)?;
        let text = serde_json::to_vec_pretty(&config).map_err(|e| e.to_string())?;
        let path = bundle.dir.join("config.json");
        fs::write(&path, text).map_err(|e| describe("write", &path, e))?;
        Ok(bundle)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// runsc's state (`--root`): private to this run, so nothing outlives it.
    pub fn state_dir(&self) -> PathBuf {
        self.dir.join("state")
    }

    /// runsc's own log (`--log`): its errors, apart from the program's stderr.
    pub fn log_file(&self) -> PathBuf {
        self.dir.join("runsc.log")
    }

    /// What the harness wrote on its result channel, if anything.
    pub fn result(&self) -> Option<Vec<u8>> {
        use std::io::Read;
        let mut bytes = Vec::new();
        fs::File::open(self.dir.join("result"))
            .ok()?
            .take(RESULT_CAP)
            .read_to_end(&mut bytes)
            .ok()?;
        (!bytes.is_empty()).then_some(bytes)
    }

    /// The error runsc logged, if it logged one: the sandbox failed, not the program.
    pub fn runsc_error(&self) -> Option<String> {
        let log = fs::read_to_string(self.log_file()).ok()?;
        log.lines().rev().find_map(|line| {
            let entry: Value = serde_json::from_str(line).ok()?;
            (entry["level"] == "error" || entry["level"] == "fatal")
                .then(|| entry["msg"].as_str().unwrap_or(line).to_string())
        })
    }

    /// Fills the bundle's root and returns the OCI config.
    fn lay_out(&self, spec: &SandboxSpec) -> Result<Value, String> {
        let root = self.dir.join("rootfs");
        make_dirs(&root)?;
        let mut mounts = vec![
            json!({"destination": "/proc", "type": "proc", "source": "proc"}),
            // runsc mounts its own /sys when the spec has none; an empty one hides it.
            tmpfs("/sys", "ro,mode=0555,size=4k"),
        ];
        make_dirs(&root.join("sys"))?;

        for dir in SYSTEM_DIRS {
            let host = Path::new("/").join(dir);
            mirror(&host, &root.join(dir), &mut mounts)?;
        }

        let etc = root.join("etc");
        make_dirs(&etc)?;
        let mut entries = ETC_ENTRIES.to_vec();
        if spec.network {
            entries.extend(ETC_NETWORK_ENTRIES);
        } else {
            write(&etc.join("hosts"), OFFLINE_HOSTS)?;
        }
        for entry in entries {
            let host = Path::new("/etc").join(entry);
            match fs::symlink_metadata(&host) {
                // Small files are copied: fewer mounts for the gofer to serve.
                Ok(meta) if meta.is_file() && meta.len() <= COPY_LIMIT => {
                    let _ = fs::copy(&host, etc.join(entry));
                }
                Ok(_) => mirror(&host, &etc.join(entry), &mut mounts)?,
                Err(_) => {}
            }
        }
        for (name, contents) in own_etc_files() {
            write(&etc.join(name), contents.as_bytes())?;
        }

        // Interpreters and runtime envs.
        for relative in extra_binds(&spec.ro_binds) {
            mirror(
                &Path::new("/").join(relative),
                &root.join(relative),
                &mut mounts,
            )?;
        }

        let size = spec.limits.tmpfs_bytes;
        mounts.push(tmpfs(
            WORK_DIR,
            &format!("mode=0755,uid={SANDBOX_UID},gid={SANDBOX_GID},size={size}"),
        ));
        mounts.push(tmpfs("/tmp", &format!("mode=1777,size={size}")));
        mounts.push(tmpfs("/dev/shm", &format!("mode=1777,size={size}")));
        make_dirs(&root.join("work"))?;
        make_dirs(&root.join("tmp"))?;

        // Run files are part of the read-only root; files for /work are bound read-only
        // on top of its tmpfs.
        let files = self.dir.join("files");
        make_dirs(&files)?;
        for (index, file) in spec.files.iter().enumerate() {
            let inside = file.path.trim_start_matches('/');
            if file.path.starts_with(&format!("{WORK_DIR}/")) {
                let host = files.join(index.to_string());
                write(&host, file.contents.as_bytes())?;
                mounts.push(bind(&host, &file.path, true));
            } else {
                let path = root.join(inside);
                if let Some(parent) = path.parent() {
                    make_dirs(parent)?;
                }
                write(&path, file.contents.as_bytes())?;
            }
        }
        let result = self.dir.join("result");
        write(&result, b"")?;
        // The sandbox user must be able to write it; the bundle dir keeps others out.
        fs::set_permissions(&result, fs::Permissions::from_mode(0o666))
            .map_err(|e| describe("open up", &result, e))?;
        let mount_point = root.join(RESULT_PATH.trim_start_matches('/'));
        if let Some(parent) = mount_point.parent() {
            make_dirs(parent)?;
        }
        write(&mount_point, b"")?;
        mounts.push(bind(&result, RESULT_PATH, false));

        let limits = &spec.limits;
        let mut rlimits = vec![
            rlimit("RLIMIT_NPROC", limits.processes),
            rlimit("RLIMIT_NOFILE", limits.open_files),
            rlimit("RLIMIT_FSIZE", limits.file_size_bytes),
            rlimit("RLIMIT_CPU", limits.cpu_seconds),
            rlimit("RLIMIT_CORE", 0),
        ];
        if let Some(bytes) = limits.data_bytes {
            rlimits.push(rlimit("RLIMIT_DATA", bytes));
        }
        let env: Vec<String> = spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let none: [&str; 0] = [];
        Ok(json!({
            "ociVersion": "1.0.2",
            "process": {
                "terminal": false,
                "user": {"uid": SANDBOX_UID, "gid": SANDBOX_GID},
                "args": spec.argv,
                "env": env,
                "cwd": WORK_DIR,
                "capabilities": {
                    "bounding": none, "effective": none, "inheritable": none,
                    "permitted": none, "ambient": none
                },
                "rlimits": rlimits,
                "noNewPrivileges": true
            },
            "root": {"path": "rootfs", "readonly": true},
            "hostname": "rock",
            "mounts": mounts,
            "linux": {
                "namespaces": [
                    {"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                    {"type": "uts"}, {"type": "mount"}
                ]
            }
        }))
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Shows host path `host` at `target` (under the bundle's root): a symlink is copied as a
/// symlink, anything else is bound read-only. A missing path is left out.
fn mirror(host: &Path, target: &Path, mounts: &mut Vec<Value>) -> Result<(), String> {
    let Ok(meta) = fs::symlink_metadata(host) else {
        return Ok(());
    };
    if let Some(parent) = target.parent() {
        make_dirs(parent)?;
    }
    if meta.file_type().is_symlink() {
        let link = fs::read_link(host).map_err(|e| describe("read", host, e))?;
        return symlink(&link, target).map_err(|e| describe("link", target, e));
    }
    // The mount point is made here, so that runsc never writes into the root.
    if meta.is_dir() {
        make_dirs(target)?;
    } else {
        write(target, b"")?;
    }
    mounts.push(bind(host, &host.to_string_lossy(), true));
    Ok(())
}

fn bind(source: &Path, destination: &str, read_only: bool) -> Value {
    let mode = if read_only { "ro" } else { "rw" };
    json!({
        "destination": destination,
        "type": "bind",
        "source": source,
        "options": ["rbind", mode, "nosuid", "nodev"]
    })
}

fn tmpfs(destination: &str, options: &str) -> Value {
    let mut list: Vec<&str> = vec!["nosuid", "nodev"];
    list.extend(options.split(','));
    json!({"destination": destination, "type": "tmpfs", "source": "tmpfs", "options": list})
}

fn rlimit(kind: &str, value: u64) -> Value {
    json!({"type": kind, "hard": value, "soft": value})
}

fn make_dirs(path: &Path) -> Result<(), String> {
    fs::create_dir_all(path).map_err(|e| describe("create", path, e))
}

fn write(path: &Path, contents: &[u8]) -> Result<(), String> {
    fs::write(path, contents).map_err(|e| describe("write", path, e))
}

fn describe(what: &str, path: &Path, err: std::io::Error) -> String {
    format!("cannot {what} {}: {err}", path.display())
}
