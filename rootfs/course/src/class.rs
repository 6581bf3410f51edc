//! `cargo course class DIR`: grade a whole class. DIR holds one folder per student;
//! each holds that student's programs, in any language, named `step01` … `step07`
//! (and `stepNN-EXERCISE` for an exercise, e.g. `step06-pivot_root`).
//!
//! Every program is graded by the engine (crate::engine), as `cargo course grade
//! --bin` does, but contained and bounded: each student × step's test binary runs
//! through `course contain` (crate::contain), in PID, mount, UTS and cgroup
//! namespaces of its own and a cgroup of its own, under a time limit. When the
//! grading of a step ends, or its time is up, every process left in it is killed
//! (daemons included), mounts go with the mount namespace, and the cgroups the
//! programs left are removed; the table says, per student, what had to be cleaned
//! up. The host's files are read-only in the job, and what it writes (in /tmp, a
//! home, the course's rootfs/ and target/) goes to overlays that go with it: that
//! stops accidents and ordinary hostile writes, not a root program that remounts
//! on purpose (see the teacher's page). Inside a job the tests run one at a time,
//! so that the same program gets the same result every time.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{self, Command, ExitCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

use nix::unistd::geteuid;

use crate::contain::{self, Cleanup};
use crate::engine::{self, Grading, Target};
use crate::steps::{Step, repo};

#[derive(clap::Args)]
pub struct Args {
    /// The class: one folder per student, holding executables step01 … step07 (and
    /// stepNN-EXERCISE for exercises)
    dir: PathBuf,
    /// How many gradings run at once
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    jobs: u32,
    /// The time limit for one student's step, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(5..=86_400))]
    timeout: u64,
    /// Where to write the CSV (one row per student and step)
    #[arg(long, value_name = "FILE", default_value = "grades.csv")]
    csv: PathBuf,
}

/// One thing to grade: a student's program for a step (or one of its exercises).
struct Job {
    student: String,
    column: String,
    step: u8,
    exercise: Option<String>,
    program: Option<PathBuf>,
}

/// What grading one job found.
struct Grade {
    verdict: Verdict,
    /// The first failed check and its hint, or why it could not be graded.
    detail: String,
    /// What the grading had to clean up after the program.
    cleanup: Cleanup,
}

/// A job's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Pass,
    Fail { failed: usize, total: usize },
    Missing,
    TimedOut,
    Error,
}

impl Verdict {
    /// The word for the CSV's verdict column.
    fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail { .. } => "FAIL",
            Verdict::Missing => "missing",
            Verdict::TimedOut => "timed out",
            Verdict::Error => "ERROR",
        }
    }

    /// What the table's cell says.
    fn cell(self) -> String {
        match self {
            Verdict::Fail { failed, total } => format!("{failed}/{total} failed"),
            other => other.word().to_string(),
        }
    }
}

/// `cargo course class DIR`.
pub fn run(args: Args) -> ExitCode {
    match grade_class(&args) {
        Ok(all_passed) => ExitCode::from(if all_passed { 0 } else { 1 }),
        Err(message) => {
            eprintln!("course class: {message}");
            ExitCode::from(2)
        }
    }
}

fn grade_class(args: &Args) -> Result<bool, String> {
    let steps = Step::all()?;
    // Absolute (the gradings run from the course's directory), links kept.
    let dir =
        std::path::absolute(&args.dir).map_err(|err| format!("{}: {err}", args.dir.display()))?;
    let jobs = jobs(&dir, &steps)?;
    build_tests(&steps)?;
    ask_sudo_once()?;
    let started = Instant::now();
    let grades = grade_in_parallel(&jobs, args)?;
    let table = table(&jobs, &grades);
    print!("{table}");
    let csv = csv(&jobs, &grades)?;
    fs::write(&args.csv, csv)
        .map_err(|err| format!("cannot write {}: {err}", args.csv.display()))?;
    println!(
        "\n{} gradings in {:.0?}; the CSV is {}",
        jobs.len(),
        started.elapsed(),
        args.csv.display()
    );
    Ok(grades.iter().all(|grade| grade.verdict == Verdict::Pass))
}

/// Every student's steps (present or missing) and the exercises they handed in.
fn jobs(dir: &Path, steps: &[Step]) -> Result<Vec<Job>, String> {
    let entries = fs::read_dir(dir)
        .map_err(|err| format!("cannot read the class {}: {err}", dir.display()))?;
    // Hidden folders (.git, say) are not students.
    let visible =
        |path: &PathBuf| !path.file_name().is_some_and(|n| n.as_bytes().starts_with(b"."));
    let mut students: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_dir() && visible(path))
        .collect();
    students.sort();
    if students.is_empty() {
        return Err(format!("{} holds no student folder", dir.display()));
    }
    let mut jobs = Vec::new();
    for folder in students {
        let student = folder.file_name().unwrap_or_default().to_string_lossy().into_owned();
        for step in steps {
            let column = format!("step{:02}", step.number);
            let path = folder.join(&column);
            let program = is_executable(&path).then_some(path);
            jobs.push(Job {
                student: student.clone(),
                column,
                step: step.number,
                exercise: None,
                program,
            });
        }
        for (step, exercise, path) in exercises(&folder) {
            let column = format!("step{step:02}-{exercise}");
            let exercise = Some(exercise);
            jobs.push(Job {
                student: student.clone(),
                column,
                step,
                exercise,
                program: Some(path),
            });
        }
    }
    Ok(jobs)
}

