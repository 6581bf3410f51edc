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
use nix::unistd::{geteuid, getppid, sethostname};

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

/// `run` starts us by re-executing its own program; started by hand from a shell,
/// we would change the host itself. So our parent must run this same program.
fn ensure_started_by_run() -> Result<(), Failure> {
    let exe = |pid: &str| fs::read_link(format!("/proc/{pid}/exe")).ok();
    if exe(&getppid().to_string()) == exe("self") {
        return Ok(());
    }
    let message = "`child` is started by `run`, not by hand: here it would change the host".into();
    Err(Failure { code: 125, message })
}
// ANCHOR_END: child

// ANCHOR: run_command
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

/// Docker's convention: the command's own status, or 128+n when signal n killed it.
fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code as u8,
        (None, Some(signal)) => 128 + signal as u8,
        (None, None) => 125,
    }
}
// ANCHOR_END: errors
