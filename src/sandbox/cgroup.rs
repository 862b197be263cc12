//! A cgroup per run, where rock may make one: memory (swap off), pids, and a CPU quota
//! when one is asked for.
//! cgroup v2 needs a delegated subtree with both controllers enabled; on v1 (or a hybrid
//! layout) the memory and pids hierarchies are used directly, which needs root.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

const ROOT: &str = "/sys/fs/cgroup";

/// The CFS period, in µs: the quota is spent within each such slice of time.
const CFS_PERIOD_US: u64 = 100_000;

fn quota_us(percent: u64) -> u64 {
    (percent * CFS_PERIOD_US / 100).max(1000)
}

#[derive(Debug)]
pub struct Cgroup {
    layout: Layout,
}

#[derive(Debug)]
enum Layout {
    V2 {
        dir: PathBuf,
    },
    V1 {
        memory: PathBuf,
        pids: PathBuf,
        cpu: Option<PathBuf>,
    },
}

impl Cgroup {
    /// Makes `rock-<name>` with the given limits, or says why it can't. `cpu_percent` is a
    /// CFS quota in percent of one CPU (150: one and a half CPUs).
    pub fn create(
        name: &str,
        memory_bytes: u64,
        processes: u64,
        cpu_percent: Option<u64>,
    ) -> Result<Cgroup, String> {
        let own = fs::read_to_string("/proc/self/cgroup")
            .map_err(|e| format!("cannot read /proc/self/cgroup: {e}"))?;
        // The owner's pid in the name lets a later run remove a cgroup whose rock was killed
        // (SIGKILL leaves no chance to clean up).
        let leaf = format!("rock-{name}-{}", std::process::id());
        if Path::new(ROOT).join("cgroup.controllers").exists() {
            let parent = own
                .lines()
                .find_map(|l| l.strip_prefix("0::"))
                .ok_or("no cgroup v2 membership")?;
            let parent = Path::new(ROOT).join(parent.trim_start_matches('/'));
            let enabled =
                fs::read_to_string(parent.join("cgroup.subtree_control")).unwrap_or_default();
            if !(enabled.contains("memory") && enabled.contains("pids")) {
                return Err(format!(
                    "the memory and pids controllers are not delegated to {}",
                    parent.display()
                ));
            }
            if cpu_percent.is_some() && !enabled.split_whitespace().any(|c| c == "cpu") {
                return Err(format!(
                    "the cpu controller is not delegated to {}",
                    parent.display()
                ));
            }
            let dir = parent.join(leaf);
            make_dir(&dir)?;
            let cgroup = Cgroup {
                layout: Layout::V2 { dir: dir.clone() },
            };
            cgroup.write(&dir, "memory.max", memory_bytes)?;
            let _ = fs::write(dir.join("memory.swap.max"), "0");
            cgroup.write(&dir, "pids.max", processes)?;
            if let Some(percent) = cpu_percent {
                let quota = format!("{} {CFS_PERIOD_US}", quota_us(percent));
                fs::write(dir.join("cpu.max"), quota)
                    .map_err(|e| format!("cannot set {}: {e}", dir.join("cpu.max").display()))?;
            }
            return Ok(cgroup);
        }
        let hierarchy = |controller: &str| -> Result<PathBuf, String> {
            let path = own
                .lines()
                .find_map(|l| {
                    let mut parts = l.splitn(3, ':');
                    let (_, names, path) = (parts.next()?, parts.next()?, parts.next()?);
                    names.split(',').any(|n| n == controller).then_some(path)
                })
                .ok_or_else(|| format!("no {controller} cgroup hierarchy"))?;
            Ok(Path::new(ROOT)
                .join(controller)
                .join(path.trim_start_matches('/'))
                .join(&leaf))
        };
        let memory = hierarchy("memory")?;
        let pids = hierarchy("pids")?;
        let cpu = cpu_percent.map(|_| hierarchy("cpu")).transpose()?;
        make_dir(&memory)?;
        if let Err(e) = make_dir(&pids) {
            let _ = fs::remove_dir(&memory);
            return Err(e);
        }
        if let Some(cpu) = &cpu {
            if let Err(e) = make_dir(cpu) {
                let _ = fs::remove_dir(&memory);
                let _ = fs::remove_dir(&pids);
                return Err(e);
            }
        }
        let cgroup = Cgroup {
            layout: Layout::V1 {
                memory: memory.clone(),
                pids: pids.clone(),
                cpu: cpu.clone(),
            },
        };
        cgroup.write(&memory, "memory.limit_in_bytes", memory_bytes)?;
        // Present only with swap accounting; where it is, swap must not extend the limit.
        let _ = fs::write(
            memory.join("memory.memsw.limit_in_bytes"),
            memory_bytes.to_string(),
        );
        cgroup.write(&pids, "pids.max", processes)?;
        if let (Some(cpu), Some(percent)) = (&cpu, cpu_percent) {
            cgroup.write(cpu, "cpu.cfs_period_us", CFS_PERIOD_US)?;
            cgroup.write(cpu, "cpu.cfs_quota_us", quota_us(percent))?;
        }
        Ok(cgroup)
    }

