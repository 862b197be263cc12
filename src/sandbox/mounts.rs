//! The sandbox's file system: a fresh root holding read-only binds of the system
//! directories and the interpreter, size-limited tmpfs for /work, /tmp and /dev/shm,
//! a private /proc and a minimal /dev. Runs in the init, inside the new namespaces.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use super::spec::{SandboxSpec, DEFAULT_TMPFS_BYTES, SANDBOX_GID, SANDBOX_UID, WORK_DIR};

/// Host directories every interpreter needs (merged-/usr systems have symlinks for most).
pub(super) const SYSTEM_DIRS: &[&str] = &["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"];

/// The parts of the host's /etc a running program may need (the loader's cache, time
/// zone, certificates, name service switch, MIME and service tables, OS release); nothing
/// else of /etc is visible. Configuration of tools that maintain these (ldconfig,
/// update-ca-certificates) stays out.
pub(super) const ETC_ENTRIES: &[&str] = &[
    "ld.so.cache",
    "localtime",
    "timezone",
    "alternatives",
    "ssl",
    "nsswitch.conf",
    "mime.types",
    "protocols",
    "services",
    "os-release",
];

/// Extra /etc entries shared only when the program may use the host's network.
pub(super) const ETC_NETWORK_ENTRIES: &[&str] = &["resolv.conf", "hosts", "gai.conf"];

/// The writable tmpfs mounts, under the new root.
const SCRATCH: [&str; 3] = ["work", "tmp", "dev/shm"];

/// A scratch tmpfs's options: /work belongs to the sandbox user, the others are shared.
fn scratch_options(dir: &str, size: u64) -> String {
    match dir {
        "work" => format!("mode=0755,uid={SANDBOX_UID},gid={SANDBOX_GID},size={size}"),
        _ => format!("mode=1777,size={size}"),
    }
}

/// Regular /etc files up to this size are copied into the sandbox rather than bound.
pub(super) const COPY_LIMIT: u64 = 256 * 1024;

const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom"];

/// Where the new root is assembled; `/tmp` exists on every host and is covered
/// only in this mount namespace.
const BASE: &str = "/tmp";

/// The new root, inside the staging tmpfs once it is the root.
const NEW_ROOT: &str = "/newroot";

/// The staging tmpfs holds the skeleton, /etc and /rock (harness, arguments); it becomes
/// the read-only root, so this is only a cap on what rock itself writes there.
const STAGING_BYTES: u64 = 256 * 1024 * 1024;

/// The part of the root that doesn't depend on the request: a staging tmpfs holding the
/// new root, the system dirs, the shared part of /etc, /dev and the scratch tmpfs mounts.
/// The helper runs it as soon as the ids are mapped, before the request arrives; `finish`
/// (in the init, once this is done) adds the request's part.
pub fn prepare() -> Result<(), String> {
    let none = None::<&str>;
    step(
        "make mounts private",
        mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none),
    )?;
    step(
        "mount the staging tmpfs",
        mount(
            Some("tmpfs"),
            BASE,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some(format!("mode=0755,size={STAGING_BYTES}").as_str()),
        ),
    )?;
    for dir in ["newroot", "oldroot"] {
        mkdir(&Path::new(BASE).join(dir))?;
    }
    step(
        "pivot into the staging tmpfs",
        nix::unistd::pivot_root(BASE, &*format!("{BASE}/oldroot")),
    )?;
    step("enter the staging root", nix::unistd::chdir("/"))?;
    let new = Path::new(NEW_ROOT);
    bind(new, new)?;

    let mut read_only = Vec::new();
    for dir in SYSTEM_DIRS {
        mirror(
            &Path::new("/oldroot").join(dir),
            &new.join(dir),
            &mut read_only,
        )?;
    }
    build_etc(new, ETC_ENTRIES, &mut read_only)?;
    seal(&read_only)?;
    build_dev(new)?;
    for dir in ["proc", "rock"] {
        mkdir(&new.join(dir))?;
    }
    for dir in SCRATCH {
        tmpfs(&new.join(dir), &scratch_options(dir, DEFAULT_TMPFS_BYTES))?;
    }
    Ok(())
}

