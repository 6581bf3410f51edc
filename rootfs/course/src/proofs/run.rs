//! Running the proofs: each grades its variant's program with the engine (or runs
//! the step's own tests on it, judged by their exit status), and says whether what
//! came out is what the row expects. Two at a time, but never two of one lane at
//! once: a step's tests share the host's mounts and cgroups, and from step 5 on,
//! every step's containers share one root filesystem tree, which some checks copy
//! (a container of another step writing in it meanwhile fails the copy).

use std::collections::{HashSet, VecDeque};
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use harness::report::render;
use harness::results::Record;
use harness::step::FIRST_STEP_WITH_A_ROOT_OF_ITS_OWN;
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use super::table::{Expected, Proof, Target, Variant, changed_on_purpose, step_name};
use super::variants::{Programs, cargo, succeeded};
use crate::engine::{self, Grading, Verdict};
use crate::steps::{Step, repo};

/// What one proof came to.
pub struct Outcome {
    pub ok: bool,
    /// `ok   previous step: … : every feature check fails (5 of 5)`, or `WRONG …`.
    pub line: String,
    /// With -v: every failed check in full.
    pub details: Vec<String>,
    pub seconds: f64,
}

/// What the program did, in words, or why it could not be found out.
enum Observed {
    Passed(String),
    Failed { every_feature: bool, words: String, details: Vec<String>, caught: Caught },
}

/// What failed, for a proof that names the check and the verdict's words: the
/// failed tests' names and the one-line verdict.
#[derive(Default)]
struct Caught {
    tests: Vec<String>,
    line: String,
}

/// What every proof needs: the steps, the programs made, and how much to say.
pub struct Runner<'a> {
    pub steps: &'a [Step],
    pub programs: &'a Programs,
    pub verbose: bool,
}

/// The lane of a step's gradings: its own until step 4; one for steps 5 to 7, whose
/// containers share the root filesystem's tree as their `/`.
fn lane(step: u8) -> usize {
    usize::from(step).min(FIRST_STEP_WITH_A_ROOT_OF_ITS_OWN)
}

/// The queue the workers share: the proofs not started, the lanes being graded, and
/// the outcomes (printed in the table's order, as soon as all before are in).
struct Queue {
    pending: VecDeque<usize>,
    busy: HashSet<usize>,
    done: Vec<Option<Outcome>>,
    printed: usize,
}

/// Run every proof, `jobs` at a time; print each line in order; the outcomes.
pub fn run_all(proofs: &[Proof], runner: &Runner, jobs: usize) -> Vec<Outcome> {
    let queue = Mutex::new(Queue {
        pending: (0..proofs.len()).collect(),
        busy: HashSet::new(),
        done: (0..proofs.len()).map(|_| None).collect(),
        printed: 0,
    });
    let wake = Condvar::new();
    thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| work(proofs, runner, &queue, &wake));
        }
    });
    let queue = queue.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    queue.done.into_iter().flatten().collect()
}

/// One worker: take the next proof of a lane no one is grading, run it, record it.
fn work(proofs: &[Proof], runner: &Runner, queue: &Mutex<Queue>, wake: &Condvar) {
    while let Some(index) = next_proof(proofs, queue, wake) {
        let outcome = runner.run(&proofs[index]);
        let mut queue = queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        queue.busy.remove(&lane(proofs[index].step));
        queue.done[index] = Some(outcome);
        print_ready(&mut queue);
        wake.notify_all();
    }
}

/// The next proof to run (its lane marked busy), or None when none is left.
fn next_proof(proofs: &[Proof], queue: &Mutex<Queue>, wake: &Condvar) -> Option<usize> {
    let mut queue = queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    loop {
        if queue.pending.is_empty() {
            return None;
        }
        let free = queue.pending.iter().position(|i| !queue.busy.contains(&lane(proofs[*i].step)));
        if let Some(at) = free {
            let index = queue.pending.remove(at)?;
            queue.busy.insert(lane(proofs[index].step));
            return Some(index);
        }
        queue = wake.wait(queue).unwrap_or_else(|poisoned| poisoned.into_inner());
    }
}

/// Print the outcomes not printed yet whose proofs come before any still running.
fn print_ready(queue: &mut Queue) {
    while let Some(Some(outcome)) = queue.done.get(queue.printed) {
        print(outcome);
        queue.printed += 1;
    }
}

