//! The checks that need root: try what the steps do, in a throwaway process.
//!
//! `course doctor --probe root` runs as root (directly, or through sudo) and prints
//! its report as JSON lines, one [`Outcome`] a line (the PID 1 it starts writes its
//! own lines to the same output), which the doctor reads back with serde_json. It leaves nothing behind: its namespaces die with it, and
//! the cgroup it makes is removed.
//!
//! - cgroups: in the hierarchy step 7 would use, make `course-doctor-PID`, hand it
//!   the pids controller where needed, set pids.max, move a short-lived child in,
//!   and remove it all again;
//! - namespaces: unshare the UTS, mount and PID namespaces as the steps do, set a
//!   hostname in the new UTS namespace, make `/` private, chroot, and start a child
//!   that must be PID 1 and mounts a fresh /proc (in the private mount namespace);
//! - rootless (the locked-down program without root): a child drops to nobody
//!   (65534), makes a user namespace, maps itself to root in it, and sets a
//!   hostname in a UTS namespace of its own: what an ordinary user may do here.

use std::fmt;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use nix::errno::Errno;
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::unistd::{chroot, getpid, sethostname};
use serde::{Deserialize, Serialize};

use super::mounts::{PidsHierarchy, pids_hierarchy};

pub const UTS: &str = "uts-namespace";
pub const HOSTNAME: &str = "hostname";
pub const MOUNT: &str = "mount-namespace";
pub const PRIVATE_ROOT: &str = "private-root";
pub const CHROOT: &str = "chroot";
pub const PID: &str = "pid-namespace";
pub const PID1: &str = "pid1";
pub const PROC: &str = "proc-mount";
pub const CGROUP_FIND: &str = "cgroup-hierarchy";
pub const CGROUP_CROWDED: &str = "cgroup-no-internal-processes";
pub const CGROUP_ENABLE: &str = "cgroup-enable-pids";
pub const CGROUP_MKDIR: &str = "cgroup-mkdir";
pub const CGROUP_LIMIT: &str = "cgroup-pids-max";
pub const CGROUP_JOIN: &str = "cgroup-join";
pub const CGROUP_REMOVE: &str = "cgroup-rmdir";
pub const USERNS: &str = "unprivileged-user-namespace";

/// Who the rootless check runs as: nobody.
const NOBODY: u32 = 65534;

/// The hidden modes of `course doctor --probe …`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Mode {
    /// All the checks below, as root.
    Root,
    /// The first child in the new PID namespace: am I PID 1?
    Pid1,
    /// The same, then mount a fresh /proc (only in a private mount namespace).
    Pid1Proc,
    /// Wait until stdin closes: the process the cgroup check moves.
    Idle,
    /// As nobody: make a user namespace, and use it (the rootless check).
    Userns,
}

/// One check's outcome, one line of the probe's report: a JSON object such as
/// `{"name":"pid1","ok":false,"errno":"EPERM","detail":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub name: String,
    pub ok: bool,
    /// The errno's name, e.g. `EPERM`, when the kernel refused.
    pub errno: Option<String>,
    pub detail: String,
}

impl Outcome {
    fn ok(name: &str, detail: impl Into<String>) -> Self {
        Self { name: name.into(), ok: true, errno: None, detail: detail.into() }
    }

    fn no(name: &str, errno: Option<Errno>, detail: impl Into<String>) -> Self {
        let errno = errno.map(|e| format!("{e:?}"));
        Self { name: name.into(), ok: false, errno, detail: detail.into() }
    }

    fn of(name: &str, result: Result<String, (Option<Errno>, String)>) -> Self {
        match result {
            Ok(detail) => Self::ok(name, detail),
            Err((errno, detail)) => Self::no(name, errno, detail),
        }
    }
}

