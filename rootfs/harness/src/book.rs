//! What the book shows, produced by the tests so that it cannot go stale: a shell
//! session in a container, a row of the isolation matrix, the change from one step
//! to the next.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Step;
use crate::fixtures::{dir_listing, rootfs};
use crate::kernel::cgroups::{pids_cgroup_of, pids_max};
use crate::kernel::hostname::host_hostname;
use crate::kernel::mounts::mount_points;
use crate::kernel::namespaces::{compare_namespaces, print_namespaces};
use crate::kernel::processes::{descendants, listed_pids};
use crate::report::claim;
use crate::workspace::{previous_step, step_number, workspace};

/// insta filters for what differs between runs and machines in a container's
/// output: the host paths `run` hands to `child`, and times.
pub const FILTERS: [(&str, &str); 3] = [
    (r"--rootfs \S+", "--rootfs [ROOTFS]"),
    (r"--cgroup \S+", "--cgroup [CGROUP]"),
    (r"\b\d+:\d\d\b", "[TIME]"),
];

/// What the book shows, produced by the tests so that it cannot go stale.
impl Step {
    /// A shell session in a container, as a learner would type it: each command
    /// after a prompt, then what it printed (stdout and stderr), with the host's
    /// name shown as `[HOST]`. Snapshot it with [`FILTERS`] for the rest that varies.
    pub fn session(&self, commands: &[&str]) -> String {
        // The shell reads the commands from its stdin, as if typed.
        let (shell, prompt) = if self.busybox == "/bin/busybox" {
            (vec!["/bin/sh"], "/ # ")
        } else {
            (vec![self.busybox.as_str(), "sh"], "# ")
        };
        let mut script = String::from("exec 2>&1\n");
        for command in commands {
            let shown = format!("{prompt}{command}").replace('\'', r"'\''");
            script.push_str(&format!("echo '{shown}'\n{command}\n"));
        }
        let out = self.run_with_input(&shell, &script);
        assert_eq!(out.code, 0, "the session failed: {out:?}");
        let host = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let shown = |line: &str| if line == host.trim() { "[HOST]" } else { line }.to_owned();
        out.stdout.lines().map(|line| shown(line) + "\n").collect()
    }

    /// One row of the book's isolation matrix (classroom/isolation-matrix.md), as
    /// the kernel shows a container of this step: its hostname, what `ps` lists,
    /// what `/` is, which mounts the host sees while it runs, its pids limit, and
    /// which namespaces are new. One container measures it all. The row starts with
    /// the step's number and name: ``| 4 `step04-pid` | …``.
    pub fn isolation_row(&self) -> String {
        let step = format!("{} `{}`", step_number(&self.package), self.package);
        let me = std::process::id() as i32;
        let before = mount_points(me);
        let script = format!(
            "hostname; echo --; ls -1A /; echo --; ps -o pid; echo --; {}; echo ready; read x; true",
            print_namespaces()
        );
        let mut running = self.start_sh(&script);
        running.wait_for_line("ready");
        let leaked: Vec<PathBuf> = mount_points(me).difference(&before).cloned().collect();
        let shell = descendants(running.pid()).last().copied().unwrap_or(running.pid());
        let cgroup = pids_cgroup_of(shell);
        let limit =
            if cgroup == pids_cgroup_of(me) { "none".to_string() } else { pids_max(&cgroup) };
        let out = running.finish();
        claim("the container runs the script")
            .expected("exit code 0")
            .program(&out)
            .holds(out.code == 0);
        let parts: Vec<&str> = out.stdout.split("--\n").collect();
        let [hostname, root, ps, namespaces] = parts[..] else {
            claim("the container prints four parts")
                .expected("four parts")
                .shown(&out.stdout)
                .fail()
        };
        let table = compare_namespaces(namespaces);
        let new: Vec<&str> = table.lines().filter_map(|line| line.strip_suffix(": new")).collect();
        let mut new_in_step_order: Vec<&str> = ["uts", "pid", "mnt"]
            .into_iter()
            .filter(|kind| new.contains(kind))
            .chain(new.iter().copied().filter(|kind| !["uts", "pid", "mnt"].contains(kind)))
            .collect();
        new_in_step_order.dedup();
        let hostname = match hostname.trim() {
            name if name == host_hostname() && new.contains(&"uts") => "host's (a copy)".into(),
            name if name == host_hostname() => "host's".into(),
            name => format!("`{name}`"),
        };
        let ps =
            if listed_pids(ps).contains(&me) { "host's processes" } else { "container's only" };
        let root = match root.lines().collect::<Vec<_>>() {
            listing if listing == dir_listing(Path::new("/")) => "host's",
            listing if listing == dir_listing(&rootfs()) => "busybox tree",
            _ => "neither host's nor busybox tree",
        };
        let mounts = if leaked.is_empty() { "none" } else { "proc mount leaks" };
        let namespaces =
            if new.is_empty() { "none".to_string() } else { new_in_step_order.join(", ") };
        format!("| {step} | {hostname} | {ps} | {root} | {mounts} | {limit} | {namespaces} |")
    }

