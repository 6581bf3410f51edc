//! The class proof (`--only class`, once .ci/class.sh): a teacher grades a class of
//! five with one command, and nothing of theirs is left.
//!
//! alice hands in the course's own programs; bob the C implementation of the
//! contract (rootfs/other-languages/c), one binary for all steps; carol's step 1
//! hangs; dave's step 1 works but leaves a daemon behind and writes a file outside
//! its root filesystem; mallory's step 1 works too, but tries to write the host's
//! files (/tmp, /var/tmp, /etc, the grading user's home), lifts its job's pids
//! limit and its own rlimits, and leaves a daemon; erin handed in steps 1 and 2 only, step 2 without its
//! feature, and two exercises (step 6's pivot_root, step 2's hostname_flag). `course
//! class` (this very program, copied) grades them twice: the table must say so, aligned
//! whatever its columns, and say what grading cleaned up after dave; the two CSVs
//! must be the same, carol must cost the time limit and not much more, and no
//! process, cgroup or mount of theirs may be left, nor any file dave or mallory
//! wrote on the host: the job sees the host's files read-only, and what it writes
//! in /tmp and the like lands in an overlay that goes with it (see the teacher's
//! page for what is not contained).

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{self, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

mod checks;

use checks::*;

use super::run::{self, Outcome};
use super::variants::{self, cargo, succeeded};
use crate::steps::{Step, repo};

/// The time limit of one student's step (`--timeout`), in seconds.
const LIMIT: u64 = 40;
/// How much longer than the limit carol's hang may live: "not much more".
const SLACK: Duration = Duration::from_secs(5);
/// The processes the students start that grading must end.
const LEFT: [&str; 3] = ["sleep 4242", "sleep 1000", "sleep 4343"];
/// The file dave's step 1 writes outside its root filesystem.
const DAVE_WAS_HERE: &str = "/tmp/dave-was-here";
/// The host's files mallory's step 1 tries to write, but those in the grading
/// user's home ([`mallory_files`]).
const MALLORY: [&str; 3] = ["/var/tmp/mallory", "/etc/mallory", "/tmp/mallory"];

/// (student, column, verdict the CSV must say, why).
const VERDICTS: [(&str, &str, &str, &str); 9] = [
    ("alice", "step07", "pass", "the course's own program"),
    ("bob", "step07", "pass", "the C program"),
    ("carol", "step01", "timed out", "it hangs"),
    ("carol", "step02", "missing", "not handed in"),
    ("dave", "step01", "pass", "it works, and leaves a daemon"),
    ("mallory", "step01", "pass", "it works, and tries to write the host's files"),
    ("erin", "step02", "FAIL", "step 1's program"),
    ("erin", "step06-pivot_root", "FAIL", "step 6's program: the exercise not done"),
    ("erin", "step02-hostname_flag", "FAIL", "step 2's program: the exercise not done"),
];

/// One round of grading: what `course class` printed and wrote, and carol's hang.
struct Round {
    seconds: f64,
    output: Result<Output, String>,
    csv: Result<Vec<Vec<String>>, String>,
    /// How long a `sleep 1000` (carol's hang) was seen running, first to last.
    hang: Option<Duration>,
}

/// Make the class, grade it twice, and prove it all: one outcome per proof (each
/// printed as it comes).
pub fn prove(steps: &[Step], verbose: bool) -> Vec<Outcome> {
    let started = Instant::now();
    let class = Class(std::env::temp_dir().join(format!("course-proofs-class.{}", process::id())));
    eprintln!("proofs: class: building the steps and the class in {}", class.0.display());
    let bob = match make(&class.0, steps, verbose) {
        Ok(bob) => bob,
        Err(why) => {
            let outcome = judged("the class of five is made", Err(why), Vec::new());
            run::print(&outcome);
            return vec![outcome];
        }
    };
    let rounds: Vec<Round> = (1..=2)
        .map(|n| {
            eprintln!("proofs: class: grading it, round {n} of 2 (a minute or two)");
            grade(&class.0, n, verbose)
        })
        .collect();
    let mut outcomes = proofs(&class.0, &rounds, bob, verbose);
    for file in host_files() {
        let _ = fs::remove_file(file);
    }
    drop(class);
    if let Some(first) = outcomes.first_mut() {
        first.seconds = started.elapsed().as_secs_f64();
    }
    outcomes
}

/// The class folder, removed when dropped.
struct Class(PathBuf);

impl Drop for Class {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Build the steps, and make the five students' folders; whether bob's C program
/// was built (or why not).
fn make(dir: &Path, steps: &[Step], verbose: bool) -> Result<Result<(), String>, String> {
    // The steps only: with the whole workspace, cargo would rebuild this program.
    let mut build = cargo();
    build.current_dir(repo()).arg("build").stdin(Stdio::null());
    build.args(steps.iter().flat_map(|step| ["-p", step.name.as_str()]));
    if !verbose {
        build.arg("-q");
    }
    let built = build.output().map_err(|err| err.to_string());
    built.and_then(|out| succeeded(&out)).map_err(|why| format!("cargo build: {why}"))?;
    let _ = fs::remove_dir_all(dir);
    for file in host_files() {
        let _ = fs::remove_file(file); // left by an older proof: not this one's doing
    }
    // This very program, copied: cargo may rebuild it meanwhile (the runner knows
    // it by its name, `course`). A hidden folder is no student.
    let course = dir.join(".course/course");
    fs::create_dir_all(dir.join(".course"))
        .and_then(|()| fs::copy("/proc/self/exe", &course))
        .map_err(|err| format!("cannot copy this program to {}: {err}", course.display()))?;
    for student in ["alice", "bob", "carol", "dave", "erin", "mallory"] {
        let folder = dir.join(student);
        fs::create_dir_all(&folder)
            .map_err(|err| format!("cannot create {}: {err}", folder.display()))?;
    }
    let debug = variants::target_dir().join("debug");
    let program = |name: &str| debug.join(name);
    for step in steps {
        link(&program(&step.name), &dir.join("alice").join(&step.name[..6]))?;
    }
    let bob = dir.join("bob");
    let mut c = Command::new("make");
    let source = repo().join("rootfs/other-languages/c");
    c.arg("-s").arg("-C").arg(&source).arg(format!("OUT={}", bob.join("container").display()));
    let made = c.stdin(Stdio::null()).output().map_err(|err| format!("make: {err}"));
    let made = made.and_then(|out| succeeded(&out).map_err(|why| format!("make: {why}")));
    if made.is_ok() {
        for step in steps {
            link(Path::new("container"), &bob.join(format!("step{:02}", step.number)))?;
        }
    }
    script(&dir.join("carol/step01"), "#!/bin/sh\nsleep 1000\n")?;
    let dave = format!(
        "#!/bin/sh\nshift\necho dave >>{DAVE_WAS_HERE}\n\
         setsid sleep 4242 </dev/null >/dev/null 2>&1 &\nexec \"$@\"\n"
    );
    script(&dir.join("dave/step01"), &dave)?;
    let writes: Vec<String> =
        mallory_files().iter().map(|f| format!("echo mallory >>{}", f.display())).collect();
    let mallory = format!(
        "#!/bin/sh\nshift\nexec 3>&2 2>/dev/null\n{}\n\
         echo max >/sys/fs/cgroup/pids/pids.max\necho max >/sys/fs/cgroup/pids.max\n\
         ulimit -n 65536; ulimit -u unlimited\n\
         setsid sleep 4343 </dev/null >/dev/null 2>&1 3>&- &\nexec \"$@\" 2>&3 3>&-\n",
        writes.join("\n")
    );
    script(&dir.join("mallory/step01"), &mallory)?;
    let name = |number: u8| super::table::step_name(steps, number);
    let erin = dir.join("erin");
    link(&program(&name(1)), &erin.join("step01"))?;
    link(&program(&name(1)), &erin.join("step02"))?;
    link(&program(&name(6)), &erin.join("step06-pivot_root"))?;
    link(&program(&name(2)), &erin.join("step02-hostname_flag"))?;
    Ok(made)
}

/// The host's files mallory tries to write: [`MALLORY`] and one in the home of
/// the user grading (`$HOME`, and `$SUDO_USER`'s under sudo).
fn mallory_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = MALLORY.iter().map(PathBuf::from).collect();
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let sudo_user = std::env::var("SUDO_USER").ok().map(|user| PathBuf::from("/home").join(user));
    for home in home.into_iter().chain(sudo_user).filter(|home| home.is_dir()) {
        files.push(home.join("mallory"));
    }
    files
}

/// Every file of the host a student tries to write: dave's and mallory's.
fn host_files() -> Vec<PathBuf> {
    let mut files = mallory_files();
    files.push(PathBuf::from(DAVE_WAS_HERE));
    files
}

fn link(target: &Path, link: &Path) -> Result<(), String> {
    symlink(target, link).map_err(|err| format!("cannot link {}: {err}", link.display()))
}

fn script(path: &Path, text: &str) -> Result<(), String> {
    let write = fs::write(path, text)
        .and_then(|()| fs::set_permissions(path, fs::Permissions::from_mode(0o755)));
    write.map_err(|err| format!("cannot write {}: {err}", path.display()))
}

/// `course class DIR --jobs 2 --timeout 40 --csv DIR/roundN.csv`, watching for
/// carol's hang meanwhile.
fn grade(dir: &Path, n: u32, verbose: bool) -> Round {
    let csv = dir.join(format!("round{n}.csv"));
    let started = Instant::now();
    let done = AtomicBool::new(false);
    let (output, hang) = thread::scope(|scope| {
        let watcher = scope.spawn(|| watch("sleep 1000", &done));
        let mut class = Command::new(dir.join(".course/course"));
        class.arg("class").arg(dir).args(["--jobs", "2", "--timeout", &LIMIT.to_string()]);
        class.arg("--csv").arg(&csv).current_dir(repo()).stdin(Stdio::null());
        if verbose {
            class.stderr(Stdio::inherit());
        }
        let output = class.output().map_err(|err| format!("cannot run course class: {err}"));
        done.store(true, Ordering::SeqCst);
        (output, watcher.join().ok().flatten())
    });
    Round { seconds: started.elapsed().as_secs_f64(), output, csv: read_csv(&csv), hang }
}

/// How long processes whose command line holds `words` were seen, from the first
/// seen to the last, until `done`.
fn watch(words: &str, done: &AtomicBool) -> Option<Duration> {
    let (mut first, mut last) = (None, None);
    while !done.load(Ordering::SeqCst) {
        if !processes(&[words]).is_empty() {
            let now = Instant::now();
            first.get_or_insert(now);
            last = Some(now);
        }
        thread::sleep(Duration::from_millis(100));
    }
    Some(last? - first?)
}

/// The processes (but this one) whose command line holds one of `words`, as
/// `pgrep -f` finds them: (PID, command line).
fn processes(words: &[&str]) -> Vec<(i32, String)> {
    let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
    let me = i32::try_from(process::id()).unwrap_or(0);
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse().ok()) else {
            continue;
        };
        let Ok(cmdline) = fs::read(entry.path().join("cmdline")) else { continue };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if pid != me && words.iter().any(|words| cmdline.contains(words)) {
            found.push((pid, cmdline.trim_end().to_string()));
        }
    }
    found
}