/// A proof's line, and its details indented below it.
pub fn print(outcome: &Outcome) {
    println!("{}", outcome.line);
    for line in &outcome.details {
        println!("    {line}");
    }
}

impl Runner<'_> {
    /// Run one proof and judge it.
    fn run(&self, proof: &Proof) -> Outcome {
        let started = Instant::now();
        let title = proof.title(self.steps);
        let observed = match self.programs.get(&proof.variant.key(self.steps)) {
            Some(Ok(bin)) => self.observe(proof, bin),
            Some(Err(why)) => Err(format!("the program could not be made: {why}")),
            None => Err("no program was made for it".into()),
        };
        if let (Some(Ok(bin)), Some(_)) =
            (self.programs.get(&proof.variant.key(self.steps)), proof.variant.package(self.steps))
        {
            reap(bin);
        }
        let (ok, words, details) = judge(proof.expected, observed);
        let status = if ok { "ok  " } else { "WRONG" };
        let details = if self.verbose || !ok { details } else { Vec::new() };
        let words = if ok && !self.verbose { shortened(&words) } else { words };
        let seconds = started.elapsed().as_secs_f64();
        Outcome { ok, line: format!("{status} {title}: {words}"), details, seconds }
    }

    fn observe(&self, proof: &Proof, bin: &Path) -> Result<Observed, String> {
        match &proof.target {
            Target::OwnTests => {
                let skip = match &proof.variant {
                    Variant::Exercise { name, .. } => changed_on_purpose(name),
                    _ => &[],
                };
                self.own_tests(proof.step, bin, skip)
            }
            target => self.grade(proof, target, bin),
        }
    }

    /// Grade the program with the engine, and read its records.
    fn grade(&self, proof: &Proof, target: &Target, bin: &Path) -> Result<Observed, String> {
        let repo = repo();
        let step = Step::number(proof.step)?;
        let target = match target {
            Target::Exercise(name) => engine::Target::Exercise(name.clone()),
            Target::Features => engine::Target::Graded { filter: Some("feature_".into()) },
            Target::Graded | Target::OwnTests => engine::Target::Graded { filter: None },
        };
        // The other languages read their step from their name, or from this (which
        // must not be left over from the caller's environment).
        let env = match proof.variant {
            Variant::Language { step, .. } => vec![("CONTAINER_STEP".into(), step.to_string())],
            _ => Vec::new(),
        };
        let wrapper = engine::unshare_wrapper();
        let grading = Grading { repo: &repo, step: &step, bin, target, wrapper, env };
        let records = grading.run()?;
        observed_of(records, &grading.label())
    }

    /// Run the step's own tests with `CONTAINER_BIN` naming the program: built first
    /// (a build error is not a failure of the program), then judged by exit status.
    /// The step's own tests (but `skip`, by name) on the program `bin`.
    fn own_tests(&self, number: u8, bin: &Path, skip: &[&str]) -> Result<Observed, String> {
        let name = step_name(self.steps, number);
        let tests = own_test_names(&Step::number(number)?)?;
        let mut build = cargo();
        build.current_dir(repo()).args(["test", "-q", "--no-run", "-p", &name]);
        build.args(tests.iter().flat_map(|test| ["--test", test.as_str()]));
        let built = build.stdin(Stdio::null()).output().map_err(|err| err.to_string());
        built
            .and_then(|out| succeeded(&out))
            .map_err(|why| format!("tests do not build: {why}"))?;
        let mut run = cargo();
        run.current_dir(repo()).args(["test", "-q", "-p", &name]);
        run.args(tests.iter().flat_map(|test| ["--test", test.as_str()]));
        if !skip.is_empty() {
            run.arg("--").args(skip.iter().flat_map(|test| ["--skip", test]));
        }
        run.env("CONTAINER_BIN", bin).env("INSTA_UPDATE", "no");
        run.env_remove("CONTAINER_ROOTFS").env_remove("INSTA_FORCE_PASS");
        if let Some((var, runner)) = runner_var(&engine::unshare_wrapper()) {
            run.env(var, runner);
        }
        let status = run_bounded(run, self.verbose, own_tests_limit())?;
        let skipped = match skip.is_empty() {
            true => String::new(),
            false => format!("; left out, changed on purpose: {}", skip.join(", ")),
        };
        let words = format!("{} ({}{skipped})", tests.join(", "), status);
        match status.success() {
            true => Ok(Observed::Passed(format!("its own tests pass: {words}"))),
            false => Ok(Observed::Failed {
                caught: Caught::default(),
                every_feature: false,
                words: format!("its own tests fail: {words}"),
                details: vec![format!(
                    "rerun: CONTAINER_BIN={} cargo test -p {name} {}",
                    bin.display(),
                    tests.iter().map(|test| format!("--test {test}")).collect::<Vec<_>>().join(" ")
                )],
            }),
        }
    }
}

