//! Step 2: a UTS namespace, so the container has a hostname of its own.
//!
//! `step02-uts run CMD [ARGS]...` runs CMD in a new UTS namespace: `hostname x`
//! inside changes nothing on the host. The new namespace starts as a copy of the
//! host's, so the hostname (and your shell prompt) still shows the host's name.

use std::ffi::{OsStr, OsString};
use std::fmt::Display;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitCode, ExitStatus};

use clap::{Args, Parser, Subcommand};
use nix::errno::Errno;
use nix::sched::{CloneFlags, unshare};
use nix::unistd::geteuid;

// ANCHOR: cli
#[derive(Parser)]
#[command(about = "Step 2: run a command with a hostname of its own (UTS namespace)")]
struct Cli {
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand)]
enum Action {
    /// Run CMD with ARGS, wired to this terminal
    Run(Target),
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
/// Set up the container, then run the command in it.
fn run(target: &Target) -> Result<u8, Failure> {
    // unshare() moves this process into a new UTS namespace, a copy of the host's;
    // the command we start next inherits it. Only root (CAP_SYS_ADMIN) may do this.
    unshare(CloneFlags::CLONE_NEWUTS).map_err(|err| failed("unshare(CLONE_NEWUTS)", err))?;
    run_command(target)
}
// ANCHOR_END: run

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
