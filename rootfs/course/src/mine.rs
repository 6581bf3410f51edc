//! `cargo course start N`: the learner's own copy of a step (not written yet).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct StartArgs {
    /// The step to start, 1 to 7.
    pub step: u8,
}

pub fn start(_args: StartArgs) -> ExitCode {
    eprintln!("course start: not written yet");
    ExitCode::from(2)
}
