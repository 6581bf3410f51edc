//! The grading engine: run a step's graded checks (or one of its exercises) on a
//! program, and read what each check found as data ([`harness::results`]).
//!
//! It runs `cargo test -p stepNN-… --test stepNN` with `CONTAINER_BIN` naming the
//! program and `COURSE_RESULTS` naming a file the test runner appends one record per
//! check to. Cargo starts the test binary through the course's runner (root, by sudo
//! if need be) and then through a wrapper: `unshare(1)` into new mount and UTS
//! namespaces for a learner's grading (a program without its own renames and mounts
//! only in that copy of the host), or `course contain` for a class. Nothing here
//! reads what the tests print; that goes to the learner's terminal only on request.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use harness::registry::checks_of;
use harness::results::{self, FailureKind, ProgramEnd, RESULTS_VAR, Record};
use nix::fcntl::{Flock, FlockArg};

use crate::steps::Step;

/// What to run: the step's graded checks (all, or those whose name contains a
/// filter, e.g. `feature_`), or one of its exercises.
#[derive(Clone, Debug)]
pub enum Target {
    Graded { filter: Option<String> },
    Exercise(String),
}

/// One grading: a program, a step, and what wraps the test binary.
pub struct Grading<'a> {
    /// The course's repository (or a scratch copy of it).
    pub repo: &'a Path,
    pub step: &'a Step,
    pub bin: &'a Path,
    pub target: Target,
    /// The words cargo's runner gets after `.cargo/runner`, before the test binary.
    pub wrapper: Vec<String>,
    /// Extra environment for the tests (CONTAINER_TIMEOUT_SCALE passes through anyway).
    pub env: Vec<(String, String)>,
}

/// What a grading found.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// Every check passed.
    Pass { total: usize },
    /// Some failed; `first` is the one to read first (a hang, else what the step
    /// adds, else the first in the step's order).
    Fail { failed: Vec<Record>, total: usize, first: Box<Record> },
    /// The grading could not run to its end: why.
    Error(String),
}

/// Every grading holds a shared lock on the cgroup hierarchy's directory while its
/// tests run, so that one can tell whether others run on this machine (their
/// containers' cgroups come and go meanwhile). None where it cannot be opened.
fn mark_grading_running() -> Option<Flock<File>> {
    let dir = File::open("/sys/fs/cgroup").ok()?;
    Flock::lock(dir, FlockArg::LockShared).ok()
}

/// Whether a grading runs on this machine now (this process's own are over).
pub fn another_grading_runs() -> bool {
    let Ok(dir) = File::open("/sys/fs/cgroup") else { return false };
    Flock::lock(dir, FlockArg::LockExclusiveNonblock).is_err()
}

/// The wrapper of a learner's grading: new mount and UTS namespaces, copies of the host's.
pub fn unshare_wrapper() -> Vec<String> {
    ["unshare", "--mount", "--uts", "--propagation", "private", "--"].map(String::from).to_vec()
}

