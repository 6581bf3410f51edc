//! `course contain`: run one command contained, as `cargo course class` runs each
//! grading (root; hidden, not for learners).
//!
//! ```text
//! course contain --seconds N [--report FILE] -- COMMAND [ARGS...]
//! ```
//!
//! COMMAND runs in new PID, mount, UTS and cgroup namespaces, inside a cgroup of its
//! own (`course-class-<pid>`) that is, seen from inside, the root of the cgroup tree.
//! When COMMAND ends, or N seconds are up, the PID namespace's first process dies and
//! the kernel kills every other process in it (daemons too); the mounts go with the
//! mount namespace; and the job's cgroup is removed with every cgroup the programs
//! made below it. Parallel gradings thus never see each other's processes, mounts or
//! cgroups (two programs may both name theirs `container-5`). Exit status: COMMAND's
//! (128+n when a signal n killed it), or 124 when the time was up.
//!
//! Two processes do it. This one, outside, makes the job's cgroups, starts itself
//! again (`/proc/self/exe contain --job … -- COMMAND`) as the first process of a new
//! PID namespace, keeps the time, and cleans up. That one, inside, sets up the
//! namespaces and the cgroups, runs COMMAND as its child, reaps, and says how many
//! processes COMMAND left behind. With `--report FILE`, what the cleanup found is
//! written there as one JSON object: [`Cleanup`].

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, unshare};
use nix::sys::signal::{SigSet, Signal, kill};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, getpid, pipe};
use serde::{Deserialize, Serialize};

#[derive(clap::Args)]
pub struct Args {
    /// The time limit, in seconds
    #[arg(long)]
    seconds: u64,
    /// Write what the cleanup found, as one JSON object, to this file
    #[arg(long)]
    report: Option<PathBuf>,
    /// (Inside: the job's cgroup name; set only when contain starts itself.)
    #[arg(long, hide = true)]
    job: Option<String>,
    /// (Inside: where to write how many processes COMMAND left behind.)
    #[arg(long, hide = true, requires = "job")]
    count_fd: Option<RawFd>,
    /// The command and its arguments
    #[arg(trailing_var_arg = true, required = true)]
    command: Vec<OsString>,
}

/// What the cleanup after one contained command found: the class table's data.
#[derive(Serialize, Deserialize, Debug, Default, Clone, PartialEq)]
pub struct Cleanup {
    /// The time was up before COMMAND ended.
    pub timed_out: bool,
    /// How many processes were still in the job when COMMAND ended (or the time was
    /// up) and had to be killed: a daemon a program left, say.
    pub processes_killed: usize,
    /// The cgroups the programs made below the job's cgroup and left behind,
    /// relative to it (`container-5`, `container-5/sub`).
    pub cgroups_left: Vec<String>,
}

/// The report that `course contain --report path` wrote.
pub fn read_report(path: &Path) -> Result<Cleanup, String> {
    let text = fs::read_to_string(path)
        .map_err(|e| format!("cannot read the contained run's report {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!("the contained run's report {} is not a cleanup report: {e}", path.display())
    })
}

/// The words that run a command contained: put them in front of it (cargo's
/// `CARGO_TARGET_<triple>_RUNNER` appends the test binary and its arguments).
pub fn runner_prefix(course_bin: &Path, seconds: u64, report: &Path) -> Vec<String> {
    vec![
        course_bin.display().to_string(),
        "contain".to_string(),
        "--seconds".to_string(),
        seconds.to_string(),
        "--report".to_string(),
        report.display().to_string(),
        "--".to_string(),
    ]
}

/// Exit status when contain itself failed (as `timeout` and `env` say it).
const FAILED: u8 = 125;
/// Exit status when the time was up (as `timeout` says it).
const TIME_UP: u8 = 124;
/// How often the outside process looks whether the job ended.
const POLL: Duration = Duration::from_millis(50);
/// How long killed processes may take to die and leave their cgroups.
const GRACE: Duration = Duration::from_secs(10);
/// How long the cleanup retries removing the job's cgroups.
const REMOVAL: Duration = Duration::from_secs(2);

