//! Step 4: a PID namespace, where `child` is PID 1.
//!
//! `step04-pid run CMD [ARGS]...` adds a new PID namespace: inside, `echo $$` is a
//! small number, yet `ps` still lists the host's processes, because `ps` reads
//! /proc and /proc is still the host's (step 5 fixes that). Being PID 1 brings
//! duties: pass signals on to CMD, and reap the orphans the kernel hands to us.

use std::ffi::{OsStr, OsString};
use std::fmt::Display;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitCode};
use std::{fs, io};

use clap::{Args, Parser, Subcommand};
use nix::errno::Errno;
use nix::sched::{CloneFlags, unshare};
use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::{SIGKILL, SigSet, Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, geteuid, getppid, sethostname};

// ANCHOR: cli
#[derive(Parser)]
#[command(about = "Step 4: a PID namespace of its own, with the child as PID 1")]
struct Cli {
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand)]
enum Action {
    /// Run CMD with ARGS in a container, wired to this terminal
    Run(Target),
    /// Inside the container: finish setting it up, then run CMD (started by `run`)
    #[command(hide = true)]
    Child(Target),
}

/// The command to run, exactly as typed after `run`.
#[derive(Args)]
struct Target {
    /// The program to run, then its arguments, passed on untouched (hyphens included)
    #[arg(value_name = "CMD", required = true, trailing_var_arg = true)]
    argv: Vec<OsString>,
}
// ANCHOR_END: cli

/// Why the container did not run, and the exit code that says who failed.
struct Failure {
    code: u8,
    message: String,
}

// ANCHOR: main
fn main() -> ExitCode {
    let outcome = match Cli::parse().action {
        Action::Run(target) => run(&target),
        Action::Child(target) => child(&target),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("{}: {}", env!("CARGO_PKG_NAME"), failure.message);
            ExitCode::from(failure.code)
        }
    }
}
// ANCHOR_END: main

// ANCHOR: run
/// Outside the container: make the namespaces, then start ourselves again inside them.
fn run(target: &Target) -> Result<u8, Failure> {
    // unshare() moves this process into a new UTS namespace, a copy of the host's;
    // the child we start next inherits it. Only root (CAP_SYS_ADMIN) may do this.
    // A new PID namespace is different: it does not take in the caller, only the
    // children it starts afterwards, and the first of them is its PID 1.
    unshare(CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWPID)
        .map_err(|err| failed("unshare(CLONE_NEWUTS | CLONE_NEWPID)", err))?;
    let signals = block_signals()?;
    // /proc/self/exe is the program this process runs: this very binary.
    let mut reexec = Command::new("/proc/self/exe");
    reexec.arg("child").args(&target.argv);
    let child =
        spawn_supervised(&mut reexec).map_err(|err| io_failed("re-execute /proc/self/exe", err))?;
    supervise(Pid::from_raw(child.id() as i32), &signals)
}
// ANCHOR_END: run

// ANCHOR: child
/// Inside the container, before the command starts: the moment to set it up.
fn child(target: &Target) -> Result<u8, Failure> {
    ensure_started_by_run()?;
    sethostname("container").map_err(|err| failed("sethostname(container)", err))?;
    run_command(target)
}

/// `run` starts us by re-executing its own program; started by hand from a shell,
/// we would change the host itself. So our parent must run this same program, or
/// be outside our PID namespace: as its PID 1, we see our parent as PID 0.
fn ensure_started_by_run() -> Result<(), Failure> {
    let exe = |pid: &str| fs::read_link(format!("/proc/{pid}/exe")).ok();
    let parent = getppid().as_raw();
    if parent == 0 || exe(&parent.to_string()) == exe("self") {
        return Ok(());
    }
    let message = "`child` is started by `run`, not by hand: here it would change the host".into();
    Err(Failure { code: 125, message })
}
// ANCHOR_END: child