/// How `cargo course doctor -v` shows an outcome: `ok NAME: DETAIL`, or
/// `no NAME ERRNO: DETAIL`.
impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = if self.ok { "ok" } else { "no" };
        match &self.errno {
            Some(errno) => write!(f, "{status} {} {errno}: {}", self.name, self.detail),
            None => write!(f, "{status} {}: {}", self.name, self.detail),
        }
    }
}

/// Reads the probe's report back, one outcome per JSON line; other lines are ignored.
pub fn read_report(text: &str) -> Vec<Outcome> {
    text.lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
}

/// Runs one of the hidden modes.
pub fn run(mode: Mode) -> ExitCode {
    match mode {
        Mode::Root => {
            cgroup_checks(&mut report);
            rootless_check(&mut report);
            namespace_checks(&mut report);
        }
        Mode::Userns => report(Outcome::of(USERNS, as_nobody_in_a_user_namespace())),
        Mode::Pid1 => pid1_checks(false, &mut report),
        Mode::Pid1Proc => pid1_checks(true, &mut report),
        Mode::Idle => {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
        }
    }
    ExitCode::SUCCESS
}

/// Prints `outcome` as one JSON line of the report.
fn report(outcome: Outcome) {
    // An Outcome (strings and a bool) always serializes; and the doctor reads these
    // lines: if it is gone, nobody is left to tell.
    if let Ok(line) = serde_json::to_string(&outcome) {
        let _ = writeln!(std::io::stdout(), "{line}");
    }
}

/// A failed system call as an outcome's error.
fn refused(call: impl fmt::Display, errno: Errno) -> (Option<Errno>, String) {
    (Some(errno), format!("{call}: {}", errno.desc()))
}

fn io_refused(call: impl fmt::Display, err: std::io::Error) -> (Option<Errno>, String) {
    match err.raw_os_error() {
        Some(code) => refused(call, Errno::from_raw(code)),
        None => (None, format!("{call}: {err}")),
    }
}

/// The cgroup of the hierarchy's directory, when it is not the root of the whole
/// cgroup tree (the root has no `cgroup.type`) and holds processes: cgroup v2's
/// "no internal processes" rule then stops any cgroup below it from taking
/// processes once the pids controller is handed down. Inside a privileged
/// container with a cgroup namespace, `/sys/fs/cgroup` is such a cgroup.
pub fn crowded(dir: &Path) -> Option<usize> {
    if !dir.join("cgroup.type").exists() {
        return None;
    }
    let procs = fs::read_to_string(dir.join("cgroup.procs")).ok()?;
    let count = procs.lines().filter(|line| !line.trim().is_empty()).count();
    (count > 0).then_some(count)
}

/// The hierarchy step 7 would use, as it would find it.
pub fn find_hierarchy() -> Option<PidsHierarchy> {
    let mounts = rootfs::mountinfo::read().ok()?;
    pids_hierarchy(&mounts, |dir| {
        fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default()
    })
}

