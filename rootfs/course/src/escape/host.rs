//! The host, seen from outside the containers: what the scripts are told about it
//! (its PID for us, its network namespace, the device of its root filesystem), and
//! what must be the same after the suite as before it (core_pattern, the hostname,
//! no mount, cgroup or process left).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use nix::sys::stat::{SFlag, major, makedev, minor, stat};
use nix::unistd::{gethostname, getpid};

/// What the scripts are told about the host, to judge what they reach.
pub struct Host {
    /// This process's PID, as the host numbers it.
    pub pid: i32,
    /// The host's network namespace, as /proc/self/ns/net names it: `net:[4026531840]`.
    pub net_namespace: String,
    /// The block device the host's `/` is on, if it is on one.
    pub root: Option<RootDevice>,
}

/// The device of the host's root filesystem, e.g. 254:0, ext4, mounted read-write.
pub struct RootDevice {
    pub major: u64,
    pub minor: u64,
    pub fstype: String,
    pub read_only: bool,
    /// Why even the host, root outside any container, cannot read the device, if
    /// it cannot (a security module, a sandbox): then no container's refusal says
    /// anything.
    pub host_cannot_read: Option<String>,
}

impl Host {
    pub fn look() -> Result<Host, String> {
        let net_namespace = fs::read_link("/proc/self/ns/net")
            .map_err(|err| format!("readlink /proc/self/ns/net: {err}"))?;
        Ok(Host {
            pid: getpid().as_raw(),
            net_namespace: net_namespace.display().to_string(),
            root: root_device()?,
        })
    }
}

/// The device `/` is on (st_dev), with its type and whether its superblock is
/// read-only, from mountinfo; none when it is no block device (major 0: overlay,
/// tmpfs, btrfs).
fn root_device() -> Result<Option<RootDevice>, String> {
    let root = stat("/").map_err(|err| format!("stat(/): {}", err.desc()))?;
    let (major, minor) = (major(root.st_dev), minor(root.st_dev));
    let mounts = rootfs::mountinfo::read().map_err(|err| err.to_string())?;
    let Some(mount) = mounts.iter().rev().find(|mount| mount.mount_point == Path::new("/")) else {
        return Err("/proc/self/mountinfo lists no mount on /".into());
    };
    if major == 0 {
        return Ok(None);
    }
    let read_only = mount.super_options.iter().any(|option| option == "ro");
    let host_cannot_read = first_sector(major, minor).err();
    Ok(Some(RootDevice { major, minor, fstype: mount.fstype.clone(), read_only, host_cannot_read }))
}

/// Read the first sector of device `major:minor` through its node in /dev (a
/// device without one is not checked).
fn first_sector(major: u64, minor: u64) -> Result<(), String> {
    let Some(node) = device_node(major, minor) else { return Ok(()) };
    let mut sector = [0u8; 512];
    let read = fs::File::open(&node).and_then(|mut device| device.read_exact(&mut sector));
    read.map_err(|err| format!("reading {} on the host: {err}", node.display()))
}

/// The block device node for `major:minor`: udev's /dev/block link, or the node
/// in /dev itself (/dev/vda).
fn device_node(major: u64, minor: u64) -> Option<PathBuf> {
    let link = PathBuf::from(format!("/dev/block/{major}:{minor}"));
    if link.exists() {
        return Some(link);
    }
    let is_it = |path: &PathBuf| {
        stat(path).is_ok_and(|node| {
            SFlag::from_bits_truncate(node.st_mode) & SFlag::S_IFMT == SFlag::S_IFBLK
                && node.st_rdev == makedev(major, minor)
        })
    };
    let entries = fs::read_dir("/dev").into_iter().flatten().flatten();
    entries.map(|entry| entry.path()).find(is_it)
}

/// What the escapes must leave as they found it: the host's core_pattern (two
/// escapes write it back) and its hostname.
#[derive(Debug, PartialEq, Eq)]
pub struct Unchanged {
    core_pattern: String,
    hostname: String,
}

impl Unchanged {
    pub fn now() -> Unchanged {
        let core_pattern = fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
        let hostname = gethostname().map(|name| name.to_string_lossy().into_owned());
        Unchanged { core_pattern, hostname: hostname.unwrap_or_default() }
    }

    /// What differs in `after`, in words; empty when nothing does.
    pub fn changes(&self, after: &Unchanged) -> Vec<String> {
        let mut changes = Vec::new();
        if self.core_pattern != after.core_pattern {
            let (was, is) = (&self.core_pattern, &after.core_pattern);
            changes.push(format!("/proc/sys/kernel/core_pattern was {was:?}, is {is:?}"));
        }
        if self.hostname != after.hostname {
            let (was, is) = (&self.hostname, &after.hostname);
            changes.push(format!("the hostname was {was:?}, is {is:?}"));
        }
        changes
    }
}

/// What the containers left below the scratch root filesystem `dir`: mounts (in
/// our mount namespace, the host's) and processes whose `/` is in it.
pub fn left_below(dir: &Path) -> Vec<String> {
    let mounts = harness::mounts_below(getpid().as_raw(), dir);
    let mounts = mounts.iter().map(|point| format!("a mount on {}", point.display()));
    let processes = processes_rooted_in(dir).into_iter();
    mounts
        .chain(processes.map(|pid| format!("process {pid}, whose / is in {}", dir.display())))
        .collect()
}

/// The processes whose root directory is `dir` or below it.
pub fn processes_rooted_in(dir: &Path) -> Vec<i32> {
    let entries = fs::read_dir("/proc").into_iter().flatten().flatten();
    let pids = entries.filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok());
    let root_of = |pid: i32| fs::read_link(format!("/proc/{pid}/root")).ok();
    pids.filter(|&pid| root_of(pid).is_some_and(|root| root.starts_with(dir))).collect()
}

/// The cgroups named `container-*` in the pids hierarchy (those a step 7 program
/// makes), to tell which ones the suite's containers left.
pub fn container_cgroups() -> Vec<PathBuf> {
    let Ok(mounts) = rootfs::mountinfo::read() else { return Vec::new() };
    let pids = |mount: &&rootfs::mountinfo::Mount| {
        mount.fstype == "cgroup2" || mount.super_options.iter().any(|option| option == "pids")
    };
    let hierarchies = mounts.iter().filter(pids).map(|mount| mount.mount_point.clone());
    let entries = hierarchies.flat_map(|dir| fs::read_dir(dir).into_iter().flatten().flatten());
    let named = |path: &PathBuf| {
        path.file_name().and_then(|name| name.to_str()).is_some_and(|n| n.starts_with("container-"))
    };
    entries.map(|entry| entry.path()).filter(named).collect()
}
