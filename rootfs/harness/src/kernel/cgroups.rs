//! Cgroups: where a controller's hierarchy is mounted, which cgroup a process is
//! in (both read through procfs), and what the pids controller reports there.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use procfs::process::Process;
use procfs::{FromRead, ProcessCGroup, ProcessCGroups};

use crate::kernel::mounts::{mount_point, mountinfo};
use crate::timeouts::{poll_until, scaled};

/// Where `controller` (`pids`, `memory`, `cpu`…) is mounted, read from the kernel:
/// the first in /proc/self/mountinfo of a cgroup v1 hierarchy that has it among its
/// mount options, or the cgroup v2 tree when it offers it. Returns the mount point,
/// and whether it is v2.
pub fn cgroup_hierarchy(controller: &str) -> (PathBuf, bool) {
    let mounts = mountinfo(std::process::id() as i32);
    for mount in &mounts {
        let point = mount_point(mount);
        match mount.fs_type.as_str() {
            "cgroup" if mount.super_options.contains_key(controller) => return (point, false),
            "cgroup2" if offers(&point, controller) => return (point, true),
            _ => {}
        }
    }
    let shown: Vec<String> =
        mounts.iter().map(|m| format!("{} ({})", m.mount_point.display(), m.fs_type)).collect();
    panic!("no cgroup hierarchy offers the {controller} controller:\n{}", shown.join("\n"))
}

/// Whether the cgroup v2 tree at `root` offers `controller` (cgroup.controllers).
fn offers(root: &Path, controller: &str) -> bool {
    fs::read_to_string(root.join("cgroup.controllers"))
        .is_ok_and(|offered| offered.split_whitespace().any(|c| c == controller))
}

/// The cgroup directory of process `pid` in the hierarchy of `controller`.
pub fn cgroup_of(pid: i32, controller: &str) -> PathBuf {
    let cgroups = Process::new(pid).and_then(|process| process.cgroups());
    let cgroups = cgroups.map(|cgroups| cgroups.0).unwrap_or_default();
    cgroup_among(&cgroups, controller).unwrap_or_else(|| {
        panic!("process {pid}: no {controller} cgroup in /proc/{pid}/cgroup: {cgroups:?}")
    })
}

/// The directory, in the hierarchy of `controller`, of the cgroup among `cgroups`
/// (a process's, one a hierarchy) that is in that hierarchy.
pub(crate) fn cgroup_among(cgroups: &[ProcessCGroup], controller: &str) -> Option<PathBuf> {
    let (hierarchy, v2) = cgroup_hierarchy(controller);
    // cgroup v2's line has no controllers ("0::PATH"); each v1 hierarchy names its own.
    let found = cgroups.iter().find(|cgroup| {
        if v2 {
            cgroup.controllers.is_empty()
        } else {
            cgroup.controllers.iter().any(|c| c == controller)
        }
    })?;
    Some(hierarchy.join(found.pathname.trim_start_matches('/')))
}

/// The cgroups a container printed (`cat /proc/self/cgroup` inside): one for each
/// hierarchy, with its path as the reader's cgroup namespace shows it.
pub fn cgroups_printed(cgroup_file: &str) -> Vec<ProcessCGroup> {
    ProcessCGroups::from_read(cgroup_file.as_bytes()).map(|cgroups| cgroups.0).unwrap_or_default()
}

/// Where the pids controller is mounted: see [`cgroup_hierarchy`].
pub fn pids_hierarchy() -> PathBuf {
    cgroup_hierarchy("pids").0
}

/// The cgroup directory of process `pid` in the hierarchy of the pids controller.
pub fn pids_cgroup_of(pid: i32) -> PathBuf {
    cgroup_of(pid, "pids")
}

/// How many forks the pids controller refused in `cgroup` ("max" in pids.events).
pub fn refused_forks(cgroup: &Path) -> u64 {
    let events = read_cgroup_file(cgroup, "pids.events");
    events.lines().find_map(|line| line.strip_prefix("max ")?.parse().ok()).unwrap_or(0)
}

/// Read a cgroup file (`pids.max`, `pids.current`…), trimmed.
pub fn read_cgroup_file(cgroup: &Path, file: &str) -> String {
    let path = cgroup.join(file);
    fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("read {}: {err}", path.display()))
        .trim()
        .into()
}

/// Wait (at most 5 s, scaled) until the kernel shows no process in `cgroup` (its
/// `cgroup.procs` empty, or the cgroup gone); false if one stays. A container whose
/// runtime was killed ends after it: its PID 1 gets its parent-death signal, and
/// the rest of its PID namespace is killed with it, while the test goes on. Until
/// then the kernel refuses to remove its cgroup (EBUSY).
pub fn wait_until_empty(cgroup: &Path) -> bool {
    let procs = || fs::read_to_string(cgroup.join("cgroup.procs")).unwrap_or_default();
    poll_until(scaled(Duration::from_secs(5)), || procs().trim().is_empty())
}

/// `pids.max` of `cgroup`, trimmed; empty if it cannot be read.
pub(crate) fn pids_max(cgroup: &Path) -> String {
    fs::read_to_string(cgroup.join("pids.max")).unwrap_or_default().trim().to_string()
}
