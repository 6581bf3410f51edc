// TODO(step 2): this is step 1's program. Make it step 2: the command gets a hostname of
//   its own, in a new UTS namespace. Run `cargo course grade 2` to see what the kernel shows.
//! Step 1: run a command. No isolation yet.
//!
//! `step01-exec run CMD [ARGS]...` starts CMD wired to our terminal, waits for it
//! and exits with its status. CMD sees the host's hostname, processes and files:
//! every later step is this program plus one wall around CMD.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitCode, ExitStatus};

use clap::{Args, Parser, Subcommand};

// ANCHOR: cli
#[derive(Parser)]
#[command(about = "Step 1: run a command, with no isolation yet")]
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
/// Set up the container, then run the command in it. Nothing to set up yet.
fn run(target: &Target) -> Result<u8, Failure> {
    // TODO(step 2): move this process into a new UTS namespace before starting the command:
    //   nix::sched::unshare(CloneFlags::CLONE_NEWUTS). The command inherits it. If unshare
    //   fails, return a Failure with exit code 125 that names the call and the errno
    //   (e.g. "unshare(CLONE_NEWUTS): Operation not permitted"): write a small `failed`
    //   helper next to `cannot_start` below.
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