impl Grading<'_> {
    /// A label for the grading's line: `step06-mount-ns`, or `step06-mount-ns pivot_root`.
    pub fn label(&self) -> String {
        match &self.target {
            Target::Exercise(name) => format!("{} {name}", self.step.name),
            Target::Graded { .. } => self.step.name.clone(),
        }
    }

    /// Run it: the records, in the step's order, or why there are none.
    pub fn run(&self) -> Result<Vec<Record>, String> {
        let test = self.test_target();
        self.build(&test)?;
        let results = ResultsFile::new()?;
        let mut cargo = self.cargo_test(&test);
        cargo.env(RESULTS_VAR, &results.path);
        cargo.arg("--");
        match &self.target {
            Target::Graded { filter: Some(filter) } => {
                cargo.arg(filter);
            }
            Target::Graded { filter: None } => {}
            Target::Exercise(name) => {
                cargo.args([name.as_str(), "--exact"]);
            }
        }
        let running = mark_grading_running();
        let out = cargo.output().map_err(|err| format!("cannot run cargo test: {err}"))?;
        drop(running);
        let records = results.read()?;
        // The runner exits 0 or 101 (a check failed); anything else stopped it.
        if !matches!(out.status.code(), Some(0 | 101)) || records.len() < self.expected() {
            return Err(format!(
                "the tests did not run to their end ({} of {} checks recorded, {}): {}",
                records.len(),
                self.expected(),
                out.status,
                last_lines(&out.stdout, &out.stderr)
            ));
        }
        if let (Target::Exercise(_), true) = (&self.target, records.is_empty()) {
            return Err(format!(
                "no such exercise in {}; its exercises: {}",
                self.step.name,
                self.exercises().join(", ")
            ));
        }
        Ok(self.in_order(records))
    }

    /// [`Grading::run`], summed up.
    pub fn verdict(&self) -> Verdict {
        match self.run() {
            Ok(records) => verdict(records),
            Err(message) => Verdict::Error(message),
        }
    }

    fn test_target(&self) -> String {
        match self.target {
            Target::Graded { .. } => format!("step{:02}", self.step.number),
            Target::Exercise(_) => "exercises".into(),
        }
    }

    /// `cargo test -q -p STEP --test TEST`, in the repository, with the program to
    /// grade, snapshots never written, and the wrapper.
    fn cargo_test(&self, test: &str) -> Command {
        let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cargo.current_dir(self.repo).args(["test", "-q", "-p", &self.step.name, "--test", test]);
        cargo.env("CONTAINER_BIN", self.bin).env("INSTA_UPDATE", "no");
        // These would change what the tests run, or let a snapshot pass whatever it says.
        cargo.env_remove("CONTAINER_ROOTFS").env_remove("INSTA_FORCE_PASS");
        if let Some((var, runner)) = runner_var(self.repo, &self.wrapper) {
            cargo.env(var, runner);
        }
        cargo.envs(self.env.iter().map(|(k, v)| (k, v)));
        cargo.stdin(Stdio::null());
        cargo
    }

    /// Build the tests first: a build error is the grading's, not a check's.
    fn build(&self, test: &str) -> Result<(), String> {
        let mut cargo = self.cargo_test(test);
        cargo.arg("--no-run");
        let out = cargo.output().map_err(|err| format!("cannot run cargo: {err}"))?;
        if out.status.success() {
            return Ok(());
        }
        Err(format!("the tests did not build: {}", last_lines(&out.stdout, &out.stderr)))
    }

    /// How many records a complete run writes (for an exercise: at most one).
    fn expected(&self) -> usize {
        match &self.target {
            Target::Graded { filter } => self
                .checks()
                .iter()
                .filter(|name| filter.as_ref().is_none_or(|f| name.contains(f.as_str())))
                .count(),
            Target::Exercise(_) => 0,
        }
    }

    /// The names of the step's graded tests, in the step's order.
    fn checks(&self) -> Vec<String> {
        let number = usize::from(self.step.number);
        checks_of(number).iter().map(|check| check.test_name(number)).collect()
    }

    /// The step's exercises, as its test binary lists them.
    fn exercises(&self) -> Vec<String> {
        let mut cargo = self.cargo_test("exercises");
        cargo.args(["--", "--list"]);
        let listed = cargo.output().map(|out| String::from_utf8_lossy(&out.stdout).into_owned());
        let listed = listed.unwrap_or_default();
        listed.lines().filter_map(|line| line.strip_suffix(": test")).map(String::from).collect()
    }

    /// The records in the step's order (the runner writes them as the checks end).
    fn in_order(&self, mut records: Vec<Record>) -> Vec<Record> {
        let order = self.checks();
        let place = |record: &Record| order.iter().position(|name| *name == record.test);
        records.sort_by_key(|record| (place(record).unwrap_or(usize::MAX), record.test.clone()));
        records
    }
}

