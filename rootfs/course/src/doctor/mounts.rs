//! What the mount table says about the steps: the cgroup layout and where step 7
//! will find the pids controller, how `/` propagates, and how the filesystem that
//! holds the course is mounted. Pure functions of mountinfo, so they are tested
//! with the tables of machines we do not have.

use std::fmt;
use std::path::{Path, PathBuf};

use rootfs::mountinfo::Mount;

/// Which cgroup versions are mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    None,
    V1,
    /// v1 controllers and a cgroup2 tree side by side (systemd's "hybrid").
    Hybrid,
    V2,
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "none mounted",
            Self::V1 => "cgroup v1",
            Self::Hybrid => "hybrid (cgroup v1 controllers and a cgroup2 tree)",
            Self::V2 => "cgroup v2",
        })
    }
}

pub fn cgroup_layout(mounts: &[Mount]) -> Layout {
    let v1 = mounts.iter().any(|m| m.fstype == "cgroup");
    let v2 = mounts.iter().any(|m| m.fstype == "cgroup2");
    match (v1, v2) {
        (false, false) => Layout::None,
        (true, false) => Layout::V1,
        (true, true) => Layout::Hybrid,
        (false, true) => Layout::V2,
    }
}

/// The cgroup hierarchy step 7 makes its cgroup in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PidsHierarchy {
    /// Its mount point: step 7 makes `container-PID` right here.
    pub dir: PathBuf,
    pub v2: bool,
    /// Mounted read-only, as unprivileged containers get it.
    pub read_only: bool,
}

/// Step 7's own choice (step07-cgroups/src/main.rs, `pids_hierarchy`): the first
/// mount, in mountinfo's order, that is a v1 hierarchy with the pids controller or
/// a cgroup2 tree whose `cgroup.controllers` (read by `controllers`) lists pids.
pub fn pids_hierarchy(
    mounts: &[Mount],
    controllers: impl Fn(&Path) -> String,
) -> Option<PidsHierarchy> {
    mounts.iter().find_map(|mount| {
        let v1 = mount.fstype == "cgroup" && mount.super_options.iter().any(|o| o == "pids");
        let v2 = mount.fstype == "cgroup2"
            && controllers(&mount.mount_point).split_whitespace().any(|c| c == "pids");
        (v1 || v2).then(|| PidsHierarchy {
            dir: mount.mount_point.clone(),
            v2,
            read_only: mount.options.iter().any(|o| o == "ro"),
        })
    })
}

/// How mount and unmount events spread from and to `/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// systemd's default: a mount made by step 5 shows on the host too.
    Shared,
    /// Receives the host's mounts, sends none back.
    Slave,
    Private,
}

/// The propagation of `/`, from the last mount on `/` (it hides the earlier ones);
/// `None` when nothing is mounted on `/`, as inside a chroot.
pub fn root_propagation(mounts: &[Mount]) -> Option<Propagation> {
    let root = mounts.iter().rev().find(|m| m.mount_point == Path::new("/"))?;
    let has = |prefix: &str| root.propagation.iter().any(|p| p.starts_with(prefix));
    Some(match (has("shared:"), has("master:")) {
        (true, _) => Propagation::Shared,
        (false, true) => Propagation::Slave,
        (false, false) => Propagation::Private,
    })
}

