// TODO(step 4): this is step 3's program. Make it step 4: a new PID namespace in which
//   `child` is PID 1, with PID 1's duties. Two rounds: first the namespace, then the duties.
//! Step 3: re-execute ourselves inside the namespace to set it up from within.
//!
//! `step03-reexec run CMD [ARGS]...` makes the namespace, then starts this same
//! program again through /proc/self/exe as `child CMD [ARGS]...`. The child is the
//! first process inside the container: it sets the hostname to `container`, then
//! starts CMD, so the shell prompt shows `container` from the start.

use std::ffi::{OsStr, OsString};
use std::fmt::Display;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitCode, ExitStatus};
use std::{fs, io};

use clap::{Args, Parser, Subcommand};
use nix::errno::Errno;
use nix::sched::{CloneFlags, unshare};
use nix::unistd::{geteuid, sethostname};

// ANCHOR: cli
#[derive(Parser)]
#[command(about = "Step 3: set the hostname from inside, via a re-executed child")]
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
/// Outside the container: make the namespace, then start ourselves again inside it.
fn run(target: &Target) -> Result<u8, Failure> {
    // unshare() moves this process into a new UTS namespace, a copy of the host's;
    // the child we start next inherits it. Only root (CAP_SYS_ADMIN) may do this.
    // TODO(step 4), round 1: add CloneFlags::CLONE_NEWPID to this unshare. It does not move
    //   this process: the first child started after it becomes PID 1 of the new namespace.
    //   Run it: `echo $$` inside prints a small number; `ps` still lists the host's processes.
    unshare(CloneFlags::CLONE_NEWUTS).map_err(|err| failed("unshare(CLONE_NEWUTS)", err))?;
    // /proc/self/exe is the program this process runs: this very binary.
    let status = Command::new("/proc/self/exe")
        .arg("child")
        .args(&target.argv)
        .status()
        .map_err(|err| io_failed("re-execute /proc/self/exe", err))?;
    Ok(exit_code(status))
}
// ANCHOR_END: run

// ANCHOR: child
/// Inside the container, before the command starts: the moment to set it up.
fn child(target: &Target) -> Result<u8, Failure> {
    ensure_started_by_run()?;
    sethostname("container").map_err(|err| failed("sethostname(container)", err))?;
    run_command(target)
}

/// `run` starts us inside a UTS namespace it made; started by hand on the host, we
/// would share the host's and change the host itself. Our /proc is still the host's
/// here, so its PID 1 is the host's init: sharing its namespace means `run` made none.
fn ensure_started_by_run() -> Result<(), Failure> {
    let uts = |pid: &str| fs::read_link(format!("/proc/{pid}/ns/uts")).ok();
    if uts("self") != uts("1") {
        return Ok(());
    }
    let message = "`child` is started by `run`, not by hand: here it would change the host".into();
    Err(Failure { code: 125, message })
}
// ANCHOR_END: child

// ANCHOR: run_command
// TODO(step 4), round 2: PID 1's duties, in `run_command` (child, PID 1) and in `run`:
//   - block SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGCHLD (SigSet::thread_block) BEFORE
//     starting the process: the kernel drops signals a namespace's PID 1 has no handler
//     for, and a blocked signal waits in the queue instead;
//   - start the process with those signals unblocked again and with
//     nix::sys::prctl::set_pdeathsig(SIGKILL), both in CommandExt::pre_exec, so that it
//     dies if we die;
//   - instead of `.status()`, loop: reap every ended child with
//     waitpid(None, WNOHANG) (orphans are handed to PID 1), and when the one we started
//     has ended return its exit code (128+n if signal n killed it); otherwise wait for
//     the next blocked signal (SigSet::wait) and pass it on to the process with kill.
/// Start the command with our stdin, stdout and stderr, and wait for it to end.
fn run_command(target: &Target) -> Result<u8, Failure> {
    let status = Command::new(&target.argv[0])
        .args(&target.argv[1..])
        .status()
        .map_err(|err| cannot_start(&target.argv[0], err))?;
    Ok(exit_code(status))
}
// ANCHOR_END: run_command

// ANCHOR: errors
/// The runtime itself failed (exit code 125): say which call and why.
fn failed(call: impl Display, err: Errno) -> Failure {
    let hint = match err {
        Errno::EPERM if !geteuid().is_root() => " — run as root (sudo)",
        Errno::EPERM => {
            " — refused although root: a security module (AppArmor, SELinux, seccomp) or a \
             container without this capability"
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

/// Docker's convention: the command's own status, or 128+n when signal n killed it.
fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code as u8,
        (None, Some(signal)) => 128 + signal as u8,
        (None, None) => 125,
    }
}
// ANCHOR_END: errors
