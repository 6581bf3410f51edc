//! `cargo course doctor` (not written yet).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> ExitCode {
    eprintln!("course doctor: not written yet");
    ExitCode::from(2)
}
