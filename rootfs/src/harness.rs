//! The harness every step's tests share.
//!
//! It starts a container program (a step's binary, or any program that keeps the
//! course's contract, below), feeds it a command, collects what it printed and how
//! it ended under a timeout, and reads what the kernel shows from the host's side:
//! processes, namespaces, mounts and cgroups. Tests assert on those, never on the
//! program's own messages, so that any honest implementation passes them.
//!
//! The contract (book: classroom/grading.md): `BIN run CMD ARGS...` runs CMD with
//! ARGS wired to BIN's stdin, stdout and stderr, prints nothing of its own on stdout,
//! and exits with CMD's status, 128+n when signal n killed it, 127 when CMD does not
//! exist, 126 when it cannot be executed, 125 when the container could not be made.
//! From step 5 on, the container's root filesystem is the directory named by the
//! environment variable `CONTAINER_ROOTFS`, which the harness sets for every
//! container of steps 5 to 7.
//!
//! `CONTAINER_BIN=/path/to/program` makes every test run that program instead of
//! the step's own binary. The graded tests of step N are `stepNN-*/tests/stepNN.rs`;
//! those named `feature_*` check what step N adds, and fail against step N-1's
//! program (`.ci/previous-step.sh`). `tests/ours.rs`, `tests/book.rs` and step 7's
//! `bad_input.rs` and `load.rs` check this course's own program (its flags, its
//! messages, its snapshots) and are left out of grading (`.ci/grade.sh`).
//!
//! A check that fails says so in one format, produced by [`fail`] and summed up by
//! `.ci/grade.sh`: which check, what was expected, what the kernel showed, and a
//! hint at the likely cause. The hints live next to their checks, in this file.
//! So do the checks that several steps' `tests/ours.rs` and `tests/exercises.rs`
//! share, in a section of their own (not graded), in the same format.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fmt::Display;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};
use std::{fs, thread};

use nix::mount::{MntFlags, umount2};
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::{Pid, geteuid, gethostname, sethostname};

/// How long any one container may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The namespace kinds the tests compare, as named in /proc/PID/ns.
pub const NAMESPACES: [&str; 7] = ["cgroup", "ipc", "mnt", "net", "pid", "user", "uts"];

/// The environment variable that names a container's root filesystem (steps 5 to 7).
pub const ROOTFS_VAR: &str = "CONTAINER_ROOTFS";

/// insta filters for what differs between runs and machines in a container's
/// output: the host paths `run` hands to `child`, and times.
pub const FILTERS: [(&str, &str); 3] = [
    (r"--rootfs \S+", "--rootfs [ROOTFS]"),
    (r"--cgroup \S+", "--cgroup [CGROUP]"),
    (r"\b\d+:\d\d\b", "[TIME]"),
];

// ---------------------------------------------------------------------------
// How a check fails: the one format a student reads.

/// Fail a check, in the format a student reads and `.ci/grade.sh` sums up: which
/// check failed, what was expected, what the kernel showed, and the likely cause.
#[track_caller]
pub fn fail(check: &str, expected: impl Display, shown: impl Display, hint: &str) -> ! {
    panic!(
        "\ncheck failed: {check}\n  expected: {}\n  the kernel showed: {}\n  hint: {hint}\n",
        block(expected),
        block(shown)
    )
}

/// [`fail`] unless `ok`.
#[track_caller]
pub fn check(ok: bool, check: &str, expected: impl Display, shown: impl Display, hint: &str) {
    if !ok {
        fail(check, expected, shown, hint)
    }
}

/// A value on one line, or indented below its label when it has several.
fn block(value: impl Display) -> String {
    let text = value.to_string();
    let text = text.trim_end();
    if text.is_empty() {
        "(nothing)".into()
    } else if text.contains('\n') {
        format!("\n      {}", text.replace('\n', "\n      "))
    } else {
        text.into()
    }
}

/// The hostname of this test process's UTS namespace (the host's), as the kernel
/// shows it now.
pub fn current_hostname() -> String {
    gethostname().unwrap_or_default().to_string_lossy().into_owned()
}

/// The host's hostname, as it was before this test process started any container.
fn host_hostname() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(current_hostname)
}

/// If a container renamed the host, give it its name back and say what it had become.
fn restore_host_hostname() -> Option<String> {
    let now = current_hostname();
    if now == host_hostname() {
        return None;
    }
    let _ = sethostname(host_hostname());
    Some(now)
}

/// Why a container may have ended before its command did what the test asked.
fn ended_early(code: i32) -> &'static str {
    match code {
        127 => {
            "the command was not found (exit code 127). From step 5 on it is /bin/busybox in the \
             root filesystem CONTAINER_ROOTFS names: did the child chroot there?"
        }
        125 => "your program could not make the container (exit code 125): read its stderr",
        _ => "the container ended before its command did: read its stderr",
    }
}

/// The hint when the container lacks a namespace of its own of this kind.
fn namespace_hint(kind: &str) -> &'static str {
    match kind {
        "uts" => {
            "give the container a UTS namespace of its own: unshare(CLONE_NEWUTS) in run before \
             starting the command or the child (Go: SysProcAttr.Cloneflags)"
        }
        "pid" => {
            "give the container a PID namespace of its own: CLONE_NEWPID takes in the processes \
             started after it, not the caller, so unshare it in run and then start the child \
             (Go: Cloneflags on the child's exec.Cmd)"
        }
        "mnt" => {
            "give the container a mount namespace of its own: CLONE_NEWNS in run, before the \
             child mounts anything"
        }
        _ => "see the chapter that adds this namespace",
    }
}

// ---------------------------------------------------------------------------
// Starting containers.

/// The container program of a step under test, and how its containers reach busybox.
#[derive(Clone)]
pub struct Step {
    bin: PathBuf,
    busybox: String,
    /// Whether to hand the course's root filesystem over in [`ROOTFS_VAR`].
    rootfs_env: bool,
}

/// How a container ended and what it printed.
#[derive(Debug)]
pub struct Output {
    /// The host PID the container program had.
    pub pid: i32,
    /// The exit code, or 128+n when signal n killed the program (as a shell reports it).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The name this course's program gives the cgroup of the container that printed
    /// this: `container-<PID of run>`. Other programs name theirs otherwise, and a
    /// check that looks for this name finds nothing of theirs.
    pub fn cgroup_name(&self) -> String {
        format!("container-{}", self.pid)
    }

    /// How it ended and what it printed, for a failed check's "the kernel showed".
    pub fn summary(&self) -> String {
        format!(
            "exit code {}\nstdout:\n{}stderr:\n{}",
            self.code,
            indented(&self.stdout),
            indented(&self.stderr)
        )
    }
}

fn indented(text: &str) -> String {
    if text.is_empty() {
        return "  (nothing)\n".into();
    }
    text.lines().map(|line| format!("  {line}\n")).collect()
}

/// A container program that is still running. Dropping it kills what is left.
pub struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Line>,
    stdout: String,
    stderr: String,
    deadline: Instant,
    what: String,
}

enum Line {
    Out(String),
    Err(String),
}

impl Step {
    /// A step whose containers still see the host's files (steps 1 to 4): they run
    /// the root filesystem's busybox by its host path. `default_bin` is the step's own
    /// binary (`env!("CARGO_BIN_EXE_…")`), replaced by `CONTAINER_BIN` when set.
    pub fn on_host_files(default_bin: &str) -> Step {
        Step::new(default_bin, busybox(), false)
    }

    /// A step whose containers have the root filesystem as `/` (steps 5 to 7). Every
    /// container gets the course's root filesystem in `CONTAINER_ROOTFS`.
    pub fn in_rootfs(default_bin: &str) -> Step {
        Step::new(default_bin, "/bin/busybox".into(), true)
    }

    /// The same step, but its containers get no `CONTAINER_ROOTFS`: the program
    /// picks its root filesystem itself (ours: the course's, built on first use).
    pub fn without_rootfs_env(self) -> Step {
        Step { rootfs_env: false, ..self }
    }

    fn new(default_bin: &str, busybox: String, rootfs_env: bool) -> Step {
        require_root();
        host_hostname();
        let bin = std::env::var_os("CONTAINER_BIN").unwrap_or_else(|| default_bin.into());
        Step { bin: PathBuf::from(bin), busybox, rootfs_env }
    }

    /// `BIN run busybox sh -c SCRIPT` to its end. Busybox's shell runs its own
    /// applets (`ps`, `hostname`…) first, so scripts do not depend on the host's tools.
    pub fn sh(&self, script: &str) -> Output {
        self.start_sh(script).finish()
    }