pub fn run(args: Args) -> ExitCode {
    let result = match (&args.job, args.count_fd) {
        (Some(job), Some(count_fd)) => inside(job, count_fd, &args.command),
        (Some(_), None) => Err("--job needs --count-fd".to_string()),
        (None, _) => outside(&args),
    };
    match result {
        Ok(status) => ExitCode::from(status),
        Err(error) => {
            eprintln!("course contain: {error}");
            ExitCode::from(FAILED)
        }
    }
}

// ---------------------------------------------------------------------------
// Where the cgroup hierarchies are

/// One line of /proc/self/mountinfo, the parts we need.
#[derive(Debug, PartialEq)]
struct Mount {
    point: PathBuf,
    fs_type: String,
    super_options: Vec<String>,
}

/// A cgroup hierarchy a container program may use, so one the job needs a cgroup in.
#[derive(Debug, PartialEq)]
struct Hierarchy {
    point: PathBuf,
    /// cgroup2 (else a v1 hierarchy).
    v2: bool,
    /// For v1, the controllers it holds (`pids`, or e.g. `pids,cpu`): mounting it
    /// again must name the same ones.
    controllers: String,
}

/// Parses one mountinfo line: `36 35 98:0 /root /point opts [optional…] - type source superopts`.
fn parse_mount(line: &str) -> Option<Mount> {
    let (left, right) = line.split_once(" - ")?;
    let point = left.split(' ').nth(4)?;
    let mut right = right.split(' ');
    let fs_type = right.next()?.to_string();
    let super_options = right.nth(1)?.split(',').map(str::to_string).collect();
    Some(Mount { point: PathBuf::from(unescape(point)), fs_type, super_options })
}

/// The kernel writes a space, tab, newline or backslash in a mount point as `\040` etc.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|digits| {
            let text = std::str::from_utf8(digits).ok()?;
            u8::from_str_radix(text, 8).ok()
        });
        match (bytes[i], octal) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The hierarchies among `mountinfo`'s mounts: the first cgroup2 that offers `pids`
/// (pure v2: `v2_has_pids` reads its cgroup.controllers), then the first v1
/// hierarchy mounted with the `pids` option (v1 and hybrid).
fn find_hierarchies(mountinfo: &str, v2_has_pids: impl Fn(&Path) -> bool) -> Vec<Hierarchy> {
    let mounts: Vec<Mount> = mountinfo.lines().filter_map(parse_mount).collect();
    let v2 = mounts
        .iter()
        .find(|m| m.fs_type == "cgroup2" && v2_has_pids(&m.point))
        .map(|m| Hierarchy { point: m.point.clone(), v2: true, controllers: String::new() });
    let v1 = mounts
        .iter()
        .find(|m| m.fs_type == "cgroup" && m.super_options.iter().any(|o| o == "pids"))
        .map(|m| Hierarchy { point: m.point.clone(), v2: false, controllers: controllers(m) });
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

/// The hierarchies as this process's mount namespace has them.
fn hierarchies_here() -> Result<Vec<Hierarchy>, String> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| format!("cannot read /proc/self/mountinfo: {e}"))?;
    Ok(find_hierarchies(&mountinfo, offers_pids))
}

/// Whether the cgroup2 tree mounted at `point` offers the pids controller.
fn offers_pids(point: &Path) -> bool {
    fs::read_to_string(point.join("cgroup.controllers"))
        .is_ok_and(|offered| offered.split_whitespace().any(|c| c == "pids"))
}

/// Writes `text` to a cgroup file, saying which file when the kernel refuses.
fn write_cgroup_file(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("cannot write {text:?} to {}: {e}", path.display()))
}

// ---------------------------------------------------------------------------
// Outside: the job's cgroups, the time limit, the cleanup