    /// Writes a limit; on failure the half-made cgroup is removed by Drop.
    fn write(&self, dir: &Path, file: &str, value: u64) -> Result<(), String> {
        fs::write(dir.join(file), value.to_string())
            .map_err(|e| format!("cannot set {}: {e}", dir.join(file).display()))
    }

    /// The files a pid is written to, to move that process in (see [`attach`]).
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs().iter().map(|d| d.join("cgroup.procs")).collect()
    }

    /// Whether the kernel's OOM killer killed a process of this cgroup.
    pub fn oom_killed(&self) -> bool {
        let (dir, file) = match &self.layout {
            Layout::V2 { dir } => (dir, "memory.events"),
            Layout::V1 { memory, .. } => (memory, "memory.oom_control"),
        };
        fs::read_to_string(dir.join(file))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.strip_prefix("oom_kill "))
            .any(|n| n.trim().parse::<u64>().unwrap_or(0) > 0)
    }

    /// Peak memory of the whole run, in bytes.
    pub fn peak_memory(&self) -> Option<u64> {
        let path = match &self.layout {
            Layout::V2 { dir } => dir.join("memory.peak"),
            Layout::V1 { memory, .. } => memory.join("memory.max_usage_in_bytes"),
        };
        fs::read_to_string(path).ok()?.trim().parse().ok()
    }

    /// CPU time of every process the run had, where the cgroup counts it: `cpu.stat` on v2.
    /// v1 would need a cpuacct hierarchy, one more cgroup move (an RCU wait) per run, so
    /// callers fall back to the processes' own rusage there.
    pub fn cpu_time(&self) -> Option<Duration> {
        let Layout::V2 { dir } = &self.layout else {
            return None;
        };
        let stat = fs::read_to_string(dir.join("cpu.stat")).ok()?;
        let micros = stat
            .lines()
            .find_map(|l| l.strip_prefix("usage_usec "))?
            .trim()
            .parse()
            .ok()?;
        Some(Duration::from_micros(micros))
    }

    /// CPU time the cgroup's live processes have used so far (all their threads), from
    /// `/proc/<pid>/stat`: what a watcher can read on any layout while the run goes on.
    pub fn live_cpu_time(&self) -> Duration {
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        let procs = self
            .dirs()
            .first()
            .and_then(|d| fs::read_to_string(d.join("cgroup.procs")).ok())
            .unwrap_or_default();
        let used: u64 = procs
            .lines()
            .filter_map(|pid| fs::read_to_string(format!("/proc/{}/stat", pid.trim())).ok())
            .filter_map(|stat| {
                // Fields after the command name (which may hold spaces), from field 3 on.
                let rest = &stat[stat.rfind(')')? + 2..];
                let fields: Vec<&str> = rest.split_whitespace().collect();
                let utime: u64 = fields.get(11)?.parse().ok()?;
                let stime: u64 = fields.get(12)?.parse().ok()?;
                Some(utime + stime)
            })
            .sum();
        Duration::from_millis(used * 1000 / ticks)
    }

    /// Changes the memory limit (a warm sandbox's, for its request). On v1 the swap
    /// limit, where there is one, must never be below the memory limit, so the order of
    /// the two writes depends on the direction.
    pub fn set_memory_limit(&self, bytes: u64) -> Result<(), String> {
        match &self.layout {
            Layout::V2 { dir } => self.write(dir, "memory.max", bytes),
            Layout::V1 { memory, .. } => {
                let swap = memory.join("memory.memsw.limit_in_bytes");
                let current: u64 = fs::read_to_string(memory.join("memory.limit_in_bytes"))
                    .ok()
                    .and_then(|t| t.trim().parse().ok())
                    .unwrap_or(u64::MAX);
                if bytes < current {
                    self.write(memory, "memory.limit_in_bytes", bytes)?;
                    let _ = fs::write(&swap, bytes.to_string());
                } else {
                    let _ = fs::write(&swap, bytes.to_string());
                    self.write(memory, "memory.limit_in_bytes", bytes)?;
                }
                Ok(())
            }
        }
    }

    /// Kills every process in the cgroup.
    pub fn kill_all(&self) {
        for dir in self.dirs() {
            kill_procs(dir);
        }
    }

    fn dirs(&self) -> Vec<&Path> {
        match &self.layout {
            Layout::V2 { dir } => vec![dir],
            Layout::V1 { memory, pids, cpu } => {
                let mut dirs: Vec<&Path> = vec![memory, pids];
                dirs.extend(cpu.as_deref());
                dirs
            }
        }
    }
}

