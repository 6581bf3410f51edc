//! `cargo course grade N…`: grade your own copy of a step (or any program, `--bin`)
//! against that step's graded checks (crate::engine), one line per step:
//! `step04-pid: pass`, or the first failed check and a hint at its cause.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, SystemTime};

use harness::report::render;

use crate::engine::{self, Grading, Target, Verdict};
use crate::mine;
use crate::steps::{Step, repo};

#[derive(clap::Args)]
pub struct Args {
    /// The steps to grade, 1 to 7 (with no --bin: every step you have a copy of, when none is given)
    #[arg(value_parser = clap::value_parser!(u8).range(1..=7))]
    steps: Vec<u8>,
    /// Grade this program instead of your copies: any language, keeping the course's contract
    #[arg(long, value_name = "PATH")]
    bin: Option<PathBuf>,
    /// Print every failed check in full: what was expected, what the kernel showed, the hint
    #[arg(short, long)]
    verbose: bool,
    /// Grade one of the step's exercises instead (its check in tests/exercises.rs)
    #[arg(long, value_name = "NAME")]
    exercise: Option<String>,
    /// Run only the checks whose name contains TEXT (`feature_`: what the step adds)
    #[arg(long, value_name = "TEXT", conflicts_with = "exercise")]
    filter: Option<String>,
    /// Grade again each time you save your copy (or the program changes); Ctrl-C stops
    #[arg(long)]
    watch: bool,
}

/// `cargo course grade`.
pub fn run(args: Args) -> ExitCode {
    let steps = match chosen_steps(&args) {
        Ok(steps) => steps,
        Err(message) => {
            eprintln!("course grade: {message}");
            return ExitCode::from(2);
        }
    };
    if !args.watch {
        return grade_all(&args, &steps);
    }
    let mut seen = last_change(&args, &steps);
    loop {
        grade_all(&args, &steps);
        println!("(watching for changes; Ctrl-C to stop)");
        while last_change(&args, &steps) == seen {
            thread::sleep(Duration::from_millis(500));
        }
        seen = last_change(&args, &steps);
        println!("\n--- changed: grading again ---");
    }
}

/// The steps asked for; with none, every step you have started (or all seven for --bin).
fn chosen_steps(args: &Args) -> Result<Vec<Step>, String> {
    let steps: Vec<Step> = if args.steps.is_empty() {
        let all = Step::all()?;
        if args.bin.is_some() {
            all
        } else {
            all.into_iter().filter(|step| mine::dir(step).exists()).collect()
        }
    } else {
        args.steps.iter().map(|n| Step::number(*n)).collect::<Result<_, _>>()?
    };
    if steps.is_empty() {
        return Err("you have not started any step yet: `cargo course start 1`".into());
    }
    if args.exercise.is_some() && steps.len() != 1 {
        return Err("--exercise grades one step's exercise: name that step".into());
    }
    Ok(steps)
}

/// Grade each step in turn; the exit code is the worst of them (0 all passed, 1 a
/// check failed, 2 a step could not be graded).
fn grade_all(args: &Args, steps: &[Step]) -> ExitCode {
    let mut worst = 0;
    for step in steps {
        // A program that hangs costs each check its time limit: say that we are at it.
        eprintln!("grading {}…", step.name);
        let before = top_cgroups();
        let code = match program(args, step) {
            Ok(bin) => grade(args, step, &bin),
            Err(message) => {
                println!("{}: ERROR ({message})", step.name);
                2
            }
        };
        report_cgroups_left(&before);
        worst = worst.max(code);
    }
    ExitCode::from(worst)
}

/// The program to grade as `step`: --bin, or your copy, built now.
fn program(args: &Args, step: &Step) -> Result<PathBuf, String> {
    match &args.bin {
        // Absolute, as the tests run in the course's directory; links kept: a
        // program may pick its step from its own name.
        Some(bin) => std::path::absolute(bin).map_err(|err| format!("{}: {err}", bin.display())),
        None => mine::build(step),
    }
}

