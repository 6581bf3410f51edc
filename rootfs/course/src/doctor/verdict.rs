//! From what was found to one verdict per step: pure decisions, tested with the
//! facts of machines we do not have.
//!
//! Each step needs what the step before needed, and one more thing:
//! 1 root (its tests), 2 a UTS namespace, 3 sethostname and /proc/self/exe,
//! 4 a PID namespace, 5 chroot, a proc mount, the root filesystem and util-linux
//! (its tests), 6 a mount namespace and a private `/`, 7 a pids cgroup.

use std::path::PathBuf;

use super::machine::{Container, Packages};
use super::mounts::{Layout, PidsHierarchy, Propagation};
use super::probe::{self, Outcome};

/// The steps, as the harness lists them (once).
pub use harness::workspace::STEPS;

/// How this user gets root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Root,
    /// sudo, without a password (or with one typed a moment ago).
    Sudo,
    /// sudo will ask for a password; `terminal` when there is one to type it in.
    SudoPassword {
        terminal: bool,
    },
    NoSudo,
}

/// Where the root filesystem's busybox comes from (see the rootfs crate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Busybox {
    Built(PathBuf),
    Installed(PathBuf),
    /// `apt-get download busybox-static`; `known` when apt's package lists have it.
    Apt {
        cached: bool,
        known: bool,
    },
    Missing,
}

/// Everything the verdicts are made from.
#[derive(Debug, Clone)]
pub struct Facts {
    pub access: Access,
    pub user: String,
    pub container: Option<Container>,
    pub packages: Packages,
    pub arch: String,
    /// /proc/self/exe can be read (step 3 re-executes itself through it).
    pub self_exe: bool,
    pub layout: Layout,
    pub pids: Option<PidsHierarchy>,
    /// On v2: the processes in the cgroup step 7 would make its own under, when
    /// that is not the root cgroup (see `probe::crowded`).
    pub crowded: Option<usize>,
    pub root_propagation: Option<Propagation>,
    /// The mount holding the course's root filesystem: its mount point and options.
    pub course_mount: Option<(PathBuf, Vec<String>)>,
    pub busybox: Busybox,
    /// Of unshare and nsenter, those missing or not util-linux's.
    pub util_linux_missing: Vec<String>,
    /// The kernel's settings that let an ordinary user make a user namespace.
    pub userns: UsernsSettings,
    /// The root checks' outcomes; `None` when they could not run (no root).
    pub probes: Option<Vec<Outcome>>,
}

/// The sysctls that decide whether an ordinary user may make a user namespace (the
/// locked-down program, rootless); `None` where this kernel has no such setting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsernsSettings {
    /// Debian's `kernel.unprivileged_userns_clone` (0: forbidden).
    pub unprivileged_clone: Option<u64>,
    /// Ubuntu's `kernel.apparmor_restrict_unprivileged_userns` (1: AppArmor takes
    /// the namespace's capabilities away).
    pub apparmor_restrict: Option<u64>,
    /// `user.max_user_namespaces` (0: none at all).
    pub max_user_namespaces: Option<u64>,
}