// ANCHOR: run_command
/// Start the command with our stdin, stdout and stderr, and wait for it to end.
fn run_command(target: &Target) -> Result<u8, Failure> {
    let signals = block_signals()?;
    let command = spawn_supervised(Command::new(&target.argv[0]).args(&target.argv[1..]))
        .map_err(|err| cannot_start(&target.argv[0], err))?;
    supervise(Pid::from_raw(command.id() as i32), &signals)
}
// ANCHOR_END: run_command

// ANCHOR: pid1
/// Hold back the signals we pass on, so that they queue up for `supervise`: the
/// kernel drops any signal that a namespace's PID 1 has no handler for. Do it
/// before starting the command, so that none can slip through in between.
fn block_signals() -> Result<SigSet, Failure> {
    use Signal::*;
    let signals: SigSet = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD].into_iter().collect();
    signals.thread_block().map_err(|err| failed("sigprocmask", err))?;
    Ok(signals)
}

/// Start `command` for `supervise`: with no signal blocked (a new process inherits
/// its parent's mask), and killed if we die first, so a container does not outlive
/// `run`. (If we die before the new process reaches its prctl, no signal comes.)
fn spawn_supervised(command: &mut Command) -> io::Result<Child> {
    let prepare = || {
        SigSet::all().thread_unblock()?;
        Ok(set_pdeathsig(SIGKILL)?)
    };
    // SAFETY: `prepare` runs in the new process between fork and exec, where only
    // async-signal-safe calls are sound; sigprocmask and prctl are.
    unsafe { command.pre_exec(prepare) };
    command.spawn()
}

/// Wait for `main` to end, doing PID 1's duties meanwhile: pass signals on to it
/// (`kill` from the host reaches PID 1 only), and reap every child that ends, as
/// orphans become PID 1's children. (`run` waits the same way for `child`.)
fn supervise(main: Pid, signals: &SigSet) -> Result<u8, Failure> {
    loop {
        if let Some(code) = reap_children(main)? {
            return Ok(code);
        }
        match signals.wait().map_err(|err| failed("sigwait", err))? {
            Signal::SIGCHLD => {} // reaped at the top of the loop
            signal => {
                let _ = kill(main, signal); // fails only if `main` has just ended
            }
        }
    }
}

/// Reap every child that has ended; return `main`'s exit code if it is one of them:
/// its own status, or 128+n when signal n killed it (Docker's convention).
fn reap_children(main: Pid) -> Result<Option<u8>, Failure> {
    let mut main_code = None;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == main => main_code = Some(code as u8),
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == main => {
                main_code = Some(128 + sig as u8)
            }
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return Ok(main_code),
            Ok(_) => {} // an orphan, now reaped
            Err(err) => return Err(failed("waitpid", err)),
        }
    }
}
// ANCHOR_END: pid1

// ANCHOR: errors
/// The runtime itself failed (exit code 125): say which call and why.
fn failed(call: impl Display, err: Errno) -> Failure {
    let hint = match err {
        Errno::EPERM if !geteuid().is_root() => " — run as root (sudo)",
        Errno::EPERM => {
            " — refused although root: a security module (AppArmor, SELinux), a seccomp \
             filter or a container without this capability"
        }
        _ => "",
    };
    let message = format!("{call}: {}{hint}", err.desc());
    Failure { code: 125, message }
}

/// A file or process operation of the runtime failed (exit code 125).
fn io_failed(what: impl Display, err: io::Error) -> Failure {
    Failure { code: 125, message: format!("{what}: {err}") }
}

/// The command never started: 127 when it does not exist, 126 when it cannot be executed.
fn cannot_start(command: &OsStr, err: io::Error) -> Failure {
    let code = if err.kind() == io::ErrorKind::NotFound { 127 } else { 126 };
    let message = format!("cannot run {}: {err}", command.display());
    Failure { code, message }
}
// ANCHOR_END: errors
