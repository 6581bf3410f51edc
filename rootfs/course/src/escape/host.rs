//! The host, seen from outside the containers: what the scripts are told about it
//! ([`Host`], from the harness, with the scripts), and what must be the same after
//! the suite as before it (core_pattern, the hostname, no mount, cgroup or process
//! left).

use std::fs;
use std::path::{Path, PathBuf};

use nix::unistd::{gethostname, getpid};

pub use harness::escapes::Host;

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
