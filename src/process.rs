//! Facts about processes, and ids unique among them.

/// Whether a process with this pid exists (one of another user's counts too).
pub fn alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    let found = unsafe { libc::kill(pid, 0) } == 0;
    found || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Eight random hex characters: ids of sandboxes and runtime envs.
pub fn random_id() -> String {
    let mut bytes = [0u8; 4];
    if getrandom::getrandom(&mut bytes).is_err() {
        // No entropy source: unique enough among this machine's processes.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        bytes = (nanos ^ std::process::id()).to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Removes the entries of `dir` named `<prefix><pid>-…` whose process is gone: the
/// leftovers of a rock that was killed before it could clean up.
pub fn remove_leftovers(dir: &std::path::Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<i32>().ok())
        else {
            continue;
        };
        if !alive(pid) {
            let path = entry.path();
            let _ = if path.is_dir() {
                crate::runtime_env::store::remove_tree(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_leftovers_of_dead_processes_go() {
        let dir = tempfile::tempdir().unwrap();
        // Above the kernel's largest pid, so never alive.
        let dead = dir.path().join(".partial-4194305-abc");
        let ours = dir
            .path()
            .join(format!(".partial-{}-abc", std::process::id()));
        let other = dir.path().join("keep-4194305-abc");
        for file in [&dead, &ours, &other] {
            std::fs::write(file, "x").unwrap();
        }
        std::fs::create_dir(dir.path().join(".partial-4194306-dir")).unwrap();
        remove_leftovers(dir.path(), ".partial-");
        assert!(!dead.exists() && !dir.path().join(".partial-4194306-dir").exists());
        assert!(ours.exists() && other.exists());
    }
}