/// Makes every bind in `read_only` read-only, `nosuid` and `nodev`, with whatever was
/// mounted beneath it: one `mount_setattr(AT_RECURSIVE)` each (Linux 5.12), else one read
/// of the mount table and a remount per mount point.
fn seal(read_only: &[PathBuf]) -> Result<(), String> {
    if read_only.is_empty() {
        return Ok(());
    }
    match read_only
        .iter()
        .try_for_each(|target| seal_recursively(target))
    {
        Ok(()) => return Ok(()),
        Err(nix::errno::Errno::ENOSYS) | Err(nix::errno::Errno::EINVAL) => {}
        Err(errno) => return Err(format!("could not make the system dirs read-only: {errno}")),
    }
    // The host's /proc is under the old root until the final pivot.
    let table = fs::read_to_string("/oldroot/proc/self/mountinfo")
        .map_err(|e| format!("could not read the mount table: {e}"))?;
    for point in mount_points(&table) {
        if read_only.iter().any(|target| point.starts_with(target)) {
            remount_read_only(&point)?;
        }
    }
    Ok(())
}

/// The request's part, in the init (pid 1 of the new pid namespace, as /proc needs): the
/// interpreter's binds, the size-limited tmpfs mounts, the run's files, then the switch to
/// the new root, made read-only.
pub fn finish(spec: &SandboxSpec) -> Result<(), String> {
    let none = None::<&str>;
    let new = Path::new(NEW_ROOT);
    let mut read_only = Vec::new();
    if spec.network {
        build_etc(new, ETC_NETWORK_ENTRIES, &mut read_only)?;
    } else {
        write(&new.join("etc/hosts"), OFFLINE_HOSTS)?;
    }
    for relative in extra_binds(&spec.ro_binds) {
        mirror(
            &Path::new("/oldroot").join(relative),
            &new.join(relative),
            &mut read_only,
        )?;
    }
    seal(&read_only)?;

    step(
        "mount /proc",
        mount(
            Some("proc"),
            &new.join("proc"),
            Some("proc"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            none,
        ),
    )?;
    let size = spec.limits.tmpfs_bytes;
    if size != DEFAULT_TMPFS_BYTES {
        for dir in SCRATCH {
            let target = new.join(dir);
            mount(
                none,
                &target,
                none,
                MsFlags::MS_REMOUNT | MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
                Some(format!("size={size}").as_str()),
            )
            .map_err(|e| format!("could not resize the tmpfs on /{dir}: {e}"))?;
        }
    }
    write_files(new, spec)?;

    // Swap roots: the old root is stacked on "." and detached with everything under it.
    step("enter the new root", nix::unistd::chdir(new))?;
    step("pivot into the new root", nix::unistd::pivot_root(".", "."))?;
    step("detach the host root", umount2(".", MntFlags::MNT_DETACH))?;
    step("enter /", nix::unistd::chdir("/"))?;
    step(
        "make the root read-only",
        mount(
            none,
            "/",
            none,
            MsFlags::MS_REMOUNT
                | MsFlags::MS_BIND
                | MsFlags::MS_RDONLY
                | MsFlags::MS_NOSUID
                | MsFlags::MS_NODEV,
            none,
        ),
    )?;
    Ok(())
}

/// The extra read-only binds (interpreters, runtime envs) that need a mount of their own,
/// relative to `/`: shortest first, leaving out those inside a system dir or inside
/// another bind.
pub(super) fn extra_binds(ro_binds: &[String]) -> Vec<&str> {
    let mut extra: Vec<&str> = ro_binds.iter().map(|p| p.trim_start_matches('/')).collect();
    extra.sort();
    let mut bound: Vec<&str> = Vec::new();
    for relative in extra {
        let inside =
            |outer: &&str| relative == *outer || relative.starts_with(&format!("{outer}/"));
        if relative.is_empty() || is_covered(relative) || bound.iter().any(inside) {
            continue;
        }
        bound.push(relative);
    }
    bound
}

/// A path already inside one of the mirrored system dirs needs no bind of its own.
fn is_covered(relative: &str) -> bool {
    SYSTEM_DIRS
        .iter()
        .any(|dir| relative == *dir || relative.starts_with(&format!("{dir}/")))
}

/// Reproduce a host entry: symlinks as symlinks, files and directories as binds, whose
/// targets are added to `read_only` (remounted read-only once all are in place).
fn mirror(host: &Path, target: &Path, read_only: &mut Vec<PathBuf>) -> Result<(), String> {
    let Ok(meta) = fs::symlink_metadata(host) else {
        return Ok(());
    };
    if let Some(parent) = target.parent() {
        mkdir_all(parent)?;
    }
    if meta.file_type().is_symlink() {
        let link = fs::read_link(host).map_err(|e| describe("read link", host, e))?;
        if fs::symlink_metadata(target).is_err() {
            symlink(&link, target).map_err(|e| describe("create link", target, e))?;
        }
        return Ok(());
    }
    if meta.is_dir() {
        mkdir(target)?;
    } else if fs::symlink_metadata(target).is_err() {
        fs::write(target, b"").map_err(|e| describe("create", target, e))?;
    }
    bind(host, target)?;
    read_only.push(target.to_path_buf());
    Ok(())
}

fn bind(source: &Path, target: &Path) -> Result<(), String> {
    let none = None::<&str>;
    mount(
        Some(source),
        target,
        none,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        none,
    )
    .map_err(|e| format!("could not bind {}: {e}", source.display()))
}

/// `mount_setattr(2)` on the mount at `target` and every mount below it.
fn seal_recursively(target: &Path) -> Result<(), nix::errno::Errno> {
    #[repr(C)]
    struct MountAttr {
        attr_set: u64,
        attr_clr: u64,
        propagation: u64,
        userns_fd: u64,
    }
    const MOUNT_ATTR_RDONLY: u64 = 0x1;
    const MOUNT_ATTR_NOSUID: u64 = 0x2;
    const MOUNT_ATTR_NODEV: u64 = 0x4;
    const AT_RECURSIVE: u32 = 0x8000;
    let path = std::ffi::CString::new(target.as_os_str().as_encoded_bytes())
        .map_err(|_| nix::errno::Errno::EINVAL)?;
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: a valid path and attribute struct of the size passed.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            path.as_ptr(),
            AT_RECURSIVE | libc::AT_SYMLINK_NOFOLLOW as u32,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(nix::errno::Errno::last())
    }
}