/// A job's cgroup in one hierarchy.
struct Home {
    dir: PathBuf,
    v2: bool,
}

/// How the job's first process ended, seen from outside.
enum End {
    /// It exited (its status is COMMAND's) and wrote how many processes were left.
    Ended { status: u8, processes_left: usize },
    /// We killed it: the time was up, or we were told to stop (SIGINT, SIGTERM, SIGHUP).
    Killed { status: u8, timed_out: bool, processes: usize },
}

fn outside(args: &Args) -> Result<u8, String> {
    let job = format!("course-class-{}", getpid());
    let homes = make_homes(&hierarchies_here()?, &job)?;
    // Whatever happens to the job, its cgroups go.
    let end = run_job(args, &job, &homes);
    let cgroups_left = cgroups_below(&homes);
    if let Err(error) = remove_homes(&homes) {
        eprintln!("course contain: {error}");
    }
    let (status, cleanup) = match end? {
        End::Ended { status, processes_left } => {
            (status, Cleanup { timed_out: false, processes_killed: processes_left, cgroups_left })
        }
        End::Killed { status, timed_out, processes } => {
            (status, Cleanup { timed_out, processes_killed: processes, cgroups_left })
        }
    };
    if let Some(report) = &args.report {
        write_report(report, &cleanup)?;
    }
    Ok(status)
}

/// The job's cgroup, made in each hierarchy. On cgroup2 the root first hands `pids`
/// down (the root is exempt from v2's "no internal processes" rule).
fn make_homes(hierarchies: &[Hierarchy], job: &str) -> Result<Vec<Home>, String> {
    let mut homes = Vec::new();
    for hierarchy in hierarchies {
        let made = make_home(hierarchy, job);
        match made {
            Ok(home) => homes.push(home),
            Err(error) => {
                let _ = remove_homes(&homes);
                return Err(error);
            }
        }
    }
    Ok(homes)
}

fn make_home(hierarchy: &Hierarchy, job: &str) -> Result<Home, String> {
    if hierarchy.v2 {
        write_cgroup_file(&hierarchy.point.join("cgroup.subtree_control"), "+pids")?;
    }
    let dir = hierarchy.point.join(job);
    fs::create_dir(&dir)
        .map_err(|e| format!("cannot make the job's cgroup {}: {e}", dir.display()))?;
    Ok(Home { dir, v2: hierarchy.v2 })
}

/// Starts the job's first process, waits for it with a deadline, and kills it when
/// the time is up (the kernel then kills every other process in its namespace).
fn run_job(args: &Args, job: &str, homes: &[Home]) -> Result<End, String> {
    let stop_signals = catch_stop_signals()?;
    let (count_read, count_write) =
        pipe().map_err(|e| format!("cannot make a pipe for the job's count: {e}"))?;
    keep_from_children(&count_read)?;
    // unshare(CLONE_NEWPID) does not move this process: its *next child* is the
    // first process, PID 1, of the new namespace (and the only one we start).
    unshare(CloneFlags::CLONE_NEWPID)
        .map_err(|e| format!("cannot make a PID namespace (run as root): {e}"))?;
    let pid1 = start_inside(args, job, &count_write)?;
    drop(count_write); // now only PID 1 holds it: we read to its end once PID 1 is gone
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    match wait_with_deadline(pid1, deadline, &stop_signals)? {
        Waited::Ended(status) => Ok(End::Ended { status, processes_left: read_count(count_read)? }),
        Waited::TimeUp => kill_job(pid1, homes, TIME_UP, true),
        Waited::Stopped(signal) => kill_job(pid1, homes, 128 + signal as u8, false),
    }
}

