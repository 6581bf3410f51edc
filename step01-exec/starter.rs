//! Step 1: run a command. No isolation yet.
//!
//! `step01-exec run CMD [ARGS]...` starts CMD wired to our terminal, waits for it
//! and exits with its status. CMD sees the host's hostname, processes and files:
//! every later step is this program plus one wall around CMD.

// TODO(step 1): the command line is parsed for you (clap, below), and `main` turns
//   the outcome into an exit code. Write `run_command`, at the end of this file.
//   Run it with the command `cargo course start 1` printed, e.g. `... -- run /bin/sh`.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

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

/// Why the container did not run, and the exit code that says who failed.
struct Failure {
    code: u8,
    message: String,
}

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

/// Set up the container, then run the command in it. Nothing to set up yet.
fn run(target: &Target) -> Result<u8, Failure> {
    run_command(target)
}

/// Start the command with our stdin, stdout and stderr, and wait for it to end.
fn run_command(target: &Target) -> Result<u8, Failure> {
    // TODO(step 1): start target.argv[0] with the arguments target.argv[1..]
    //   (std::process::Command; it inherits our stdin, stdout and stderr), wait for it,
    //   and return the exit code Docker would: the command's own status, or 128+n when
    //   signal n killed it (ExitStatusExt::signal). If it cannot start: 127 when it does
    //   not exist (io::ErrorKind::NotFound), else 126, with a message naming the command.
    let _ = target;
    let message = "run_command is not written yet: see its TODO(step 1)".to_string();
    Err(Failure { code: 125, message })
}