/// The mount that holds `path`: the one with the longest mount point above it
/// (the last of equals). `path` must be resolved (no symlinks), as mountinfo's are.
pub fn holding<'a>(mounts: &'a [Mount], path: &Path) -> Option<&'a Mount> {
    mounts
        .iter()
        .enumerate()
        .filter(|(_, m)| path.starts_with(&m.mount_point))
        .max_by_key(|(index, m)| (m.mount_point.components().count(), *index))
        .map(|(_, m)| m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rootfs::mountinfo::parse;

    /// This CI machine: v1 controllers, an empty cgroup2, private `/`.
    const HYBRID: &str = "\
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    /// A systemd laptop: cgroup2 only, `/` shared.
    const V2: &str = "\
26 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw
30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate
45 26 0:40 / /home rw,nodev,relatime shared:20 - ext4 /dev/nvme0n1p3 rw
";

    /// An unprivileged Docker container on cgroup v2: its own cgroup, read-only.
    const DOCKER: &str = "\
600 500 0:50 / / rw,relatime master:300 - overlay overlay rw,lowerdir=/l,upperdir=/u
610 600 0:55 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate
";

    fn controllers_with_pids(_: &Path) -> String {
        "cpuset cpu io memory pids".into()
    }

    #[test]
    fn layouts_are_told_from_the_filesystem_types() {
        assert_eq!(cgroup_layout(&parse(HYBRID)), Layout::Hybrid);
        assert_eq!(cgroup_layout(&parse(V2)), Layout::V2);
        let v1 = "39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids";
        assert_eq!(cgroup_layout(&parse(v1)), Layout::V1);
        assert_eq!(cgroup_layout(&parse("27 1 254:0 / / rw - ext4 /dev/vda rw")), Layout::None);
    }

    #[test]
    fn on_a_hybrid_machine_step_7_takes_the_v1_pids_hierarchy() {
        // Even if the cgroup2 tree listed pids, the v1 hierarchy comes first.
        let found = pids_hierarchy(&parse(HYBRID), controllers_with_pids).expect("a hierarchy");
        assert_eq!(
            found,
            PidsHierarchy { dir: "/sys/fs/cgroup/pids".into(), v2: false, read_only: false }
        );
    }

    #[test]
    fn on_v2_the_tree_counts_only_if_its_controllers_list_pids() {
        let found = pids_hierarchy(&parse(V2), controllers_with_pids).expect("a hierarchy");
        assert_eq!(
            found,
            PidsHierarchy { dir: "/sys/fs/cgroup".into(), v2: true, read_only: false }
        );
        assert_eq!(pids_hierarchy(&parse(V2), |_| "cpu memory".into()), None);
    }

    #[test]
    fn a_read_only_cgroup_mount_is_noticed() {
        let found = pids_hierarchy(&parse(DOCKER), controllers_with_pids).expect("a hierarchy");
        assert!(found.read_only);
    }

    #[test]
    fn propagation_of_root_is_read_from_its_optional_fields() {
        assert_eq!(root_propagation(&parse(HYBRID)), Some(Propagation::Private));
        assert_eq!(root_propagation(&parse(V2)), Some(Propagation::Shared));
        assert_eq!(root_propagation(&parse(DOCKER)), Some(Propagation::Slave));
        // In a chroot, no mount point is `/`.
        let chroot = "50 27 0:40 / /proc rw - proc proc rw";
        assert_eq!(root_propagation(&parse(chroot)), None);
    }

    #[test]
    fn the_last_mount_on_root_is_the_one_that_counts() {
        let stacked =
            "1 0 0:1 / / rw shared:1 - rootfs rootfs rw\n27 1 254:0 / / rw - ext4 /dev/vda rw";
        assert_eq!(root_propagation(&parse(stacked)), Some(Propagation::Private));
    }

    #[test]
    fn the_mount_holding_a_path_is_the_deepest_above_it() {
        let mounts = parse(V2);
        let home = holding(&mounts, Path::new("/home/learner/course/rootfs")).expect("a mount");
        assert_eq!(home.mount_point, Path::new("/home"));
        assert!(home.options.iter().any(|o| o == "nodev"));
        let opt = holding(&mounts, Path::new("/opt/course")).expect("a mount");
        assert_eq!(opt.mount_point, Path::new("/"));
        // A prefix of the name is not a parent directory.
        assert_eq!(
            holding(&mounts, Path::new("/homework")).map(|m| &m.mount_point),
            Some(&"/".into())
        );
    }
}