/// Sum records up: pass, or the failures and the one to read first.
pub fn verdict(records: Vec<Record>) -> Verdict {
    let total = records.len();
    let failed: Vec<Record> = records.into_iter().filter(|record| !record.passed()).collect();
    let is_hang =
        |record: &&Record| record.failure.as_ref().is_some_and(|f| f.kind == FailureKind::Hang);
    // Causes before consequences: a container that never ended, then one that could
    // not be made (exit code 125: the checks after it fail because of it), then what
    // the step adds.
    let could_not_start = |record: &&Record| program_end(record).is_some_and(|end| end.code == 125);
    let first = failed
        .iter()
        .find(is_hang)
        .or_else(|| failed.iter().find(could_not_start))
        .or_else(|| failed.iter().find(|record| record.feature))
        .or_else(|| failed.first())
        .cloned();
    match first {
        None => Verdict::Pass { total },
        Some(first) => Verdict::Fail { failed, total, first: Box::new(first) },
    }
}

impl Verdict {
    /// The one line a learner reads: `step04-pid: pass`, or `step04-pid: FAIL (3 of 11
    /// checks) — first: <the check>: <its hint>`, or `step04-pid: ERROR (why)`.
    pub fn line(&self, label: &str) -> String {
        match self {
            Verdict::Pass { .. } => format!("{label}: pass"),
            Verdict::Fail { failed, total, first } => {
                let what = first.failure.as_ref().map_or(first.test.as_str(), |f| f.check.as_str());
                let why = cause(first);
                format!("{label}: FAIL ({} of {total} checks) — first: {what}{why}", failed.len())
            }
            Verdict::Error(message) => format!("{label}: ERROR ({message})"),
        }
    }

    pub fn passed(&self) -> bool {
        matches!(self, Verdict::Pass { .. })
    }
}

/// How the program under test ended, when the failed check ran it to its end.
fn program_end(record: &Record) -> Option<&ProgramEnd> {
    record.failure.as_ref()?.program.as_ref()
}

/// The cause a verdict names: the program's own words when it failed itself (exit
/// code 125: it could not make the container, or clean up after it) or the hint
/// sends the learner to its stderr, else the check's hint.
fn cause(record: &Record) -> String {
    let hint = record.failure.as_ref().map_or("", |f| f.hint.as_str());
    let said = program_end(record).and_then(|end| Some((end.code, telling_line(&end.stderr)?)));
    match said {
        Some((125, line)) => {
            format!(": your program failed (exit code 125); it said: {line}")
        }
        Some((code, line)) if hint.contains("stderr") => {
            format!(": the container ended early (exit code {code}); your program said: {line}")
        }
        _ if hint.is_empty() => String::new(),
        _ => format!(": {hint}"),
    }
}

/// The line of a program's stderr that says what went wrong: the first that says
/// `error` (clap's usage errors end with a line of advice), else the last.
fn telling_line(stderr: &str) -> Option<&str> {
    let lines: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let error = lines.iter().find(|line| line.to_lowercase().contains("error"));
    error.or(lines.last()).copied()
}

/// `CARGO_TARGET_<TRIPLE>_RUNNER` and its value: the course's runner, then `wrapper`.
fn runner_var(repo: &Path, wrapper: &[String]) -> Option<(String, String)> {
    let rustc = Command::new("rustc").arg("-vV").output().ok()?;
    let text = String::from_utf8_lossy(&rustc.stdout).into_owned();
    let host = text.lines().find_map(|line| line.strip_prefix("host: "))?.trim().to_string();
    let var = format!("CARGO_TARGET_{}_RUNNER", host.to_uppercase().replace(['-', '.'], "_"));
    let runner = repo.join(".cargo/runner").display().to_string();
    let words: Vec<String> = std::iter::once(runner).chain(wrapper.iter().cloned()).collect();
    Some((var, words.join(" ")))
}

