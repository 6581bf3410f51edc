//! What the book shows, produced by the tests so that it cannot go stale: a shell
//! session in a container, a row of the isolation matrix, the change from one step
//! to the next.

use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};

use similar::{Algorithm, DiffOp, DiffTag, capture_diff_slices, group_diff_ops};

use crate::StepProgram;
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
impl StepProgram {
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
/// previous one: a unified diff of their `main.rs` (as `diff -u -F '^fn '` writes
/// it), without the book's `// ANCHOR` lines. Each step's tests snapshot it, and
/// its chapter includes that snapshot: a change to either program shows in review.
pub fn change(this: &str) -> String {
    let previous = previous_step(this)
        .unwrap_or_else(|| panic!("{this} is the first step: there is no change to show"));
    let workspace = workspace();
    let [old, new] = [previous, this].map(|step| {
        let source = workspace.join(step).join("src/main.rs");
        let text = fs::read_to_string(&source)
            .unwrap_or_else(|err| panic!("read {}: {err}", source.display()));
        text.lines()
            .filter(|line| !line.trim_start().starts_with("// ANCHOR"))
            .map(|line| format!("{line}\n"))
            .collect::<String>()
    });
    let diff = unified_diff(
        &old,
        &new,
        &format!("{previous}/src/main.rs"),
        &format!("{this}/src/main.rs"),
    );
    assert!(!diff.is_empty(), "{previous} and {this} have the same main.rs");
    diff
}

/// Lines of context around each change, as `diff -u` gives.
const CONTEXT: usize = 3;

/// `diff -u -F '^fn ' --label=OLD_NAME --label=NEW_NAME` of two texts whose lines all
/// end with a newline: each hunk's header names the last `fn` line of the old text
/// above it (its first 40 bytes, as GNU diff shows it). Empty when they are equal.
fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    let lines = [old.lines().collect::<Vec<&str>>(), new.lines().collect()];
    let mut changed = [Changed::new(lines[0].len()), Changed::new(lines[1].len())];
    for op in capture_diff_slices(Algorithm::Myers, &lines[0], &lines[1]) {
        if op.tag() != DiffTag::Equal {
            op.old_range().for_each(|i| changed[0].set(i as isize, true));
            op.new_range().for_each(|j| changed[1].set(j as isize, true));
        }
    }
    let [old_changed, new_changed] = &mut changed;
    shift_boundaries(&lines[0], old_changed, new_changed);
    shift_boundaries(&lines[1], new_changed, old_changed);
    let hunks = group_diff_ops(script(&changed), CONTEXT);
    if hunks.is_empty() {
        return String::new();
    }
    let mut text = format!("--- {old_name}\n+++ {new_name}\n");
    for hunk in &hunks {
        let (Some(first), Some(last)) = (hunk.first(), hunk.last()) else { continue };
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        text.push_str(&format!("@@ -{} +{} @@", range(&old_range), range(&new_range)));
        let function = lines[0][..old_range.start].iter().rev().find(|l| l.starts_with("fn "));
        if let Some(function) = function {
            text.push(' ');
            text.push_str(&function_context(function));
        }
        text.push('\n');
        for op in hunk {
            let (tag, old_lines, new_lines) = op.as_tag_tuple();
            let mut push = |sign: char, line: &str| text.push_str(&format!("{sign}{line}\n"));
            match tag {
                DiffTag::Equal => old_lines.for_each(|i| push(' ', lines[0][i])),
                _ => {
                    old_lines.for_each(|i| push('-', lines[0][i]));
                    new_lines.for_each(|j| push('+', lines[1][j]));
                }
            }
        }
    }
    text
}

/// Which lines of a text are changed, with an unchanged line before the first and
/// after the last (as GNU diff keeps them), indexed from -1.
struct Changed(Vec<bool>);

impl Changed {
    fn new(lines: usize) -> Changed {
        Changed(vec![false; lines + 2])
    }

    fn get(&self, i: isize) -> bool {
        self.0[(i + 1) as usize]
    }

    fn set(&mut self, i: isize, changed: bool) {
        self.0[(i + 1) as usize] = changed;
    }

    fn len(&self) -> isize {
        self.0.len() as isize - 2
    }
}