/// Whether the locked-down program can run rootless here (`None`: it can), and
/// if not, why and the fix. The root check's try decides; the settings explain.
pub fn rootless(f: &Facts) -> Option<Problem> {
    let tried = outcome(f, probe::USERNS);
    if tried.is_some_and(|o| o.ok) {
        return None;
    }
    let settings = &f.userns;
    let sudo = sudo(f);
    let setting = if settings.unprivileged_clone == Some(0) {
        Some(Problem {
            why: "kernel.unprivileged_userns_clone is 0: an ordinary user may not make a user namespace".into(),
            fix: format!("{sudo}sysctl -w kernel.unprivileged_userns_clone=1"),
        })
    } else if settings.max_user_namespaces == Some(0) {
        Some(Problem {
            why: "user.max_user_namespaces is 0: no user namespace may be made".into(),
            fix: format!("{sudo}sysctl -w user.max_user_namespaces=15000"),
        })
    } else if settings.apparmor_restrict == Some(1) {
        Some(Problem {
            why: "kernel.apparmor_restrict_unprivileged_userns is 1: AppArmor takes an ordinary user's user namespace its capabilities".into(),
            fix: format!(
                "an AppArmor profile with `userns,` for the program (see Ubuntu's apparmor.d), or {sudo}sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
            ),
        })
    } else {
        None
    };
    match (tried, setting) {
        (_, Some(problem)) => Some(problem),
        (Some(o), None) => Some(Problem {
            why: format!("an ordinary user cannot make and use a user namespace here ({})", o.detail),
            fix: "see the kernel's and your distribution's user namespace settings (cargo course doctor -v)".into(),
        }),
        // Not tried (no root) and no setting against it: presumably fine.
        (None, None) => None,
    }
}

/// Why a step cannot run here, and the exact fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub why: String,
    pub fix: String,
}

#[derive(Debug, Clone)]
pub struct Verdict {
    pub step: &'static str,
    /// Empty when the step can run here.
    pub problems: Vec<Problem>,
}

pub fn verdicts(facts: &Facts) -> Vec<Verdict> {
    (1..=STEPS.len())
        .map(|n| {
            let mut problems = Vec::new();
            for problem in problems_for(n, facts) {
                if !problems.contains(&problem) {
                    problems.push(problem);
                }
            }
            Verdict { step: STEPS[n - 1], problems }
        })
        .collect()
}

/// Everything step `n` (1 to 7) needs and does not have here, most basic first.
fn problems_for(n: usize, f: &Facts) -> Vec<Problem> {
    let mut problems: Vec<Problem> = access(f).into_iter().chain(root_checks_ran(f)).collect();
    let mut need = |step: usize, problem: Option<Problem>| {
        if n >= step {
            problems.extend(problem);
        }
    };
    need(2, checked(f, probe::UTS));
    need(3, checked_after(f, probe::HOSTNAME, probe::UTS));
    need(3, self_exe(f));
    need(4, checked(f, probe::PID));
    need(4, checked_after(f, probe::PID1, probe::PID));
    need(5, checked(f, probe::CHROOT));
    // The proc mount is tried in the private mount namespace that step 6 makes.
    need(5, checked_after(f, probe::PROC, probe::PRIVATE_ROOT));
    need(5, root_filesystem(f));
    need(5, course_mount(f));
    need(5, util_linux(f));
    need(6, checked(f, probe::MOUNT));
    need(6, root_mount_point(f));
    need(6, checked_after(f, probe::PRIVATE_ROOT, probe::MOUNT));
    need(7, cgroup(f));
    problems
}

/// "sudo " when the fix must be run as root and we are not.
fn sudo(f: &Facts) -> &'static str {
    if f.access == Access::Root { "" } else { "sudo " }
}

fn access(f: &Facts) -> Option<Problem> {
    match f.access {
        Access::Root | Access::Sudo | Access::SudoPassword { terminal: true } => None,
        Access::SudoPassword { terminal: false } => Some(Problem {
            why: "the steps need root, and sudo needs your password but there is no terminal to type it in".into(),
            fix: format!(
                "run cargo in a terminal; or allow yourself sudo without a password: echo '{} ALL=(ALL) NOPASSWD: ALL' | sudo tee /etc/sudoers.d/course",
                f.user
            ),
        }),
        Access::NoSudo => Some(Problem {
            why: "the steps need root (namespaces, chroot, cgroups): you are not root and there is no sudo".into(),
            fix: match f.packages {
                Packages::Dnf => format!("su -c 'dnf install sudo && usermod -aG wheel {}', then log out and in", f.user),
                Packages::Apt => format!("su -c 'apt-get install sudo && adduser {} sudo', then log out and in", f.user),
                _ => "install sudo and give yourself the right to use it, or work as root".into(),
            },
        }),
    }
}

