//! Inside: PID 1 of the job's PID namespace. It sets up the namespaces and the
//! cgroups, runs COMMAND as its child, reaps, and says how many processes COMMAND
//! left behind.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::process::Command;

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, unshare};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, getpid};

use super::cgroups::{Hierarchy, hierarchies_here, write_cgroup_file};
use super::files;
use super::{FAILED, exit_status, keep_from_children};

/// As the job's PID 1: new mount and UTS namespaces, a fresh /proc, the job's
/// cgroups joined, a cgroup namespace rooted there with fresh views of the
/// hierarchies; then COMMAND, as a child, reaped. Writes to `count_fd` how many
/// processes COMMAND left behind; they die with us (the kernel kills every process
/// in a PID namespace whose PID 1 ends).
pub(super) fn inside(job: &str, count_fd: RawFd, command: &[OsString]) -> Result<u8, String> {
    // SAFETY: `count_fd` is the pipe's write end that our parent left open for us
    // (it passed its number); nothing else in this process owns or closes it.
    let count = unsafe { OwnedFd::from_raw_fd(count_fd) };
    keep_from_children(&count)?;
    private_namespaces()?;
    let hierarchies = hierarchies_here()?;
    join_job(&hierarchies, job)?;
    cgroup_namespace(&hierarchies)?;
    number_from_high_up();
    files::read_only_kernel_settings()?;
    let status = run_command(command);
    reap_orphans();
    let left = processes_left();
    // The outside reads this once we are gone; if it cannot, it counts 0.
    let _ = write!(File::from(count), "{left}");
    Ok(status)
}

/// New mount and UTS namespaces, `/` private in ours (so that no mount of ours
/// propagates to the host), the host's files read-only but where grading writes
/// (see `files.rs`), and a /proc of our PID namespace.
fn private_namespaces() -> Result<(), String> {
    unshare(CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUTS)
        .map_err(|e| format!("cannot make mount and UTS namespaces: {e}"))?;
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
        .map_err(|e| format!("cannot make / private: {e}"))?;
    files::contain_files()?;
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
            Ok(status) if status.pid() == Some(Pid::from_raw(pid)) => {
                if let Some(code) = exit_status(status) {
                    return code;
                }
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