    /// Start `BIN run busybox sh -c SCRIPT` and return while it runs.
    pub fn start_sh(&self, script: &str) -> Running {
        self.start(&[self.busybox.as_str(), "sh", "-c", script])
    }

    /// `BIN run ARGS...` to its end, with stdin empty.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        self.start(args).finish()
    }

    /// `BIN run ARGS...` to its end, with `input` on its stdin.
    pub fn run_with_input<S: AsRef<OsStr>>(&self, args: &[S], input: &str) -> Output {
        let mut running = self.start(args);
        if let Some(stdin) = running.stdin.as_mut() {
            // A program that does not read its stdin may have closed it: not our failure.
            let _ = stdin.write_all(input.as_bytes());
        }
        running.finish()
    }

    /// Start `BIN run ARGS...` and return while it runs; its stdin stays open until
    /// [`Running::finish`], so a container can wait on `read` until the test is done.
    pub fn start<S: AsRef<OsStr>>(&self, args: &[S]) -> Running {
        let mut command = self.command(&self.bin);
        command.arg("run").args(args);
        Running::spawn(command)
    }

    /// Like [`Step::start_sh`], but inside the mount namespace of `host` (see
    /// [`SharedMountHost`]).
    pub fn start_sh_in(&self, host: &SharedMountHost, script: &str) -> Running {
        let mut command = self.command("nsenter");
        command.arg(format!("--mount=/proc/{}/ns/mnt", host.pid()));
        command.arg("--").arg(&self.bin).arg("run").args([&self.busybox, "sh", "-c", script]);
        Running::spawn(command)
    }

    /// A command with the environment every container of this step gets.
    fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        if self.rootfs_env {
            command.env(ROOTFS_VAR, rootfs());
        }
        command
    }

    /// Run `script` in a container and return its stdout; the check fails unless
    /// the container ran it to its end (exit code 0).
    #[track_caller]
    pub fn sh_ok(&self, script: &str) -> String {
        let out = self.sh(script);
        check(
            out.code == 0,
            &format!("the container runs `sh -c '{script}'` and exits 0"),
            "exit code 0, and the script's output on stdout",
            out.summary(),
            ended_early(out.code),
        );
        out.stdout
    }
}

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
    /// which namespaces are new. One container measures it all.
    pub fn isolation_row(&self, step: &str) -> String {
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
        check(out.code == 0, "the container runs the script", "exit code 0", out.summary(), "");
        let parts: Vec<&str> = out.stdout.split("--\n").collect();
        let [hostname, root, ps, namespaces] = parts[..] else {
            fail("the container prints four parts", "four parts", &out.stdout, "")
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
}

/// The book's isolation matrix page includes `step`'s row: the snapshot of the
/// test `isolation_matrix_row` in `step/tests/ours.rs`, from its line 5 on.
pub fn assert_isolation_row_in_the_book(step: &str) {
    let page =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src/classroom/isolation-matrix.md");
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

/// The change a step makes to the previous one: `diff -u` of their `main.rs`,
/// without the book's `// ANCHOR` lines. Each step's tests snapshot it, and its
/// chapter includes that snapshot: a change to either program shows in review.
pub fn change(previous: &str, this: &str) -> String {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
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

// ---------------------------------------------------------------------------
// The graded checks, step by step, each with its hint. A step's tests call the
// checks of its own step and of every step before it.

/// Step 1 on: the contract itself.
impl Step {
    /// The command is wired to the program's stdin, stdout and stderr, and the
    /// program adds nothing of its own to stdout.
    pub fn assert_stdio_wired(&self) {
        let script = "read line; echo \"out:$line\"; echo \"err:$line\" >&2";
        let out = self.run_with_input(&[self.busybox.as_str(), "sh", "-c", script], "hello\n");
        check(
            out.code == 0 && out.stdout == "out:hello\n" && out.stderr.contains("err:hello\n"),
            "the command reads stdin and writes to stdout and stderr",
            "exit code 0, stdout exactly `out:hello`, stderr with `err:hello` (from \
             `read line; echo out:$line; echo err:$line >&2`, given `hello`)",
            out.summary(),
            "start the command with your program's own stdin, stdout and stderr (Go: \
             cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr), and print \
             your own messages to stderr, never to stdout",
        );
    }

    /// Exit codes follow Docker: the command's own status, 128+n when signal n
    /// killed it, 127 when it does not exist, 126 when it cannot be executed.
    pub fn assert_exit_codes(&self) {
        let cases: [(&str, Output, i32, &str); 5] = [
            (
                "`exit 3` makes the program exit 3",
                self.sh("exit 3"),
                3,
                "exit with the command's own exit status: wait for it and pass its code on (from \
                 step 3 on, through the child too)",
            ),
            (
                "a command killed by SIGKILL makes the program exit 137 (128+9)",
                self.sh("kill -KILL $$"),
                128 + 9,
                "when signal n kills the command, exit with 128+n, as a shell reports it (Go: \
                 the ExitError's WaitStatus: Signaled() and Signal())",
            ),
            (
                "a command that does not exist makes the program exit 127",
                self.run(&["/no/such/command"]),
                127,
                "starting the command fails with ENOENT (\"no such file\"): exit 127, as a shell does",
            ),
            (
                "a file without the execute bit as the command makes the program exit 126",
                self.run(&["/etc/passwd"]),
                126,
                "the command exists but cannot be executed (EACCES): exit 126, as a shell does",
            ),
            (
                "a directory as the command makes the program exit 126",
                self.run(&["/"]),
                126,
                "the command exists but cannot be executed (EACCES): exit 126, as a shell does",
            ),
        ];
        for (name, out, code, hint) in cases {
            check(out.code == code, name, format!("exit code {code}"), out.summary(), hint);
        }
    }

    /// Arguments after the command reach it untouched, hyphens and all.
    pub fn assert_arguments_pass_through(&self) {
        let args = ["-l", "--rootfs", "--", "a b", "--help"];
        let script = "for a; do echo \"<$a>\"; done";
        let mut command = vec![self.busybox.as_str(), "sh", "-c", script, "sh"];
        command.extend(args);
        let out = self.run(&command);
        let expected: String = args.iter().map(|a| format!("<{a}>\n")).collect();
        check(
            out.code == 0 && out.stdout == expected,
            "the arguments after the command reach it untouched",
            format!("each argument of `{}` on a line of its own, between <>", args.join(" ")),
            out.summary(),
            "pass every argument after CMD on as it is: stop reading your own options at CMD \
             (`-l`, `--rootfs`, `--` and `--help` there belong to the command)",
        );
    }
}

/// Step 2 on: a UTS namespace.
impl Step {
    /// The hostname inside a container.
    pub fn hostname(&self) -> String {
        self.sh("hostname").stdout.trim().into()
    }

    /// For each kind of namespace, whether a container's is the host's or new.
    pub fn namespaces(&self) -> String {
        self.namespaces_with(&[]).1
    }

    /// For each kind of namespace, whether the container's is the host's or new, in
    /// a container started as `run OPTIONS... busybox sh -c SCRIPT`; and how that
    /// container ended.
    pub fn namespaces_with(&self, options: &[&str]) -> (Output, String) {
        let script = print_namespaces();
        let mut args = options.to_vec();
        args.extend([self.busybox.as_str(), "sh", "-c", &script]);
        let out = self.run(&args);
        let table = compare_namespaces(&out.stdout);
        (out, table)
    }

    /// The container has a namespace of its own of each of these kinds.
    pub fn assert_namespaces_new(&self, kinds: &[&str]) {
        let table = self.namespaces();
        for kind in kinds {
            check(
                table.contains(&format!("{kind}: new\n")),
                &format!("the container's {kind} namespace is not the host's"),
                format!("/proc/self/ns/{kind} inside differs from the host's"),
                format!("for each namespace, the container's compared with the host's:\n{table}"),
                namespace_hint(kind),
            );
        }
    }

    /// `hostname changed-inside` in a container changes its hostname, not the host's.
    /// The test changes it only once the kernel shows that the container's UTS
    /// namespace is not the host's: a program without one must fail this test, not
    /// rename the machine.
    pub fn assert_hostname_change_stays_inside(&self) {
        let host_uts = fs::read_link("/proc/self/ns/uts").unwrap_or_default();
        let script = format!(
            "[ \"$(readlink /proc/self/ns/uts)\" != '{}' ] || exit 99; \
             hostname changed-inside && hostname",
            host_uts.display()
        );
        let out = self.sh(&script);
        let check_name = "`hostname changed-inside` inside changes the container's hostname only";
        check(
            out.code != 99,
            check_name,
            "a UTS namespace of its own, where renaming is safe",
            format!(
                "the container's UTS namespace is the host's ({}): the test did not rename, \
                 as it would have renamed the host",
                host_uts.display()
            ),
            namespace_hint("uts"),
        );
        check(
            out.code == 0 && out.stdout == "changed-inside\n",
            check_name,
            "`changed-inside` printed by `hostname` inside",
            out.summary(),
            "the container could not set its own hostname: does it run as root, in a UTS \
             namespace of its own?",
        );
    }
}

/// Step 3 on: the hostname is set inside, before the command starts.
impl Step {
    pub fn assert_hostname_is_container(&self) {
        let hostname = self.sh_ok("hostname");
        let hostname = hostname.trim();
        let hint = if hostname == host_hostname() {
            "hostname is still the host's: did the child set it (sethostname) to `container` \
             before starting the command?"
        } else {
            "the child must set the hostname to exactly `container`, before starting the command"
        };
        check(
            hostname == "container",
            "the hostname inside is `container` from the start",
            "container",
            hostname,
            hint,
        );
    }
}

/// Step 4 on: a PID namespace, whose PID 1 (the child) does PID 1's duties.
impl Step {
    /// Whether `ps` inside a container lists this test process: the host's processes.
    pub fn sees_host_processes(&self) -> bool {
        listed_pids(&self.sh("ps -o pid").stdout).contains(&(std::process::id() as i32))
    }

    /// The command is PID 2: PID 1 is the child that started it.
    pub fn assert_command_is_pid_2(&self) {
        let printed = self.sh_ok("echo $$; readlink /proc/self/ns/pid");
        let mut lines = printed.lines();
        let (pid, ns) = (lines.next().unwrap_or_default(), lines.next().unwrap_or_default());
        let host_ns = fs::read_link("/proc/self/ns/pid").unwrap_or_default();
        let hint = if host_ns.to_string_lossy() == ns {
            "the command is not in a new PID namespace: start the child with CLONE_NEWPID \
             (unshare in run, then spawn it; Go: Cloneflags), so that it is PID 1 there and \
             the command it starts PID 2"
        } else if pid == "1" {
            "the command is PID 1 itself: start it from a child that stays PID 1 and waits \
             for it (the re-executed `child`), as that child has PID 1's duties"
        } else {
            "PID 1 of the new namespace must start the command as its first child: PID 2"
        };
        check(pid == "2", "the command is PID 2 (`echo $$` inside)", "2", pid, hint);
    }

    /// The container's PID 1 reaps the orphans the kernel hands to it: an inner
    /// shell starts a short `sleep` in the background and exits at once.
    pub fn assert_orphans_reaped(&self) {
        let mut running = self.start_sh("sh -c 'sleep 0.01 &'; sleep 0.3; echo ready; read x");
        running.wait_for_line("ready");
        let zombies = zombie_children(running.container_init());
        check(
            zombies.is_empty(),
            "the container's PID 1 reaps orphans",
            "no <defunct> process left under the container's PID 1",
            format!("<defunct> children of PID 1, by host PID: {zombies:?}"),
            "orphans are handed to PID 1 of their namespace: the child must wait for any child \
             that ends (waitpid(-1) in a loop), not only for the command",
        );
        running.finish();
    }

    /// A container does not outlive its program: SIGKILL `run`, and every process
    /// of the container is gone soon after.
    pub fn assert_container_dies_with_its_runtime(&self) {
        let mut running = self.start_sh("echo ready; read x");
        running.wait_for_line("ready");
        let init = running.container_init();
        let _ = kill(Pid::from_raw(running.pid()), Signal::SIGKILL);
        let deadline = Instant::now() + Duration::from_secs(5);
        while stat(init).is_some_and(|(state, _)| state != 'Z') {
            check(
                Instant::now() < deadline,
                "the container dies when its program is killed (SIGKILL to run)",
                "the container's PID 1 gone within 5 s",
                format!("host PID {init} (the container's PID 1) still running after 5 s"),
                "set a parent-death signal on the child: prctl(PR_SET_PDEATHSIG, SIGKILL) (Go: \
                 SysProcAttr.Pdeathsig). When PID 1 dies, the kernel kills the rest of its \
                 PID namespace",
            );
            thread::sleep(Duration::from_millis(5));
        }
        // Killed by SIGKILL: it had no chance to say anything about it.
        let _ = running.finish();
        // Step 5 has no mount namespace: its killed PID 1 leaves its proc mount on
        // the host (the lesson of step 6). Take it down, to leave nothing behind.
        detach_mounts_below(&rootfs());
    }

    /// Signals sent to the container's PID 1, and to the program itself, reach the command.
    pub fn assert_signals_forwarded(&self) {
        for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP, Signal::SIGQUIT] {
            for to_init in [true, false] {
                let n = signal as i32;
                let mut running = self.start_sh(&format!(
                    "trap 'exit {n}' {}; echo ready; sleep 30 & wait",
                    &signal.as_str()[3..]
                ));
                running.wait_for_line("ready");
                let target = if to_init { running.container_init() } else { running.pid() };
                let _ = kill(Pid::from_raw(target), signal);
                let who = if to_init { "the container's PID 1" } else { "run" };
                let check_name = format!("{signal} sent to {who} reaches the command");
                let hint = "the kernel drops signals to a PID 1 that has no handler for them: \
                     catch SIGINT, SIGTERM, SIGHUP and SIGQUIT in run and in the child, and pass \
                     each on to the process it started (Go: signal.Notify, then Process.Signal)";
                let expected = format!("exit code {n}: the command's trap ran `exit {n}`");
                if !running.ends_within(Duration::from_secs(5)) {
                    fail(&check_name, expected, "still running 5 s after the signal", hint);
                }
                let out = running.finish();
                check(out.code == n, &check_name, expected, out.summary(), hint);
            }
        }
    }
}

/// Step 5 on: a root filesystem (chroot) and a proc of its own.
impl Step {
    /// `ls -1A /` inside lists the course's root filesystem.
    pub fn assert_root_is_the_rootfs(&self) {
        let inside = self.sh("ls -1A /");
        let listing: Vec<&str> = inside.stdout.lines().collect();
        let hint = if listing == dir_listing(Path::new("/")) || inside.code == 127 {
            "`/` is still the host's: did the child chroot into the directory CONTAINER_ROOTFS \
             names, and chdir(\"/\"), before starting the command?"
        } else {
            "`/` must be the root filesystem CONTAINER_ROOTFS names: chroot there, then chdir(\"/\")"
        };
        check(
            inside.code == 0 && listing == dir_listing(&rootfs()),
            "`ls /` inside shows the busybox tree",
            dir_listing(&rootfs()).join(" "),
            inside.summary(),
            hint,
        );
    }

    /// `ps` inside lists only the container: PID 1 (the child) and PID 2 (ps).
    pub fn assert_ps_shows_only_the_container(&self) {
        let out = self.sh("exec ps -o pid");
        let pids = listed_pids(&out.stdout);
        let hint = if pids.contains(&(std::process::id() as i32)) {
            "ps lists the host's processes: is a new proc mounted on /proc inside the new root?"
        } else if pids.is_empty() {
            "ps lists no process: /proc in the new root is empty. Mount a proc filesystem on \
             /proc, after chroot, in the child (PID 1 of the new PID namespace)"
        } else {
            "ps should list PID 1 (your child) and PID 2 (ps itself), nothing else"
        };
        check(
            pids == [1, 2],
            "`ps` inside lists only the container's processes",
            "PIDs 1 and 2",
            out.summary(),
            hint,
        );
    }

    /// The container's `/` is whatever directory `CONTAINER_ROOTFS` names.
    pub fn assert_rootfs_from_the_environment(&self) {
        let scratch = ScratchRoot::new();
        let mut command = Command::new(&self.bin);
        command.env(ROOTFS_VAR, scratch.0.path()).args(["run", "/bin/busybox", "cat", "/marker"]);
        let out = Running::spawn(command).finish();
        check(
            out.code == 0 && out.stdout == scratch.marker(),
            "the container's `/` is the directory CONTAINER_ROOTFS names",
            format!("`cat /marker` inside prints {}", scratch.marker().trim()),
            out.summary(),
            "read the root filesystem's path from the environment variable CONTAINER_ROOTFS \
             (the tests set it for every container) and chroot there",
        );
    }

    /// After a container whose command failed, nothing is left mounted on the root
    /// filesystem, as the host sees it.
    pub fn assert_nothing_left_mounted(&self) {
        let me = std::process::id() as i32;
        let before = mounts_below(me, &rootfs());
        let out = self.sh("exit 3");
        let left = new_mounts(&before, mounts_below(me, &rootfs()));
        detach(&left);
        check(
            out.code == 3 && left.is_empty(),
            "nothing is left mounted after a container whose command failed",
            "exit code 3, and no mount below the root filesystem on the host",
            format!("{}mounts left: {left:?}", out.summary()),
            "unmount /proc when the command has ended, also when it failed: an error return \
             must not skip the unmount",
        );
    }

    /// `runs` short containers in a row leave nothing behind: no mount in the host's
    /// mount table, no cgroup named after their runtime, and each one ends.
    pub fn assert_nothing_accumulates(&self, runs: usize) {
        let me = std::process::id() as i32;
        let mounts = fs::read_to_string(format!("/proc/{me}/mountinfo")).unwrap_or_default();
        for _ in 0..runs {
            let out = self.run(&[self.busybox.as_str(), "true"]);
            check(out.code == 0, "`true` in a container exits 0", "exit code 0", out.summary(), "");
            assert_no_cgroup_left_by(&out);
        }
        let after = fs::read_to_string(format!("/proc/{me}/mountinfo")).unwrap_or_default();
        check(
            after == mounts,
            &format!("{runs} containers in a row leave the host's mount table as it was"),
            "the same mount table after as before",
            after,
            "unmount what the container mounted when it ends (or keep its mounts in a mount \
             namespace of its own, step 6)",
        );
    }

    /// The command holds no file that the program under test opened: only stdin,
    /// stdout, stderr, and what this test process passed down.
    pub fn assert_command_holds_only_stdio(&self) {
        let mut running = self.start_sh("echo ready; read x");
        running.wait_for_line("ready");
        let command = running.command();
        let files = own_files(command);
        check(
            files.is_empty(),
            "the command holds no file your program opened",
            "only stdin, stdout and stderr (and what the test itself passed down)",
            files.join("\n"),
            "open your own files close-on-exec (O_CLOEXEC; Go does by default), or close them \
             before starting the command: a descriptor leaked into a container lets it reach \
             outside (runc's CVE-2024-21626)",
        );
        running.finish();
    }

    /// The runtime and the container's PID 1 hold no file of the runtime's own open:
    /// only stdin, stdout, stderr, and what this test process passed down to them
    /// (cargo's jobserver pipe, for one: these steps pass inherited files on).
    pub fn assert_only_stdio_open(&self) {
        let mut running = self.start_sh("echo ready; read x");
        running.wait_for_line("ready");
        // std's spawn() holds a socket until the new program has started: it may
        // still be open when the command has printed "ready". Wait for it to close.
        for pid in [running.pid(), running.container_init()] {
            let deadline = Instant::now() + Duration::from_secs(2);
            while !own_files(pid).is_empty() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(5));
            }
            assert_eq!(own_files(pid), Vec::<String>::new(), "files process {pid} opened itself");
        }
        running.finish();
    }
}

