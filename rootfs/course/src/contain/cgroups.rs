//! The job's cgroups: which hierarchies need one (read from mountinfo with the
//! rootfs crate's reader), making them, counting what is in them, removing them.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

use rootfs::mountinfo::Mount;

use super::POLL;

/// How long the cleanup retries removing the job's cgroups.
const REMOVAL: Duration = Duration::from_secs(2);

/// A cgroup hierarchy a container program may use, so one the job needs a cgroup in.
#[derive(Debug, PartialEq)]
pub(super) struct Hierarchy {
    pub(super) point: PathBuf,
    /// cgroup2 (else a v1 hierarchy).
    pub(super) v2: bool,
    /// For v1, the controllers it holds (`pids`, or e.g. `cpu,pids`): mounting it
    /// again must name the same ones.
    pub(super) controllers: String,
}

/// The hierarchies as this process's mount namespace has them.
pub(super) fn hierarchies_here() -> Result<Vec<Hierarchy>, String> {
    let mounts = rootfs::mountinfo::read().map_err(|e| e.to_string())?;
    Ok(find_hierarchies(&mounts, offers_pids))
}

/// The hierarchies among `mounts`: the first cgroup2 that offers `pids` (pure v2:
/// `v2_has_pids` reads its cgroup.controllers), then the first v1 hierarchy mounted
/// with the `pids` option (v1 and hybrid).
fn find_hierarchies(mounts: &[Mount], v2_has_pids: impl Fn(&Path) -> bool) -> Vec<Hierarchy> {
    let v2 = mounts
        .iter()
        .find(|m| m.fstype == "cgroup2" && v2_has_pids(&m.mount_point))
        .map(|m| Hierarchy { point: m.mount_point.clone(), v2: true, controllers: String::new() });
    let v1 = mounts
        .iter()
        .find(|m| m.fstype == "cgroup" && m.super_options.iter().any(|o| o == "pids"))
        .map(|m| Hierarchy {
            point: m.mount_point.clone(),
            v2: false,
            controllers: controllers(m),
        });
    v2.into_iter().chain(v1).collect()
}

/// A v1 hierarchy's controllers (and name=…, if any): its super options but rw/ro.
fn controllers(mount: &Mount) -> String {
    let kept: Vec<&str> = mount
        .super_options
        .iter()
        .map(String::as_str)
        .filter(|o| *o != "rw" && *o != "ro")
        .collect();
    kept.join(",")
}

/// Whether the cgroup2 tree mounted at `point` offers the pids controller.
fn offers_pids(point: &Path) -> bool {
    fs::read_to_string(point.join("cgroup.controllers"))
        .is_ok_and(|offered| offered.split_whitespace().any(|c| c == "pids"))
}

/// Writes `text` to a cgroup file, saying which file when the kernel refuses.
pub(super) fn write_cgroup_file(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("cannot write {text:?} to {}: {e}", path.display()))
}

/// A job's cgroup in one hierarchy.
pub(super) struct Home {
    pub(super) dir: PathBuf,
    v2: bool,
}

/// The job's cgroup, made in each hierarchy (none left made if one fails).
pub(super) fn make_homes(hierarchies: &[Hierarchy], job: &str) -> Result<Vec<Home>, String> {
    let mut homes = Vec::new();
    for hierarchy in hierarchies {
        match make_home(hierarchy, job) {
            Ok(home) => homes.push(home),
            Err(error) => {
                let _ = remove_homes(&homes);
                return Err(error);
            }
        }
    }
    Ok(homes)
}

/// On cgroup2 the root first hands `pids` down (the root is exempt from v2's "no
/// internal processes" rule).
fn make_home(hierarchy: &Hierarchy, job: &str) -> Result<Home, String> {
    if hierarchy.v2 {
        write_cgroup_file(&hierarchy.point.join("cgroup.subtree_control"), "+pids")?;
    }
    let dir = hierarchy.point.join(job);
    fs::create_dir(&dir)
        .map_err(|e| format!("cannot make the job's cgroup {}: {e}", dir.display()))?;
    Ok(Home { dir, v2: hierarchy.v2 })
}