/// At most one line of 200 characters (a check's words can be long): an ok line
/// need not say it all; -v does.
fn shortened(words: &str) -> String {
    let line = words.lines().next().unwrap_or("");
    match line.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None if line.len() < words.len() => format!("{line}…"),
        None => line.to_string(),
    }
}

/// What the records show: a pass, or the failures (every feature check among them?).
fn observed_of(records: Vec<Record>, label: &str) -> Result<Observed, String> {
    let features = records.iter().filter(|record| record.feature).count();
    let features_failed = records.iter().filter(|r| r.feature && !r.passed()).count();
    let details = failures_in_full(&records);
    let tests = records.iter().filter(|r| !r.passed()).map(|r| r.test.clone()).collect();
    let verdict = engine::verdict(records);
    let every_feature = !verdict.passed() && features > 0 && features_failed == features;
    let line = verdict.line(label);
    let caught = Caught { tests, line: line.clone() };
    Ok(match verdict {
        Verdict::Pass { total } => Observed::Passed(format!("passes ({total} checks)")),
        Verdict::Fail { failed, total, .. } if every_feature && failed.len() == total => {
            let words = format!("every feature check fails ({features_failed} of {features})");
            Observed::Failed { every_feature, words, details, caught }
        }
        Verdict::Fail { .. } => {
            let words = line.strip_prefix(&format!("{label}: ")).unwrap_or(&line).to_string();
            let words = words.replacen("FAIL", "fails", 1);
            Observed::Failed { every_feature, words, details, caught }
        }
        Verdict::Error(message) => return Err(message),
    })
}

/// Every failed record, as `cargo course grade -v` shows it.
fn failures_in_full(records: &[Record]) -> Vec<String> {
    let mut lines = Vec::new();
    for record in records.iter().filter(|record| !record.passed()) {
        lines.push(format!("{}:", record.test));
        let failure = record.failure.clone().unwrap_or_default();
        lines.extend(render(&failure).trim_matches('\n').lines().map(|line| format!("  {line}")));
    }
    lines
}

/// Whether what was observed is what the row expects: (ok, words, details).
fn judge(expected: Expected, observed: Result<Observed, String>) -> (bool, String, Vec<String>) {
    let (ok, words, details) = match observed {
        Err(why) => (false, format!("ERROR ({why})"), Vec::new()),
        Ok(Observed::Passed(words)) => (expected == Expected::Pass, words, Vec::new()),
        Ok(Observed::Failed { every_feature, words, details, caught }) => match expected {
            Expected::Pass => (false, words, details),
            Expected::Fail => (true, words, details),
            Expected::EveryFeatureFails => (every_feature, words, details),
            Expected::Names { check, words: said } => {
                let failed = caught
                    .tests
                    .iter()
                    .any(|test| test == check || test.strip_prefix("feature_") == Some(check));
                let named = caught.line.to_lowercase().contains(&said.to_lowercase());
                let words = match (failed, named) {
                    (true, true) => words,
                    (false, _) => format!("{check} passed; {}", caught.line),
                    (true, false) => format!("the verdict does not say `{said}`: {}", caught.line),
                };
                (failed && named, words, details)
            }
        },
    };
    match ok {
        true => (true, words, details),
        false => (false, format!("must {}, but: {words}", expected.words()), details),
    }
}