/// Step 6 on: a mount namespace, with private propagation.
impl Step {
    /// While a container runs, this test process sees no mount of it.
    pub fn assert_mounts_stay_inside(&self) {
        let me = std::process::id() as i32;
        let before = mounts_below(me, &rootfs());
        let mut running = self.start_sh("echo ready; read x");
        running.wait_for_line("ready");
        let leaked = new_mounts(&before, mounts_below(me, &rootfs()));
        // Another test's clean-up may take a leaked mount down meanwhile; sharing the
        // host's mount namespace is leaking all the same.
        let ns = |pid: i32| fs::read_link(format!("/proc/{pid}/ns/mnt")).ok();
        let shared = ns(running.container_init()) == ns(me);
        check(
            leaked.is_empty() && !shared,
            "the container's proc mount does not reach the host",
            "no mount below the root filesystem in the host's mount table",
            format!(
                "mounted on the host: {leaked:?}{}",
                if shared { "; the container is in the host's mount namespace" } else { "" }
            ),
            "the proc mount reached the host: does run unshare a mount namespace \
             (CLONE_NEWNS) before the child mounts proc?",
        );
        running.finish();
    }

    /// While a container runs on a host whose mounts are shared (as systemd's are),
    /// that host sees no mount of it.
    pub fn assert_mounts_stay_inside_a_shared_host(&self) {
        let host = SharedMountHost::start();
        let before = host.mounts_below(&rootfs());
        let mut running = self.start_sh_in(&host, "echo ready; read x");
        running.wait_for_line("ready");
        let leaked = new_mounts(&before, host.mounts_below(&rootfs()));
        let ns = |pid: i32| fs::read_link(format!("/proc/{pid}/ns/mnt")).ok();
        let hint = if ns(running.container_init()) == ns(host.pid()) {
            "the container shares the host's mount namespace: unshare CLONE_NEWNS in run"
        } else {
            "the proc mount reached the host: is / made private (MS_REC|MS_PRIVATE) in the new \
             mount namespace before mounting? Its mounts start as copies of the host's, and \
             copies of shared mounts pass new mounts back to the host"
        };
        check(
            leaked.is_empty(),
            "the container's proc mount does not reach a host whose `/` is shared (systemd's)",
            "no mount below the root filesystem in that host's mount table",
            format!("mounted on that host: {leaked:?}"),
            hint,
        );
        running.finish();
        let left = new_mounts(&before, host.mounts_below(&rootfs()));
        check(
            left.is_empty(),
            "nothing is left mounted on a shared host after the container",
            "no mount below the root filesystem",
            format!("{left:?}"),
            "unmount /proc when the command has ended",
        );
    }
}

