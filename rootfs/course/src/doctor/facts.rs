//! Looking at this machine: files, /proc, the mount table, and a few programs.
//! Everything here runs as the user; what needs root is in `probe.rs`.
//! Each look is noted in `seen`, which `cargo course doctor -v` prints.

use std::env;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::sys::utsname::uname;
use nix::unistd::{User, geteuid, getuid};

use super::machine::{self, Clues, Packages};
use super::mounts::{self, Propagation};
use super::probe::{self, Outcome};
use super::verdict::{Access, Busybox, Facts, UsernsSettings};

/// What was looked at and what it showed, in order: `(what, found)`.
pub type Seen = Vec<(String, String)>;

/// Facts about the machine, except the root checks (`probes` is `None`).
pub fn gather(seen: &mut Seen) -> Facts {
    let access = access(seen);
    let mounts = rootfs::mountinfo::read().unwrap_or_default();
    seen.push(("/proc/self/mountinfo".into(), format!("{} mounts", mounts.len())));
    let pids = probe::find_hierarchy();
    let crowded = pids.as_ref().filter(|p| p.v2).and_then(|p| probe::crowded(&p.dir));
    let facts = Facts {
        access,
        user: user_name(),
        container: container(seen),
        packages: Packages::from_os_release(&read("/etc/os-release")),
        arch: arch(),
        self_exe: fs::read_link("/proc/self/exe").is_ok(),
        layout: mounts::cgroup_layout(&mounts),
        pids,
        crowded,
        root_propagation: mounts::root_propagation(&mounts),
        course_mount: course_mount(&mounts),
        busybox: busybox(seen),
        util_linux_missing: util_linux_missing(seen),
        userns: userns_settings(seen),
        probes: None,
    };
    seen.push(("cgroup layout".into(), facts.layout.to_string()));
    let hierarchy = match &facts.pids {
        Some(p) => format!(
            "{} (cgroup {}, {})",
            p.dir.display(),
            if p.v2 { "v2" } else { "v1" },
            if p.read_only { "read-only" } else { "writable" }
        ),
        None => "none".into(),
    };
    seen.push(("the pids controller's hierarchy".into(), hierarchy));
    if let Some(count) = facts.crowded {
        seen.push(("processes in it (it is not the root cgroup)".into(), count.to_string()));
    }
    let root = mounts.iter().rev().find(|m| m.mount_point == Path::new("/"));
    let propagation = root
        .map(|m| m.propagation.join(" "))
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "(none: private)".into());
    seen.push(("propagation of the mount on /".into(), propagation));
    if let Some((mount_point, options)) = &facts.course_mount {
        seen.push((
            "the course's filesystem".into(),
            format!("mounted on {} with {}", mount_point.display(), options.join(",")),
        ));
    }
    facts
}

/// The sysctls about unprivileged user namespaces that this kernel has.
fn userns_settings(seen: &mut Seen) -> UsernsSettings {
    let mut setting = |name: &str| {
        let path = format!("/proc/sys/{}", name.replace('.', "/"));
        let value = fs::read_to_string(path).ok().and_then(|text| text.trim().parse().ok());
        let shown =
            value.map_or_else(|| "(not on this kernel)".to_string(), |v: u64| v.to_string());
        seen.push((format!("sysctl {name}"), shown));
        value
    };
    UsernsSettings {
        unprivileged_clone: setting("kernel.unprivileged_userns_clone"),
        apparmor_restrict: setting("kernel.apparmor_restrict_unprivileged_userns"),
        max_user_namespaces: setting("user.max_user_namespaces"),
    }
}

fn read(path: &str) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

fn user_name() -> String {
    let from_passwd = User::from_uid(getuid()).ok().flatten().map(|user| user.name);
    from_passwd.or_else(|| env::var("USER").ok()).unwrap_or_else(|| getuid().to_string())
}

/// Root, or how sudo behaves: `sudo -n true` fails when it would ask for a password,
/// and it reads that password from the terminal, /dev/tty.
fn access(seen: &mut Seen) -> Access {
    if geteuid().is_root() {
        seen.push(("user".into(), "root".into()));
        return Access::Root;
    }
    if find_on_path("sudo").is_none() {
        seen.push(("sudo".into(), "not found on PATH".into()));
        return Access::NoSudo;
    }
    let result = Command::new("sudo").args(["-n", "true"]).stdin(Stdio::null()).output();
    seen.push(("sudo -n true".into(), describe(&result)));
    if result.is_ok_and(|output| output.status.success()) {
        return Access::Sudo;
    }
    let terminal = fs::File::open("/dev/tty").is_ok();
    seen.push(("a terminal (/dev/tty)".into(), if terminal { "yes" } else { "no" }.into()));
    Access::SudoPassword { terminal }
}

