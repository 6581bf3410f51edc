//! `cargo course dev proofs`: the proofs that the graded checks are a fair grader,
//! as one engine driven by data (they were five bash scripts in .ci/).
//!
//! A proof is a row of [`table`]: a program (a variant: the course's step, the step
//! before, the Go or C program, a starter, a starter solved, an exercise's solution,
//! a mistake of the catalogue, [`mistakes`]), the step it is graded as, through what
//! (all the graded checks, the feature ones, an exercise's, or the step's own
//! tests), and what must come out (pass, fail, fail every feature check, or fail a
//! named check with a verdict that says its cause). The changed programs are built
//! in scratch packages ([`variants`]), the step's tests once, and each program is
//! graded by the engine with `CONTAINER_BIN` naming it ([`run`]). The class proofs
//! are not rows: one class of five is made and graded twice by `course class`
//! ([`class`]), after the rows. One line per proof, then `N passed, M failed`; exit
//! code 1 if a proof went WRONG.

mod class;
mod mistakes;
mod run;
mod table;
mod variants;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::{Instant, SystemTime};

use nix::fcntl::{Flock, FlockArg};
use nix::unistd::Pid;

use crate::steps::{Step, repo};
use table::{Kind, Proof, Variant};

#[derive(clap::Subcommand)]
pub enum Dev {
    /// Run the course's proofs: every check can fail, and fails only without its feature
    Proofs(ProofsArgs),
    /// Grade the course's own program of some steps many times (--load: every core busy)
    Soak(crate::soak::SoakArgs),
}

#[derive(clap::Args)]
pub struct ProofsArgs {
    /// Run only these kinds of proof (repeated, or separated by commas)
    #[arg(long, value_enum, value_name = "KIND", value_delimiter = ',')]
    only: Vec<Kind>,
    /// Show cargo's output, and every failed check of every proof in full
    #[arg(short, long)]
    verbose: bool,
    /// Run only the proofs whose line contains these words (`lock_seccomp`, `step04-pid`)
    #[arg(long, value_name = "WORDS")]
    filter: Option<String>,
    /// Keep the scratch packages (target/proofs/) afterwards
    #[arg(long)]
    keep: bool,
    /// How many programs are graded at once (never two of one step, nor of steps 5 to 7)
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=8))]
    jobs: u16,
}

pub fn run(dev: Dev) -> ExitCode {
    let args = match dev {
        Dev::Proofs(args) => args,
        Dev::Soak(args) => return crate::soak::run(args),
    };
    match prove(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("course dev proofs: {message}");
            ExitCode::from(2)
        }
    }
}

/// Run the proofs asked for: Ok(whether every one held), or why they could not run.
fn prove(args: &ProofsArgs) -> Result<bool, String> {
    let kinds = if args.only.is_empty() { Kind::ALL.to_vec() } else { args.only.clone() };
    let steps = Step::all()?;
    let mut proofs = table::proofs(&kinds, &steps)?;
    if let Some(words) = &args.filter {
        proofs.retain(|proof| proof.title(&steps).contains(words.as_str()));
    }
    let _lock = lock_target_dir()?;
    let started = (Instant::now(), SystemTime::now());
    let outcome = match proofs.is_empty() {
        true => Ok((Vec::new(), 0.0)),
        false => make_and_run(args, &steps, &proofs),
    };
    if !args.keep {
        let scratch = variants::scratch_dir();
        fs::remove_dir_all(&scratch)
            .or_else(|err| if scratch.exists() { Err(err) } else { Ok(()) })
            .map_err(|err| format!("cannot remove {}: {err}", scratch.display()))?;
    }
    remove_cgroups_left(started.1);
    let (mut outcomes, making) = outcome?;
    let mut kinds_run: Vec<Kind> = proofs.iter().map(|proof| proof.kind).collect();
    if kinds.contains(&Kind::Class) {
        let class = class::prove(&steps, args.verbose);
        kinds_run.extend(class.iter().map(|_| Kind::Class));
        outcomes.extend(class);
    }
    print_timings(&kinds_run, &outcomes, making, started.0);
    let failed = outcomes.iter().filter(|outcome| !outcome.ok).count();
    if failed > 0 {
        // Again at the end: a log cut to its tail still says which ones.
        println!("failed:");
        outcomes
            .iter()
            .filter(|outcome| !outcome.ok)
            .for_each(|outcome| println!("{}", outcome.line));
    }
    println!("{} passed, {failed} failed", outcomes.len() - failed);
    Ok(failed == 0)
}

