//! `cargo course …` (an alias in .cargo/config.toml for `cargo run -q -p course --`):
//! the one command a learner and a teacher type besides `cargo run` and `cargo test`.
//!
//! - `doctor`: will each step work on this machine, and if not, why and the fix;
//! - `start N`: your own copy of step N, from its starter, in `stepNN-*/mine/`
//!   (`--exercise NAME`: an exercise's TODOs put into it);
//! - `hint N`: a hint for your copy's next TODO(step N), one level more each time
//!   (`--exercise NAME`: for the exercise's TODOs);
//! - `grade N…`: grade your copy (or any program, `--bin`), one line per step;
//! - `checks N`: the checks step N is graded by, in plain words;
//! - `class DIR`: grade a whole class, a table and a CSV.
//!
//! It runs as you, not as root: what needs root (the containers, the tests) goes
//! through cargo's runner, which asks sudo for it.

mod checks;
mod class;
mod contain;
mod doctor;
mod engine;
mod escape;
mod grade;
mod hint;
mod mine;
mod proofs;
mod soak;
mod starter;
mod steps;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo course",
    about = "Containers from scratch: doctor, start, hint, grade, checks, class"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Say, for each step, whether it will work on this machine, and if not, why and the fix.
    Doctor(doctor::Args),
    /// Make your own copy of step N from its starter (stepNN-*/mine/), to write the step yourself.
    Start(mine::StartArgs),
    /// A hint for the next TODO(step N) of your copy (or of an exercise): one level more each time.
    Hint(hint::Args),
    /// Grade your copy of the steps (or any program with --bin): one line per step.
    Grade(grade::Args),
    /// List the checks a step is graded by, and what each one checks.
    Checks(checks::Args),
    /// Grade a whole class: one folder per student holding step01 … step07.
    Class(class::Args),
    /// The course's own proofs (for its developers and CI): `course dev proofs`.
    #[command(hide = true, subcommand)]
    Dev(proofs::Dev),
    /// Try to break out of the containers a program makes: one line per escape, held or escaped.
    Escape(escape::Args),
    /// Run one command contained, as `class` runs each grading (root; not for learners).
    #[command(hide = true)]
    Contain(contain::Args),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Doctor(args) => doctor::run(args),
        Command::Start(args) => mine::start(args),
        Command::Hint(args) => hint::run(args),
        Command::Grade(args) => grade::run(args),
        Command::Checks(args) => checks::run(args),
        Command::Class(args) => class::run(args),
        Command::Escape(args) => escape::run(args),
        Command::Contain(args) => contain::run(args),
        Command::Dev(dev) => proofs::run(dev),
    }
}