/// A program's exit status and the last line of what it printed.
fn describe(result: &std::io::Result<std::process::Output>) -> String {
    match result {
        Err(err) => format!("could not start: {err}"),
        Ok(output) => {
            let text = String::from_utf8_lossy(if output.stderr.is_empty() {
                &output.stdout
            } else {
                &output.stderr
            })
            .into_owned();
            let last = text.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or("");
            format!("{} {last}", output.status)
        }
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH").unwrap_or_default();
    // sudo's secure_path has the sbin directories, which a user's PATH may lack.
    let extra = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
    env::split_paths(&path)
        .chain(extra.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn container(seen: &mut Seen) -> Option<machine::Container> {
    let pid1_environ = fs::read("/proc/1/environ").unwrap_or_default();
    let pid1_container = pid1_environ
        .split(|byte| *byte == 0)
        .find_map(|entry| entry.strip_prefix(b"container="))
        .map(|value| String::from_utf8_lossy(value).into_owned());
    let is_true = |name: &str| env::var(name).is_ok_and(|value| value == "true");
    let clues = Clues {
        dockerenv: Path::new("/.dockerenv").exists(),
        containerenv: Path::new("/run/.containerenv").exists(),
        kernel: format!("{} {}", read("/proc/sys/kernel/osrelease"), read("/proc/version")),
        container_variable: fs::read_to_string("/run/systemd/container").ok().or(pid1_container),
        codespaces: is_true("CODESPACES"),
        dev_container: is_true("REMOTE_CONTAINERS") || is_true("DEVCONTAINER"),
    };
    let yes = |b: bool| if b { "yes" } else { "no" };
    seen.push((
        "/.dockerenv, /run/.containerenv".into(),
        format!("{}, {}", yes(clues.dockerenv), yes(clues.containerenv)),
    ));
    seen.push((
        "container= (/run/systemd/container, PID 1)".into(),
        clues.container_variable.clone().unwrap_or_else(|| "none".into()),
    ));
    seen.push((
        "CODESPACES, REMOTE_CONTAINERS or DEVCONTAINER".into(),
        format!("{}, {}", yes(clues.codespaces), yes(clues.dev_container)),
    ));
    seen.push((
        "/proc/sys/kernel/osrelease".into(),
        read("/proc/sys/kernel/osrelease").trim().to_string(),
    ));
    let container = machine::container(&clues);
    seen.push((
        "so, a container".into(),
        container.as_ref().map_or("none".into(), |c| c.to_string()),
    ));
    container
}

/// The virtual machine, as systemd-detect-virt or the firmware names it.
pub fn virtual_machine(seen: &mut Seen) -> Option<String> {
    let detected = Command::new("systemd-detect-virt").arg("--vm").stderr(Stdio::null()).output();
    if let Ok(output) = &detected {
        let name = String::from_utf8_lossy(&output.stdout).trim().to_string();
        seen.push(("systemd-detect-virt --vm".into(), name.clone()));
        if output.status.success() && name != "none" && !name.is_empty() {
            return Some(name);
        }
    }
    let vendor = read("/sys/class/dmi/id/sys_vendor");
    seen.push(("/sys/class/dmi/id/sys_vendor".into(), vendor.trim().to_string()));
    machine::vm_from_vendor(&vendor)
}

/// What the kernel calls this machine's architecture (`uname -m`).
fn arch() -> String {
    uname()
        .map(|u| u.machine().to_string_lossy().into_owned())
        .unwrap_or_else(|_| env::consts::ARCH.into())
}

/// The kernel's release, e.g. `6.1.0-26-amd64`.
pub fn kernel() -> String {
    uname().map(|u| u.release().to_string_lossy().into_owned()).unwrap_or_default()
}

/// The mount holding the directory the root filesystem is built in.
fn course_mount(mounts: &[rootfs::mountinfo::Mount]) -> Option<(PathBuf, Vec<String>)> {
    let tree = rootfs::default_dir();
    let dir = fs::canonicalize(tree.parent()?).ok()?;
    let mount = mounts::holding(mounts, &dir)?;
    Some((mount.mount_point.clone(), mount.options.clone()))
}

/// Where the root filesystem will come from: the rootfs crate's own plan.
fn busybox(seen: &mut Seen) -> Busybox {
    let plan = rootfs::plan_at(&rootfs::default_dir());
    let described = match &plan {
        Ok(rootfs::Plan::Built(dir)) => format!("built in {}", dir.display()),
        Ok(rootfs::Plan::Installed(path)) => {
            format!("would copy {} (statically linked)", path.display())
        }
        Ok(rootfs::Plan::AptDownload { cache, cached }) => {
            format!(
                "would take busybox-static into {} ({})",
                cache.display(),
                if *cached { "fetched already" } else { "apt-get download" }
            )
        }
        Err(err) => err.to_string(),
    };
    seen.push(("the root filesystem".into(), described));
    match plan {
        Ok(rootfs::Plan::Built(dir)) => Busybox::Built(dir),
        Ok(rootfs::Plan::Installed(path)) => Busybox::Installed(path),
        Ok(rootfs::Plan::AptDownload { cached, .. }) => {
            Busybox::Apt { cached, known: cached || apt_knows(seen) }
        }
        Err(_) => Busybox::Missing,
    }
}

/// Whether apt's package lists have busybox-static (a fresh container's are empty).
fn apt_knows(seen: &mut Seen) -> bool {
    let shown =
        Command::new("apt-cache").args(["show", "busybox-static"]).stdin(Stdio::null()).output();
    let known = shown.as_ref().is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
    seen.push((
        "apt-cache show busybox-static".into(),
        if known { "known".into() } else { describe(&shown) },
    ));
    known
}

/// unshare(1) and nsenter(1) must be util-linux's (busybox has others, with fewer options).
fn util_linux_missing(seen: &mut Seen) -> Vec<String> {
    ["unshare", "nsenter"]
        .into_iter()
        .filter(|tool| {
            let version = find_on_path(tool)
                .map(|path| Command::new(path).arg("--version").stdin(Stdio::null()).output());
            let found = match &version {
                Some(Ok(output)) => String::from_utf8_lossy(&output.stdout).trim().to_string(),
                Some(Err(err)) => format!("could not start: {err}"),
                None => "not found".into(),
            };
            seen.push((format!("{tool} --version"), found.clone()));
            !found.contains("util-linux")
        })
        .map(str::to_string)
        .collect()
}

/// The root checks (`probe.rs`), run as root: directly, or through sudo, their
/// report read back from its JSON lines. `None` when there is no way to root here; the verdicts then say how to get it.
pub fn root_checks(access: Access, seen: &mut Seen) -> Option<Vec<Outcome>> {
    let exe = env::current_exe().ok()?;
    let mut command = match access {
        Access::Root => Command::new(&exe),
        Access::Sudo => {
            let mut sudo = Command::new("sudo");
            sudo.arg("-n").arg(&exe);
            sudo
        }
        Access::SudoPassword { terminal: true } => {
            let why =
                "doctor: trying namespaces and cgroups needs root: sudo asks for your password";
            let _ = writeln!(std::io::stderr(), "{why}");
            let mut sudo = Command::new("sudo");
            sudo.arg(&exe);
            sudo
        }
        Access::SudoPassword { terminal: false } | Access::NoSudo => return None,
    };
    let output = command.args(["doctor", "--probe", "root"]).stderr(Stdio::inherit()).output();
    let report = match output {
        Ok(output) => String::from_utf8_lossy(&output.stdout).into_owned(),
        Err(err) => {
            seen.push(("root checks".into(), format!("could not start: {err}")));
            return Some(Vec::new());
        }
    };
    let outcomes = probe::read_report(&report);
    for outcome in &outcomes {
        seen.push(("as root".into(), outcome.to_string()));
    }
    Some(outcomes)
}

/// Whether `/`'s propagation deserves a word: on shared `/`, step 5's proc mount
/// shows on the host while it runs.
pub fn propagation_note(propagation: Option<Propagation>) -> &'static str {
    match propagation {
        Some(Propagation::Shared) => {
            "shared (systemd's default): while a step 5 container runs, its /proc mount shows on the host too — step 6's lesson"
        }
        Some(Propagation::Slave) => "slave: mounts from the host show inside, none go back",
        Some(Propagation::Private) => "private: a mount shows only where it is made",
        None => "nothing is mounted on / (a chroot?)",
    }
}