const CGROUP_LEFT: &str = "the container's cgroup was left behind: remove it (rmdir) once the \
     container has ended. The kernel refuses while a process is in it, so it is run's job, \
     after the child has exited";

/// Step 7 on: a cgroup of its own, with a limit of 20 processes.
impl Step {
    /// The kernel reports `pids.max` = `limit` in the container's own cgroup, and
    /// the cgroup is gone after the container.
    pub fn assert_pids_limit(&self, limit: u32) {
        let mut running = self.start_sh("echo ready; read x");
        running.wait_for_line("ready");
        let check_name = format!("the container's cgroup has pids.max = {limit}");
        let cgroup = running.container_cgroup_limited_to(limit, &check_name, "");
        running.finish();
        assert_cgroup_removed(&cgroup);
    }

    /// A shell that starts 40 background sleeps starts at most 18: PID 1 and the
    /// shell count against the limit of 20 too (and more, if PID 1 has threads).
    pub fn assert_sleeps_held_at_limit(&self) {
        let out = self.sh(FORTY_SLEEPS);
        let started: u32 = out.stdout.lines().last().and_then(|n| n.parse().ok()).unwrap_or(0);
        check(
            (1..=18).contains(&started),
            "a shell inside starts at most 18 of 40 background sleeps (limit 20)",
            "from 1 to 18 (20, less PID 1 and the shell)",
            format!("{started} started\n{}", out.summary()),
            "the container's processes are not held at 20: is every one of them in the \
             container's cgroup? The child joins it (its PID into cgroup.procs) before it \
             starts the command, and children are born in their parent's cgroup",
        );
    }

    /// A fork bomb goes off only under a pids limit, is held at it, and the host
    /// can still start processes; the cgroup is gone after.
    pub fn assert_fork_bomb_held(&self, limit: u32) {
        let mut running = self.start_sh(FORK_BOMB);
        let cgroup = running.detonate_fork_bomb(limit);
        assert_held_at_limit(&cgroup, limit);
        assert_host_can_start_a_process();
        running.finish();
        assert_cgroup_removed(&cgroup);
    }

    /// SIGTERM to `run`: the command gets it, and the cgroup is removed all the same.
    pub fn assert_cgroup_removed_after_a_signal(&self) {
        // `sleep`, not `read`: finish() closes stdin, which could end `read` first.
        let mut running = self.start_sh("echo ready; sleep 30");
        running.wait_for_line("ready");
        let cgroup = running.container_cgroup();
        let _ = kill(Pid::from_raw(running.pid()), Signal::SIGTERM);
        let out = running.finish();
        check(
            out.code == 128 + 15,
            "SIGTERM to run ends the container with exit code 143 (128+15)",
            "exit code 143",
            out.summary(),
            "pass SIGTERM on to the child, and exit with the 128+n it reports",
        );
        assert_cgroup_removed(&cgroup);
    }

