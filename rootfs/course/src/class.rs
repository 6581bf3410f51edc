//! `cargo course class DIR`: grade a whole class. DIR holds one folder per student;
//! each holds that student's programs, in any language, named `step01` … `step07`
//! (and `stepNN-EXERCISE` for an exercise, e.g. `step06-pivot_root`).
//!
//! Every program is graded by `.ci/grade.sh`, as `cargo course grade --bin` does,
//! but contained and bounded: each student × step runs in a PID namespace of its
//! own (with its own mount and UTS namespaces), under a time limit. When the
//! grading of a step ends, or its time is up, the namespace's first process is
//! killed and the kernel kills every other process in it, daemons included; mounts
//! go with the mount namespace; empty cgroups the programs left are removed. Files
//! are not contained: a program run as root can write anywhere it can reach (see
//! the teacher's page). Inside a job the tests run one at a time, so that the same
//! program gets the same result every time.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

use nix::unistd::geteuid;

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
    /// `pass`, `missing`, `timed out`, `FAIL`, or `ERROR`.
    verdict: String,
    failed: Option<(u32, u32)>,
    /// The first failed check and its hint, or why it could not be graded.
    detail: String,
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
    let csv = csv(&jobs, &grades);
    fs::write(&args.csv, csv)
        .map_err(|err| format!("cannot write {}: {err}", args.csv.display()))?;
    println!(
        "\n{} gradings in {:.0?}; the CSV is {}",
        jobs.len(),
        started.elapsed(),
        args.csv.display()
    );
    Ok(grades.iter().all(|grade| grade.verdict == "pass"))
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
                        eprintln!("  graded {} {}: {}", job.student, job.column, grade.verdict);
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
        return Grade { verdict: "missing".into(), failed: None, detail: String::new() };
    };
    if !geteuid().is_root() {
        // Keep sudo's word from running out during a long class (it asked once).
        let _ = Command::new("sudo").args(["-n", "-v"]).status();
    }
    let mut command = contained(timeout);
    command.arg("bash").arg(repo().join(".ci/grade.sh"));
    if let Some(exercise) = &job.exercise {
        command.args(["--exercise", exercise]);
    }
    command.arg(program).arg(job.step.to_string());
    // One test at a time: a program without a mount namespace of its own would
    // otherwise mount /proc for one test under another's feet.
    command.env("RUST_TEST_THREADS", "1").current_dir(repo());
    command.stdin(Stdio::null());
    match command.output() {
        Ok(out) if out.status.code() == Some(124) => Grade {
            verdict: "timed out".into(),
            failed: None,
            detail: format!(
                "timed out: the grading took more than {timeout} s (--timeout); the program \
                 probably hangs: does it wait for a process that never ends?"
            ),
        },
        Ok(out) => {
            let mut grade = parse(&String::from_utf8_lossy(&out.stdout));
            if grade.verdict == "ERROR" {
                // Why it could not grade is on stderr (sudo, cargo, the containment).
                let stderr = String::from_utf8_lossy(&out.stderr);
                if let Some(last) = stderr.lines().rev().find(|line| !line.trim().is_empty()) {
                    grade.detail = format!("{}; stderr: {}", grade.detail, last.trim());
                }
            }
            grade
        }
        Err(err) => Grade { verdict: "ERROR".into(), failed: None, detail: format!("{err}") },
    }
}

/// A command that runs what follows contained (`.ci/contain.sh`: new PID, mount,
/// UTS and cgroup namespaces and a cgroup of its own, all of it killed and removed
/// when it ends or `timeout` seconds are up). Through `sudo -n` when we are not root.
fn contained(timeout: u64) -> Command {
    let mut command = if geteuid().is_root() {
        Command::new("bash")
    } else {
        // sudo resets PATH and HOME; cargo (and rustup's cargo) needs yours.
        let mut sudo = Command::new("sudo");
        sudo.args(["-n", "env"]);
        let home = std::env::var("HOME").unwrap_or_default();
        for (name, default) in [
            ("PATH", String::new()),
            ("RUSTUP_HOME", format!("{home}/.rustup")),
            ("CARGO_HOME", format!("{home}/.cargo")),
        ] {
            let value = std::env::var(name).unwrap_or(default);
            sudo.arg(format!("{name}={value}"));
        }
        sudo.arg("bash");
        sudo
    };
    command.arg(repo().join(".ci/contain.sh")).arg(timeout.to_string());
    command
}

/// grade.sh's one line: `step04-pid: pass` or `step04-pid: FAIL (3 of 11 checks) — first: …`.
fn parse(stdout: &str) -> Grade {
    let line = stdout.lines().find(|line| line.contains(": ")).unwrap_or_default();
    let (_, result) = line.split_once(": ").unwrap_or(("", line));
    if result == "pass" {
        return Grade { verdict: "pass".into(), failed: None, detail: String::new() };
    }
    if let Some(rest) = result.strip_prefix("FAIL (") {
        let (counts, detail) = rest.split_once(" checks)").unwrap_or((rest, ""));
        let failed =
            counts.split_once(" of ").and_then(|(f, t)| Some((f.parse().ok()?, t.parse().ok()?)));
        let detail = detail.trim_start_matches(" — first: ").to_string();
        return Grade { verdict: "FAIL".into(), failed, detail };
    }
    let detail = if result.is_empty() { "grade.sh printed nothing".into() } else { result.into() };
    Grade { verdict: "ERROR".into(), failed: None, detail }
}

/// The table: one row per student, one column per step (and exercise) anyone handed in.
fn table(jobs: &[Job], grades: &[Grade]) -> String {
    let students: Vec<&str> = unique(jobs.iter().map(|job| job.student.as_str()));
    let columns: Vec<&str> = unique(jobs.iter().map(|job| job.column.as_str()));
    let width = students.iter().map(|s| s.len()).max().unwrap_or(7).max(7);
    let cell = |student: &str, column: &str| {
        let found =
            jobs.iter().zip(grades).find(|(job, _)| job.student == student && job.column == column);
        match found {
            None => "-".to_string(),
            Some((_, grade)) => match grade.failed {
                Some((failed, total)) => format!("{failed}/{total} failed"),
                None => grade.verdict.clone(),
            },
        }
    };
    let mut out = format!("{:width$}", "student");
    for column in &columns {
        let _ = write!(out, "  {column:<12}");
    }
    out.push('\n');
    for student in &students {
        let _ = write!(out, "{student:width$}");
        for column in &columns {
            let _ = write!(out, "  {:<12}", cell(student, column));
        }
        out.push('\n');
    }
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

/// The CSV: student, column, verdict, failed, total, first failed check and hint.
fn csv(jobs: &[Job], grades: &[Grade]) -> String {
    let mut out = String::from("student,step,verdict,failed,total,first failed check\n");
    for (job, grade) in jobs.iter().zip(grades) {
        let (failed, total) = grade
            .failed
            .map_or((String::new(), String::new()), |(f, t)| (f.to_string(), t.to_string()));
        let _ = writeln!(
            out,
            "{},{},{},{failed},{total},{}",
            quoted(&job.student),
            quoted(&job.column),
            quoted(&grade.verdict),
            quoted(&grade.detail)
        );
    }
    out
}

/// A CSV field: quoted, with quotes doubled.
fn quoted(field: &str) -> String {
    format!("\"{}\"", field.replace('"', "\"\""))
}

fn unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = BTreeSet::new();
    items.filter(|item| seen.insert(*item)).collect()
}
