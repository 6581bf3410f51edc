//! `cargo course escape --bin PATH`: try to break out of the containers a program
//! makes, and say, for each escape, whether the container held or let it out.
//!
//! ```text
//! cargo course escape --bin target/debug/step07-cgroups
//! escaped  cgroup limit: mounted the cgroup v1 pids hierarchy and wrote pids.max … (wrote back 20)
//! …
//! 2 held, 10 escaped, 1 skipped
//! ```
//!
//! The program keeps the course's contract (`PATH run CMD ARGS...`, its root
//! filesystem from `CONTAINER_ROOTFS`). Each escape runs in a container of its own,
//! in a scratch copy of the course's busybox tree: a busybox script, or this program
//! itself copied inside (`--probe`) for what busybox has no applet for (chroot from
//! a held directory, init_module). Every escape is harmless when it succeeds: it
//! writes back the value it read, opens for writing without writing, reads one
//! sector, unmounts what it mounted. Exit status: 0 if all held, 1 if any escaped, 2
//! if the suite could not run (or found the host changed after it).
//!
//! Here: the command line and the report; `table.rs` lists the escapes,
//! the harness's `escapes.rs` (shared with step 7's lock-down checks) and
//! `probe.rs` try them, `container.rs` runs them, `host.rs` is what
//! we know of the host and check after, `verdict.rs` the verdicts as values.

mod container;
mod host;
mod probe;
mod table;
mod verdict;

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use nix::sys::signal::{SIGKILL, kill};
use nix::unistd::{Pid, geteuid};

use container::{PROBE, Scratch};
use host::{Host, Unchanged};
use probe::Probe;
use table::{ESCAPES, Escape, Inside};
use verdict::{Tally, Verdict};

#[derive(clap::Args)]
pub struct Args {
    /// The container program to break out of: it keeps the course's contract
    /// (`PATH run CMD ARGS...`, its root filesystem from CONTAINER_ROOTFS)
    #[arg(long, value_name = "PATH", required_unless_present_any = ["list", "probe"])]
    bin: Option<PathBuf>,
    /// List the escapes, what each tries and how it is judged
    #[arg(long)]
    list: bool,
    /// (Inside a container: try this escape and print its verdict.)
    #[arg(long, hide = true, value_enum)]
    probe: Option<Probe>,
}

pub fn run(args: Args) -> ExitCode {
    if let Some(probe) = args.probe {
        println!("{}", probe::run(probe));
        return ExitCode::SUCCESS;
    }
    match args.bin {
        _ if args.list => print_table(),
        Some(_) if !geteuid().is_root() => again_as_root(),
        Some(bin) => match break_out_of(&bin) {
            Ok(code) => ExitCode::from(code),
            Err(why) => could_not_run(&why),
        },
        None => could_not_run("--bin PATH names the program to break out of"),
    }
}

fn could_not_run(why: &str) -> ExitCode {
    eprintln!("cargo course escape: {why}");
    ExitCode::from(2)
}

fn print_table() -> ExitCode {
    for escape in ESCAPES {
        println!("{}\n  tries: {}\n  judged: {}", escape.name, escape.tries, escape.judged);
    }
    ExitCode::SUCCESS
}

/// The containers need root: run this same command again through sudo.
fn again_as_root() -> ExitCode {
    let Ok(exe) = std::env::current_exe() else {
        return could_not_run("it needs root, and cannot find its own program to run it by sudo");
    };
    let args = std::env::args_os().skip(1);
    match Command::new("sudo").arg("--preserve-env").arg(exe).args(args).status() {
        Ok(status) => ExitCode::from(status.code().map_or(2, |code| code as u8)),
        Err(err) => could_not_run(&format!("it needs root (containers, mounts), and sudo: {err}")),
    }
}

