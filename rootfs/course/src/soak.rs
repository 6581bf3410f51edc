//! `cargo course dev soak`: grade the course's own program of a step again and
//! again, optionally with every core kept busy, and count the gradings that did not
//! pass. A check that fails once in a hundred gradings of a correct program is a
//! defect of the check (a learner trusts `pass`, and so must they trust `FAIL`):
//! this finds such flakes and shows they are gone.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Instant;

use crate::engine::{self, Grading, Target, Verdict};
use crate::steps::{Step, repo};

#[derive(clap::Args)]
pub struct SoakArgs {
    /// The steps to grade, 1 to 7
    #[arg(required = true, value_parser = clap::value_parser!(u8).range(1..=7))]
    steps: Vec<u8>,
    /// How many times to grade each step
    #[arg(long, default_value_t = 200)]
    times: u32,
    /// Keep every core busy meanwhile (a loaded machine)
    #[arg(long)]
    load: bool,
}

/// `cargo course dev soak`: exit 0 when every grading passed, 1 when one did not.
pub fn run(args: SoakArgs) -> ExitCode {
    let stop = Arc::new(AtomicBool::new(false));
    let hogs: Vec<_> = if args.load { busy_cores(&stop) } else { Vec::new() };
    let failed = soak(&args);
    stop.store(true, Ordering::SeqCst);
    for hog in hogs {
        let _ = hog.join();
    }
    match failed {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(message) => {
            eprintln!("course dev soak: {message}");
            ExitCode::from(2)
        }
    }
}

/// Grade each step `times` times; print each grading that did not pass, and a
/// closing line `N passed, M failed`; the number that did not pass.
fn soak(args: &SoakArgs) -> Result<u32, String> {
    let repo = repo();
    let mut failed = 0;
    for number in &args.steps {
        let step = Step::number(*number)?;
        let bin = program(&step);
        let started = Instant::now();
        let mut passed = 0;
        for round in 1..=args.times {
            let grading = Grading {
                repo: &repo,
                step: &step,
                bin: &bin,
                target: Target::Graded { filter: None },
                wrapper: engine::unshare_wrapper(),
                env: Vec::new(),
            };
            match grading.verdict() {
                Verdict::Pass { .. } => passed += 1,
                verdict => {
                    failed += 1;
                    println!("{} round {round}: {}", step.name, verdict.line(&step.name));
                }
            }
        }
        let load = if args.load { ", every core busy" } else { "" };
        println!(
            "{}: {passed} of {} gradings passed in {:.0?}{load}",
            step.name,
            args.times,
            started.elapsed()
        );
    }
    let total = args.times * args.steps.len() as u32;
    println!("{} passed, {failed} failed", total - failed);
    Ok(failed)
}

/// The course's own program of `step`, as cargo built it.
fn program(step: &Step) -> PathBuf {
    repo().join("target/debug").join(&step.name)
}

/// One thread per core spinning until `stop`.
fn busy_cores(stop: &Arc<AtomicBool>) -> Vec<thread::JoinHandle<()>> {
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let spin = |stop: Arc<AtomicBool>| {
        move || {
            while !stop.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        }
    };
    (0..cores).map(|_| thread::spawn(spin(Arc::clone(stop)))).collect()
}
