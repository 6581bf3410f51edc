//! Mounts, as /proc/PID/mountinfo shows them, and taking down what a test's
//! container left.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, umount2};

/// The mount points in `now` that were not in `before` (one of each there taken out).
pub(crate) fn new_mounts(before: &[PathBuf], mut now: Vec<PathBuf>) -> Vec<PathBuf> {
    for old in before {
        if let Some(i) = now.iter().position(|mount| mount == old) {
            now.remove(i);
        }
    }
    now
}

/// Every mount point in the mount namespace of process `pid`.
pub(crate) fn mount_points(pid: i32) -> BTreeSet<PathBuf> {
    let mountinfo = fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap_or_default();
    mountinfo.lines().filter_map(|l| l.split(' ').nth(4)).map(PathBuf::from).collect()
}

/// Mount points at or below `dir` in the mount namespace of process `pid`.
pub fn mounts_below(pid: i32, dir: &Path) -> Vec<PathBuf> {
    let mountinfo = fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap_or_default();
    let points = mountinfo.lines().filter_map(|l| l.split(' ').nth(4)).map(PathBuf::from);
    points.filter(|point| point.starts_with(dir)).collect()
}

/// Detach every mount at or below `dir` in this process's mount namespace.
pub(crate) fn detach_mounts_below(dir: &Path) {
    detach(&mounts_below(std::process::id() as i32, dir));
}

/// Detach these mounts (lazily: MNT_DETACH), the last mounted first.
pub(crate) fn detach(mounts: &[PathBuf]) {
    for mount in mounts.iter().rev() {
        let _ = umount2(mount, MntFlags::MNT_DETACH);
    }
}