/// The exercises in a student's folder: executables named `stepNN-NAME`.
fn exercises(folder: &Path) -> Vec<(u8, String, PathBuf)> {
    let mut found: Vec<(u8, String, PathBuf)> = fs::read_dir(folder)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let (step, exercise) = name.strip_prefix("step")?.split_once('-')?;
            let step: u8 = step.parse().ok()?;
            is_executable(&entry.path()).then(|| (step, exercise.to_string(), entry.path()))
        })
        .collect();
    found.sort();
    found
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// Build every step's tests once, as you, before any grading starts.
fn build_tests(steps: &[Step]) -> Result<(), String> {
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo.current_dir(repo()).args(["test", "-q", "--no-run"]);
    for step in steps {
        cargo.args(["-p", &step.name, "--test", &format!("step{:02}", step.number)]);
        cargo.args(["--test", "exercises"]);
    }
    let status = cargo.status().map_err(|err| format!("cannot run cargo: {err}"))?;
    if !status.success() {
        return Err("the course's tests do not build: see cargo's errors above".into());
    }
    Ok(())
}

/// Not root: let sudo ask for your password now, once, rather than fail each grading.
fn ask_sudo_once() -> Result<(), String> {
    if geteuid().is_root() {
        return Ok(());
    }
    match Command::new("sudo").arg("-v").status() {
        Ok(status) if status.success() => Ok(()),
        _ => Err("grading a class needs root: sudo -v failed (run it as root, or as a user \
                  with sudo, from a terminal)"
            .into()),
    }
}

/// Grade every job, `args.jobs` at a time; the grades in the jobs' order.
fn grade_in_parallel(jobs: &[Job], args: &Args) -> Result<Vec<Grade>, String> {
    let next = Arc::new(Mutex::new(0..jobs.len()));
    let (send, receive) = mpsc::channel();
    thread::scope(|scope| {
        for _ in 0..args.jobs {
            let (next, send) = (Arc::clone(&next), send.clone());
            scope.spawn(move || {
                while let Some(index) = next.lock().ok().and_then(|mut n| n.next()) {
                    let (job, grade) = (&jobs[index], grade(&jobs[index], args.timeout));
                    if job.program.is_some() {
                        let word = grade.verdict.word();
                        eprintln!("  graded {} {}: {word}", job.student, job.column);
                    }
                    if send.send((index, grade)).is_err() {
                        return;
                    }
                }
            });
        }
    });
    drop(send);
    let mut grades: Vec<Option<Grade>> = jobs.iter().map(|_| None).collect();
    for (index, grade) in receive {
        grades[index] = Some(grade);
    }
    grades.into_iter().map(|grade| grade.ok_or_else(|| "a grading thread died".into())).collect()
}

/// Grade one job, contained (see the module's doc) and within `timeout` seconds.
fn grade(job: &Job, timeout: u64) -> Grade {
    let Some(program) = &job.program else {
        return Grade {
            verdict: Verdict::Missing,
            detail: String::new(),
            cleanup: Cleanup::default(),
        };
    };
    if !geteuid().is_root() {
        // Keep sudo's word from running out during a long class (it asked once).
        let _ = Command::new("sudo").args(["-n", "-v"]).status();
    }
    let report = match ReportFile::new() {
        Ok(report) => report,
        Err(detail) => {
            return Grade { verdict: Verdict::Error, detail, cleanup: Cleanup::default() };
        }
    };
    let (repo, steps) = (repo(), Step::all().unwrap_or_default());
    let Some(step) = steps.iter().find(|step| step.number == job.step) else {
        let detail = format!("there is no step {}", job.step);
        return Grade { verdict: Verdict::Error, detail, cleanup: Cleanup::default() };
    };
    let course = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("course"));
    let grading = Grading {
        repo: &repo,
        step,
        bin: program,
        target: match &job.exercise {
            Some(name) => Target::Exercise(name.clone()),
            None => Target::Graded { filter: None },
        },
        wrapper: contain::runner_prefix(&course, timeout, &report.path),
        // One test at a time: a program without a mount namespace of its own would
        // otherwise mount /proc for one test under another's feet.
        env: vec![("RUST_TEST_THREADS".into(), "1".into())],
    };
    let outcome = grading.verdict();
    let cleanup = contain::read_report(&report.path).unwrap_or_default();
    let (verdict, detail) = match outcome {
        _ if cleanup.timed_out => (
            Verdict::TimedOut,
            format!(
                "timed out: the grading took more than {timeout} s (--timeout); the program \
                 probably hangs: does it wait for a process that never ends?"
            ),
        ),
        engine::Verdict::Pass { .. } => (Verdict::Pass, String::new()),
        engine::Verdict::Fail { failed, total, first } => {
            let failure = first.failure.unwrap_or_default();
            let detail = match failure.hint.is_empty() {
                true => failure.check,
                false => format!("{}: {}", failure.check, failure.hint),
            };
            (Verdict::Fail { failed: failed.len(), total }, detail)
        }
        engine::Verdict::Error(message) => (Verdict::Error, message),
    };
    Grade { verdict, detail, cleanup }
}

