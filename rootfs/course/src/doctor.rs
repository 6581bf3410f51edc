//! `cargo course doctor`: will each step work on this machine, and if not, why
//! and the exact fix.
//!
//! It runs as you. It looks at the machine (facts.rs), then tries, as root, what
//! the steps do (probe.rs: namespaces, chroot, a proc mount, a pids cgroup),
//! through sudo when you are not root, reads the outcomes back (JSON lines), and turns all that into one line per step
//! (verdict.rs) and a short summary. Exit code 0 when all seven can run here.

mod facts;
mod machine;
mod mounts;
mod probe;
mod verdict;

use std::io::Write;
use std::process::ExitCode;

use facts::Seen;
use verdict::{Access, Busybox, Facts, Verdict};

#[derive(clap::Args)]
pub struct Args {
    /// Show every check and what it found.
    #[arg(short, long)]
    verbose: bool,
    /// The checks the doctor runs as root, in a process of their own (internal).
    #[arg(long, hide = true, value_enum)]
    probe: Option<probe::Mode>,
}

pub fn run(args: Args) -> ExitCode {
    if let Some(mode) = args.probe {
        return probe::run(mode);
    }
    let mut seen = Seen::new();
    let mut facts = facts::gather(&mut seen);
    facts.probes = facts::root_checks(facts.access, &mut seen);
    let vm = facts::virtual_machine(&mut seen);
    let verdicts = verdict::verdicts(&facts);
    let mut report = Vec::new();
    if args.verbose {
        report.push("What the doctor looked at:".to_string());
        report.extend(seen.iter().map(|(what, found)| format!("  {what}: {found}")));
        report.push(String::new());
    }
    report.extend(step_lines(&verdicts, args.verbose));
    report.push(rootless_line(verdict::rootless(&facts).as_ref()));
    report.push(String::new());
    report.extend(summary(&facts, vm.as_deref(), &verdicts));
    // A closed pipe (`cargo course doctor | head`) is no reason to fail loudly.
    let _ = std::io::stdout().write_all((report.join("\n") + "\n").as_bytes());
    match verdicts.iter().all(|v| v.problems.is_empty()) {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    }
}

/// One line per step. A step stopped by the same problem as the step before
/// says so in a few words: `no — as step01-exec`.
fn step_lines(verdicts: &[Verdict], verbose: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let mut first_with_it: Option<&Verdict> = None;
    for verdict in verdicts {
        let same = first_with_it.filter(|v| v.problems.first() == verdict.problems.first());
        match same {
            Some(earlier) if !verbose && !verdict.problems.is_empty() => {
                lines.push(format!("{:<20}no — as {}", verdict.step, earlier.step));
            }
            _ => {
                lines.push(step_line(verdict, verbose));
                first_with_it = Some(verdict);
            }
        }
    }
    lines
}

/// `lockdown (rootless) ok`, or `… no — WHY; fix: FIX`: whether an ordinary user may
/// make a user namespace here, as the locked-down program does without root (it
/// does not count in the exit code: the seven steps run as root).
fn rootless_line(problem: Option<&verdict::Problem>) -> String {
    let name = format!("{:<20}", "lockdown (rootless)");
    match problem {
        None => format!("{name}ok"),
        Some(problem) => format!("{name}no — {}; fix: {}", problem.why, problem.fix),
    }
}

/// `step05-chroot-proc  ok`, or `… no — WHY; fix: FIX` (every problem with -v).
fn step_line(verdict: &Verdict, verbose: bool) -> String {
    let name = format!("{:<20}", verdict.step);
    match verdict.problems.split_first() {
        None => format!("{name}ok"),
        Some((first, rest)) => {
            let mut line = format!("{name}no — {}; fix: {}", first.why, first.fix);
            if verbose {
                for more in rest {
                    line.push_str(&format!("\n{:<20}also — {}; fix: {}", "", more.why, more.fix));
                }
            } else if !rest.is_empty() {
                line.push_str(&format!(" (and {} more: -v)", rest.len()));
            }
            line
        }
    }
}

fn summary(f: &Facts, vm: Option<&str>, verdicts: &[Verdict]) -> Vec<String> {
    let mut machine = format!("{}, Linux {}", f.arch, facts::kernel());
    if let Some(container) = &f.container {
        machine.push_str(&format!(", inside {container}"));
    }
    if let Some(vm) = vm {
        machine.push_str(&format!(", a virtual machine ({vm})"));
    }
    let you = match f.access {
        Access::Root => "root".to_string(),
        Access::Sudo => format!("{}, with sudo (no password asked)", f.user),
        Access::SudoPassword { terminal: true } => {
            format!("{}, with sudo (it asks for your password)", f.user)
        }
        Access::SudoPassword { terminal: false } => {
            format!("{}, with sudo, which needs a password (no terminal)", f.user)
        }
        Access::NoSudo => format!("{}, not root, no sudo", f.user),
    };
    let cgroups = match &f.pids {
        Some(pids) => {
            let version = if pids.v2 { "v2" } else { "v1" };
            format!(
                "{}; step 7 makes its cgroup in {} (cgroup {version})",
                f.layout,
                pids.dir.display()
            )
        }
        None => format!("{}; no pids controller", f.layout),
    };
    let busybox = match &f.busybox {
        Busybox::Built(dir) => format!("the root filesystem is built: {}", dir.display()),
        Busybox::Installed(path) => format!("copied from {} (static) on first use", path.display()),
        Busybox::Apt { cached: true, .. } => "from the busybox-static package, downloaded already".into(),
        Busybox::Apt { cached: false, .. } => {
            "from the busybox-static package: apt-get download fetches it on first use (needs the network once)".into()
        }
        Busybox::Missing => "none found".into(),
    };
    let tests = match f.util_linux_missing.is_empty() {
        true => "unshare and nsenter from util-linux are here".to_string(),
        false => format!("missing from util-linux: {}", f.util_linux_missing.join(", ")),
    };
    vec![
        format!("machine:  {machine}"),
        format!("you:      {you}"),
        format!("cgroups:  {cgroups}"),
        format!("/:        {}", facts::propagation_note(f.root_propagation)),
        format!("busybox:  {busybox}"),
        format!("tests:    {tests}"),
        String::new(),
        conclusion(verdicts),
    ]
}

fn conclusion(verdicts: &[Verdict]) -> String {
    let working = verdicts.iter().take_while(|v| v.problems.is_empty()).count();
    match working {
        7 => "All seven steps can run here.".into(),
        0 => {
            "No step can run here yet: apply the fix of step 1, then run cargo course doctor again."
                .into()
        }
        n => format!(
            "Steps 1 to {n} can run here; step {} cannot yet: apply its fix, then run cargo course doctor again.",
            n + 1
        ),
    }
}