/// The root checks were started (through sudo) but reported nothing: sudo refused
/// (you may not use it here) or the checks could not start.
fn root_checks_ran(f: &Facts) -> Option<Problem> {
    f.probes.as_ref().filter(|outcomes| outcomes.is_empty()).map(|_| Problem {
        why: "the checks that need root did not run: sudo refused, or they could not start (see the lines above)".into(),
        fix: match f.access {
            Access::Root => "run `cargo course doctor -v` to see every check".into(),
            _ => "check that you may use sudo: sudo -v (or ask whoever runs this machine), or work as root".into(),
        },
    })
}

/// The root checks' outcomes, when they ran and reported.
fn outcomes(f: &Facts) -> Option<&Vec<Outcome>> {
    f.probes.as_ref().filter(|outcomes| !outcomes.is_empty())
}

/// The outcome of a root check, when the checks ran.
fn outcome<'a>(f: &'a Facts, name: &str) -> Option<&'a Outcome> {
    outcomes(f)?.iter().find(|o| o.name == name)
}

fn found(f: &Facts, name: &str) -> bool {
    outcome(f, name).is_some_and(|o| o.ok)
}

/// A root check that must have passed. Without root no check ran, and the access
/// problem says why; a check missing from the report is a problem of its own.
fn checked(f: &Facts, name: &str) -> Option<Problem> {
    match outcomes(f)?.iter().find(|o| o.name == name) {
        Some(o) if o.ok => None,
        Some(o) => Some(explain(f, o)),
        None => Some(Problem {
            why: format!("the check '{name}' did not report"),
            fix: "run `cargo course doctor -v` to see every check".into(),
        }),
    }
}

/// A check tried only once `before` passed; when `before` failed, its own problem
/// is the one to report.
fn checked_after(f: &Facts, name: &str, before: &str) -> Option<Problem> {
    found(f, before).then(|| checked(f, name)).flatten()
}

/// What a failed root check means, and its fix.
fn explain(f: &Facts, o: &Outcome) -> Problem {
    let errno = o.errno.as_deref().unwrap_or("");
    let privileged = || {
        match &f.container {
        Some(container) => container.privileged_fix(),
        None => "a security policy (seccomp, AppArmor, SELinux) forbids it: run the course on a Linux machine or virtual machine of your own".into(),
    }
    };
    let namespace = |kind: &str, limit: &str| match errno {
        "EINVAL" => Problem {
            why: format!("this kernel has no {kind} namespaces ({})", o.detail),
            fix: "boot your distribution's standard kernel".into(),
        },
        "ENOSPC" => Problem {
            why: format!("the limit of {kind} namespaces is reached ({})", o.detail),
            fix: format!("{}sysctl -w user.max_{limit}_namespaces=10000", sudo(f)),
        },
        _ => Problem {
            why: format!("even root may not make a {kind} namespace here ({})", o.detail),
            fix: privileged(),
        },
    };
    match o.name.as_str() {
        probe::UTS => namespace("UTS", "uts"),
        probe::PID => namespace("PID", "pid"),
        probe::MOUNT => namespace("mount", "mnt"),
        probe::PRIVATE_ROOT if errno == "EINVAL" => no_root_mount(),
        probe::CGROUP_FIND
        | probe::CGROUP_CROWDED
        | probe::CGROUP_ENABLE
        | probe::CGROUP_MKDIR
        | probe::CGROUP_LIMIT
        | probe::CGROUP_JOIN
        | probe::CGROUP_REMOVE => explain_cgroup(f, o),
        _ => Problem { why: format!("{} failed ({})", o.name, o.detail), fix: privileged() },
    }
}

fn no_root_mount() -> Problem {
    Problem {
        why: "nothing is mounted on / here (a chroot?), so / cannot be made private".into(),
        fix: "run the course outside the chroot, or make its directory a mount point first: mount --bind DIR DIR".into(),
    }
}