    /// Two containers at once each have a cgroup of their own, and the end of one
    /// leaves the other's alone.
    pub fn assert_each_container_has_its_own_cgroup(&self) {
        let mut first = self.start_sh("echo ready; read x");
        first.wait_for_line("ready");
        let mut second = self.start_sh("echo ready; read x");
        second.wait_for_line("ready");
        let (one, two) = (first.container_cgroup(), second.container_cgroup());
        check(
            one != two,
            "two containers at once have a cgroup each",
            "two different cgroups",
            format!("both in {}", one.display()),
            "name each container's cgroup after something unique to it, e.g. run's PID: with a \
             fixed name, containers share one limit, and the first to end removes the cgroup of \
             the others",
        );
        second.finish();
        let max = pids_max(&one);
        check(
            max == "20",
            "the end of one container leaves another's cgroup alone",
            format!("{} still there, pids.max 20", one.display()),
            format!("pids.max: {}", block(max)),
            "remove only the cgroup of the container that ended",
        );
        first.finish();
    }
}

/// Starts 40 background `sleep`s, printing the count after each one that started.
/// busybox's shell stops at the first fork the kernel refuses.
pub const FORTY_SLEEPS: &str = "i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); echo $i; done";

/// The cgroup of a container that has ended is gone.
#[track_caller]
pub fn assert_cgroup_removed(cgroup: &Path) {
    check(
        !cgroup.exists(),
        "the container's cgroup is removed when it ends",
        "no such directory",
        format!("{} still exists", cgroup.display()),
        CGROUP_LEFT,
    );
}

/// The container that printed `out` has ended and left no cgroup in the pids
/// hierarchy under the name this course's program gives it ([`Output::cgroup_name`]).
#[track_caller]
pub fn assert_no_cgroup_left_by(out: &Output) {
    let cgroup = pids_hierarchy().join(out.cgroup_name());
    check(
        !cgroup.exists(),
        "a short container leaves no cgroup behind",
        "no cgroup left",
        format!("{} left", cgroup.display()),
        CGROUP_LEFT,
    );
}

/// The host can still start a process (`true`), as during a fork bomb it must.
#[track_caller]
pub fn assert_host_can_start_a_process() {
    let host_can_fork = Command::new("true").status().is_ok_and(|status| status.success());
    check(
        host_can_fork,
        "the host can start a process during the fork bomb",
        "`true` runs on the host",
        "it could not",
        "the limit does not hold the container's processes",
    );
}

/// `pids.max` of `cgroup`, trimmed; empty if it cannot be read.
fn pids_max(cgroup: &Path) -> String {
    fs::read_to_string(cgroup.join("pids.max")).unwrap_or_default().trim().to_string()
}

// ---------------------------------------------------------------------------
// Not graded: what several steps check of this course's own program (their
// tests/ours.rs), and the checks their chapters' exercises share (tests/exercises.rs).

/// This course's own program: its `--rootfs` flag and its default root filesystem
/// (steps 5 to 7).
impl Step {
    /// `run --rootfs DIR /bin/busybox cat /marker`, with no `CONTAINER_ROOTFS`: the
    /// flag alone names the root filesystem, a scratch one that is not the default.
    pub fn assert_rootfs_flag_picks_the_root_filesystem(&self) {
        let scratch = ScratchRoot::new();
        let root = scratch.0.path().display().to_string();
        let out = self.clone().without_rootfs_env().run(&[
            "--rootfs",
            &root,
            "/bin/busybox",
            "cat",
            "/marker",
        ]);
        check(
            out.code == 0 && out.stdout == scratch.marker(),
            "`run --rootfs DIR` runs the command in the root filesystem DIR",
            format!("`cat /marker` inside prints {}", scratch.marker().trim()),
            out.summary(),
            "read the root filesystem's path from --rootfs when it is given",
        );
    }

    /// With neither `CONTAINER_ROOTFS` nor `--rootfs`, `run ARGS...` runs in the
    /// course's own tree (built on first use), where `hostname` prints `container`.
    pub fn assert_courses_tree_by_default(&self, args: &[&str]) {
        let out = self.clone().without_rootfs_env().run(args);
        check(
            (out.code, out.stdout.as_str()) == (0, "container\n"),
            &format!(
                "with no root filesystem named, `run {}` runs in the course's",
                args.join(" ")
            ),
            "exit code 0, and `container` on stdout",
            out.summary(),
            "without CONTAINER_ROOTFS and --rootfs, use the course's root filesystem \
             (rootfs::ensure builds it on first use)",
        );
    }
}

/// The host's hostname is what it was before this test process started any
/// container.
#[track_caller]
pub fn assert_host_hostname_kept() {
    let now = current_hostname();
    check(
        now == host_hostname(),
        "the host's hostname is left alone",
        host_hostname(),
        now,
        "set the hostname in the container's UTS namespace: after unshare(CLONE_NEWUTS)",
    );
}

/// Fail with a hint when `run` rejected an option it does not have yet (exit code
/// 2, clap's, with the option named on stderr): an exercise's check before its own.
#[track_caller]
pub fn assert_option_accepted(out: &Output, option: &str) {
    check(
        !(out.code == 2 && out.stderr.contains(option)),
        &format!("`run` accepts {option}"),
        format!("{option} taken as an option of `run`"),
        out.summary(),
        "add the option to `Target`, and pass it on from `run` to `child` if the child needs it",
    );
}

/// The exercises of steps 2 and 3 (a hostname option, one more namespace), whose
/// solutions differ between the steps: `hint` says where this step's goes.
impl Step {
    /// `run --hostname NAME busybox hostname` prints NAME and exits 0, and the host
    /// keeps its own hostname.
    #[track_caller]
    pub fn assert_hostname_flag(&self, hint: &str) {
        let name = &format!("exercise-{}", std::process::id());
        let out = self.run(&["--hostname", name, self.busybox.as_str(), "hostname"]);
        check(
            out.code == 0 && out.stdout.trim() == name,
            &format!("`run --hostname {name} hostname` prints {name}"),
            format!("exit code 0, and `{name}` on stdout"),
            out.summary(),
            hint,
        );
        assert_host_hostname_kept();
    }

    /// In a container started as `run OPTIONS... busybox sh -c SCRIPT`, the
    /// namespaces of exactly these `kinds` are new, and every other is the host's.
    #[track_caller]
    pub fn assert_exactly_these_namespaces_new(
        &self,
        options: &[&str],
        kinds: &[&str],
        hint: &str,
    ) {
        let (out, table) = self.namespaces_with(options);
        check(
            out.code == 0 && table == namespace_table(kinds),
            &format!(
                "with `run {}`, only the {} namespaces are new",
                options.join(" "),
                kinds.join(" and ")
            ),
            format!(
                "exit code 0, and for each namespace, the container's compared with the host's:\n{}",
                namespace_table(kinds)
            ),
            format!(
                "{}for each namespace, the container's compared with the host's:\n{table}",
                out.summary()
            ),
            hint,
        );
    }
}

/// The mounts below the root filesystem in this test process's mount namespace
/// (the host's) when a test began. When dropped, it detaches those added since: a
/// wrong program leaves none on the host, even when its check fails.
pub struct HostMounts {
    before: Vec<PathBuf>,
}

impl HostMounts {
    pub fn now() -> HostMounts {
        HostMounts { before: mounts_below(std::process::id() as i32, &rootfs()) }
    }

    /// Mount points at or below the root filesystem that were not there before.
    pub fn added(&self) -> Vec<PathBuf> {
        new_mounts(&self.before, mounts_below(std::process::id() as i32, &rootfs()))
    }
}

impl Drop for HostMounts {
    fn drop(&mut self) {
        detach(&self.added());
    }
}

/// A directory of a test's own in the temporary directory, named after `name`, this
/// process and a counter; empty when made, and removed with what it holds when
/// dropped, also when the test fails (a mount left on it is detached first).
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(name: &str) -> ScratchDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("{name}-{}-{n}", std::process::id()));
        let scratch = ScratchDir(dir);
        let _ = crate::remove::remove_tree(&scratch.0);
        fs::create_dir_all(&scratch.0)
            .unwrap_or_else(|err| panic!("mkdir {}: {err}", scratch.0.display()));
        scratch
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        detach_mounts_below(&self.0);
        if let Err(err) = crate::remove::remove_tree(&self.0) {
            eprintln!("remove {}: {err}", self.0.display());
        }
    }
}

/// A root filesystem of a test's own, as `CONTAINER_ROOTFS` may name one: busybox,
/// an empty /proc and a file `/marker` that names it. Removed when dropped.
struct ScratchRoot(ScratchDir);