/// Run every escape against `bin`'s containers, print the report; the exit code.
fn break_out_of(bin: &Path) -> Result<u8, String> {
    let bin = std::path::absolute(bin).map_err(|err| format!("{}: {err}", bin.display()))?;
    if !bin.is_file() {
        return Err(format!("--bin {}: no such program", bin.display()));
    }
    let host = Host::look()?;
    let unchanged = Unchanged::now();
    let scratch = Scratch::make()?;
    can_run_a_container(&scratch, &bin)?;
    let verdicts: Vec<Verdict> =
        ESCAPES.iter().map(|e| report(e, try_escape(e, &scratch, &bin, &host))).collect();
    let left = clean_up(&scratch);
    drop(scratch);
    let tally = Tally::of(&verdicts);
    println!("{}", tally.closing_line());
    for what in &left {
        eprintln!("cargo course escape: the containers left {what}: removed");
    }
    match unchanged.changes(&Unchanged::now()).as_slice() {
        [] => Ok(tally.exit_code()),
        changes => Err(format!("the host changed during the escapes: {}", changes.join("; "))),
    }
}

/// `bin run /bin/true` must work, or no escape's verdict would mean anything.
fn can_run_a_container(scratch: &Scratch, bin: &Path) -> Result<(), String> {
    let ended = scratch.run(bin, &[OsStr::new("/bin/true")])?;
    match ended.status {
        Some(0) => Ok(()),
        status => {
            let how = status.map_or("did not end in time".into(), |code| format!("exited {code}"));
            let said = match ended.stderr.trim() {
                "" => "it printed nothing on stderr".to_string(),
                said => said.to_string(),
            };
            Err(format!(
                "`{} run /bin/true` {how}, so no escape can be tried: {said}",
                bin.display()
            ))
        }
    }
}

/// Print the escape's line at once, and hand its verdict on.
fn report(escape: &Escape, verdict: Verdict) -> Verdict {
    println!("{}", verdict.report_line(escape.name));
    let _ = std::io::stdout().flush();
    verdict
}

/// Try one escape in a container of its own.
fn try_escape(escape: &Escape, scratch: &Scratch, bin: &Path, host: &Host) -> Verdict {
    let script;
    let argv: Vec<&OsStr> = match &escape.inside {
        Inside::Script(make) => {
            script = make(host);
            ["/bin/sh", "-c", script.as_str()].map(OsStr::new).to_vec()
        }
        Inside::Probe(probe) => {
            if let Err(why) = &scratch.probe {
                return Verdict::Skipped(format!("the probe could not be put inside: {why}"));
            }
            [PROBE, "escape", "--probe", probe.name()].map(OsStr::new).to_vec()
        }
    };
    match scratch.run(bin, &argv) {
        Ok(ended) if ended.status == Some(127) && matches!(escape.inside, Inside::Probe(_)) => {
            Verdict::Skipped(format!(
                "the probe is not in the container's / (127): does {} chroot into \
                 CONTAINER_ROOTFS?",
                bin.display()
            ))
        }
        Ok(ended) => ended.verdict(),
        Err(why) => Verdict::Skipped(why),
    }
}

/// Remove what the containers left: processes whose / is in the scratch root,
/// mounts below it (dropping the scratch root detaches them), and the empty
/// cgroups named after the programs we started (`container-PID`, as step 7 names
/// them; those of other people's containers are theirs). What was left, in words.
fn clean_up(scratch: &Scratch) -> Vec<String> {
    let mut left = host::left_below(scratch.path());
    for pid in host::processes_rooted_in(scratch.path()) {
        let _ = kill(Pid::from_raw(pid), SIGKILL);
    }
    let ours = scratch.started().iter().map(|pid| format!("container-{pid}")).collect::<Vec<_>>();
    for cgroup in host::container_cgroups() {
        let name = cgroup.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        if ours.iter().any(|our| our == name) && std::fs::remove_dir(&cgroup).is_ok() {
            left.push(format!("the cgroup {}", cgroup.display()));
        }
    }
    left
}
