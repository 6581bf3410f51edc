//! Outside: the job's cgroups, its first process in a new PID namespace, the time
//! limit, and the cleanup.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sched::{CloneFlags, unshare};
use nix::sys::signal::{SigSet, Signal, kill};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::{Pid, getpid, pipe};

use super::cgroups::{
    Home, cgroups_below, hierarchies_here, make_homes, processes_in, remove_homes,
};
use super::{Args, Cleanup, POLL, exit_status, keep_from_children, write_report};

/// Exit status when the time was up (as `timeout` says it).
const TIME_UP: u8 = 124;
/// How long killed processes may take to die and leave their cgroups.
const GRACE: Duration = Duration::from_secs(10);

/// How the job's first process ended, seen from outside.
enum End {
    /// It exited (its status is COMMAND's) and wrote how many processes were left.
    Ended { status: u8, processes_left: usize },
    /// We killed it: the time was up, or we were told to stop (SIGINT, SIGTERM, SIGHUP).
    Killed { status: u8, timed_out: bool, processes: usize },
}

/// Makes the job's cgroups, runs the job, removes the cgroups whatever happened,
/// and writes the report: COMMAND's exit status, or 124.
pub(super) fn outside(args: &Args) -> Result<u8, String> {
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

/// Starts this program again, as the job's PID 1 (see [`super::inside`]).
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
        Ok(status) => Ok(exit_status(status)),
        Err(Errno::EINTR) => Ok(None),
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

/// The count PID 1 wrote before it exited (0 if it wrote none: it failed early).
fn read_count(count_read: OwnedFd) -> Result<usize, String> {
    let mut text = String::new();
    File::from(count_read)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read the job's count of processes left: {e}"))?;
    Ok(text.trim().parse().unwrap_or(0))
}