impl ScratchRoot {
    fn new() -> ScratchRoot {
        let scratch = ScratchRoot(ScratchDir::new("rootfs-check"));
        let dir = scratch.0.path();
        for sub in ["proc", "bin"] {
            fs::create_dir_all(dir.join(sub))
                .unwrap_or_else(|err| panic!("mkdir {}: {err}", dir.join(sub).display()));
        }
        let (from, to) = (rootfs().join("bin/busybox"), dir.join("bin/busybox"));
        if fs::hard_link(&from, &to).is_err() {
            fs::copy(&from, &to).unwrap_or_else(|err| panic!("copy busybox: {err}"));
        }
        fs::write(dir.join("marker"), scratch.marker())
            .unwrap_or_else(|err| panic!("write {}/marker: {err}", dir.display()));
        scratch
    }

    fn marker(&self) -> String {
        format!("the root filesystem at {}\n", self.0.path().display())
    }
}

/// The PIDs `ps -o pid` printed (its header left out).
fn listed_pids(ps: &str) -> Vec<i32> {
    ps.lines().filter_map(|line| line.trim().parse().ok()).collect()
}

/// The names in a directory, sorted as `ls` sorts them.
pub fn dir_listing(dir: &Path) -> Vec<String> {
    let entries = fs::read_dir(dir).into_iter().flatten().flatten();
    let mut names: Vec<String> =
        entries.map(|entry| entry.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

impl Running {
    fn spawn(mut command: Command) -> Running {
        let what = format!("{command:?}");
        // A process group of its own, so that a timeout can kill everything it started.
        command.process_group(0);
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().unwrap_or_else(|err| panic!("cannot start {what}: {err}"));
        let (sender, lines) = mpsc::channel();
        let out = sender.clone();
        if let Some(stdout) = child.stdout.take() {
            thread::spawn(move || forward_lines(stdout, |l| out.send(Line::Out(l)).is_ok()));
        }
        if let Some(stderr) = child.stderr.take() {
            thread::spawn(move || forward_lines(stderr, |l| sender.send(Line::Err(l)).is_ok()));
        }
        let stdin = child.stdin.take();
        let deadline = Instant::now() + TIMEOUT;
        Running {
            child,
            stdin,
            lines,
            stdout: String::new(),
            stderr: String::new(),
            deadline,
            what,
        }
    }

    /// The host PID of the container program (`run`).
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Read the container's stdout until a line equal to `line` (the rest is kept).
    pub fn wait_for_line(&mut self, line: &str) {
        loop {
            match self.next_line() {
                Some(Line::Out(got)) if got == line => return,
                Some(_) => {}
                None => {
                    let code = self.child.wait().map(exit_code).unwrap_or(-1);
                    fail(
                        &format!("the command runs and prints `{line}`"),
                        format!("`{line}` on stdout, the container still running"),
                        format!("exit code {code}\n{}", self.printed()),
                        ended_early(code),
                    )
                }
            }
        }
    }

    /// The host PID of the container's PID 1: the process started by the program
    /// under test that is PID 1 of a PID namespace of its own.
    pub fn container_init(&self) -> i32 {
        let is_init =
            |pid: &i32| nspid(*pid).is_some_and(|ids| ids.len() > 1 && ids.last() == Some(&1));
        let started = descendants(self.pid());
        started.iter().copied().find(is_init).unwrap_or_else(|| {
            let shown: Vec<String> = started
                .iter()
                .map(|pid| format!("host PID {pid}: PIDs by namespace {:?}", nspid(*pid)))
                .collect();
            fail(
                "the container has a PID 1 of its own",
                "a process started by your program that is PID 1 of a new PID namespace",
                format!("the processes your program started:\n{}", shown.join("\n")),
                namespace_hint("pid"),
            )
        })
    }

    /// The host PID of the container's command: the child of its PID 1.
    pub fn command(&self) -> i32 {
        let init = self.container_init();
        let children =
            descendants(init).into_iter().filter(|pid| stat(*pid).map(|s| s.1) == Some(init));
        children.min().unwrap_or_else(|| {
            fail(
                "the container's PID 1 has started the command",
                "a child of the container's PID 1",
                format!("none under host PID {init}"),
                "",
            )
        })
    }

    /// The cgroup the container's PID 1 is in (pids controller); the check fails
    /// if that is this test process's own: the container has no cgroup of its own.
    pub fn container_cgroup(&self) -> PathBuf {
        let cgroup = pids_cgroup_of(self.container_init());
        check(
            cgroup != pids_cgroup_of(std::process::id() as i32),
            "the container has a cgroup of its own",
            "the container's PID 1 in a cgroup that is not the host's",
            format!("it is in the host's (the test's own): {}", cgroup.display()),
            "create a cgroup for the container, and have the child join it (write its PID to \
             cgroup.procs) before it starts the command",
        );
        cgroup
    }

    /// The container's cgroup ([`Running::container_cgroup`]); the check `check_name`
    /// fails unless the kernel shows `pids.max` = `limit` there (`after` ends what
    /// the failure shows).
    fn container_cgroup_limited_to(&self, limit: u32, check_name: &str, after: &str) -> PathBuf {
        let cgroup = self.container_cgroup();
        let max = pids_max(&cgroup);
        check(
            max == limit.to_string(),
            check_name,
            format!("pids.max = {limit} in the container's cgroup"),
            format!("{}: {max}{after}", cgroup.join("pids.max").display()),
            &format!(
                "pids.max is not {limit}: write {limit} to the cgroup's pids.max before the \
                 command starts (cgroup v2: first enable the controller with +pids in the \
                 parent's cgroup.subtree_control)"
            ),
        );
        cgroup
    }

    /// Set off a container started with [`FORK_BOMB`], but only once the kernel shows
    /// that its PID 1 is in a cgroup whose `pids.max` is `limit`: a container program
    /// without a working limit must fail this test, not fork-bomb the machine.
    /// Returns that cgroup.
    pub fn detonate_fork_bomb(&mut self, limit: u32) -> PathBuf {
        self.wait_for_line("ready");
        let check_name = format!("a fork bomb inside is held by a limit of {limit} processes");
        let cgroup = self.container_cgroup_limited_to(
            limit,
            &check_name,
            "; the test did not set the bomb off",
        );
        let stdin = self.stdin.as_mut().unwrap_or_else(|| panic!("{}: stdin closed", self.what));
        stdin.write_all(b"go\n").unwrap_or_else(|err| panic!("{}: write stdin: {err}", self.what));
        cgroup
    }

    /// Whether the program ends within `limit` (its stdin still open).
    pub fn ends_within(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return true;
            }
            thread::sleep(Duration::from_millis(5));
        }
        false
    }

    /// Close the container's stdin, wait for its end and return what it printed.
    pub fn finish(mut self) -> Output {
        self.stdin = None;
        let code = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break exit_code(status),
                Ok(None) if Instant::now() < self.deadline => {
                    thread::sleep(Duration::from_millis(5))
                }
                _ => fail(
                    "the container ends when its command has ended",
                    format!("the program ended within {TIMEOUT:?}"),
                    format!("still running: {}\n{}", self.what, self.printed()),
                    "run must wait for the child (and the child for the command), then exit; \
                     check that nothing waits for a process that never ends",
                ),
            }
        };
        // Its output ends when every process that holds it has ended too.
        while self.next_line().is_some() {}
        if let Some(renamed) = restore_host_hostname() {
            fail(
                "the host's hostname is left alone",
                host_hostname(),
                format!("the host was renamed `{renamed}` (the test renamed it back)"),
                "your program renamed the host: sethostname ran in the host's UTS namespace. \
                 Unshare CLONE_NEWUTS before the child sets the hostname",
            );
        }
        let (stdout, stderr) = (std::mem::take(&mut self.stdout), std::mem::take(&mut self.stderr));
        Output { pid: self.pid(), code, stdout, stderr }
    }

    fn next_line(&mut self) -> Option<Line> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        let line = match self.lines.recv_timeout(left) {
            Ok(line) => line,
            Err(RecvTimeoutError::Disconnected) => return None,
            Err(RecvTimeoutError::Timeout) => fail(
                "the container's output ends with it",
                format!("stdout and stderr closed within {TIMEOUT:?}"),
                format!("still open: {}\n{}", self.what, self.printed()),
                "a process of the container outlived it and holds its output open: when the \
                 container's PID 1 ends, the kernel kills the rest of its PID namespace",
            ),
        };
        let (Line::Out(text) | Line::Err(text)) = &line;
        let all = if matches!(line, Line::Out(_)) { &mut self.stdout } else { &mut self.stderr };
        all.push_str(text);
        all.push('\n');
        Some(line)
    }

    fn printed(&self) -> String {
        format!("stdout:\n{}stderr:\n{}", self.stdout, self.stderr)
    }
}