/// Blocks SIGINT, SIGTERM and SIGHUP and returns a descriptor that tells when one
/// came: so that Ctrl-C or a `kill` still cleans up. (std's Command clears the
/// blocked set in its children, so the job gets them as usual.)
fn catch_stop_signals() -> Result<SignalFd, String> {
    let mut set = SigSet::empty();
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        set.add(signal);
    }
    set.thread_block().map_err(|e| format!("cannot block SIGINT, SIGTERM and SIGHUP: {e}"))?;
    SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map_err(|e| format!("cannot make a signalfd: {e}"))
}

/// Marks `fd` close-on-exec, so that the programs started later do not inherit it.
fn keep_from_children(fd: &impl AsFd) -> Result<(), String> {
    fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))
        .map(drop)
        .map_err(|e| format!("cannot mark a descriptor close-on-exec: {e}"))
}

/// Starts this program again, as the job's PID 1 (see [`inside`]).
fn start_inside(args: &Args, job: &str, count_write: &OwnedFd) -> Result<Pid, String> {
    // /proc/self/exe: this very binary, even if a build replaced the file meanwhile.
    let child = Command::new("/proc/self/exe")
        .arg("contain")
        .arg("--seconds")
        .arg(args.seconds.to_string())
        .arg("--job")
        .arg(job)
        .arg("--count-fd")
        .arg(count_write.as_raw_fd().to_string())
        .arg("--")
        .args(&args.command)
        .spawn()
        .map_err(|e| format!("cannot start the job's first process (/proc/self/exe): {e}"))?;
    let pid = i32::try_from(child.id())
        .map_err(|_| format!("the job's first process has an odd pid {}", child.id()))?;
    Ok(Pid::from_raw(pid))
}

enum Waited {
    Ended(u8),
    TimeUp,
    Stopped(Signal),
}

/// Polls for the end of `pid1` every 50 ms until `deadline` or a stop signal.
fn wait_with_deadline(pid1: Pid, deadline: Instant, stop: &SignalFd) -> Result<Waited, String> {
    loop {
        if let Some(status) = ended(pid1)? {
            return Ok(Waited::Ended(status));
        }
        if let Some(signal) = stop_signal(stop) {
            return Ok(Waited::Stopped(signal));
        }
        if Instant::now() >= deadline {
            return Ok(Waited::TimeUp);
        }
        sleep(POLL);
    }
}

/// The exit status of `pid` if it ended (reaping it), 128+n if signal n killed it.
fn ended(pid: Pid) -> Result<Option<u8>, String> {
    match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
        Ok(WaitStatus::Exited(_, code)) => Ok(Some(code as u8)),
        Ok(WaitStatus::Signaled(_, signal, _)) => Ok(Some(128 + signal as u8)),
        Ok(_) | Err(Errno::EINTR) => Ok(None),
        Err(e) => Err(format!("cannot wait for the job's first process {pid}: {e}")),
    }
}

/// The stop signal that came, if one did.
fn stop_signal(stop: &SignalFd) -> Option<Signal> {
    let info = stop.read_signal().ok()??;
    Signal::try_from(info.ssi_signo as i32).ok()
}

/// Counts the job's processes, kills its PID 1 (and so, the kernel, all of them),
/// and waits, with a deadline, until it is gone.
fn kill_job(pid1: Pid, homes: &[Home], status: u8, timed_out: bool) -> Result<End, String> {
    // Every process of the job is in its cgroup tree, PID 1 too.
    let processes = homes.first().map_or(0, |home| processes_in(&home.dir).saturating_sub(1));
    kill(pid1, Signal::SIGKILL)
        .map_err(|e| format!("cannot kill the job's first process {pid1}: {e}"))?;
    let deadline = Instant::now() + GRACE;
    while ended(pid1)?.is_none() {
        if Instant::now() >= deadline {
            return Err(format!("the job's first process {pid1} outlived SIGKILL by {GRACE:?}"));
        }
        sleep(POLL);
    }
    Ok(End::Killed { status, timed_out, processes })
}