/// A bind remount must keep the flags the kernel locked on the original mount.
fn remount_read_only(point: &Path) -> Result<(), String> {
    let none = None::<&str>;
    let mut flags = MsFlags::MS_REMOUNT
        | MsFlags::MS_BIND
        | MsFlags::MS_RDONLY
        | MsFlags::MS_NOSUID
        | MsFlags::MS_NODEV;
    if let Ok(stat) = nix::sys::statvfs::statvfs(point) {
        use nix::sys::statvfs::FsFlags;
        let f = stat.flags();
        for (fs_flag, ms_flag) in [
            (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
            (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
            (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
            (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
        ] {
            if f.contains(fs_flag) {
                flags |= ms_flag;
            }
        }
    }
    mount(none, point, none, flags, none)
        .map_err(|e| format!("could not make {} read-only: {e}", point.display()))
}

/// The mount points of a /proc/self/mountinfo text, each once, in mount order.
fn mount_points(table: &str) -> Vec<PathBuf> {
    let mut points: Vec<PathBuf> = Vec::new();
    for point in table.lines().filter_map(|line| line.split(' ').nth(4)) {
        let point = PathBuf::from(unescape_mountinfo(point));
        if !points.contains(&point) {
            points.push(point);
        }
    }
    points
}

fn unescape_mountinfo(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() {
            if let Ok(v) = u8::from_str_radix(&field[i + 1..i + 4], 8) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Shares `entries` of the host's /etc; the first call also writes rock's own files.
fn build_etc(new: &Path, entries: &[&str], read_only: &mut Vec<PathBuf>) -> Result<(), String> {
    let etc = new.join("etc");
    let first = !etc.exists();
    mkdir(&etc)?;
    for entry in entries {
        let host = Path::new("/oldroot/etc").join(entry);
        // Small files are copied (cheaper than a bind and its read-only remount);
        // directories and symlinks are mirrored.
        match fs::symlink_metadata(&host) {
            Ok(meta) if meta.is_file() && meta.len() <= COPY_LIMIT => {
                // An unreadable file would be unreadable through a bind too.
                let _ = fs::copy(&host, etc.join(entry));
            }
            _ => mirror(&host, &etc.join(entry), read_only)?,
        }
    }
    if !first {
        return Ok(());
    }
    for (name, contents) in own_etc_files() {
        write(&etc.join(name), contents.as_bytes())?;
    }
    Ok(())
}

/// rock's own /etc files: the sandbox user and group, and the host name.
pub(super) fn own_etc_files() -> [(&'static str, String); 3] {
    let user = format!(
        "root:x:0:0:root:/root:/usr/sbin/nologin\n\
         sandbox:x:{SANDBOX_UID}:{SANDBOX_GID}:rock sandbox:{WORK_DIR}:/usr/sbin/nologin\n\
         nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    );
    let group = format!("root:x:0:\nsandbox:x:{SANDBOX_GID}:\nnogroup:x:65534:\n");
    [
        ("passwd", user),
        ("group", group),
        ("hostname", "rock\n".to_string()),
    ]
}

/// /etc/hosts of a sandbox without the host's network.
pub(super) const OFFLINE_HOSTS: &[u8] = b"127.0.0.1 localhost rock\n::1 localhost\n";

fn build_dev(new: &Path) -> Result<(), String> {
    let dev = new.join("dev");
    tmpfs(&dev, "mode=0755,size=65536")?;
    for name in DEVICES {
        let target = dev.join(name);
        write(&target, b"")?;
        let none = None::<&str>;
        mount(
            Some(&Path::new("/oldroot/dev").join(name)),
            &target,
            none,
            MsFlags::MS_BIND,
            none,
        )
        .map_err(|e| format!("could not bind /dev/{name}: {e}"))?;
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        symlink(target, dev.join(name)).map_err(|e| describe("create link", &dev, e))?;
    }
    // /dev/shm is mounted by `finish`, with the request's size.
    mkdir(&dev.join("shm"))?;
    // Nothing may be added to /dev itself (the device binds and /dev/shm stay as they are).
    mount(
        None::<&str>,
        &dev,
        None::<&str>,
        MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("mode=0755,size=65536"),
    )
    .map_err(|e| format!("could not make /dev read-only: {e}"))
}

fn write_files(new: &Path, spec: &SandboxSpec) -> Result<(), String> {
    for file in &spec.files {
        let relative = file.path.trim_start_matches('/');
        let target = new.join(relative);
        if let Some(parent) = target.parent() {
            mkdir_all(parent)?;
        }
        write(&target, file.contents.as_bytes())?;
        if file.path.starts_with(WORK_DIR) {
            nix::unistd::chown(
                &target,
                Some(nix::unistd::Uid::from_raw(SANDBOX_UID)),
                Some(nix::unistd::Gid::from_raw(SANDBOX_GID)),
            )
            .map_err(|e| format!("could not hand {} to the sandbox user: {e}", file.path))?;
        }
    }
    Ok(())
}

fn tmpfs(target: &Path, options: &str) -> Result<(), String> {
    mkdir(target)?;
    mount(
        Some("tmpfs"),
        target,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(options),
    )
    .map_err(|e| format!("could not mount a tmpfs on {}: {e}", target.display()))
}

fn mkdir(path: &Path) -> Result<(), String> {
    match fs::create_dir(path) {
        Ok(()) => {
            let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o755));
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(describe("create", path, e)),
    }
}

fn mkdir_all(path: &Path) -> Result<(), String> {
    fs::create_dir_all(path).map_err(|e| describe("create", path, e))
}

fn write(path: &Path, contents: &[u8]) -> Result<(), String> {
    fs::write(path, contents).map_err(|e| describe("write", path, e))
}

fn step<T>(what: &str, result: nix::Result<T>) -> Result<T, String> {
    result.map_err(|e| format!("could not {what}: {e}"))
}

fn describe(what: &str, path: &Path, err: std::io::Error) -> String {
    format!("could not {what} {}: {err}", path.display())
}