/// How many processes are in the cgroup `dir` and every cgroup below it.
pub(super) fn processes_in(dir: &Path) -> usize {
    let here =
        fs::read_to_string(dir.join("cgroup.procs")).map_or(0, |procs| procs.lines().count());
    let below: usize = subdirs(dir).iter().map(|sub| processes_in(sub)).sum();
    here + below
}

/// The directories right below `dir` (none if it cannot be read).
fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
        .map(|entry| entry.path())
        .collect()
}

/// Every cgroup below `dir`, deepest last, as paths relative to `dir`.
fn cgroups_tree(dir: &Path, relative: &Path, into: &mut Vec<PathBuf>) {
    for sub in subdirs(&dir.join(relative)) {
        let Some(name) = sub.file_name() else { continue };
        let below = relative.join(name);
        into.push(below.clone());
        cgroups_tree(dir, &below, into);
    }
}

/// The cgroups the programs made below the job's and left, relative to it, from
/// every hierarchy; but `init`, the leaf we made on cgroup2.
pub(super) fn cgroups_below(homes: &[Home]) -> Vec<String> {
    let mut left = BTreeSet::new();
    for home in homes {
        let mut tree = Vec::new();
        cgroups_tree(&home.dir, Path::new(""), &mut tree);
        let ours = |path: &PathBuf| home.v2 && path == Path::new("init");
        left.extend(tree.iter().filter(|p| !ours(p)).map(|p| p.display().to_string()));
    }
    left.into_iter().collect()
}

/// Removes the job's cgroups with every cgroup below them, deepest first. Killed
/// processes leave their cgroups a moment after they die, and a cgroup with
/// processes cannot go (EBUSY): so it retries, every 50 ms, for at most 2 s.
pub(super) fn remove_homes(homes: &[Home]) -> Result<(), String> {
    let deadline = Instant::now() + REMOVAL;
    loop {
        let mut last_error = None;
        for home in homes {
            if let Err(error) = remove_tree(&home.dir) {
                last_error = Some(error);
            }
        }
        match last_error {
            None => return Ok(()),
            Some(error) if Instant::now() >= deadline => return Err(error),
            Some(_) => sleep(POLL),
        }
    }
}

/// One try at removing the cgroup `dir` and those below it, deepest first.
fn remove_tree(dir: &Path) -> Result<(), String> {
    let mut tree = Vec::new();
    cgroups_tree(dir, Path::new(""), &mut tree);
    // A cgroup is a directory whose files cannot be removed: rmdir, not remove_dir_all.
    for relative in tree.iter().rev() {
        let _ = fs::remove_dir(dir.join(relative));
    }
    match fs::remove_dir(dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(format!("cannot remove the job's cgroup {}: {e}", dir.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rootfs::mountinfo::parse;

    const HYBRID: &str = "\
25 1 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
36 30 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,cpu,cpuacct
40 30 0:36 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:20 - cgroup cgroup rw,pids";

    #[test]
    fn hybrid_uses_the_v1_pids_hierarchy_only() {
        let found = find_hierarchies(&parse(HYBRID), |_| false);
        let want = Hierarchy {
            point: "/sys/fs/cgroup/pids".into(),
            v2: false,
            controllers: "pids".into(),
        };
        assert_eq!(found, [want]);
    }

    #[test]
    fn pure_v2_uses_cgroup2_when_it_offers_pids() {
        let v2 =
            parse("31 1 0:27 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate");
        let found = find_hierarchies(&v2, |point| point == Path::new("/sys/fs/cgroup"));
        let want =
            Hierarchy { point: "/sys/fs/cgroup".into(), v2: true, controllers: String::new() };
        assert_eq!(found, [want]);
        assert_eq!(find_hierarchies(&v2, |_| false), []);
    }

    #[test]
    fn a_v1_hierarchy_is_remounted_with_all_its_controllers() {
        let info = parse("40 30 0:36 / /cg/pc rw - cgroup cgroup rw,pids,cpu");
        assert_eq!(find_hierarchies(&info, |_| false)[0].controllers, "cpu,pids");
    }

    #[test]
    fn an_escaped_mount_point_is_the_kernel_s_path() {
        let info = parse(r"40 30 0:36 / /cg/my\040pids rw - cgroup cgroup rw,pids");
        assert_eq!(find_hierarchies(&info, |_| false)[0].point, Path::new("/cg/my pids"));
    }
}
