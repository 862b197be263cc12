//! Whole-file writes that never leave a partial file behind: the new contents go to a
//! temporary file in the same directory, are synced, and replace the old file by
//! `rename`, which is atomic. A crash or a full disk before the rename leaves the old
//! file as it was.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Replaces `path` with `contents`; a new file gets `mode` (e.g. 0o600).
pub fn write(path: &Path, contents: &[u8], mode: u32) -> std::io::Result<()> {
    write_with(path, contents, mode, |_| Ok(()))
}

/// [`write`], with `before_rename` called on the finished temporary file: an error there
/// stands for a crash between the two steps.
pub fn write_with(
    path: &Path,
    contents: &[u8],
    mode: u32,
    before_rename: impl FnOnce(&Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    // Temporaries of writers that died (killed, or a crash) before their rename.
    crate::process::remove_leftovers(dir, &format!(".{}.", file_name(path)));
    let tmp = temporary_path(path);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        before_rename(&tmp)?;
        std::fs::rename(&tmp, path)?;
        // The rename itself is durable once the directory is synced.
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "rock".into())
}

/// `.<name>.<pid>-<random>.tmp`, beside the file.
fn temporary_path(path: &Path) -> PathBuf {
    let mut random = [0u8; 4];
    let _ = getrandom::getrandom(&mut random);
    path.with_file_name(format!(
        ".{}.{}-{:08x}.tmp",
        file_name(path),
        std::process::id(),
        u32::from_le_bytes(random)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn a_failure_before_the_rename_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "old = 1\n").unwrap();
        let err = write_with(&path, b"new = 2\n", 0o600, |tmp| {
            assert_eq!(std::fs::read(tmp).unwrap(), b"new = 2\n");
            Err(std::io::Error::other("crash"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "crash");
        assert_eq!(std::fs::read(&path).unwrap(), b"old = 1\n");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn new_files_get_the_mode_and_stale_temporaries_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        // A writer that died: pid 2^22 + 1 is above the kernel's pid limit, so never alive.
        let stale = dir.path().join(".config.toml.4194305-0000abcd.tmp");
        std::fs::write(&stale, "partial").unwrap();
        write(&path, b"a = 1\n", 0o600).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!stale.exists());
        assert!(leftovers(dir.path()).is_empty());
    }
}