fn self_exe(f: &Facts) -> Option<Problem> {
    (!f.self_exe).then(|| Problem {
        why: "/proc is not mounted, and step 3 re-executes itself through /proc/self/exe".into(),
        fix: format!("{}mount -t proc proc /proc", sudo(f)),
    })
}

fn root_mount_point(f: &Facts) -> Option<Problem> {
    f.root_propagation.is_none().then(no_root_mount)
}

fn root_filesystem(f: &Facts) -> Option<Problem> {
    if !is_64_bit(&f.arch) && !matches!(f.busybox, Busybox::Built(_)) {
        return Some(Problem {
            why: format!(
                "the root filesystem needs a 64-bit busybox, and this machine is {} (32-bit)",
                f.arch
            ),
            fix: "use a 64-bit system, or give a busybox tree of your own with --rootfs DIR".into(),
        });
    }
    match f.busybox {
        Busybox::Missing => Some(Problem {
            why: "the root filesystem needs a statically linked busybox, and there is none here (nor apt-get to fetch one)".into(),
            fix: format!("{}{}", sudo(f), f.packages.install_busybox()),
        }),
        Busybox::Apt { cached: false, known: false } => Some(Problem {
            why: "the root filesystem takes busybox from the busybox-static package, and apt's package lists do not have it (empty lists?)".into(),
            fix: format!("{}apt-get update", sudo(f)),
        }),
        _ => None,
    }
}

/// Architectures whose busybox is a 64-bit ELF file, which the rootfs crate requires.
pub fn is_64_bit(arch: &str) -> bool {
    arch.contains("64") || arch == "s390x"
}

fn course_mount(f: &Facts) -> Option<Problem> {
    let (mount_point, options) = f.course_mount.as_ref()?;
    let has = |option: &str| options.iter().any(|o| o == option);
    let (why, option) = if has("noexec") {
        ("mounted noexec: the container's busybox could not run", "exec")
    } else if has("nodev") {
        ("mounted nodev: the container's /dev/null could not be opened", "dev")
    } else {
        return None;
    };
    Some(Problem {
        why: format!(
            "the root filesystem is built in the course's directory, which is on {} {why}",
            mount_point.display()
        ),
        fix: format!(
            "{}mount -o remount,{option} {}, or clone the course onto another filesystem",
            sudo(f),
            mount_point.display()
        ),
    })
}

fn util_linux(f: &Facts) -> Option<Problem> {
    (!f.util_linux_missing.is_empty()).then(|| Problem {
        why: format!(
            "its tests need unshare and nsenter from util-linux; not found: {}",
            f.util_linux_missing.join(", ")
        ),
        fix: format!("{}{}", sudo(f), f.packages.install_util_linux()),
    })
}

/// Step 7: first what a user can see (is there a pids controller, can it be
/// written, does v2's rule stand in the way), then what the root check met.
fn cgroup(f: &Facts) -> Option<Problem> {
    let Some(pids) = &f.pids else {
        return Some(no_pids_hierarchy(f));
    };
    if pids.read_only {
        return Some(Problem {
            why: format!("the cgroup tree at {} is mounted read-only", pids.dir.display()),
            fix: match &f.container {
                Some(container) => container.privileged_fix(),
                None => format!("{}mount -o remount,rw {}", sudo(f), pids.dir.display()),
            },
        });
    }
    if let Some(count) = f.crowded.filter(|_| pids.v2) {
        return Some(crowded_problem(f, pids, count));
    }
    let names = [
        probe::CGROUP_FIND,
        probe::CGROUP_CROWDED,
        probe::CGROUP_ENABLE,
        probe::CGROUP_MKDIR,
        probe::CGROUP_LIMIT,
        probe::CGROUP_JOIN,
        probe::CGROUP_REMOVE,
    ];
    let failed = outcomes(f)?.iter().find(|o| !o.ok && names.contains(&o.name.as_str()));
    failed.map(|o| explain_cgroup(f, o)).or_else(|| {
        // Without a report of joining, nothing proves that step 7 can work.
        (!found(f, probe::CGROUP_JOIN)).then(|| {
            checked(f, probe::CGROUP_MKDIR).unwrap_or(Problem {
                why: "the cgroup check did not get as far as moving a process in".into(),
                fix: "run `cargo course doctor -v` to see every check".into(),
            })
        })
    })
}

