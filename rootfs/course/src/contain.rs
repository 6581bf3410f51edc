//! `course contain`: run one command contained, as `cargo course class` runs each
//! grading (root; hidden, not for learners).
//!
//! ```text
//! course contain --seconds N [--report FILE] -- COMMAND [ARGS...]
//! ```
//!
//! COMMAND runs in new PID, mount, UTS and cgroup namespaces, inside a cgroup of its
//! own (`course-class-<pid>`) that is, seen from inside, the root of the cgroup tree.
//! When COMMAND ends, or N seconds are up, the PID namespace's first process dies and
//! the kernel kills every other process in it (daemons too); the mounts go with the
//! mount namespace; and the job's cgroup is removed with every cgroup the programs
//! made below it. Parallel gradings thus never see each other's processes, mounts or
//! cgroups (two programs may both name theirs `container-5`). Exit status: COMMAND's
//! (128+n when a signal n killed it), or 124 when the time was up.
//!
//! Two processes do it. This one, outside, makes the job's cgroups, starts itself
//! again (`/proc/self/exe contain --job … -- COMMAND`) as the first process of a new
//! PID namespace, keeps the time, and cleans up. That one, inside, sets up the
//! namespaces and the cgroups, runs COMMAND as its child, reaps, and says how many
//! processes COMMAND left behind. With `--report FILE`, what the cleanup found is
//! written there as one JSON object: [`Cleanup`].
//!
//! Here: the command line, the report, and what both processes share;
//! `outside.rs` and `inside.rs` are the two processes, `cgroups.rs` the job's cgroups.

mod cgroups;
mod files;
mod inside;
mod outside;

use std::ffi::OsString;
use std::fs;
use std::os::fd::{AsFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::sys::wait::WaitStatus;
use serde::{Deserialize, Serialize};

#[derive(clap::Args)]
pub struct Args {
    /// The time limit, in seconds
    #[arg(long)]
    seconds: u64,
    /// Write what the cleanup found, as one JSON object, to this file
    #[arg(long)]
    report: Option<PathBuf>,
    /// (Inside: the job's cgroup name; set only when contain starts itself.)
    #[arg(long, hide = true)]
    job: Option<String>,
    /// (Inside: where to write how many processes COMMAND left behind.)
    #[arg(long, hide = true, requires = "job")]
    count_fd: Option<RawFd>,
    /// The command and its arguments
    #[arg(trailing_var_arg = true, required = true)]
    command: Vec<OsString>,
}

/// What the cleanup after one contained command found: the class table's data.
#[derive(Serialize, Deserialize, Debug, Default, Clone, PartialEq)]
pub struct Cleanup {
    /// The time was up before COMMAND ended.
    pub timed_out: bool,
    /// How many processes were still in the job when COMMAND ended (or the time was
    /// up) and had to be killed: a daemon a program left, say.
    pub processes_killed: usize,
    /// The cgroups the programs made below the job's cgroup and left behind,
    /// relative to it (`container-5`, `container-5/sub`).
    pub cgroups_left: Vec<String>,
}

/// The report that `course contain --report path` wrote.
pub fn read_report(path: &Path) -> Result<Cleanup, String> {
    let text = fs::read_to_string(path)
        .map_err(|e| format!("cannot read the contained run's report {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!("the contained run's report {} is not a cleanup report: {e}", path.display())
    })
}

/// The words that run a command contained: put them in front of it (cargo's
/// `CARGO_TARGET_<triple>_RUNNER` appends the test binary and its arguments).
pub fn runner_prefix(course_bin: &Path, seconds: u64, report: &Path) -> Vec<String> {
    vec![
        course_bin.display().to_string(),
        "contain".to_string(),
        "--seconds".to_string(),
        seconds.to_string(),
        "--report".to_string(),
        report.display().to_string(),
        "--".to_string(),
    ]
}

/// Exit status when contain itself failed (as `timeout` and `env` say it).
const FAILED: u8 = 125;
/// How often the outside process looks whether the job ended, and the cleanup
/// retries removing its cgroups.
const POLL: Duration = Duration::from_millis(50);

pub fn run(args: Args) -> ExitCode {
    let result = match (&args.job, args.count_fd) {
        (Some(job), Some(count_fd)) => inside::inside(job, count_fd, &args.command),
        (Some(_), None) => Err("--job needs --count-fd".to_string()),
        (None, _) => outside::outside(&args),
    };
    match result {
        Ok(status) => ExitCode::from(status),
        Err(error) => {
            eprintln!("course contain: {error}");
            ExitCode::from(FAILED)
        }
    }
}

fn write_report(path: &Path, cleanup: &Cleanup) -> Result<(), String> {
    let json = serde_json::to_string(cleanup)
        .map_err(|e| format!("cannot write the report as JSON: {e}"))?;
    fs::write(path, json + "\n")
        .map_err(|e| format!("cannot write the report {}: {e}", path.display()))
}

/// Marks `fd` close-on-exec, so that the programs started later do not inherit it.
fn keep_from_children(fd: &impl AsFd) -> Result<(), String> {
    fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))
        .map(drop)
        .map_err(|e| format!("cannot mark a descriptor close-on-exec: {e}"))
}