impl Drop for Cgroup {
    /// Kills whatever is left and removes the directories; a dying process keeps the
    /// cgroup busy for a moment, so removal is retried briefly.
    fn drop(&mut self) {
        for dir in self.dirs() {
            for attempt in 0..200 {
                // Usually empty by now: try first, look for stragglers only when busy.
                if fs::remove_dir(dir).is_ok() || !dir.exists() {
                    break;
                }
                kill_procs(dir);
                std::thread::sleep(Duration::from_millis(if attempt < 20 { 1 } else { 10 }));
            }
        }
    }
}

/// Sweeps the directories holding the cgroups that `procs_files` belong to. Best effort and
/// off the critical path: `sandbox::run` calls it from its cgroup thread while the program runs.
pub fn sweep_beside(procs_files: &[PathBuf]) {
    for parent in procs_files.iter().filter_map(|f| f.parent()?.parent()) {
        sweep_abandoned(parent);
    }
}

/// Removes the empty `rock-<id>-<pid>` cgroups whose rock is gone (killed before it could
/// clean up). A cgroup of a live rock, or one with processes, is left alone.
fn sweep_abandoned(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = name
            .to_str()
            .and_then(|n| n.strip_prefix("rock-"))
            .and_then(|rest| rest.rsplit_once('-'))
            .and_then(|(_, pid)| pid.parse::<i32>().ok())
        else {
            continue;
        };
        if crate::process::alive(owner) {
            continue;
        }
        let procs = fs::read_to_string(entry.path().join("cgroup.procs")).unwrap_or_default();
        if procs.trim().is_empty() {
            let _ = fs::remove_dir(entry.path());
        }
    }
}

/// Moves `pid` into the cgroup. On v1 this waits for an RCU grace period (the kernel's
/// threadgroup lock), often 10 ms or more, which is why `sandbox::run` does it off the
/// critical path while the interpreter starts.
pub fn attach(procs_files: &[PathBuf], pid: i32) -> Result<(), String> {
    for file in procs_files {
        fs::write(file, pid.to_string())
            .map_err(|e| format!("cannot move the program into {}: {e}", file.display()))?;
    }
    Ok(())
}

fn kill_procs(dir: &Path) {
    let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
    for pid in procs.lines().filter_map(|p| p.trim().parse::<i32>().ok()) {
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

fn make_dir(dir: &Path) -> Result<(), String> {
    fs::create_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}