/// The CSV's records, header included.
fn read_csv(path: &Path) -> Result<Vec<Vec<String>>, String> {
    let reader = csv::ReaderBuilder::new().has_headers(false).from_path(path);
    let mut reader = reader.map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let records = reader.records().map(|record| {
        let record = record.map_err(|err| format!("{}: {err}", path.display()))?;
        Ok(record.iter().map(String::from).collect())
    });
    records.collect()
}

/// Every proof of the class, from its two rounds.
fn proofs(dir: &Path, rounds: &[Round], bob: Result<(), String>, verbose: bool) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    let mut prove = |title: String, result: Result<String, String>, details: Vec<String>| {
        let outcome = judged(&title, result, details);
        run::print(&outcome);
        outcomes.push(outcome);
    };
    let tables: Vec<String> = rounds.iter().map(table_text).collect();
    let shown = |round: usize| -> Vec<String> {
        let text = &tables[round];
        let mut lines = vec![format!("round {}: {:.0}s", round + 1, rounds[round].seconds)];
        lines.extend(text.lines().map(String::from));
        lines
    };
    let both: Vec<String> = if verbose { [shown(0), shown(1)].concat() } else { Vec::new() };
    prove("the same class graded twice gets the same CSV".into(), same_twice(rounds), both);
    let csv = rounds[0].csv.as_ref();
    for (student, column, verdict, why) in VERDICTS {
        let title = format!("{student} {column} ({why}) is `{verdict}`");
        let result = match (student, &bob) {
            ("bob", Err(why)) => Err(format!("the C program was not built: {why}")),
            _ => csv.map_err(Clone::clone).and_then(|csv| said(csv, student, column, verdict)),
        };
        prove(title, result, Vec::new());
    }
    let title = format!("carol's hang costs the time limit ({LIMIT}s), and not much more");
    prove(title, bounded(rounds), Vec::new());
    let table = &tables[0];
    let wrong_table = |result: &Result<String, String>| match result {
        Err(_) => shown(0),
        Ok(_) => Vec::new(),
    };
    let result = dave_cleaned_up(table);
    let details = wrong_table(&result);
    prove("the table's cleanup column says dave's daemons were killed".into(), result, details);
    let result = aligned(table);
    let details = wrong_table(&result);
    prove(
        "the table is aligned: every column starts where its header does".into(),
        result,
        details,
    );
    let title = format!("no student's process is left ({})", LEFT.join(", "));
    prove(title, no_process_left(), Vec::new());
    prove("no grading cgroup (course-class-*) is left".into(), no_cgroup_left(), Vec::new());
    let title = "no mount under the class folder is left".into();
    prove(title, no_mount_left(dir), Vec::new());
    let files: Vec<String> = host_files().iter().map(|f| f.display().to_string()).collect();
    let title = format!("no file dave or mallory wrote reaches the host ({})", files.join(", "));
    prove(title, no_host_file(), Vec::new());
    outcomes
}

/// An outcome line as the other kinds print theirs: `ok   class: TITLE: WORDS`, or
/// `WRONG class: TITLE: WHY`.
fn judged(title: &str, result: Result<String, String>, details: Vec<String>) -> Outcome {
    let (ok, words) = match result {
        Ok(words) => (true, words),
        Err(why) => (false, why),
    };
    let status = if ok { "ok  " } else { "WRONG" };
    let line = format!("{status} class: {title}: {words}");
    Outcome { ok, line, details, seconds: 0.0 }
}