/// How many processes are in the cgroup `dir` and every cgroup below it.
fn processes_in(dir: &Path) -> usize {
    let here =
        fs::read_to_string(dir.join("cgroup.procs")).map_or(0, |procs| procs.lines().count());
    let below: usize = subdirs(dir).iter().map(|sub| processes_in(sub)).sum();
    here + below
}

/// The count PID 1 wrote before it exited (0 if it wrote none: it failed early).
fn read_count(count_read: OwnedFd) -> Result<usize, String> {
    let mut text = String::new();
    File::from(count_read)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read the job's count of processes left: {e}"))?;
    Ok(text.trim().parse().unwrap_or(0))
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
fn cgroups_below(homes: &[Home]) -> Vec<String> {
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
fn remove_homes(homes: &[Home]) -> Result<(), String> {
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

fn write_report(path: &Path, cleanup: &Cleanup) -> Result<(), String> {
    let json = serde_json::to_string(cleanup)
        .map_err(|e| format!("cannot write the report as JSON: {e}"))?;
    fs::write(path, json + "\n")
        .map_err(|e| format!("cannot write the report {}: {e}", path.display()))
}

// ---------------------------------------------------------------------------
// Inside: PID 1 of the job's PID namespace

/// As the job's PID 1: new mount and UTS namespaces, a fresh /proc, the job's
/// cgroups joined, a cgroup namespace rooted there with fresh views of the
/// hierarchies; then COMMAND, as a child, reaped. Writes to `count_fd` how many
/// processes COMMAND left behind; they die with us (the kernel kills every process
/// in a PID namespace whose PID 1 ends).
fn inside(job: &str, count_fd: RawFd, command: &[OsString]) -> Result<u8, String> {
    // SAFETY: `count_fd` is the pipe's write end that our parent left open for us
    // (it passed its number); nothing else in this process owns or closes it.
    let count = unsafe { OwnedFd::from_raw_fd(count_fd) };
    keep_from_children(&count)?;
    private_namespaces()?;
    let hierarchies = hierarchies_here()?;
    join_job(&hierarchies, job)?;
    cgroup_namespace(&hierarchies)?;
    number_from_high_up();
    let status = run_command(command);
    reap_orphans();
    let left = processes_left();
    // The outside reads this once we are gone; if it cannot, it counts 0.
    let _ = write!(File::from(count), "{left}");
    Ok(status)
}

/// New mount and UTS namespaces, `/` private in ours (so that no mount of ours
/// propagates to the host), and a /proc of our PID namespace.
fn private_namespaces() -> Result<(), String> {
    unshare(CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUTS)
        .map_err(|e| format!("cannot make mount and UTS namespaces: {e}"))?;
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
        .map_err(|e| format!("cannot make / private: {e}"))?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount(Some("proc"), "/proc", Some("proc"), flags, None::<&str>)
        .map_err(|e| format!("cannot mount a fresh proc on /proc: {e}"))
}

/// Moves us (only us, PID 1: never the outside process, so that on cgroup2 the job's
/// cgroup can hand controllers down) into the job's cgroup in every hierarchy.
fn join_job(hierarchies: &[Hierarchy], job: &str) -> Result<(), String> {
    let me = getpid().to_string(); // "1": the kernel reads it in our PID namespace
    for hierarchy in hierarchies {
        write_cgroup_file(&hierarchy.point.join(job).join("cgroup.procs"), &me)?;
    }
    Ok(())
}

/// A cgroup namespace rooted at the job's cgroups, and the hierarchies mounted anew
/// so that they show it as their root. On cgroup2, we move on to a leaf, `init`,
/// as "no internal processes" wants, so that a program may enable +pids in the
/// job's cgroup for the cgroups it makes.
fn cgroup_namespace(hierarchies: &[Hierarchy]) -> Result<(), String> {
    unshare(CloneFlags::CLONE_NEWCGROUP)
        .map_err(|e| format!("cannot make a cgroup namespace: {e}"))?;
    for hierarchy in hierarchies {
        remount(hierarchy)?;
    }
    if let Some(v2) = hierarchies.iter().find(|h| h.v2) {
        let init = v2.point.join("init");
        fs::create_dir(&init)
            .map_err(|e| format!("cannot make the leaf cgroup {}: {e}", init.display()))?;
        write_cgroup_file(&init.join("cgroup.procs"), &getpid().to_string())?;
    }
    Ok(())
}

/// Mounts a fresh view of `hierarchy` where it was, rooted at our cgroup namespace.
fn remount(hierarchy: &Hierarchy) -> Result<(), String> {
    let point = &hierarchy.point;
    // The same hierarchy cannot be mounted on itself (EBUSY): detach the old first.
    umount2(point, MntFlags::MNT_DETACH)
        .map_err(|e| format!("cannot unmount {}: {e}", point.display()))?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    let (fs_type, options) = if hierarchy.v2 {
        ("cgroup2", None)
    } else {
        ("cgroup", Some(hierarchy.controllers.as_str()))
    };
    mount(Some(fs_type), point, Some(fs_type), flags, options)
        .map_err(|e| format!("cannot mount {fs_type} on {}: {e}", point.display()))
}

/// The PID our next child gets, in our PID namespace.
const COMMAND_PID: u32 = 10_000;

/// Makes COMMAND's PID 10000 rather than 2. A new PID namespace numbers from 1, and
/// so do the namespaces of the containers a graded test starts: a test process
/// with PID 2 would find "itself" in a container's `ps` and take the container for
/// one that shows the host's processes. ns_last_pid (of the namespace of whoever
/// writes it: ours) is the number the kernel handed out last. Best effort: should
/// the kernel refuse (a pid_max below it), COMMAND runs all the same.
fn number_from_high_up() {
    let _ = fs::write("/proc/sys/kernel/ns_last_pid", (COMMAND_PID - 1).to_string());
}

/// Runs COMMAND as our child and waits for it, reaping the orphans that come to us
/// meanwhile (PID 1 is every orphan's parent). Its exit status, 128+n if signal n
/// killed it; 127 (126) when it cannot be started, as a shell says it.
fn run_command(command: &[OsString]) -> u8 {
    let Some((program, args)) = command.split_first() else { return FAILED };
    let child = match Command::new(program).args(args).spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("course contain: cannot run {}: {e}", program.to_string_lossy());
            return if e.kind() == io::ErrorKind::NotFound { 127 } else { 126 };
        }
    };
    let Ok(pid) = i32::try_from(child.id()) else { return FAILED };
    loop {
        match waitpid(Pid::from_raw(-1), None) {
            Ok(WaitStatus::Exited(p, code)) if p.as_raw() == pid => return code as u8,
            Ok(WaitStatus::Signaled(p, signal, _)) if p.as_raw() == pid => {
                return 128 + signal as u8;
            }
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => {
                eprintln!("course contain: cannot wait for {}: {e}", program.to_string_lossy());
                return FAILED;
            }
        }
    }
}

/// Reaps the children that already ended, so that they are not counted as left.
fn reap_orphans() {
    while let Ok(status) = waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
        if status == WaitStatus::StillAlive {
            break;
        }
    }
}

