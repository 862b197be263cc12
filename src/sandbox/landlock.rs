//! Landlock, a second wall inside the sandbox: whatever a mount would allow, the program
//! may write only beneath the scratch dirs (and to the harmless devices), and may neither
//! signal nor reach by abstract Unix socket any process outside its own domain (the init,
//! the helper, rock). Applied by the program's process before its `execve`, after
//! no_new_privs; best effort on kernels with an older Landlock, none without one.

use landlock::{
    path_beneath_rules, Access, AccessFs, Ruleset, RulesetAttr, RulesetCreatedAttr, Scope, ABI,
};

/// The Landlock version whose rights rock asks for (scopes came with 6).
const WANTED: ABI = ABI::V6;
const WANTED_VERSION: i64 = 6;

/// Beneath these, the program has every file-system right.
pub const WRITABLE: [&str; 3] = ["/work", "/tmp", "/dev/shm"];

/// Device files the program may read and write (and `ioctl`).
pub const DEVICES: [&str; 5] = [
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];

/// Restricts the calling process (and what it execs): read and execute everywhere, write
/// only beneath `WRITABLE` and to `DEVICES`, no signals or abstract sockets outside.
pub fn restrict() -> Result<(), String> {
    let all = AccessFs::from_all(WANTED);
    // Best effort: a kernel without Landlock enforces nothing, which `describe` tells.
    Ruleset::default()
        .handle_access(all)
        .and_then(|r| r.scope(Scope::AbstractUnixSocket | Scope::Signal))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rules(path_beneath_rules(["/"], AccessFs::from_read(WANTED))))
        .and_then(|r| r.add_rules(path_beneath_rules(WRITABLE, all)))
        .and_then(|r| r.add_rules(path_beneath_rules(DEVICES, AccessFs::from_file(WANTED))))
        .and_then(|r| r.restrict_self())
        .map(|_| ())
        .map_err(|e| format!("landlock: {e}"))
}

/// What [`restrict`] asks of this kernel, for a process that applies it itself (the fork
/// server's sandboxes): the handled rights and scopes, the size of the ruleset attribute
/// for this Landlock version, and each path's rights. `None` without Landlock.
pub fn plan() -> Option<serde_json::Value> {
    let version = kernel_abi().min(WANTED_VERSION);
    if version == 0 {
        return None;
    }
    let abi = ABI::from(version as i32);
    let all = AccessFs::from_all(abi);
    let scoped = if version >= 6 {
        (Scope::AbstractUnixSocket | Scope::Signal).bits()
    } else {
        0
    };
    // struct landlock_ruleset_attr grew a field with versions 4 (network) and 6 (scopes).
    let attr_size = match version {
        1..=3 => 8,
        4 | 5 => 16,
        _ => 24,
    };
    let mut rules = vec![serde_json::json!(["/", AccessFs::from_read(abi).bits()])];
    rules.extend(
        WRITABLE
            .iter()
            .map(|dir| serde_json::json!([dir, all.bits()])),
    );
    rules.extend(
        DEVICES
            .iter()
            .map(|dev| serde_json::json!([dev, AccessFs::from_file(abi).bits()])),
    );
    Some(serde_json::json!({
        "handled_fs": all.bits(),
        "scoped": scoped,
        "attr_size": attr_size,
        "rules": rules,
    }))
}

/// The kernel's Landlock version, 0 when it has none (or it is disabled).
pub fn kernel_abi() -> i64 {
    const LANDLOCK_CREATE_RULESET_VERSION: u32 = 1;
    let version = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    version.max(0)
}

/// What the metadata says of Landlock on this kernel.
pub fn describe() -> String {
    match kernel_abi() {
        0 => "not supported by this kernel".to_string(),
        abi if abi >= WANTED_VERSION => "enforced".to_string(),
        abi => format!("partly enforced (the kernel's Landlock is version {abi})"),
    }
}