/// The file `course contain` writes its report to: made empty by us, so that a
/// containment run as root (by sudo) writes into a file of ours that we can remove.
struct ReportFile {
    path: PathBuf,
}

impl ReportFile {
    fn new() -> Result<ReportFile, String> {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("course-contain-{}-{n}.json", process::id()));
        fs::write(&path, "").map_err(|err| format!("cannot write {}: {err}", path.display()))?;
        Ok(ReportFile { path })
    }
}

impl Drop for ReportFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// The table: one row per student, one column per step (and exercise) anyone
/// handed in, and what grading had to clean up after them; every column as wide
/// as its widest cell.
fn table(jobs: &[Job], grades: &[Grade]) -> String {
    let students: Vec<&str> = unique(jobs.iter().map(|job| job.student.as_str()));
    let columns: Vec<&str> = unique(jobs.iter().map(|job| job.column.as_str()));
    let mut rows = vec![
        [
            vec!["student".to_string()],
            columns.iter().map(|c| c.to_string()).collect(),
            vec!["cleanup".to_string()],
        ]
        .concat(),
    ];
    for student in &students {
        let graded = || jobs.iter().zip(grades).filter(|(job, _)| job.student == *student);
        let cell = |column: &str| {
            graded()
                .find(|(job, _)| job.column == column)
                .map_or("-".to_string(), |(_, grade)| grade.verdict.cell())
        };
        let cleanups: Vec<Cleanup> = graded().map(|(_, grade)| grade.cleanup.clone()).collect();
        let row = [
            vec![student.to_string()],
            columns.iter().map(|c| cell(c)).collect(),
            vec![cleaned_up(&cleanups)],
        ];
        rows.push(row.concat());
    }
    let mut out = aligned(&rows);
    let failures: Vec<String> = jobs
        .iter()
        .zip(grades)
        .filter(|(_, grade)| !grade.detail.is_empty())
        .map(|(job, grade)| format!("  {} {}: {}", job.student, job.column, grade.detail))
        .collect();
    if !failures.is_empty() {
        out.push_str("\nFirst failed check of each:\n");
        out.push_str(&failures.join("\n"));
        out.push('\n');
    }
    out
}

/// Rows of cells as text, each column as wide as its widest cell.
fn aligned(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width = |i: usize| {
        rows.iter().filter_map(|row| row.get(i)).map(|c| c.chars().count()).max().unwrap_or(0)
    };
    let widths: Vec<usize> = (0..columns).map(width).collect();
    let line = |row: &Vec<String>| {
        let cells = row.iter().zip(&widths).map(|(cell, width)| format!("{cell:width$}"));
        cells.collect::<Vec<_>>().join("  ").trim_end().to_string() + "\n"
    };
    rows.iter().map(line).collect()
}

/// What grading a student's programs had to clean up: processes killed at the end,
/// cgroups left; `nothing` when their programs left nothing.
fn cleaned_up(cleanups: &[Cleanup]) -> String {
    let killed: usize = cleanups.iter().map(|c| c.processes_killed).sum();
    let cgroups: usize = cleanups.iter().map(|c| c.cgroups_left.len()).sum();
    let mut said = Vec::new();
    if killed > 0 {
        said.push(format!("{killed} process{} killed", if killed == 1 { "" } else { "es" }));
    }
    if cgroups > 0 {
        said.push(format!("{cgroups} cgroup{} removed", if cgroups == 1 { "" } else { "s" }));
    }
    if said.is_empty() { "nothing".into() } else { said.join(", ") }
}

/// The CSV: student, column, verdict, failed, total, first failed check and hint,
/// and what grading cleaned up after the program.
fn csv(jobs: &[Job], grades: &[Grade]) -> Result<Vec<u8>, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = ["student", "step", "verdict", "failed", "total", "first failed check", "cleanup"];
    writer.write_record(header).map_err(|err| err.to_string())?;
    for (job, grade) in jobs.iter().zip(grades) {
        let (failed, total) = match grade.verdict {
            Verdict::Fail { failed, total } => (failed.to_string(), total.to_string()),
            _ => (String::new(), String::new()),
        };
        let cleanup = cleaned_up(std::slice::from_ref(&grade.cleanup));
        let verdict = grade.verdict.word();
        let record = [&job.student, &job.column, verdict, &failed, &total, &grade.detail, &cleanup];
        writer.write_record(record).map_err(|err| err.to_string())?;
    }
    writer.into_inner().map_err(|err| err.to_string())
}

fn unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = BTreeSet::new();
    items.filter(|item| seen.insert(*item)).collect()
}