/// How many processes but us are alive in our PID namespace (nested ones too): our
/// /proc lists exactly those. Zombies are not counted: they are dead already.
fn processes_left() -> usize {
    let Ok(entries) = fs::read_dir("/proc") else { return 0 };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != 1 && !zombie(pid))
        .count()
}

/// Whether process `pid` is a zombie (or gone): the state after `(comm)` in its stat.
fn zombie(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else { return true };
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next());
    matches!(state, Some('Z' | 'X') | None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_round_trips_through_json() {
        let cleanup = Cleanup {
            timed_out: true,
            processes_killed: 2,
            cgroups_left: vec!["container-5".into(), "container-5/sub".into()],
        };
        let json = serde_json::to_string(&cleanup).unwrap();
        assert_eq!(
            json,
            r#"{"timed_out":true,"processes_killed":2,"cgroups_left":["container-5","container-5/sub"]}"#
        );
        let path = std::env::temp_dir().join(format!("contain-report-{}.json", std::process::id()));
        write_report(&path, &cleanup).unwrap();
        assert_eq!(read_report(&path), Ok(cleanup));
        fs::write(&path, "not json").unwrap();
        let error = read_report(&path).unwrap_err();
        assert!(error.contains(&path.display().to_string()), "{error}");
        fs::remove_file(&path).unwrap();
        let missing = read_report(Path::new("/nonexistent/report.json")).unwrap_err();
        assert!(missing.starts_with("cannot read the contained run's report"), "{missing}");
    }

    #[test]
    fn runner_prefix_is_contain_with_its_options_and_dashes() {
        let words = runner_prefix(Path::new("/t/course"), 30, Path::new("/tmp/r 1.json"));
        let want = ["/t/course", "contain", "--seconds", "30", "--report", "/tmp/r 1.json", "--"];
        assert_eq!(words, want);
    }

    #[test]
    fn runner_prefix_and_a_command_parse_as_contain() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(subcommand)]
            command: Sub,
        }
        #[derive(clap::Subcommand)]
        enum Sub {
            Contain(Args),
        }
        let mut words = runner_prefix(Path::new("course"), 7, Path::new("/tmp/r.json"));
        words.extend(["/t/step07-test".into(), "--test-threads".into(), "1".into()]);
        let Sub::Contain(args) = Cli::try_parse_from(words).unwrap().command;
        assert_eq!(args.seconds, 7);
        assert_eq!(args.report, Some(PathBuf::from("/tmp/r.json")));
        assert_eq!(args.job, None);
        assert_eq!(args.command, ["/t/step07-test", "--test-threads", "1"]);
    }

    const HYBRID: &str = "\
25 1 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
36 30 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,cpu,cpuacct
40 30 0:36 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:20 - cgroup cgroup rw,pids";

    #[test]
    fn a_mountinfo_line_gives_point_type_and_super_options() {
        let line = "31 30 0:27 / /sys/fs/cgroup/my\\040cg rw,relatime shared:10 master:3 - cgroup2 none rw,nsdelegate";
        let mount = parse_mount(line).unwrap();
        assert_eq!(mount.point, Path::new("/sys/fs/cgroup/my cg"));
        assert_eq!(mount.fs_type, "cgroup2");
        assert_eq!(mount.super_options, ["rw", "nsdelegate"]);
        assert_eq!(parse_mount("garbage"), None);
        assert_eq!(unescape("a\\011b\\134c\\0"), "a\tb\\c\\0");
    }

    #[test]
    fn hybrid_uses_the_v1_pids_hierarchy_only() {
        let found = find_hierarchies(HYBRID, |_| false);
        let want = Hierarchy {
            point: "/sys/fs/cgroup/pids".into(),
            v2: false,
            controllers: "pids".into(),
        };
        assert_eq!(found, [want]);
    }

    #[test]
    fn pure_v2_uses_cgroup2_when_it_offers_pids() {
        let v2 = "31 1 0:27 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate";
        let found = find_hierarchies(v2, |point| point == Path::new("/sys/fs/cgroup"));
        let want =
            Hierarchy { point: "/sys/fs/cgroup".into(), v2: true, controllers: String::new() };
        assert_eq!(found, [want]);
        assert_eq!(find_hierarchies(v2, |_| false), []);
    }

    #[test]
    fn a_v1_hierarchy_is_remounted_with_all_its_controllers() {
        let info = "40 30 0:36 / /cg/pc rw - cgroup cgroup rw,pids,cpu";
        assert_eq!(find_hierarchies(info, |_| false)[0].controllers, "pids,cpu");
    }
}