    /// The book's isolation matrix page includes this step's row: the snapshot of
    /// the test `isolation_matrix_row` in its `tests/ours.rs`, from its line 5 on.
    pub fn assert_isolation_row_in_the_book(&self) {
        assert_isolation_row_in_the_book(&self.package);
    }
}

/// The book's isolation matrix page includes `step`'s row: the snapshot of the
/// test `isolation_matrix_row` in `step/tests/ours.rs`, from its line 5 on.
fn assert_isolation_row_in_the_book(step: &str) {
    let page = workspace().join("book/src/classroom/isolation-matrix.md");
    let text = fs::read_to_string(&page).unwrap_or_default();
    let include = format!(
        "{{{{#include ../../../{step}/tests/snapshots/ours__isolation_matrix_row.snap:5:}}}}"
    );
    assert!(
        text.contains(&include),
        "{} does not include this step's row: {include}",
        page.display()
    );
}

/// The change step `this` (`env!("CARGO_PKG_NAME")` in its tests) makes to the
/// previous one: `diff -u` of their `main.rs`, without the book's `// ANCHOR` lines.
/// Each step's tests snapshot it, and its chapter includes that snapshot: a change
/// to either program shows in review.
pub fn change(this: &str) -> String {
    let previous = previous_step(this)
        .unwrap_or_else(|| panic!("{this} is the first step: there is no change to show"));
    let workspace = workspace();
    let dir = std::env::temp_dir().join(format!("change-{}-{this}", std::process::id()));
    fs::create_dir_all(&dir).unwrap_or_else(|err| panic!("mkdir {}: {err}", dir.display()));
    let [old, new] = [previous, this].map(|step| {
        let source = workspace.join(step).join("src/main.rs");
        let text = fs::read_to_string(&source)
            .unwrap_or_else(|err| panic!("read {}: {err}", source.display()));
        let kept: String = text
            .lines()
            .filter(|line| !line.trim_start().starts_with("// ANCHOR"))
            .map(|line| format!("{line}\n"))
            .collect();
        let copy = dir.join(step);
        fs::write(&copy, kept).unwrap_or_else(|err| panic!("write {}: {err}", copy.display()));
        copy
    });
    let diff = Command::new("diff")
        .args(["-u", "--show-function-line=^fn "])
        .arg(format!("--label={previous}/src/main.rs"))
        .arg(format!("--label={this}/src/main.rs"))
        .args([&old, &new])
        .output()
        .unwrap_or_else(|err| panic!("cannot run diff (diffutils): {err}"));
    let _ = fs::remove_dir_all(&dir);
    assert_eq!(diff.status.code(), Some(1), "diff found no change, or failed: {diff:?}");
    String::from_utf8_lossy(&diff.stdout).into_owned()
}
