//! A real container engine for the docker provider's tests: Podman's Docker-compatible
//! service, one per runtime (runc, and runsc, gVisor, whose containers need
//! `--network=none` here, hence a wrapper), each on a socket of its own with a
//! containers.conf that makes the runtime its default (Podman's Docker API runs every
//! container under the default). The image is this machine's python3.11 and node
//! (scripts/container-image), imported once; the bare image has their libraries and no
//! interpreter, for runtime envs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const IMAGE: &str = "localhost/rock-runtime:test";
pub const BARE_IMAGE: &str = "localhost/rock-bare:test";

pub struct Engine {
    pub socket: PathBuf,
    pub runtime: &'static str,
    _dir: tempfile::TempDir,
}

impl Engine {
    /// `unix://…`, for providers.docker.host.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The config that points rock's docker provider at this engine.
    pub fn config(&self) -> String {
        self.config_with_image(IMAGE)
    }

    /// The config that runs both languages in `image`.
    pub fn config_with_image(&self, image: &str) -> String {
        format!(
            "[providers.docker]\nhost = \"{}\"\nruntime = \"{}\"\npython_image = \"{image}\"\nnodejs_image = \"{image}\"\n",
            self.host(),
            self.runtime
        )
    }

    /// The containers rock made that the engine still has.
    pub fn rock_containers(&self) -> Vec<String> {
        let out = podman(self)
            .args([
                "ps",
                "--all",
                "--filter",
                "label=rock",
                "--format",
                "{{.ID}}",
            ])
            .output()
            .expect("podman ps");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// `podman` with this engine's configuration.
pub fn podman(engine: &Engine) -> Command {
    let mut command = Command::new("podman");
    command.env(
        "CONTAINERS_CONF",
        engine.socket.with_file_name("containers.conf"),
    );
    command
}

/// The engine for `runtime` ("runc" or "runsc"), started once per test process.
pub fn engine(runtime: &'static str) -> &'static Engine {
    static RUNC: OnceLock<Engine> = OnceLock::new();
    static RUNSC: OnceLock<Engine> = OnceLock::new();
    let cell = match runtime {
        "runc" => &RUNC,
        "runsc" => &RUNSC,
        other => panic!("no test engine for runtime {other}"),
    };
    cell.get_or_init(|| start(runtime))
}

/// Tests that count containers take this, so that they see only their own.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn start(runtime: &'static str) -> Engine {
    let dir = tempfile::tempdir().expect("temp dir");
    let wrapper = dir.path().join("runsc-none");
    std::fs::write(&wrapper, "#!/bin/sh\nexec runsc --network=none \"$@\"\n").unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let conf = dir.path().join("containers.conf");
    std::fs::write(
        &conf,
        format!(
            "[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\nruntime = \"{runtime}\"\n\n\
             [engine.runtimes]\nrunsc = [\"{}\"]\n\n\
             [containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=4096:4096\"]\n",
            wrapper.display()
        ),
    )
    .unwrap();
    let socket = dir.path().join("podman.sock");
    let engine = Engine {
        socket: socket.clone(),
        runtime,
        _dir: dir,
    };
    ensure_image(&engine);
    let (tx, rx) = std::sync::mpsc::channel();
    let conf_for_thread = conf.clone();
    let socket_for_thread = socket.clone();
    // The service dies with this process: its parent-death signal is tied to a thread that
    // never ends.
    std::thread::spawn(move || {
        let mut command = Command::new("podman");
        command
            .env("CONTAINERS_CONF", &conf_for_thread)
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", socket_for_thread.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut command, || {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = command.spawn();
        let _ = tx.send(child.is_ok());
        if let Ok(mut child) = child {
            let _ = child.wait();
        }
        loop {
            std::thread::park();
        }
    });
    assert!(
        rx.recv().unwrap(),
        "cannot start `podman system service`: is podman installed?"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "podman's service did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    engine
}

/// Imports the test images unless the engine's storage has them.
fn ensure_image(engine: &Engine) {
    static IMPORTED: Mutex<bool> = Mutex::new(false);
    let mut imported = IMPORTED.lock().unwrap_or_else(|e| e.into_inner());
    if *imported {
        return;
    }
    for (image, flags) in [(IMAGE, &[][..]), (BARE_IMAGE, &["--bare"][..])] {
        let exists = podman(engine)
            .args(["image", "exists", image])
            .status()
            .is_ok_and(|s| s.success());
        if exists {
            continue;
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/container-image");
        let status = Command::new(script)
            .env(
                "CONTAINERS_CONF",
                engine.socket.with_file_name("containers.conf"),
            )
            .args(flags)
            .arg(image)
            .stdout(Stdio::null())
            .status()
            .expect("run scripts/container-image");
        assert!(status.success(), "scripts/container-image {flags:?} failed");
    }
    *imported = true;
}
