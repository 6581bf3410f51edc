//! The harness every step's tests share.
//!
//! It starts a container program (a step's binary, or any program that takes
//! `run CMD ARGS...`), feeds it a command, collects what it printed and how it
//! ended under a timeout, and reads what the kernel shows from the host's side:
//! processes, namespaces, mounts and cgroups. Tests assert on those, never on the
//! program's own messages, so that any honest implementation passes them.
//!
//! `CONTAINER_BIN=/path/to/program` makes every test run that program instead of
//! the step's own binary.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use std::{fs, thread};

use nix::mount::{MntFlags, umount2};
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::{Pid, geteuid};

/// How long any one container may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The namespace kinds the tests compare, as named in /proc/PID/ns.
pub const NAMESPACES: [&str; 7] = ["cgroup", "ipc", "mnt", "net", "pid", "user", "uts"];

/// insta filters for what differs between runs and machines in a container's
/// output: the host paths `run` hands to `child`, and times.
pub const FILTERS: [(&str, &str); 3] = [
    (r"--rootfs \S+", "--rootfs [ROOTFS]"),
    (r"--cgroup \S+", "--cgroup [CGROUP]"),
    (r"\b\d+:\d\d\b", "[TIME]"),
];

/// The container program of a step under test, and how its containers reach busybox.
pub struct Step {
    bin: PathBuf,
    busybox: String,
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
        Step::new(default_bin, busybox())
    }

    /// A step whose containers have the root filesystem as `/` (steps 5 to 7).
    pub fn in_rootfs(default_bin: &str) -> Step {
        Step::new(default_bin, "/bin/busybox".into())
    }

    fn new(default_bin: &str, busybox: String) -> Step {
        require_root();
        let bin = std::env::var_os("CONTAINER_BIN").unwrap_or_else(|| default_bin.into());
        Step { bin: PathBuf::from(bin), busybox }
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

    /// Start `BIN run ARGS...` and return while it runs; its stdin stays open until
    /// [`Running::finish`], so a container can wait on `read` until the test is done.
    pub fn start<S: AsRef<OsStr>>(&self, args: &[S]) -> Running {
        let mut command = Command::new(&self.bin);
        command.arg("run").args(args);
        Running::spawn(command)
    }

    /// Like [`Step::start_sh`], but inside the mount namespace of `host` (see
    /// [`SharedMountHost`]).
    pub fn start_sh_in(&self, host: &SharedMountHost, script: &str) -> Running {
        let mut command = Command::new("nsenter");
        command.arg(format!("--mount=/proc/{}/ns/mnt", host.pid()));
        command.arg("--").arg(&self.bin).arg("run").args([&self.busybox, "sh", "-c", script]);
        Running::spawn(command)
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
        let mut running = self.start(&shell);
        if let Some(stdin) = running.stdin.as_mut() {
            stdin.write_all(script.as_bytes()).unwrap_or_else(|err| panic!("write stdin: {err}"));
        }
        let out = running.finish();
        assert_eq!(out.code, 0, "the session failed: {out:?}");
        let host = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let shown = |line: &str| if line == host.trim() { "[HOST]" } else { line }.to_owned();
        out.stdout.lines().map(|line| shown(line) + "\n").collect()
    }
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

/// Checks that hold from some step on, shared by the steps' tests.
impl Step {
    /// The hostname inside a container.
    pub fn hostname(&self) -> String {
        self.sh("hostname").stdout.trim().into()
    }

    /// Whether `ps` inside a container lists this test process: the host's processes.
    pub fn sees_host_processes(&self) -> bool {
        let me = std::process::id().to_string();
        self.sh("ps -o pid").stdout.lines().any(|line| line.trim() == me)
    }

    /// For each kind of namespace, whether a container's is the host's or new.
    pub fn namespaces(&self) -> String {
        let script =
            format!("for n in {}; do readlink /proc/self/ns/$n; done", NAMESPACES.join(" "));
        compare_namespaces(&self.sh(&script).stdout)
    }

    /// Exit codes follow Docker: the command's own status, 128+n when signal n
    /// killed it, 127 when it does not exist, 126 when it cannot be executed.
    pub fn assert_exit_codes(&self) {
        assert_eq!(self.sh("exit 3").code, 3, "the command's own status");
        assert_eq!(self.sh("kill -KILL $$").code, 128 + 9, "killed by SIGKILL");
        assert_eq!(self.run(&["/no/such/command"]).code, 127, "a command that does not exist");
        assert_eq!(self.run(&["/etc/passwd"]).code, 126, "a file without the execute bit");
        assert_eq!(self.run(&["/"]).code, 126, "a directory as the command");
    }

    /// Arguments after the command reach it untouched, hyphens and all.
    pub fn assert_arguments_pass_through(&self) {
        let args = ["-l", "--rootfs", "--", "a b", "--help"];
        let printed = self
            .run(
                &[&self.busybox, "sh", "-c", "for a; do echo \"<$a>\"; done", "sh"]
                    .iter()
                    .copied()
                    .chain(args)
                    .collect::<Vec<_>>(),
            )
            .stdout;
        let expected: String = args.iter().map(|a| format!("<{a}>\n")).collect();
        assert_eq!(printed, expected);
    }

    /// The container's PID 1 reaps the orphans the kernel hands to it: an inner
    /// shell starts a short `sleep` in the background and exits at once.
    pub fn assert_orphans_reaped(&self) {
        let mut running = self.start_sh("sh -c 'sleep 0.01 &'; sleep 0.3; echo ready; read x");
        running.wait_for_line("ready");
        let zombies = zombie_children(running.container_init());
        assert_eq!(zombies, Vec::<i32>::new(), "orphans left <defunct>: PID 1 did not reap them");
        running.finish();
    }

    /// `runs` short containers in a row leave nothing behind: no mount in the host's
    /// mount table, no cgroup named after their runtime, and each one ends.
    pub fn assert_nothing_accumulates(&self, runs: usize) {
        let me = std::process::id() as i32;
        let mounts = fs::read_to_string(format!("/proc/{me}/mountinfo")).unwrap_or_default();
        let (hierarchy, _) = pids_hierarchy();
        for _ in 0..runs {
            let out = self.run(&["true"]);
            assert_eq!(out.code, 0, "{out:?}");
            let cgroup = hierarchy.join(format!("container-{}", out.pid));
            assert!(!cgroup.exists(), "{} was left behind", cgroup.display());
        }
        let after = fs::read_to_string(format!("/proc/{me}/mountinfo")).unwrap_or_default();
        assert_eq!(after, mounts, "the host's mount table changed after {runs} containers");
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

    /// A container does not outlive its program: SIGKILL `run`, and every process
    /// of the container is gone soon after.
    pub fn assert_container_dies_with_its_runtime(&self) {
        let mut running = self.start_sh("echo ready; read x");
        running.wait_for_line("ready");
        let init = running.container_init();
        let _ = kill(Pid::from_raw(running.pid()), Signal::SIGKILL);
        let deadline = Instant::now() + Duration::from_secs(5);
        while stat(init).is_some_and(|(state, _)| state != 'Z') {
            assert!(
                Instant::now() < deadline,
                "the container lived on after its runtime was killed"
            );
            thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(running.finish().code, 128 + 9);
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
                let who = if to_init { "the container's PID 1" } else { "the container program" };
                assert_eq!(
                    running.finish().code,
                    n,
                    "{signal} sent to {who} did not reach the command"
                );
            }
        }
    }
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
                None => panic!("{}: never printed {line:?}\n{}", self.what, self.printed()),
            }
        }
    }

    /// The host PID of the container's PID 1: the process started by the program
    /// under test that is PID 1 of a PID namespace of its own.
    pub fn container_init(&self) -> i32 {
        let is_init =
            |pid: &i32| nspid(*pid).is_some_and(|ids| ids.len() > 1 && ids.last() == Some(&1));
        descendants(self.pid()).into_iter().find(is_init).unwrap_or_else(|| {
            panic!("{}: no process of it is PID 1 of a new PID namespace", self.what)
        })
    }

    /// Set off a container started with [`FORK_BOMB`], but only once the kernel shows
    /// that its PID 1 is in a cgroup whose `pids.max` is `limit`: a container program
    /// without a working limit must fail this test, not fork-bomb the machine.
    /// Returns that cgroup.
    pub fn detonate_fork_bomb(&mut self, limit: u32) -> PathBuf {
        self.wait_for_line("ready");
        let cgroup = pids_cgroup_of(self.container_init());
        let max = fs::read_to_string(cgroup.join("pids.max")).unwrap_or_default();
        assert_eq!(
            max.trim(),
            limit.to_string(),
            "no pids limit on {}: not set off",
            cgroup.display()
        );
        let stdin = self.stdin.as_mut().unwrap_or_else(|| panic!("{}: stdin closed", self.what));
        stdin.write_all(b"go\n").unwrap_or_else(|err| panic!("{}: write stdin: {err}", self.what));
        cgroup
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
                _ => panic!("{}: still running after {TIMEOUT:?}\n{}", self.what, self.printed()),
            }
        };
        // Its output ends when every process that holds it has ended too.
        while self.next_line().is_some() {}
        let (stdout, stderr) = (std::mem::take(&mut self.stdout), std::mem::take(&mut self.stderr));
        Output { pid: self.pid(), code, stdout, stderr }
    }

    fn next_line(&mut self) -> Option<Line> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        let line = match self.lines.recv_timeout(left) {
            Ok(line) => line,
            Err(RecvTimeoutError::Disconnected) => return None,
            Err(RecvTimeoutError::Timeout) => {
                panic!("{}: its output still open after {TIMEOUT:?}\n{}", self.what, self.printed())
            }
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
    for mount in mounts_below(std::process::id() as i32, dir).iter().rev() {
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

/// Mount points at or below `dir` in the mount namespace of process `pid`.
pub fn mounts_below(pid: i32, dir: &Path) -> Vec<PathBuf> {
    let mountinfo = fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap_or_default();
    let points = mountinfo.lines().filter_map(|l| l.split(' ').nth(4)).map(PathBuf::from);
    points.filter(|point| point.starts_with(dir)).collect()
}

/// Where the pids controller is mounted, read from the kernel, and the name it has
/// in /proc/PID/cgroup lines: cgroup v1's own hierarchy (`pids`), else the v2 tree ("").
pub fn pids_hierarchy() -> (PathBuf, &'static str) {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    for line in mountinfo.lines() {
        let Some((mount, source)) = line.split_once(" - ") else { continue };
        let point = PathBuf::from(mount.split(' ').nth(4).unwrap_or_default());
        let fields: Vec<&str> = source.split(' ').collect();
        match fields.as_slice() {
            ["cgroup", _, options] if options.split(',').any(|o| o == "pids") => {
                return (point, "pids");
            }
            ["cgroup2", ..]
                if fs::read_to_string(point.join("cgroup.controllers"))
                    .is_ok_and(|c| c.split_whitespace().any(|c| c == "pids")) =>
            {
                return (point, "");
            }
            _ => {}
        }
    }
    panic!("no cgroup hierarchy offers the pids controller:\n{mountinfo}")
}

/// The cgroup directory of process `pid` in the hierarchy of the pids controller.
pub fn pids_cgroup_of(pid: i32) -> PathBuf {
    let (hierarchy, name) = pids_hierarchy();
    let cgroups = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    // Lines are "ID:CONTROLLERS:PATH"; cgroup v2's is "0::PATH".
    for entry in cgroups.lines() {
        let mut parts = entry.splitn(3, ':');
        let (_, controllers, path) = (parts.next(), parts.next().unwrap_or("-"), parts.next());
        if controllers.split(',').any(|c| c == name) || controllers == name {
            return hierarchy.join(path.unwrap_or_default().trim_start_matches('/'));
        }
    }
    panic!("process {pid}: no pids cgroup in /proc/{pid}/cgroup:\n{cgroups}")
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
        assert!(Instant::now() < deadline, "{} never reached its limit", cgroup.display());
        let current: u32 = read_cgroup_file(cgroup, "pids.current").parse().unwrap_or(0);
        assert!(current <= limit, "{current} processes in a cgroup limited to {limit}");
        thread::sleep(Duration::from_millis(10));
    }
}

/// How many processes the host has.
pub fn process_count() -> usize {
    all_pids().len()
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
