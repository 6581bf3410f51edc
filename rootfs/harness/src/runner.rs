//! The test runner of the graded checks and the exercises (`harness = false` test
//! targets): it runs each test on a thread of its own, prints what libtest prints
//! (`test NAME ... ok`, the failures, `test result: …`), and appends one
//! [`Record`] per test to the file `COURSE_RESULTS` names, which is what the grading
//! reads. It takes libtest's usual arguments (a filter, `--exact`, `--skip`,
//! `--list`, `--test-threads`, `-q`), so `cargo test -p step05-chroot-proc --test
//! step05 -- feature_` works as it always did.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Instant;

use clap::Parser;

use crate::report::{render, take_failure};
use crate::results::{self, Failure, FailureKind, Record};

/// One test: its name, whether it checks what its step adds, and what it runs.
pub struct Test {
    pub name: String,
    pub feature: bool,
    pub run: Box<dyn Fn() + Send + Sync>,
}

impl Test {
    pub fn new(
        name: impl Into<String>,
        feature: bool,
        run: impl Fn() + Send + Sync + 'static,
    ) -> Test {
        Test { name: name.into(), feature, run: Box::new(run) }
    }
}

/// The arguments libtest takes, as far as these tests use them (the rest are
/// accepted and ignored, so that cargo's and editors' usual calls work).
#[derive(Parser)]
#[command(about = "Runs the course's graded checks (or a step's exercises)")]
struct Args {
    /// Run only the tests whose name contains this (with --exact: is this)
    filter: Option<String>,
    /// The filter must match a test's whole name
    #[arg(long)]
    exact: bool,
    /// Leave out the tests whose name contains this (may be repeated)
    #[arg(long, value_name = "TEXT")]
    skip: Vec<String>,
    /// List the tests instead of running them
    #[arg(long)]
    list: bool,
    /// How many tests run at once (RUST_TEST_THREADS, else one per core)
    #[arg(long, value_name = "N", env = "RUST_TEST_THREADS")]
    test_threads: Option<usize>,
    /// One character per test
    #[arg(short, long)]
    quiet: bool,
    #[arg(long, hide = true)]
    nocapture: bool,
    #[arg(long, hide = true)]
    show_output: bool,
    #[arg(long, hide = true)]
    ignored: bool,
    #[arg(long, hide = true)]
    include_ignored: bool,
    #[arg(long, hide = true)]
    format: Option<String>,
    #[arg(long, hide = true)]
    color: Option<String>,
    #[arg(short = 'Z', hide = true)]
    unstable: Vec<String>,
}

/// Run `tests` as the command line asks; the exit code is 101 (libtest's) when one
/// failed.
pub fn main(tests: Vec<Test>) -> ExitCode {
    let args = Args::parse();
    let total = tests.len();
    let chosen: Vec<Test> = tests.into_iter().filter(|test| args.chooses(&test.name)).collect();
    if args.list {
        for test in &chosen {
            println!("{}: test", test.name);
        }
        return ExitCode::SUCCESS;
    }
    if args.ignored {
        // None of these tests is #[ignore]d.
        println!(
            "\nrunning 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; {total} filtered out; finished in 0.00s\n"
        );
        return ExitCode::SUCCESS;
    }
    quiet_panics();
    let started = Instant::now();
    println!("\nrunning {} test{}", chosen.len(), if chosen.len() == 1 { "" } else { "s" });
    let threads =
        args.test_threads.unwrap_or_else(|| thread::available_parallelism().map_or(1, |n| n.get()));
    let failures = run_all(&chosen, threads.max(1), args.quiet);
    if args.quiet {
        println!();
    }
    if !failures.is_empty() {
        println!("\nfailures:\n");
        for (name, failure) in &failures {
            println!("---- {name} stdout ----\n{}", render(failure));
        }
        println!("\nfailures:");
        for (name, _) in &failures {
            println!("    {name}");
        }
    }
    let failed = failures.len();
    println!(
        "\ntest result: {}. {} passed; {failed} failed; 0 ignored; 0 measured; {} filtered out; finished in {:.2}s\n",
        if failed == 0 { "ok" } else { "FAILED" },
        chosen.len() - failed,
        total - chosen.len(),
        started.elapsed().as_secs_f64()
    );
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(101) }
}

impl Args {
    fn chooses(&self, name: &str) -> bool {
        let matches = match &self.filter {
            None => true,
            Some(filter) if self.exact => name == filter,
            Some(filter) => name.contains(filter.as_str()),
        };
        matches && !self.skip.iter().any(|skip| name.contains(skip.as_str()))
    }
}