/// Why a path cannot be a grading's: cargo splits its runner's words on spaces.
pub fn check_no_spaces(path: &Path) -> Result<(), String> {
    match path.display().to_string().contains(char::is_whitespace) {
        true => Err(format!("{}: a path with spaces is not supported", path.display())),
        false => Ok(()),
    }
}

/// The last lines a command printed, on one line, for an ERROR.
fn last_lines(stdout: &[u8], stderr: &[u8]) -> String {
    let text = format!("{}{}", String::from_utf8_lossy(stdout), String::from_utf8_lossy(stderr));
    let lines: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(3)..].join(" | ")
}

/// The file the records go to: made empty by us, so that a test run as root (by
/// sudo) appends to a file of ours that we can remove.
struct ResultsFile {
    path: PathBuf,
}

impl ResultsFile {
    fn new() -> Result<ResultsFile, String> {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "course-results-{}-{}.jsonl",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::SeqCst)
        );
        let path = std::env::temp_dir().join(name);
        fs::write(&path, "").map_err(|err| format!("cannot write {}: {err}", path.display()))?;
        Ok(ResultsFile { path })
    }

    fn read(&self) -> Result<Vec<Record>, String> {
        let text = fs::read_to_string(&self.path)
            .map_err(|err| format!("cannot read {}: {err}", self.path.display()))?;
        results::parse(&text)
    }
}

impl Drop for ResultsFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness::results::Failure;

    fn record(test: &str, feature: bool, kind: Option<FailureKind>) -> Record {
        let failure = kind.map(|kind| Failure {
            check: format!("{test} failed"),
            hint: "a hint".into(),
            kind,
            ..Failure::default()
        });
        Record { test: test.into(), feature, failure }
    }

    #[test]
    fn a_hang_is_read_first_then_what_the_step_adds() {
        let records = vec![
            record("a", false, Some(FailureKind::Check)),
            record("feature_b", true, Some(FailureKind::Check)),
            record("c", false, None),
        ];
        let line = verdict(records.clone()).line("step04-pid");
        assert_eq!(line, "step04-pid: FAIL (2 of 3 checks) — first: feature_b failed: a hint");
        let mut with_hang = records;
        with_hang.push(record("d", false, Some(FailureKind::Hang)));
        let line = verdict(with_hang).line("step04-pid");
        assert_eq!(line, "step04-pid: FAIL (3 of 4 checks) — first: d failed: a hint");
    }

    #[test]
    fn a_container_that_could_not_be_made_is_named_by_its_own_words() {
        let mut broken = record("feature_x", true, Some(FailureKind::Check));
        if let Some(failure) = broken.failure.as_mut() {
            failure.program = Some(ProgramEnd {
                code: 125,
                stderr: "run: mount(proc on /porc): No such file or directory\n".into(),
            });
        }
        let records = vec![record("feature_a", true, Some(FailureKind::Check)), broken];
        let line = verdict(records).line("step05-chroot-proc");
        assert_eq!(
            line,
            "step05-chroot-proc: FAIL (2 of 2 checks) — first: feature_x failed: your program \
             failed (exit code 125); it said: run: mount(proc on /porc): No such file or directory"
        );
    }

    #[test]
    fn a_usage_error_is_quoted_by_its_error_line() {
        let stderr = "error: unrecognized subcommand 'sh'\n\nUsage: x <COMMAND>\n\nFor more \
                      information, try '--help'.\n";
        assert_eq!(telling_line(stderr), Some("error: unrecognized subcommand 'sh'"));
        assert_eq!(telling_line("a\nrun: mount: EPERM\n"), Some("run: mount: EPERM"));
    }

    #[test]
    fn every_check_passed_is_a_pass() {
        let verdict = verdict(vec![record("a", false, None)]);
        assert!(verdict.passed());
        assert_eq!(verdict.line("step01-exec"), "step01-exec: pass");
    }
}
