//! `cargo course dev proofs`: that every check can fail (being written).

use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Dev {
    /// Run the proofs
    Proofs,
}

pub fn run(dev: Dev) -> ExitCode {
    match dev {
        Dev::Proofs => {
            eprintln!("course dev proofs: not written yet");
            ExitCode::from(2)
        }
    }
}
