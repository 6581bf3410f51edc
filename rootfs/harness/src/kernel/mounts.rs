//! Mounts, as /proc/PID/mountinfo shows them (read through procfs), and taking
//! down what a test's container left.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, umount2};
use procfs::process::{MountInfo, Process};

/// The mounts in the mount namespace of process `pid`, in the kernel's order
/// (empty if it has ended).
pub(crate) fn mountinfo(pid: i32) -> Vec<MountInfo> {
    let mounts = Process::new(pid).and_then(|process| process.mountinfo());
    mounts.map(|mounts| mounts.0).unwrap_or_default()
}

/// A mount point as the kernel means it (`\040` in mountinfo is a space): the
/// root filesystem builder's reading, which the doctor shares.
pub(crate) use rootfs::mountinfo::mount_point;

/// The mount points in a mount table a container printed (`cat
/// /proc/self/mountinfo` inside), in its order.
pub fn mount_points_printed(mountinfo: &str) -> Vec<PathBuf> {
    let mounts = mountinfo.lines().filter_map(|line| MountInfo::from_line(line).ok());
    mounts.map(|mount| mount_point(&mount)).collect()
}

/// The mount table of process `pid`'s mount namespace, one line a mount in the
/// kernel's order: its ID and parent's, device, root, mount point, options,
/// propagation, type and source. Not its filesystem's own options: those belong to
/// the filesystem, which other namespaces share, and any process on the machine
/// may change them (a remount of /dev/shm with another size, say).
pub(crate) fn mount_table(pid: i32) -> Vec<String> {
    let line = |mount: &MountInfo| {
        let mut options: Vec<String> = mount
            .mount_options
            .iter()
            .map(|(name, value)| value.as_ref().map_or(name.clone(), |v| format!("{name}={v}")))
            .collect();
        options.sort();
        format!(
            "{} {} {} {} {} {} {:?} {} {}",
            mount.mnt_id,
            mount.pid,
            mount.majmin,
            mount.root,
            mount.mount_point.display(),
            options.join(","),
            mount.opt_fields,
            mount.fs_type,
            mount.mount_source.as_deref().unwrap_or("none")
        )
    };
    mountinfo(pid).iter().map(line).collect()
}

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
    mountinfo(pid).iter().map(mount_point).collect()
}

/// Mount points at or below `dir` in the mount namespace of process `pid`, in the
/// order they were mounted.
pub fn mounts_below(pid: i32, dir: &Path) -> Vec<PathBuf> {
    let points = mountinfo(pid).iter().map(mount_point).collect::<Vec<_>>();
    points.into_iter().filter(|point| point.starts_with(dir)).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mount_point_with_escaped_characters_is_unescaped() {
        let line = r"68 47 0:40 / /tmp/a\040b\011c\134d rw,relatime - tmpfs x rw";
        assert_eq!(mount_points_printed(line), [Path::new("/tmp/a b\tc\\d")]);
    }
}