/// Run every test, `threads` at a time; the failures, sorted by name.
fn run_all(tests: &[Test], threads: usize, quiet: bool) -> Vec<(String, Failure)> {
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..threads.min(tests.len()) {
            scope.spawn(|| {
                while let Some(test) = tests.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let failure = run_one(test);
                    report(test, failure.as_ref(), quiet);
                    if let Some(failure) = failure {
                        let mut failures = failures.lock().unwrap_or_else(|p| p.into_inner());
                        failures.push((test.name.clone(), failure));
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    failures.sort_by(|a, b| a.0.cmp(&b.0));
    failures
}

/// Run one test on a thread named after it (as libtest does); its failure, if any.
fn run_one(test: &Test) -> Option<Failure> {
    let failure = thread::scope(|scope| {
        let thread = thread::Builder::new().name(test.name.clone()).spawn_scoped(scope, || {
            IN_TEST.with(|flag| flag.set(true));
            let result = panic::catch_unwind(AssertUnwindSafe(|| (test.run)()));
            result.err().map(|payload| failure_of(payload.as_ref()))
        });
        match thread {
            Ok(handle) => {
                handle.join().unwrap_or_else(|payload| Some(failure_of(payload.as_ref())))
            }
            Err(err) => Some(other(format!("cannot start a thread for the test: {err}"))),
        }
    });
    let record =
        Record { test: test.name.clone(), feature: test.feature, failure: failure.clone() };
    if let Err(err) = results::write(&record) {
        eprintln!("test runner: cannot record {}: {err}", test.name);
    }
    failure
}

/// `test NAME ... ok` (or a dot with -q), as the test ends.
fn report(test: &Test, failure: Option<&Failure>, quiet: bool) {
    let mut stdout = std::io::stdout().lock();
    let _ = match (quiet, failure) {
        (true, None) => write!(stdout, "."),
        (true, Some(_)) => write!(stdout, "F"),
        (false, None) => writeln!(stdout, "test {} ... ok", test.name),
        (false, Some(_)) => writeln!(stdout, "test {} ... FAILED", test.name),
    };
    let _ = stdout.flush();
}

thread_local! {
    /// Whether this thread runs a test (its panics are recorded, not printed).
    static IN_TEST: Cell<bool> = const { Cell::new(false) };
    /// The last panic's message and place on this thread.
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Panics on test threads are kept for the report instead of printed; on any other
/// thread they print as usual.
fn quiet_panics() {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if IN_TEST.with(Cell::get) {
            let place = info.location().map(|l| format!(" (at {l})")).unwrap_or_default();
            let message = message_of(info.payload()).unwrap_or_default();
            PANIC.with(|panic| *panic.borrow_mut() = Some(format!("{message}{place}")));
        } else {
            previous(info);
        }
    }));
}

/// The failure a panic stands for: the check's own, or the panic's message.
fn failure_of(payload: &(dyn Any + Send)) -> Failure {
    if let Some(failure) = take_failure() {
        return failure;
    }
    let message = PANIC
        .with(|panic| panic.borrow_mut().take())
        .or_else(|| message_of(payload))
        .unwrap_or_else(|| "the test panicked".into());
    other(message)
}

/// A failure that is not a check's (an `assert!` of a test, a panic): its first line
/// as what failed, its `hint: ` lines as the hint (up to assert_eq!'s `left:` and
/// `right:`), the rest shown.
fn other(message: String) -> Failure {
    let message = message.trim();
    let message = ["assertion `left == right` failed: ", "assertion `left != right` failed: "]
        .iter()
        .fold(message, |message, prefix| message.strip_prefix(prefix).unwrap_or(message));
    let (first, rest) = message.split_once('\n').unwrap_or((message, ""));
    let (mut shown, mut hint, mut in_hint) = (Vec::new(), Vec::new(), false);
    for line in rest.lines() {
        in_hint &= !(line.starts_with("  left: ") || line.starts_with(" right: "));
        match line.strip_prefix("hint: ") {
            Some(first_of_hint) => {
                in_hint = true;
                hint.push(first_of_hint);
            }
            None if in_hint => hint.push(line),
            None => shown.push(line),
        }
    }
    Failure {
        check: first.to_string(),
        shown: shown.join("\n"),
        hint: hint.join(" "),
        kind: FailureKind::Other,
        ..Failure::default()
    }
}

fn message_of(payload: &(dyn Any + Send)) -> Option<String> {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|text| text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::other;

    #[test]
    fn an_assert_eq_reads_as_a_check_with_its_hint() {
        let message = "assertion `left == right` failed: `run -w /f CMD`: expected exit code 125\n\
                       stderr: x\nhint: change directory in `run`\nitself\n  left: 126\n right: 125 (at a.rs:1:2)";
        let failure = other(message.to_owned());
        assert_eq!(failure.check, "`run -w /f CMD`: expected exit code 125");
        assert_eq!(failure.hint, "change directory in `run` itself");
        assert_eq!(failure.shown, "stderr: x\n  left: 126\n right: 125 (at a.rs:1:2)");
    }

    #[test]
    fn a_panic_without_a_hint_is_shown_whole() {
        let failure = other("cannot start `true`: gone\nmore (at a.rs:1:2)".to_owned());
        assert_eq!(
            (failure.check.as_str(), failure.hint.as_str()),
            ("cannot start `true`: gone", "")
        );
        assert_eq!(failure.shown, "more (at a.rs:1:2)");
    }
}
