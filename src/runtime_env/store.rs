//! The per-version store: each verified archive is unpacked once, into
//! `<root>/.store/<type>/<version>-<digest prefix>/`, and every env of that version gets
//! its own directory tree whose files are hard links into the store.
//!
//! Files in the store are read-only. An env's directories are its own, so whatever an
//! install adds or removes there (pip writes new files and replaces old ones by rename)
//! stays in that env; only an in-place write to a file that came from the archive could
//! reach the store, and the read-only mode refuses it (to any user but root).

use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

use super::download::Fetched;
use super::progress::Progress;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot unpack {archive}: {reason}")]
    Unpack { archive: String, reason: String },
    #[error("the archive {archive} holds no {top_dir}/ directory")]
    Layout { archive: String, top_dir: String },
    #[error("cannot write the runtime store {path}: {reason}")]
    Write { path: String, reason: String },
    #[error("interrupted by signal {0}")]
    Interrupted(i32),
}

/// Where the unpacked archive of `type_name` `version` with this digest lives.
pub fn path(root: &Path, type_name: &str, version: &str, sha256: &str) -> PathBuf {
    root.join(".store")
        .join(type_name)
        .join(format!("{version}-{}", &sha256[..16.min(sha256.len())]))
}

/// The unpacked archive, unpacking it first if no env of this version was made before.
pub fn ensure(
    root: &Path,
    type_name: &str,
    version: &str,
    fetched: &Fetched,
    top_dir: &str,
    progress: &Progress,
) -> Result<PathBuf, StoreError> {
    let dest = path(root, type_name, version, &fetched.sha256);
    if dest.is_dir() {
        return Ok(dest);
    }
    let write_error = |path: &Path, e: io::Error| StoreError::Write {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let parent = dest.parent().unwrap_or(root);
    std::fs::create_dir_all(parent).map_err(|e| write_error(parent, e))?;
    crate::process::remove_leftovers(&root.join(".store"), ".unpacking-");
    let staging = root.join(".store").join(format!(
        ".unpacking-{}-{}",
        std::process::id(),
        &fetched.sha256[..12]
    ));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| write_error(&staging, e))?;
    let result = (|| {
        let spinner = progress.step(&format!("Unpacking {type_name} {version}"));
        unpack(&fetched.path, &staging)?;
        spinner.finish_and_clear();
        let top = staging.join(top_dir);
        if !top.is_dir() {
            return Err(StoreError::Layout {
                archive: fetched.path.display().to_string(),
                top_dir: top_dir.to_string(),
            });
        }
        match std::fs::rename(&top, &dest) {
            Ok(()) => Ok(()),
            // Another rock unpacked the same archive meanwhile: theirs is as good.
            Err(_) if dest.is_dir() => Ok(()),
            Err(e) => Err(write_error(&dest, e)),
        }
    })();
    let _ = remove_tree(&staging);
    result.map(|()| dest)
}

/// Unpacks a `.tar.gz`; entries that would land outside `into` are refused by `tar`.
fn unpack(archive: &Path, into: &Path) -> Result<(), StoreError> {
    let fail = |reason: String| StoreError::Unpack {
        archive: archive.display().to_string(),
        reason,
    };
    let file = std::fs::File::open(archive).map_err(|e| fail(e.to_string()))?;
    // Decompression on a thread of its own, feeding the unpacking through a pipe: the two
    // halves of the work then use two cores, as `tar -xz` does with its gzip child.
    let (read_end, write_end) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map(|(r, w)| (std::fs::File::from(r), std::fs::File::from(w)))
        .map_err(|e| fail(e.to_string()))?;
    let decompressor = std::thread::spawn(move || -> io::Result<()> {
        let mut decoder = GzDecoder::new(io::BufReader::with_capacity(1 << 20, file));
        let mut out = io::BufWriter::with_capacity(1 << 20, write_end);
        io::copy(&mut decoder, &mut out)?;
        io::Write::flush(&mut out)
    });
    let result = unpack_from(io::BufReader::with_capacity(1 << 20, read_end), into, &fail);
    let decompressed = decompressor
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the decompressor failed")));
    match (result, decompressed) {
        (Ok(()), Ok(())) => Ok(()),
        // A broken archive shows first in the decompressor; a broken pipe only means that
        // the unpacking stopped, for its own reason.
        (_, Err(e)) if e.kind() != io::ErrorKind::BrokenPipe => Err(fail(e.to_string())),
        (Err(e), _) => Err(e),
        (Ok(()), Err(e)) => Err(fail(e.to_string())),
    }
}

fn unpack_from(
    reader: impl io::Read,
    into: &Path,
    fail: &dyn Fn(String) -> StoreError,
) -> Result<(), StoreError> {
    let mut tar = tar::Archive::new(reader);
    tar.set_preserve_permissions(true);
    tar.set_preserve_mtime(true);
    for entry in tar.entries().map_err(|e| fail(e.to_string()))? {
        if let Some(signal) = crate::interrupt::received() {
            return Err(StoreError::Interrupted(signal));
        }
        let mut entry = entry.map_err(|e| fail(e.to_string()))?;
        // Files read-only as they are written; directories stay writable for what follows.
        if entry.header().entry_type().is_file() {
            entry.set_mask(0o222);
        }
        entry.unpack_in(into).map_err(|e| fail(e.to_string()))?;
    }
    Ok(())
}

fn walk(
    root: &Path,
    visit: &mut dyn FnMut(&Path, &std::fs::Metadata) -> io::Result<()>,
) -> io::Result<()> {
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path)?;
        visit(&path, &meta)?;
        if meta.is_dir() {
            walk(&path, visit)?;
        }
    }
    Ok(())
}

/// Makes `dst` a tree like `src`: its own directories, hard links to `src`'s files (a
/// copy where a link can't be made, as across file systems), the same symlinks.
pub fn link_tree(src: &Path, dst: &Path) -> io::Result<u64> {
    let meta = std::fs::metadata(src)?;
    std::fs::create_dir(dst)?;
    std::fs::set_permissions(
        dst,
        std::fs::Permissions::from_mode(meta.mode() & 0o7777 | 0o200),
    )?;
    let mut files = 0;
    for entry in std::fs::read_dir(src)? {
        if let Some(signal) = crate::interrupt::received() {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                format!("interrupted by signal {signal}"),
            ));
        }
        let entry = entry?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            files += link_tree(&from, &to)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&from)?, &to)?;
        } else {
            if std::fs::hard_link(&from, &to).is_err() {
                std::fs::copy(&from, &to)?;
            }
            files += 1;
        }
    }
    Ok(files)
}

/// Removes a tree even where its files or directories are read-only.
pub fn remove_tree(path: &Path) -> io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(_) => {
            // Directories without write permission block unlinking their entries.
            let _ = walk(path, &mut |p, meta| {
                if meta.is_dir() {
                    let mode = meta.permissions().mode() | 0o700;
                    let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode));
                }
                Ok(())
            });
            std::fs::remove_dir_all(path)
        }
    }
}