fn cgroup_checks(report: &mut impl FnMut(Outcome)) {
    let Some(hierarchy) = find_hierarchy() else {
        let detail = "no mounted cgroup hierarchy offers the pids controller";
        return report(Outcome::no(CGROUP_FIND, None, detail));
    };
    let version = if hierarchy.v2 { "cgroup v2" } else { "cgroup v1" };
    report(Outcome::ok(CGROUP_FIND, format!("{} ({version})", hierarchy.dir.display())));
    if let Some(count) = crowded(&hierarchy.dir).filter(|_| hierarchy.v2) {
        // Handing pids down here would make this cgroup "domain threaded" for as
        // long as it holds processes: we do not touch it.
        let detail = format!(
            "{} is not the root cgroup and holds {count} processes: not touched",
            hierarchy.dir.display()
        );
        return report(Outcome::no(CGROUP_CROWDED, None, detail));
    }
    // Once enabled, pids stays so: taking it back would take pids.max away from any
    // step 7 container running now (and step 7 enables it anyway).
    if hierarchy.v2 {
        match enable_pids(&hierarchy.dir) {
            Ok(added) => report(Outcome::ok(
                CGROUP_ENABLE,
                if added { "+pids written" } else { "already on" },
            )),
            Err(err) => return report(Outcome::of(CGROUP_ENABLE, Err(err))),
        }
    }
    let cgroup = hierarchy.dir.join(format!("course-doctor-{}", getpid()));
    match fs::create_dir(&cgroup) {
        Ok(()) => {
            report(Outcome::ok(CGROUP_MKDIR, cgroup.display().to_string()));
            report(Outcome::of(CGROUP_LIMIT, write(&cgroup.join("pids.max"), "20")));
            report(Outcome::of(CGROUP_JOIN, join_a_child(&cgroup)));
            let removed = fs::remove_dir(&cgroup)
                .map_err(|e| io_refused(format_args!("rmdir {}", cgroup.display()), e));
            report(Outcome::of(CGROUP_REMOVE, removed.map(|()| "removed".to_string())));
        }
        Err(err) => report(Outcome::of(
            CGROUP_MKDIR,
            Err(io_refused(format_args!("mkdir {}", cgroup.display()), err)),
        )),
    }
}

/// Hands the pids controller down from `dir`, as step 7 does; true if we did.
fn enable_pids(dir: &Path) -> Result<bool, (Option<Errno>, String)> {
    let control = dir.join("cgroup.subtree_control");
    let current = fs::read_to_string(&control)
        .map_err(|e| io_refused(format_args!("read {}", control.display()), e))?;
    if current.split_whitespace().any(|c| c == "pids") {
        return Ok(false);
    }
    write(&control, "+pids").map(|_| true)
}

fn write(file: &Path, value: &str) -> Result<String, (Option<Errno>, String)> {
    fs::write(file, value)
        .map(|()| format!("wrote {value} to {}", file.display()))
        .map_err(|e| io_refused(format_args!("write {value} to {}", file.display()), e))
}

/// Starts an idle child of ours, moves it into `cgroup`, and checks that the kernel
/// shows it there; then lets it end.
fn join_a_child(cgroup: &Path) -> Result<String, (Option<Errno>, String)> {
    let exe = self_exe()?;
    let mut child = Command::new(&exe)
        .args(["doctor", "--probe", "idle"])
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| io_refused(format_args!("start {}", exe.display()), e))?;
    let pid = child.id();
    let moved = write(&cgroup.join("cgroup.procs"), &pid.to_string());
    let seen = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    drop(child.stdin.take()); // the child reads to the end, and exits
    let _ = child.wait();
    moved?;
    let name = cgroup.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match seen.lines().any(|line| line.ends_with(&format!("/{name}"))) {
        true => Ok(format!("process {pid} moved in (/proc/{pid}/cgroup names {name})")),
        false => Err((
            None,
            format!("process {pid} was moved, yet /proc/{pid}/cgroup does not name {name}"),
        )),
    }
}

fn self_exe() -> Result<PathBuf, (Option<Errno>, String)> {
    std::env::current_exe().map_err(|e| io_refused("/proc/self/exe", e))
}