/// Build the step's tests and every variant's program, then run the proofs: their
/// outcomes, and how long making the programs took.
fn make_and_run(
    args: &ProofsArgs,
    steps: &[Step],
    proofs: &[Proof],
) -> Result<(Vec<run::Outcome>, f64), String> {
    let making = Instant::now();
    eprintln!("proofs: building the steps' tests and {} proofs' programs…", proofs.len());
    build_steps_tests(steps, args.verbose)?;
    let variants: Vec<&Variant> = proofs.iter().map(|proof| &proof.variant).collect();
    let programs = variants::make_all(&variants, steps, args.verbose);
    let making = making.elapsed().as_secs_f64();
    eprintln!("proofs: programs made in {making:.0}s; grading them, {} at a time", args.jobs);
    let runner = run::Runner { steps, programs: &programs, verbose: args.verbose };
    Ok((run::run_all(proofs, &runner, usize::from(args.jobs)), making))
}

/// Build every step's program and test binaries once (the gradings then share
/// them): its graded checks, exercises and own tests.
fn build_steps_tests(steps: &[Step], verbose: bool) -> Result<(), String> {
    for step in steps {
        let mut cargo = variants::cargo();
        cargo.current_dir(repo()).args(["test", "--no-run", "-p", &step.name]);
        cargo.args(["--test", &format!("step{:02}", step.number), "--test", "exercises"]);
        for test in run::own_test_names(step)? {
            cargo.args(["--test", &test]);
        }
        if !verbose {
            cargo.arg("-q");
        }
        let out = cargo.stdin(Stdio::null()).output().map_err(|err| err.to_string());
        out.and_then(|out| variants::succeeded(&out))
            .map_err(|why| format!("{}'s tests do not build: {why}", step.name))?;
    }
    Ok(())
}

/// One run at a time per target directory: two would rebuild each other's scratch
/// packages and grade each other's programs.
fn lock_target_dir() -> Result<Flock<File>, String> {
    let dir = variants::target_dir();
    fs::create_dir_all(&dir).map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    let open = || File::open(&dir).map_err(|err| format!("cannot open {}: {err}", dir.display()));
    match Flock::lock(open()?, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(lock),
        Err((file, _)) => {
            eprintln!("proofs: another run uses {}; waiting for it", dir.display());
            Flock::lock(file, FlockArg::LockExclusive)
                .map_err(|(_, err)| format!("cannot lock {}: {err}", dir.display()))
        }
    }
}

/// Per kind: the proofs, and the time their gradings took (summed: two run at once).
fn print_timings(kinds: &[Kind], outcomes: &[run::Outcome], making: f64, started: Instant) {
    let mut per_kind: BTreeMap<Kind, (usize, f64)> = BTreeMap::new();
    for (kind, outcome) in kinds.iter().zip(outcomes) {
        let entry = per_kind.entry(*kind).or_default();
        entry.0 += 1;
        entry.1 += outcome.seconds;
    }
    let kinds: Vec<String> = per_kind
        .iter()
        .map(|(kind, (count, seconds))| format!("{} {count} in {seconds:.0}s", kind.name()))
        .collect();
    println!(
        "time: {:.0}s in all; making the programs {making:.0}s; grading (summed per kind): {}",
        started.elapsed().as_secs_f64(),
        kinds.join(", ")
    );
}

/// Remove the cgroups of containers that a changed program left (made since the run
/// started, their runtime gone): `container-PID` (Rust, Go) and `c-container-PID`,
/// and `container`, the one cgroup the fixed-name mistake makes (the kernel refuses
/// to remove it while a process is in it).
/// As yourself, the ones grading made as root are only named.
fn remove_cgroups_left(since: SystemTime) {
    let tops = ["/sys/fs/cgroup", "/sys/fs/cgroup/pids"];
    let dirs = tops.iter().flat_map(|top| fs::read_dir(top).into_iter().flatten().flatten());
    for dir in dirs.map(|entry| entry.path()) {
        if is_ours_and_left(&dir, since) && fs::remove_dir(&dir).is_err() {
            eprintln!("proofs: a cgroup was left: {} (sudo rmdir it)", dir.display());
        }
    }
}

fn is_ours_and_left(dir: &Path, since: SystemTime) -> bool {
    let Some(name) = dir.file_name().and_then(|name| name.to_str()) else { return false };
    let new = || dir.metadata().and_then(|meta| meta.modified()).is_ok_and(|made| made >= since);
    if name == "container" {
        return new();
    }
    let pid = name.strip_prefix("c-container-").or_else(|| name.strip_prefix("container-"));
    let Some(pid) = pid.and_then(|pid| pid.parse::<i32>().ok()) else { return false };
    let runtime_gone = nix::sys::signal::kill(Pid::from_raw(pid), None).is_err();
    new() && runtime_gone
}