/// Grade `bin` as `step`, print its line (and with -v every failure in full); its
/// exit code: 0 passed, 1 a check failed, 2 it could not be graded.
fn grade(args: &Args, step: &Step, bin: &Path) -> u8 {
    let repo = repo();
    let target = match &args.exercise {
        Some(name) => Target::Exercise(name.clone()),
        None => Target::Graded { filter: args.filter.clone() },
    };
    let grading = Grading {
        repo: &repo,
        step,
        bin,
        target,
        wrapper: engine::unshare_wrapper(),
        env: Vec::new(),
    };
    let verdict = match engine::check_no_spaces(&repo) {
        Ok(()) => grading.verdict(),
        Err(message) => Verdict::Error(message),
    };
    let mut line = verdict.line(&grading.label());
    if let (None, Verdict::Fail { .. }) = (&args.bin, &verdict) {
        let mark = match &args.exercise {
            Some(name) => format!("TODO({name})"),
            None => format!("TODO(step {})", step.number),
        };
        line += &todos_left(step, &mark);
    }
    println!("{line}");
    if let (true, Verdict::Fail { failed, .. }) = (args.verbose, &verdict) {
        for record in failed {
            let failure = record.failure.clone().unwrap_or_default();
            println!("  {}:", record.test);
            for line in render(&failure).trim_matches('\n').lines() {
                println!("    {line}");
            }
        }
    }
    match verdict {
        Verdict::Pass { .. } => 0,
        Verdict::Fail { .. } => 1,
        Verdict::Error(_) => 2,
    }
}

/// What is still to do in your copy of `step`, for its failing line: ` (your copy has 2
/// TODO(step 4) comments left, the first at src/main.rs:57)` (an exercise's: `TODO(NAME)`), or
/// nothing when none is left.
fn todos_left(step: &Step, mark: &str) -> String {
    let main = mine::dir(step).join("src/main.rs");
    let text = fs::read_to_string(&main).unwrap_or_default();
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| line.contains(mark))
        .map(|(i, _)| i + 1)
        .collect();
    match lines.first() {
        None => String::new(),
        Some(first) => {
            format!(
                " (your copy has {} {mark} comments left, the first at src/main.rs:{first})",
                lines.len()
            )
        }
    }
}

/// The cgroups at the top of the cgroup hierarchies (v2's, and v1's pids), with
/// whether each holds no process.
fn top_cgroups() -> Vec<(PathBuf, bool)> {
    let tops = ["/sys/fs/cgroup", "/sys/fs/cgroup/pids"];
    let dirs = tops.iter().flat_map(|top| fs::read_dir(top).into_iter().flatten().flatten());
    let cgroups = dirs.filter_map(|dir| {
        let procs = fs::read_to_string(dir.path().join("cgroup.procs")).ok()?;
        Some((dir.path(), procs.trim().is_empty()))
    });
    cgroups.collect()
}

/// Say which cgroups the graded program made and left behind (new since `before`,
/// and empty), and the command that removes them: grading runs as root, this
/// command as you, so it only says.
fn report_cgroups_left(before: &[(PathBuf, bool)]) {
    // Another grading's containers make cgroups too, and remove them as they end:
    // while one runs, before its look at the cgroups and after it, a new empty one
    // may be its.
    let others = engine::another_grading_runs();
    let left: Vec<String> = top_cgroups()
        .into_iter()
        .filter(|(dir, empty)| *empty && !before.iter().any(|(old, _)| old == dir))
        .map(|(dir, _)| dir.display().to_string())
        .collect();
    if !left.is_empty() && (others || engine::another_grading_runs()) {
        println!(
            "  {} new empty cgroup(s) ({}), but another grading runs on this machine: they may \
             be its; grade again alone to know",
            left.len(),
            left.join(" ")
        );
    } else if !left.is_empty() {
        println!(
            "  your program left {} empty cgroup(s) behind; remove them with: sudo rmdir {}",
            left.len(),
            left.join(" ")
        );
    }
}

/// When the programs to grade last changed: your copies' sources, or --bin.
fn last_change(args: &Args, steps: &[Step]) -> Option<SystemTime> {
    let sources: Vec<PathBuf> = match &args.bin {
        Some(bin) => vec![bin.clone()],
        None => steps.iter().map(|step| mine::dir(step).join("src")).collect(),
    };
    sources.iter().filter_map(|path| newest(path)).max()
}

/// The newest modification time of a file, or of any file below a directory.
fn newest(path: &Path) -> Option<SystemTime> {
    let meta = path.metadata().ok()?;
    let own = meta.modified().ok();
    if !meta.is_dir() {
        return own;
    }
    let entries = path.read_dir().ok()?.flatten();
    entries.filter_map(|entry| newest(&entry.path())).chain(own).max()
}