/// A process's exit status as a shell says it, 128+n if signal n killed it; `None`
/// while it has not ended.
fn exit_status(status: WaitStatus) -> Option<u8> {
    match status {
        WaitStatus::Exited(_, code) => Some(code as u8),
        WaitStatus::Signaled(_, signal, _) => Some(128 + signal as u8),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_round_trips_through_json() {
        let cleanup = Cleanup {
            timed_out: true,
            processes_killed: 2,
            cgroups_left: vec!["container-5".into(), "container-5/sub".into()],
        };
        let json = serde_json::to_string(&cleanup).unwrap();
        assert_eq!(
            json,
            r#"{"timed_out":true,"processes_killed":2,"cgroups_left":["container-5","container-5/sub"]}"#
        );
        let path = std::env::temp_dir().join(format!("contain-report-{}.json", std::process::id()));
        write_report(&path, &cleanup).unwrap();
        assert_eq!(read_report(&path), Ok(cleanup));
        fs::write(&path, "not json").unwrap();
        let error = read_report(&path).unwrap_err();
        assert!(error.contains(&path.display().to_string()), "{error}");
        fs::remove_file(&path).unwrap();
        let missing = read_report(Path::new("/nonexistent/report.json")).unwrap_err();
        assert!(missing.starts_with("cannot read the contained run's report"), "{missing}");
    }

    #[test]
    fn runner_prefix_is_contain_with_its_options_and_dashes() {
        let words = runner_prefix(Path::new("/t/course"), 30, Path::new("/tmp/r 1.json"));
        let want = ["/t/course", "contain", "--seconds", "30", "--report", "/tmp/r 1.json", "--"];
        assert_eq!(words, want);
    }

    #[test]
    fn runner_prefix_and_a_command_parse_as_contain() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(subcommand)]
            command: Sub,
        }
        #[derive(clap::Subcommand)]
        enum Sub {
            Contain(Args),
        }
        let mut words = runner_prefix(Path::new("course"), 7, Path::new("/tmp/r.json"));
        words.extend(["/t/step07-test".into(), "--test-threads".into(), "1".into()]);
        let Sub::Contain(args) = Cli::try_parse_from(words).unwrap().command;
        assert_eq!(args.seconds, 7);
        assert_eq!(args.report, Some(PathBuf::from("/tmp/r.json")));
        assert_eq!(args.job, None);
        assert_eq!(args.command, ["/t/step07-test", "--test-threads", "1"]);
    }

    #[test]
    fn an_exit_status_is_the_code_or_128_plus_the_signal() {
        use nix::sys::signal::Signal;
        use nix::unistd::Pid;
        let pid = Pid::from_raw(7);
        assert_eq!(exit_status(WaitStatus::Exited(pid, 3)), Some(3));
        assert_eq!(exit_status(WaitStatus::Signaled(pid, Signal::SIGKILL, false)), Some(137));
        assert_eq!(exit_status(WaitStatus::StillAlive), None);
    }
}