fn namespace_checks(report: &mut impl FnMut(Outcome)) {
    let uts = unshare(CloneFlags::CLONE_NEWUTS);
    report(Outcome::of(
        UTS,
        uts.map(|()| "made".into()).map_err(|e| refused("unshare(CLONE_NEWUTS)", e)),
    ));
    if uts.is_ok() {
        // Only in the new UTS namespace just made: the host's name stays.
        let named = sethostname("course-doctor").map_err(|e| refused("sethostname", e));
        report(Outcome::of(HOSTNAME, named.map(|()| "set in the new UTS namespace".into())));
    }
    let mount_ns = unshare(CloneFlags::CLONE_NEWNS);
    report(Outcome::of(
        MOUNT,
        mount_ns.map(|()| "made".into()).map_err(|e| refused("unshare(CLONE_NEWNS)", e)),
    ));
    let private = mount_ns.is_ok() && {
        let made = mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        );
        let outcome = made.map(|()| "/ made private in the new mount namespace".into());
        report(Outcome::of(
            PRIVATE_ROOT,
            outcome.map_err(|e| refused("mount(/, MS_REC | MS_PRIVATE)", e)),
        ));
        made.is_ok()
    };
    let rooted =
        chroot("/").map(|()| "chroot(/) allowed".into()).map_err(|e| refused("chroot(/)", e));
    report(Outcome::of(CHROOT, rooted));
    let pid_ns = unshare(CloneFlags::CLONE_NEWPID);
    report(Outcome::of(
        PID,
        pid_ns.map(|()| "made".into()).map_err(|e| refused("unshare(CLONE_NEWPID)", e)),
    ));
    if pid_ns.is_ok() {
        // Our next child is the new namespace's PID 1. It mounts /proc only where
        // that mount cannot reach the host: in our private mount namespace.
        let mode = if private { "pid1-proc" } else { "pid1" };
        let started = self_exe().and_then(|exe| {
            let mut command = Command::new(&exe);
            command
                .args(["doctor", "--probe", mode])
                .status()
                .map_err(|e| io_refused("start PID 1", e))
        });
        if let Err(err) = started {
            report(Outcome::of(PID1, Err(err)));
        }
    }
}

/// Starts `doctor --probe userns` (it reports for itself), or says why it could not.
fn rootless_check(report: &mut impl FnMut(Outcome)) {
    let started = self_exe().and_then(|exe| {
        Command::new(&exe)
            .args(["doctor", "--probe", "userns"])
            .status()
            .map_err(|e| io_refused("start the rootless check", e))
    });
    if let Err(err) = started {
        report(Outcome::of(USERNS, Err(err)));
    }
}

/// In the child, root: become nobody, then try what the locked-down program does
/// rootless: a user namespace, ourselves mapped to root in it, a UTS namespace and
/// a hostname (which needs the namespace's CAP_SYS_ADMIN: AppArmor's restriction
/// takes it away).
fn as_nobody_in_a_user_namespace() -> Result<String, (Option<Errno>, String)> {
    use nix::unistd::{Gid, Uid, setgroups, setresgid, setresuid};
    let (uid, gid) = (Uid::from_raw(NOBODY), Gid::from_raw(NOBODY));
    setgroups(&[]).map_err(|e| refused("setgroups([])", e))?;
    setresgid(gid, gid, gid).map_err(|e| refused(format_args!("setresgid({NOBODY})"), e))?;
    setresuid(uid, uid, uid).map_err(|e| refused(format_args!("setresuid({NOBODY})"), e))?;
    // Changing uids made us undumpable: our /proc/self files would stay root's, and
    // the maps unwritable. An ordinary user who started as such is dumpable.
    nix::sys::prctl::set_dumpable(true).map_err(|e| refused("prctl(PR_SET_DUMPABLE)", e))?;
    unshare(CloneFlags::CLONE_NEWUSER)
        .map_err(|e| refused(format_args!("as uid {NOBODY}, unshare(CLONE_NEWUSER)"), e))?;
    write(Path::new("/proc/self/setgroups"), "deny")?;
    write(Path::new("/proc/self/uid_map"), &format!("0 {NOBODY} 1"))?;
    write(Path::new("/proc/self/gid_map"), &format!("0 {NOBODY} 1"))?;
    unshare(CloneFlags::CLONE_NEWUTS)
        .map_err(|e| refused("in the user namespace, unshare(CLONE_NEWUTS)", e))?;
    sethostname("course-rootless").map_err(|e| refused("in the user namespace, sethostname", e))?;
    Ok(format!("as uid {NOBODY}: a user namespace made, mapped to root in it, a hostname set"))
}