impl Drop for Running {
    /// A test that fails midway must leave nothing behind: kill the program and
    /// everything it started, and detach any mount it left on the root filesystem.
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = killpg(Pid::from_raw(self.pid()), Signal::SIGKILL);
        for pid in descendants(self.pid()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        let _ = self.child.wait();
        detach_mounts_below(&rootfs());
        restore_host_hostname();
    }
}

/// The files process `pid` has open beyond stdin, stdout and stderr that are not
/// the same open file as this test process has under that number (inherited).
fn own_files(pid: i32) -> Vec<String> {
    let fds = fs::read_dir(format!("/proc/{pid}/fd")).into_iter().flatten().flatten();
    let fds =
        fds.filter_map(|fd| fd.file_name().to_str()?.parse::<i32>().ok()).filter(|fd| *fd > 2);
    let target = |pid: &str, fd: i32| fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok();
    let own = fds.filter(|fd| target(&pid.to_string(), *fd) != target("self", *fd));
    own.map(|fd| format!("{fd} -> {:?}", target(&pid.to_string(), fd))).collect()
}

/// Detach every mount at or below `dir` in this process's mount namespace.
fn detach_mounts_below(dir: &Path) {
    detach(&mounts_below(std::process::id() as i32, dir));
}

/// Detach these mounts (lazily: MNT_DETACH), the last mounted first.
fn detach(mounts: &[PathBuf]) {
    for mount in mounts.iter().rev() {
        let _ = umount2(mount, MntFlags::MNT_DETACH);
    }
}

fn forward_lines(from: impl Read, mut send: impl FnMut(String) -> bool) {
    for line in BufReader::new(from).lines() {
        let Ok(line) = line else { return };
        if !send(line) {
            return;
        }
    }
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().or(status.signal().map(|n| 128 + n)).unwrap_or(-1)
}

/// Fail the test at once, in one line, unless we are root.
pub fn require_root() {
    if !geteuid().is_root() {
        panic!(
            "these tests need root (namespaces, chroot, cgroups): run them as root, or \
             install sudo and let .cargo/runner elevate them"
        );
    }
}

/// The course's root filesystem, built on first use.
pub fn rootfs() -> PathBuf {
    crate::ensure().unwrap_or_else(|err| panic!("{err}"))
}

/// The root filesystem's busybox, as a host path (for steps without a chroot).
pub fn busybox() -> String {
    rootfs().join("bin/busybox").display().to_string()
}

/// The course's root filesystem moved aside, so that the next container finds none
/// and builds it, as on a learner's first run. Put back when dropped, even when the
/// test fails. Hold [`serial`] meanwhile, so that no other container needs it.
pub struct FirstUse {
    aside: PathBuf,
}

impl FirstUse {
    pub fn start() -> FirstUse {
        let dir = rootfs();
        let aside = dir.with_file_name(format!(".fs.aside-{}", std::process::id()));
        fs::rename(&dir, &aside)
            .unwrap_or_else(|err| panic!("move {} aside: {err}", dir.display()));
        FirstUse { aside }
    }
}

impl Drop for FirstUse {
    fn drop(&mut self) {
        let dir = crate::default_dir();
        if let Err(err) = crate::remove::remove_tree(&dir) {
            eprintln!("remove the tree the test built at {}: {err}", dir.display());
        }
        let _ = fs::rename(&self.aside, &dir);
    }
}

/// Tests that must not run at the same time as each other take this lock (for
/// example step 5's, whose containers share the host's mount table).
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A shell loop that prints the container's namespace links, one a line
/// (`uts:[4026531838]`), of every kind in [`NAMESPACES`].
fn print_namespaces() -> String {
    format!("for n in {}; do readlink /proc/self/ns/$n; done", NAMESPACES.join(" "))
}

/// The table [`Step::namespaces`] shows for a container whose namespaces of these
/// `kinds` are new, and every other the host's.
fn namespace_table(kinds: &[&str]) -> String {
    let verdict = |kind| if kinds.contains(&kind) { "new" } else { "host" };
    NAMESPACES.iter().map(|kind| format!("{kind}: {}\n", verdict(*kind))).collect()
}

/// For each namespace link printed inside the container (`uts:[4026531838]`),
/// whether it is the host's (this test process's) or a new one: `uts: new`.
fn compare_namespaces(printed: &str) -> String {
    let inside: BTreeMap<&str, &str> = printed.lines().filter_map(|l| l.split_once(':')).collect();
    let mut report = String::new();
    for kind in NAMESPACES {
        let ours = fs::read_link(format!("/proc/self/ns/{kind}")).unwrap_or_default();
        let ours = ours.to_string_lossy();
        let verdict = match inside.get(kind) {
            None => "not printed",
            Some(theirs) if ours.ends_with(theirs) => "host",
            Some(_) => "new",
        };
        report.push_str(&format!("{kind}: {verdict}\n"));
    }
    report
}

/// PIDs of every process descended from `pid`, read from /proc.
pub fn descendants(pid: i32) -> Vec<i32> {
    let parents: Vec<(i32, i32)> =
        all_pids().into_iter().filter_map(|p| Some((p, stat(p)?.1))).collect();
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(parents.iter().filter(|(_, p)| *p == parent).map(|(child, _)| *child));
        i += 1;
    }
    found.remove(0);
    found
}

/// The zombies (`<defunct>` processes) whose parent is `pid`.
pub fn zombie_children(pid: i32) -> Vec<i32> {
    all_pids().into_iter().filter(|p| stat(*p) == Some(('Z', pid))).collect()
}

fn all_pids() -> Vec<i32> {
    let entries = fs::read_dir("/proc").into_iter().flatten().flatten();
    entries.filter_map(|e| e.file_name().to_str()?.parse().ok()).collect()
}

/// State letter and parent PID of a process, from /proc/PID/stat.
fn stat(pid: i32) -> Option<(char, i32)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let state = fields.next()?.chars().next()?;
    Some((state, fields.next()?.parse().ok()?))
}

/// The PIDs a process has in each PID namespace it is in, outermost first.
fn nspid(pid: i32) -> Option<Vec<i32>> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("NSpid:"))?;
    line.split_whitespace().map(|n| n.parse().ok()).collect()
}

/// The mount points in `now` that were not in `before` (one of each there taken out).
fn new_mounts(before: &[PathBuf], mut now: Vec<PathBuf>) -> Vec<PathBuf> {
    for old in before {
        if let Some(i) = now.iter().position(|mount| mount == old) {
            now.remove(i);
        }
    }
    now
}

/// Every mount point in the mount namespace of process `pid`.
fn mount_points(pid: i32) -> BTreeSet<PathBuf> {
    let mountinfo = fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap_or_default();
    mountinfo.lines().filter_map(|l| l.split(' ').nth(4)).map(PathBuf::from).collect()
}

/// Mount points at or below `dir` in the mount namespace of process `pid`.
pub fn mounts_below(pid: i32, dir: &Path) -> Vec<PathBuf> {
    let mountinfo = fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap_or_default();
    let points = mountinfo.lines().filter_map(|l| l.split(' ').nth(4)).map(PathBuf::from);
    points.filter(|point| point.starts_with(dir)).collect()
}

/// Where `controller` (`pids`, `memory`, `cpu`…) is mounted, read from the kernel:
/// the first in /proc/self/mountinfo of a cgroup v1 hierarchy that has it among its
/// mount options, or the cgroup v2 tree when it offers it. Returns the mount point,
/// and whether it is v2.
pub fn cgroup_hierarchy(controller: &str) -> (PathBuf, bool) {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    for line in mountinfo.lines() {
        let Some((mount, source)) = line.split_once(" - ") else { continue };
        let point = PathBuf::from(mount.split(' ').nth(4).unwrap_or_default());
        let fields: Vec<&str> = source.split(' ').collect();
        match fields.as_slice() {
            ["cgroup", _, options] if options.split(',').any(|o| o == controller) => {
                return (point, false);
            }
            ["cgroup2", ..]
                if fs::read_to_string(point.join("cgroup.controllers"))
                    .is_ok_and(|c| c.split_whitespace().any(|c| c == controller)) =>
            {
                return (point, true);
            }
            _ => {}
        }
    }
    panic!("no cgroup hierarchy offers the {controller} controller:\n{mountinfo}")
}