/// GNU diff's `shift_boundaries` (analyze.c), so that a change that could be
/// placed in several ways is placed as `diff` places it: each run of changed lines
/// of a text is merged with its neighbours and moved as far down as it goes, then
/// back up to where it meets a run of changes in the other text, if it does.
fn shift_boundaries(lines: &[&str], changed: &mut Changed, other: &Changed) {
    let end = changed.len();
    let (mut i, mut j): (isize, isize) = (0, 0);
    loop {
        // The beginning of the next run of changes, and where the other text is then.
        while i < end && !changed.get(i) {
            loop {
                j += 1;
                if !other.get(j - 1) {
                    break;
                }
            }
            i += 1;
        }
        if i == end {
            break;
        }
        let mut start = i;
        // Its end.
        loop {
            i += 1;
            if !changed.get(i) {
                break;
            }
        }
        while other.get(j) {
            j += 1;
        }
        let mut corresponding;
        loop {
            let run = i - start;
            // Back, so long as the line before matches the last changed one.
            while start > 0 && lines[(start - 1) as usize] == lines[(i - 1) as usize] {
                start -= 1;
                changed.set(start, true);
                i -= 1;
                changed.set(i, false);
                while changed.get(start - 1) {
                    start -= 1;
                }
                loop {
                    j -= 1;
                    if !other.get(j) {
                        break;
                    }
                }
            }
            corresponding = if other.get(j - 1) { i } else { end };
            // Forward, so long as the first changed line matches the one after.
            while i != end && lines[start as usize] == lines[i as usize] {
                changed.set(start, false);
                start += 1;
                changed.set(i, true);
                i += 1;
                while changed.get(i) {
                    i += 1;
                }
                loop {
                    j += 1;
                    if !other.get(j) {
                        break;
                    }
                    corresponding = i;
                }
            }
            if run == i - start {
                break;
            }
        }
        // Back to a run of changes in the other text, if it met one.
        while corresponding < i {
            start -= 1;
            changed.set(start, true);
            i -= 1;
            changed.set(i, false);
            loop {
                j -= 1;
                if !other.get(j) {
                    break;
                }
            }
        }
    }
}

/// The diff that the changed lines of both texts make: runs of unchanged lines, and
/// between them what was taken out of the old text and put in the new.
fn script([old, new]: &[Changed; 2]) -> Vec<DiffOp> {
    let (old_end, new_end) = (old.len(), new.len());
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::new();
    while i < old_end || j < new_end {
        let (i0, j0) = (i, j);
        while i < old_end && j < new_end && !old.get(i) && !new.get(j) {
            i += 1;
            j += 1;
        }
        if i > i0 {
            let (old_index, new_index, len) = (i0 as usize, j0 as usize, (i - i0) as usize);
            ops.push(DiffOp::Equal { old_index, new_index, len });
            continue;
        }
        while i < old_end && old.get(i) {
            i += 1;
        }
        while j < new_end && new.get(j) {
            j += 1;
        }
        let (old_index, old_len) = (i0 as usize, (i - i0) as usize);
        let (new_index, new_len) = (j0 as usize, (j - j0) as usize);
        ops.push(match (old_len, new_len) {
            (0, 0) => panic!("the changed lines of the two texts do not line up"),
            (_, 0) => DiffOp::Delete { old_index, old_len, new_index },
            (0, _) => DiffOp::Insert { old_index, new_index, new_len },
            _ => DiffOp::Replace { old_index, old_len, new_index, new_len },
        });
    }
    ops
}

/// A hunk's lines as `diff -u` numbers them: `START,COUNT` from 1, only `START` for
/// one line, and the line before for none.
fn range(lines: &Range<usize>) -> String {
    match lines.len() {
        0 => format!("{},0", lines.start),
        1 => format!("{}", lines.start + 1),
        count => format!("{},{count}", lines.start + 1),
    }
}

/// A function line as GNU diff shows it after a hunk's header: without leading
/// blanks, at most 40 bytes, without trailing blanks.
fn function_context(line: &str) -> String {
    let bytes = line.trim_start().as_bytes();
    let shown = &bytes[..bytes.len().min(40)];
    String::from_utf8_lossy(shown).trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_reads_as_diff_u_writes_it() {
        let old = "use a;\n\nfn main() {\n    one();\n    two();\n    three();\n    four();\n}\n";
        let new = "use a;\n\nfn main() {\n    one();\n    two();\n    three();\n    four();\n    five();\n}\n";
        assert_eq!(
            unified_diff(old, new, "a/main.rs", "b/main.rs"),
            "--- a/main.rs\n+++ b/main.rs\n@@ -5,4 +5,5 @@ fn main() {\n     two();\n     three();\n     four();\n+    five();\n }\n"
        );
        assert_eq!(unified_diff(old, old, "a", "b"), "");
    }

    #[test]
    fn a_change_that_could_go_in_two_places_goes_where_diff_puts_it() {
        let old = "fn a() {\n    x();\n}\n\nfn b() {\n    y();\n}\n";
        let new = "fn a() {\n    x();\n}\n";
        let diff = unified_diff(old, new, "o", "n");
        assert!(diff.ends_with(" }\n-\n-fn b() {\n-    y();\n-}\n"), "{diff}");
    }

    #[test]
    fn ranges_are_numbered_as_diff_u_does() {
        assert_eq!(range(&(0..22)), "1,22");
        assert_eq!(range(&(4..5)), "5");
        assert_eq!(range(&(7..7)), "7,0");
    }

    #[test]
    fn a_function_line_is_cut_at_40_bytes() {
        assert_eq!(
            function_context("fn run_command(target: &Target) -> Result<u8, Failure> {"),
            "fn run_command(target: &Target) -> Resul"
        );
        assert_eq!(function_context("fn main() -> ExitCode {"), "fn main() -> ExitCode {");
    }
}
