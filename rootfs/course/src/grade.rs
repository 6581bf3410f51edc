//! `cargo course grade` (not written yet).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> ExitCode {
    eprintln!("course grade: not written yet");
    ExitCode::from(2)
}