/// The cgroup directory of process `pid` in the hierarchy of `controller`.
pub fn cgroup_of(pid: i32, controller: &str) -> PathBuf {
    let (hierarchy, v2) = cgroup_hierarchy(controller);
    let cgroups = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    // Lines are "ID:CONTROLLERS:PATH"; cgroup v2's is "0::PATH".
    for entry in cgroups.lines() {
        let mut parts = entry.splitn(3, ':');
        let (_, controllers, path) = (parts.next(), parts.next(), parts.next());
        let found = match controllers {
            Some("") => v2,
            Some(list) => !v2 && list.split(',').any(|c| c == controller),
            None => false,
        };
        if let (true, Some(path)) = (found, path) {
            return hierarchy.join(path.trim_start_matches('/'));
        }
    }
    panic!("process {pid}: no {controller} cgroup in /proc/{pid}/cgroup:\n{cgroups}")
}

/// Where the pids controller is mounted: see [`cgroup_hierarchy`].
pub fn pids_hierarchy() -> PathBuf {
    cgroup_hierarchy("pids").0
}

/// The cgroup directory of process `pid` in the hierarchy of the pids controller.
pub fn pids_cgroup_of(pid: i32) -> PathBuf {
    cgroup_of(pid, "pids")
}

/// A fork bomb, armed: it prints `ready`, waits for a line on stdin, then goes off
/// and lasts until stdin closes. Start it only with [`Running::detonate_fork_bomb`],
/// which first checks that the container is held by a pids limit. The shell forks
/// once, `(bomb) &`: for `bomb | bomb &` it would fork twice, and the second fork
/// could already find the cgroup full and stop the script.
pub const FORK_BOMB: &str = "bomb() { bomb | bomb & }; echo ready; read go; (bomb) & read x";

/// How many forks the pids controller refused in `cgroup` ("max" in pids.events).
pub fn refused_forks(cgroup: &Path) -> u64 {
    let events = read_cgroup_file(cgroup, "pids.events");
    events.lines().find_map(|line| line.strip_prefix("max ")?.parse().ok()).unwrap_or(0)
}

/// Wait until the pids controller of `cgroup` has refused a fork, checking all the
/// while that the cgroup never holds more than `limit` processes.
pub fn assert_held_at_limit(cgroup: &Path, limit: u32) {
    let deadline = Instant::now() + TIMEOUT;
    while refused_forks(cgroup) == 0 {
        check(
            Instant::now() < deadline,
            "the fork bomb reaches the limit",
            "a fork refused (pids.events: max > 0)",
            format!("none refused in {TIMEOUT:?}"),
            "the bomb's processes are not counted in the container's cgroup",
        );
        let current: u32 = read_cgroup_file(cgroup, "pids.current").parse().unwrap_or(0);
        check(
            current <= limit,
            &format!("a fork bomb is held at {limit} processes"),
            format!("pids.current at most {limit}"),
            format!("pids.current = {current}"),
            "the limit does not hold",
        );
        thread::sleep(Duration::from_millis(10));
    }
}

/// Read a cgroup file (`pids.max`, `pids.current`…), trimmed.
pub fn read_cgroup_file(cgroup: &Path, file: &str) -> String {
    let path = cgroup.join(file);
    fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("read {}: {err}", path.display()))
        .trim()
        .into()
}

/// A stand-in for a systemd host: a process in a mount namespace of its own
/// whose mounts are all *shared*, where this machine's `/` is private. Containers
/// started in it with [`Step::start_sh_in`] show whether their mounts leak out.
pub struct SharedMountHost {
    holder: Child,
}

impl SharedMountHost {
    pub fn start() -> SharedMountHost {
        require_root();
        let sleeper = [busybox(), "sleep".into(), "3600".into()];
        let holder = Command::new("unshare")
            .args(["--mount", "--propagation", "shared", "--"])
            .args(sleeper)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start `unshare` (util-linux): {err}"));
        let host = SharedMountHost { holder };
        // unshare(1) makes the namespace, then execs the sleeper: wait for that.
        let deadline = Instant::now() + TIMEOUT;
        while fs::read_link(format!("/proc/{}/exe", host.pid())).ok()
            != Some(rootfs().join("bin/busybox"))
        {
            assert!(Instant::now() < deadline, "unshare(1) never started the namespace holder");
            thread::sleep(Duration::from_millis(5));
        }
        host
    }

    pub fn pid(&self) -> i32 {
        self.holder.id() as i32
    }

    /// Mount points at or below `dir`, as this host sees them.
    pub fn mounts_below(&self, dir: &Path) -> Vec<PathBuf> {
        mounts_below(self.pid(), dir)
    }
}

impl Drop for SharedMountHost {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

// The graded checks each step carries over from the steps before it. Step N's tests
// list its own checks (`feature_*`) one by one, then take the earlier steps' from
// `graded_checks_up_to_step!(N - 1)`, so that each check is written once. The test
// file defines `fn step() -> Step`; statements after the step number run first in
// every test (step 5: `let _serial = serial()`).

/// The graded checks of steps 1 to N, as `#[test]` functions named after what they
/// prove: `rootfs::graded_checks_up_to_step!(6);` in step 7's tests.
#[macro_export]
macro_rules! graded_checks_up_to_step {
    (1 $(, $setup:stmt)*) => {
        $crate::graded_checks!([$($setup),*]
            the_command_is_wired_to_stdin_stdout_and_stderr => assert_stdio_wired();
            exit_codes_follow_docker => assert_exit_codes();
            arguments_pass_through_untouched => assert_arguments_pass_through();
        );
    };
    (2 $(, $setup:stmt)*) => {
        $crate::graded_checks_up_to_step!(1 $(, $setup)*);
        $crate::graded_checks!([$($setup),*]
            uts_namespace_is_new => assert_namespaces_new(&["uts"]);
            hostname_changed_inside_stays_inside => assert_hostname_change_stays_inside();
        );
    };
    (3 $(, $setup:stmt)*) => {
        $crate::graded_checks_up_to_step!(2 $(, $setup)*);
        $crate::graded_checks!([$($setup),*]
            hostname_is_container => assert_hostname_is_container();
        );
    };
    (4 $(, $setup:stmt)*) => {
        $crate::graded_checks_up_to_step!(3 $(, $setup)*);
        $crate::graded_checks!([$($setup),*]
            pid_namespace_is_new => assert_namespaces_new(&["pid"]);
            the_command_is_pid_2_after_child_as_pid_1 => assert_command_is_pid_2();
            pid_1_reaps_orphans => assert_orphans_reaped();
            signals_reach_the_command => assert_signals_forwarded();
            the_container_dies_with_its_runtime => assert_container_dies_with_its_runtime();
        );
    };
    (5 $(, $setup:stmt)*) => {
        $crate::graded_checks_up_to_step!(4 $(, $setup)*);
        $crate::nothing_left_behind_checks!($($setup),*);
        $crate::graded_checks!([$($setup),*]
            ls_shows_the_busybox_tree => assert_root_is_the_rootfs();
            ps_shows_only_the_container => assert_ps_shows_only_the_container();
            the_root_is_the_directory_container_rootfs_names => assert_rootfs_from_the_environment();
        );
    };
    (6 $(, $setup:stmt)*) => {
        $crate::graded_checks_up_to_step!(5 $(, $setup)*);
        $crate::graded_checks!([$($setup),*]
            mount_namespace_is_new => assert_namespaces_new(&["mnt"]);
            proc_mount_never_reaches_this_host => assert_mounts_stay_inside();
            proc_mount_never_reaches_a_shared_host => assert_mounts_stay_inside_a_shared_host();
        );
    };
}

/// The checks that a container with a root filesystem of its own leaves nothing
/// behind, from step 5 on (step 4's program passes them too: not `feature_*`).
#[macro_export]
macro_rules! nothing_left_behind_checks {
    ($($setup:stmt),*) => {
        $crate::graded_checks!([$($setup),*]
            nothing_is_left_mounted_after_a_failing_command => assert_nothing_left_mounted();
            two_hundred_containers_in_a_row_leave_nothing_behind => assert_nothing_accumulates(200);
            the_command_holds_no_file_of_the_runtime => assert_command_holds_only_stdio();
        );
    };
}

/// One `#[test]` function per `name => check(args);`, each running the statements
/// in `[...]` first, then `step().check(args)`.
#[doc(hidden)]
#[macro_export]
macro_rules! graded_checks {
    ($setup:tt $($name:ident => $check:ident($($arg:expr),*);)+) => {
        $(
            #[test]
            fn $name() {
                $crate::graded_checks_setup!$setup;
                step().$check($($arg),*);
            }
        )+
    };
}

/// The statements a step runs first in each carried-over check.
#[doc(hidden)]
#[macro_export]
macro_rules! graded_checks_setup {
    ($($setup:stmt),*) => { $($setup;)* };
}