fn no_pids_hierarchy(f: &Facts) -> Problem {
    let why = format!(
        "no mounted cgroup hierarchy offers the pids controller (cgroups here: {})",
        f.layout
    );
    let fix = match f.layout {
        Layout::None => format!("{}mount -t cgroup2 none /sys/fs/cgroup", sudo(f)),
        Layout::V1 | Layout::Hybrid => format!(
            "{}mkdir -p /sys/fs/cgroup/pids && {}mount -t cgroup -o pids none /sys/fs/cgroup/pids",
            sudo(f),
            sudo(f)
        ),
        Layout::V2 => match &f.container {
            Some(container) => container.privileged_fix(),
            None => {
                "check that the kernel has it: grep pids /proc/cgroups (the last column must be 1)"
                    .into()
            }
        },
    };
    Problem { why, fix }
}

/// The fix real container tools use (Docker-in-Docker's entrypoint): move every
/// process of the crowded cgroup into a new leaf cgroup, `init`.
pub fn leaf_cgroup_fix(f: &Facts, dir: &std::path::Path) -> String {
    let dir = dir.display();
    let command =
        format!("mkdir -p {dir}/init && xargs -rn1 < {dir}/cgroup.procs > {dir}/init/cgroup.procs");
    match f.access {
        Access::Root => command,
        _ => format!("sudo sh -c '{command}'"),
    }
}

fn crowded_problem(f: &Facts, pids: &PidsHierarchy, count: usize) -> Problem {
    let container = match &f.container {
        Some(container) => format!("this is {container}"),
        None => "as in a container".into(),
    };
    Problem {
        why: format!(
            "{} here is the root of a cgroup namespace ({container}), not the machine's root cgroup, and holds {count} processes; cgroup v2 lets no process into a cgroup below one that holds processes",
            pids.dir.display()
        ),
        fix: format!("move those processes into a leaf cgroup: {}", leaf_cgroup_fix(f, &pids.dir)),
    }
}

fn explain_cgroup(f: &Facts, o: &Outcome) -> Problem {
    let dir = f.pids.as_ref().map(|p| p.dir.clone()).unwrap_or_else(|| "/sys/fs/cgroup".into());
    let errno = o.errno.as_deref().unwrap_or("");
    let privileged = || match &f.container {
        Some(container) => container.privileged_fix(),
        None => "run the course on a machine or virtual machine of your own".into(),
    };
    match (o.name.as_str(), errno) {
        (probe::CGROUP_FIND, _) => no_pids_hierarchy(f),
        (probe::CGROUP_CROWDED, _) => {
            let pids = PidsHierarchy { dir, v2: true, read_only: false };
            crowded_problem(f, &pids, f.crowded.unwrap_or(1))
        }
        (probe::CGROUP_JOIN | probe::CGROUP_ENABLE, "EOPNOTSUPP" | "EBUSY") => Problem {
            why: format!(
                "cgroup v2 refused ({}): {} holds processes, and its cgroups may not take any",
                o.detail,
                dir.display()
            ),
            fix: format!("move those processes into a leaf cgroup: {}", leaf_cgroup_fix(f, &dir)),
        },
        (_, "EROFS" | "EACCES" | "EPERM") => Problem {
            why: format!("the cgroup tree may not be changed here ({})", o.detail),
            fix: privileged(),
        },
        _ => Problem { why: format!("the cgroup check failed ({})", o.detail), fix: privileged() },
    }
}

#[cfg(test)]
mod tests;