/// In the child: PID 1, and a fresh /proc that shows this namespace.
fn pid1_checks(mount_proc: bool, report: &mut impl FnMut(Outcome)) {
    let pid = getpid().as_raw();
    report(match pid {
        1 => Outcome::ok(PID1, "the first process in the new PID namespace is PID 1"),
        _ => Outcome::no(
            PID1,
            None,
            format!("the first process in the new PID namespace is PID {pid}"),
        ),
    });
    if !mount_proc {
        return;
    }
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    let mounted = mount(Some("proc"), "/proc", Some("proc"), flags, None::<&str>);
    let outcome = mounted.map_err(|e| refused("mount(proc, /proc)", e)).map(|()| {
        // The new /proc shows this namespace: "self" is 1.
        let me = fs::read_link("/proc/self").map(|p| p.display().to_string()).unwrap_or_default();
        format!("a new /proc mounted; in it, /proc/self is {me}")
    });
    report(Outcome::of(PROC, outcome));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_reads_back_as_written() {
        let outcomes = vec![
            Outcome::ok(UTS, "made"),
            Outcome::no(
                CGROUP_JOIN,
                Some(Errno::EOPNOTSUPP),
                "write 7 to x: Operation not supported",
            ),
            Outcome::no(CGROUP_CROWDED, None, "holds 3 processes: not touched"),
        ];
        let lines: Vec<String> =
            outcomes.iter().map(|o| serde_json::to_string(o).expect("serialize")).collect();
        assert_eq!(read_report(&(lines.join("\n") + "\n")), outcomes);
    }

    #[test]
    fn an_outcome_is_one_json_object() {
        let outcome = Outcome::no(PID, Some(Errno::EPERM), "unshare(CLONE_NEWPID): refused");
        let line = serde_json::to_string(&outcome).expect("serialize");
        let want = r#"{"name":"pid-namespace","ok":false,"errno":"EPERM","detail":"unshare(CLONE_NEWPID): refused"}"#;
        assert_eq!(line, want);
    }

    #[test]
    fn lines_that_are_not_outcomes_are_ignored() {
        let pid1 =
            r#"{"name":"pid1","ok":true,"errno":null,"detail":"the first process is PID 1"}"#;
        let text = format!("sudo: some warning\n{pid1}\n\n{{\"name\":\"half\"}}\n");
        let outcomes = read_report(&text);
        assert_eq!(outcomes.len(), 1);
        assert_eq!(outcomes[0].name, PID1);
    }

    #[test]
    fn verbose_shows_an_outcome_as_ok_or_no_with_its_errno() {
        assert_eq!(Outcome::ok(UTS, "made").to_string(), "ok uts-namespace: made");
        let refused = Outcome::no(MOUNT, Some(Errno::EPERM), "unshare(CLONE_NEWNS): nope");
        assert_eq!(refused.to_string(), "no mount-namespace EPERM: unshare(CLONE_NEWNS): nope");
    }

    #[test]
    fn the_rootless_check_is_one_outcome() {
        let outcome = Outcome::no(USERNS, Some(Errno::EPERM), "unshare(CLONE_NEWUSER): refused");
        assert_eq!(
            outcome.to_string(),
            "no unprivileged-user-namespace EPERM: unshare(CLONE_NEWUSER): refused"
        );
    }

    #[test]
    fn the_real_root_cgroup_is_never_crowded() {
        // A directory without cgroup.type is the root of the tree: exempt from the rule.
        let dir = std::env::temp_dir().join(format!("doctor-crowded-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("mkdir");
        fs::write(dir.join("cgroup.procs"), "1\n2\n").expect("write procs");
        assert_eq!(crowded(&dir), None);
        fs::write(dir.join("cgroup.type"), "domain\n").expect("write type");
        assert_eq!(crowded(&dir), Some(2));
        fs::write(dir.join("cgroup.procs"), "").expect("empty procs");
        assert_eq!(crowded(&dir), None);
        fs::remove_dir_all(&dir).expect("rm");
    }
}