/// The step's own tests: every tests/*.rs but its graded checks (stepNN.rs), the
/// book's snapshots (book.rs: any edit of main.rs changes them) and the exercises.
pub fn own_test_names(step: &Step) -> Result<Vec<String>, String> {
    let dir = step.dir().join("tests");
    let entries =
        fs::read_dir(&dir).map_err(|err| format!("cannot list {}: {err}", dir.display()))?;
    let graded = format!("step{:02}", step.number);
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.strip_suffix(".rs").map(String::from))
        .filter(|name| ![graded.as_str(), "book", "exercises"].contains(&name.as_str()))
        .collect();
    names.sort();
    Ok(names)
}

/// How long the own tests of one step may take: 300 s times CONTAINER_TIMEOUT_SCALE.
fn own_tests_limit() -> Duration {
    let scale = std::env::var("CONTAINER_TIMEOUT_SCALE").ok().and_then(|s| s.parse().ok());
    Duration::from_secs(300 * scale.unwrap_or(1u64).max(1))
}

/// Run `command` in a process group of its own; past `limit`, kill that group.
fn run_bounded(mut command: Command, verbose: bool, limit: Duration) -> Result<ExitStatus, String> {
    command.stdin(Stdio::null()).process_group(0);
    if !verbose {
        command.stdout(Stdio::null()).stderr(Stdio::null());
    }
    let mut child = command.spawn().map_err(|err| format!("cannot run cargo test: {err}"))?;
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(200)),
            Ok(None) => {
                let group = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
                let _ = killpg(group, Signal::SIGKILL);
                let _ = child.wait();
                return Err(format!("timed out after {}s", limit.as_secs()));
            }
            Err(err) => return Err(format!("cannot wait for cargo test: {err}")),
        }
    }
}

/// `CARGO_TARGET_<TRIPLE>_RUNNER` and its value: the course's runner, then `wrapper`
/// (as the engine sets it for its gradings).
fn runner_var(wrapper: &[String]) -> Option<(String, String)> {
    let rustc = Command::new("rustc").arg("-vV").output().ok()?;
    let text = String::from_utf8_lossy(&rustc.stdout).into_owned();
    let host = text.lines().find_map(|line| line.strip_prefix("host: "))?.trim().to_string();
    let var = format!("CARGO_TARGET_{}_RUNNER", host.to_uppercase().replace(['-', '.'], "_"));
    let runner = repo().join(".cargo/runner").display().to_string();
    let words: Vec<String> = std::iter::once(runner).chain(wrapper.iter().cloned()).collect();
    Some((var, words.join(" ")))
}

/// End, by PID, every process still running `bin` (a changed program of ours may
/// leave one); as yourself, those run as root stay hidden and are left.
fn reap(bin: &Path) {
    let Ok(entries) = fs::read_dir("/proc") else { return };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<i32>().ok()) else {
            continue;
        };
        let exe: Option<PathBuf> = fs::read_link(entry.path().join("exe")).ok();
        if exe.is_some_and(|exe| exe == bin) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(every_feature: bool) -> Result<Observed, String> {
        let caught = Caught {
            tests: vec!["feature_pid_1_reaps_orphans".into()],
            line: "step04-pid: FAIL (1 of 11 checks) — first: PID 1 reaps orphans: wait".into(),
        };
        Ok(Observed::Failed { every_feature, words: "fails".into(), details: Vec::new(), caught })
    }

    #[test]
    fn each_expectation_is_met_only_by_its_outcome() {
        let passed = || Ok(Observed::Passed("passes".into()));
        assert!(judge(Expected::Pass, passed()).0);
        assert!(!judge(Expected::Fail, passed()).0);
        assert!(judge(Expected::Fail, failed(false)).0);
        assert!(!judge(Expected::EveryFeatureFails, failed(false)).0);
        assert!(judge(Expected::EveryFeatureFails, failed(true)).0);
        let names = |check, words| Expected::Names { check, words };
        assert!(judge(names("pid_1_reaps_orphans", "reaps ORPHANS"), failed(false)).0);
        assert!(!judge(names("pid_1_reaps_orphans", "chroot"), failed(false)).0);
        assert!(!judge(names("ps_shows_only_the_container", "orphans"), failed(false)).0);
        let (ok, words, _) = judge(Expected::Fail, Err("no program".into()));
        assert!(!ok);
        assert_eq!(words, "must fail, but: ERROR (no program)");
    }
}
