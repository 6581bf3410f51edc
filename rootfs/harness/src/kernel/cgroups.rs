//! Cgroups: where a controller's hierarchy is mounted, which cgroup a process is
//! in, and what the pids controller reports there.

use std::fs;
use std::path::{Path, PathBuf};

/// Where `controller` (`pids`, `memory`, `cpu`…) is mounted, read from the kernel:
/// the first in /proc/self/mountinfo of a cgroup v1 hierarchy that has it among its
/// mount options, or the cgroup v2 tree when it offers it. Returns the mount point,
/// and whether it is v2.
pub fn cgroup_hierarchy(controller: &str) -> (PathBuf, bool) {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    for line in mountinfo.lines() {
        let Some((mount, source)) = line.split_once(" - ") else { continue };
        let point = PathBuf::from(mount.split(' ').nth(4).unwrap_or_default());
        let fields: Vec<&str> = source.split(' ').collect();
        match fields.as_slice() {
            ["cgroup", _, options] if options.split(',').any(|o| o == controller) => {
                return (point, false);
            }
            ["cgroup2", ..]
                if fs::read_to_string(point.join("cgroup.controllers"))
                    .is_ok_and(|c| c.split_whitespace().any(|c| c == controller)) =>
            {
                return (point, true);
            }
            _ => {}
        }
    }
    panic!("no cgroup hierarchy offers the {controller} controller:\n{mountinfo}")
}

/// The cgroup directory of process `pid` in the hierarchy of `controller`.
pub fn cgroup_of(pid: i32, controller: &str) -> PathBuf {
    let (hierarchy, v2) = cgroup_hierarchy(controller);
    let cgroups = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    // Lines are "ID:CONTROLLERS:PATH"; cgroup v2's is "0::PATH".
    for entry in cgroups.lines() {
        let mut parts = entry.splitn(3, ':');
        let (_, controllers, path) = (parts.next(), parts.next(), parts.next());
        let found = match controllers {
            Some("") => v2,
            Some(list) => !v2 && list.split(',').any(|c| c == controller),
            None => false,
        };
        if let (true, Some(path)) = (found, path) {
            return hierarchy.join(path.trim_start_matches('/'));
        }
    }
    panic!("process {pid}: no {controller} cgroup in /proc/{pid}/cgroup:\n{cgroups}")
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

/// `pids.max` of `cgroup`, trimmed; empty if it cannot be read.
pub(crate) fn pids_max(cgroup: &Path) -> String {
    fs::read_to_string(cgroup.join("pids.max")).unwrap_or_default().trim().to_string()
}
