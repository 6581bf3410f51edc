//! A container program while it runs ([`Running`]): its output line by line, its
//! PID 1, its command and its cgroup as the kernel shows them; and how it ended
//! ([`Output`]).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, kill, killpg, sigaction};
use nix::unistd::Pid;

use crate::fixtures::rootfs;
use crate::kernel::cgroups::{pids_cgroup_of, pids_max};
use crate::kernel::hostname::{
    host_hostname, renames_since, renames_so_far, restore_host_hostname,
};
use crate::kernel::mounts::detach_mounts_below;
use crate::kernel::processes::{descendants, nspid, stat};
use crate::report::{claim, ended_early, indented, namespace_hint};
use crate::timeouts::{container_timeout, poll_until, slow_machine_note};

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

/// A container program that is still running. Dropping it kills what is left.
pub struct Running {
    child: Child,
    pub(crate) stdin: Option<ChildStdin>,
    lines: Receiver<Line>,
    stdout: String,
    stderr: String,
    deadline: Instant,
    what: String,
    /// The host path of busybox, when the command is it and the step's containers
    /// still see the host's files (steps 1 to 4): not finding it means a chroot.
    pub(crate) host_busybox: Option<String>,
    /// How many renames of the host had been repaired when it started.
    renames_at_start: usize,
}

enum Line {
    Out(String),
    Err(String),
}

/// Start the program as a shell starts a job in the foreground: no signal ignored
/// or blocked, whatever this test process inherited. A test run in the background
/// by a script inherits SIGINT and SIGQUIT ignored, an ignored signal stays ignored
/// across exec, and a shell inside could then not trap it: the signal checks would
/// fail through no fault of the program.
fn with_default_signals(command: &mut Command) {
    let reset = || {
        let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
        for signal in [Signal::SIGINT, Signal::SIGQUIT, Signal::SIGTERM, Signal::SIGHUP] {
            // SAFETY: SIG_DFL installs no handler of ours.
            unsafe { sigaction(signal, &default) }?;
        }
        SigSet::all().thread_unblock()?;
        Ok(())
    };
    // SAFETY: `reset` runs between fork and exec, where only async-signal-safe calls
    // are sound; sigaction and sigprocmask are.
    unsafe { command.pre_exec(reset) };
}

/// The container's deadline passed while the test waited for its output.
struct TimedOut;

impl Running {
    pub(crate) fn spawn(mut command: Command) -> Running {
        let what = format!("{command:?}");
        let renames_at_start = renames_so_far();
        // A process group of its own, so that a timeout can kill everything it started.
        command.process_group(0);
        with_default_signals(&mut command);
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
        let deadline = Instant::now() + container_timeout();
        Running {
            child,
            stdin,
            lines,
            stdout: String::new(),
            stderr: String::new(),
            deadline,
            what,
            host_busybox: None,
            renames_at_start,
        }
    }

    /// The host PID of the container program (`run`).
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Read the container's stdout until a line equal to `line` (the rest is kept).
    pub fn wait_for_line(&mut self, line: &str) {
        loop {
            match self.receive() {
                Ok(Some(Line::Out(got))) if got == line => return,
                Ok(Some(_)) => {}
                Err(TimedOut) => claim(format!("the command runs and prints `{line}`"))
                    .expected(format!(
                        "`{line}` on stdout within {}",
                        slow_machine_note(container_timeout())
                    ))
                    .shown(format!(
                        "it had not come; still running: {}\n{}",
                        self.what,
                        self.printed()
                    ))
                    .hint(
                        "the command's line did not reach the test: give the command your \
                         program's own stdout (Go: cmd.Stdout = os.Stdout) rather than copying \
                         its output through a buffer, which holds lines back until it fills or \
                         the command ends",
                    )
                    .fail(),
                Ok(None) => {
                    // Its output has ended; the program itself ends by the deadline.
                    let code = self.end_by_the_deadline().unwrap_or(-1);
                    let (stdout, stderr) = (self.stdout.clone(), self.stderr.clone());
                    let out = Output { pid: self.pid(), code, stdout, stderr };
                    claim(format!("the command runs and prints `{line}`"))
                        .expected(format!("`{line}` on stdout, the container still running"))
                        .program(&out)
                        .hint(self.why_it_ended(code))
                        .fail()
                }
            }
        }
    }

    /// The host PID of the container's PID 1: the process started by the program
    /// under test that is PID 1 of a PID namespace of its own.
    pub fn container_init(&self) -> i32 {
        self.find_container_init().unwrap_or_else(|| {
            let shown: Vec<String> = descendants(self.pid())
                .iter()
                .map(|pid| format!("host PID {pid}: PIDs by namespace {:?}", nspid(*pid)))
                .collect();
            claim("the container has a PID 1 of its own")
                .expected("a process started by your program that is PID 1 of a new PID namespace")
                .shown(format!("the processes your program started:\n{}", shown.join("\n")))
                .hint(namespace_hint("pid"))
                .fail()
        })
    }

    /// [`Running::container_init`], or None when there is none.
    fn find_container_init(&self) -> Option<i32> {
        let is_init =
            |pid: &i32| nspid(*pid).is_some_and(|ids| ids.len() > 1 && ids.last() == Some(&1));
        descendants(self.pid()).into_iter().find(is_init)
    }

    /// The PIDs of the container's processes now, as its own PID namespace numbers
    /// them (what `ps` inside should list): its PID 1 and every process descended
    /// from it, sorted. None when the program started no PID 1 of a new namespace.
    pub fn pids_inside(&self) -> Option<Vec<i32>> {
        let init = self.find_container_init()?;
        // NSpid lists a process's PIDs outermost first: the container's is at the
        // depth of its PID 1's, also for a process in a namespace nested deeper.
        let depth = nspid(init)?.len() - 1;
        let processes = std::iter::once(init).chain(descendants(init));
        let mut pids: Vec<i32> =
            processes.filter_map(|pid| nspid(pid)?.get(depth).copied()).collect();
        pids.sort();
        Some(pids)
    }

    /// The host PID of the container's command: the child of its PID 1.
    pub fn command(&self) -> i32 {
        let init = self.container_init();
        let children =
            descendants(init).into_iter().filter(|pid| stat(*pid).map(|s| s.1) == Some(init));
        children.min().unwrap_or_else(|| {
            claim("the container's PID 1 has started the command")
                .expected("a child of the container's PID 1")
                .shown(format!("none under host PID {init}"))
                .hint(
                    "PID 1 of the new namespace (the child) must start the command as a child of \
                     its own, and wait for it, rather than replace itself with it (exec)",
                )
                .fail()
        })
    }

    /// The cgroup the container's PID 1 is in (pids controller); the check fails
    /// if that is this test process's own: the container has no cgroup of its own.
    pub fn container_cgroup(&self) -> PathBuf {
        let cgroup = pids_cgroup_of(self.container_init());
        claim("the container has a cgroup of its own")
            .expected("the container's PID 1 in a cgroup that is not the host's")
            .shown(format!("it is in the host's (the test's own): {}", cgroup.display()))
            .hint(
                "create a cgroup for the container, and have the child join it (write its PID to \
                 cgroup.procs) before it starts the command",
            )
            .holds(cgroup != pids_cgroup_of(std::process::id() as i32));
        cgroup
    }

    /// The container's cgroup ([`Running::container_cgroup`]); the check `check_name`
    /// fails unless the kernel shows `pids.max` = `limit` there (`after` ends what
    /// the failure shows).
    pub(crate) fn container_cgroup_limited_to(
        &self,
        limit: u32,
        check_name: &str,
        after: &str,
    ) -> PathBuf {
        let cgroup = self.container_cgroup();
        let max = pids_max(&cgroup);
        claim(check_name)
            .expected(format!("pids.max = {limit} in the container's cgroup"))
            .shown(format!("{}: {max}{after}", cgroup.join("pids.max").display()))
            .hint(format!(
                "pids.max is not {limit}: write {limit} to the cgroup's pids.max before the \
                 command starts (cgroup v2: first enable the controller with +pids in the \
                 parent's cgroup.subtree_control)"
            ))
            .holds(max == limit.to_string());
        cgroup
    }

    /// Set off a container started with [`crate::FORK_BOMB`], but only once the kernel shows
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
        // The bomb is the command's: it must be held by the same cgroup, or it would
        // go off with no limit at all.
        let command_cgroup = pids_cgroup_of(self.command());
        claim(&check_name)
            .expected(format!("the command in the container's cgroup {}", cgroup.display()))
            .shown(format!(
                "the command is in {}; the test did not set the bomb off",
                command_cgroup.display()
            ))
            .hint(
                "the command is not in the container's cgroup: the child must join the cgroup \
                 (its own PID into cgroup.procs) before it starts the command, as a new process \
                 is born in its parent's cgroup and stays there",
            )
            .holds(command_cgroup == cgroup);
        let stdin = self.stdin.as_mut().unwrap_or_else(|| panic!("{}: stdin closed", self.what));
        stdin.write_all(b"go\n").unwrap_or_else(|err| panic!("{}: write stdin: {err}", self.what));
        cgroup
    }

    /// Whether the program ends within `limit` (its stdin still open).
    pub fn ends_within(&mut self, limit: Duration) -> bool {
        poll_until(limit, || !matches!(self.child.try_wait(), Ok(None)))
    }

    /// The program's exit code once it has ended, by the container's deadline; None
    /// if it is still running then (or cannot be waited for).
    fn end_by_the_deadline(&mut self) -> Option<i32> {
        let mut code = None;
        let left = self.deadline.saturating_duration_since(Instant::now());
        poll_until(left, || match self.child.try_wait() {
            Ok(Some(status)) => {
                code = Some(exit_code(status));
                true
            }
            Ok(None) => false,
            Err(_) => true,
        });
        code
    }

    /// Close the container's stdin, wait for its end and return what it printed.
    pub fn finish(mut self) -> Output {
        self.stdin = None;
        let code = self.end_by_the_deadline().unwrap_or_else(|| {
            claim("the container ends when its command has ended")
                .expected(format!(
                    "the program ended within {}",
                    slow_machine_note(container_timeout())
                ))
                .shown(format!("still running: {}\n{}", self.what, self.printed()))
                .hint(
                    "run must wait for the child (and the child for the command), then exit; \
                     check that nothing waits for a process that never ends. From step 4 on, a \
                     PID 1 that waits for signals (sigwait) must have SIGCHLD among them, or it \
                     never wakes when the command ends",
                )
                .hang()
                .fail()
        });
        // Its output ends when every process that holds it has ended too.
        while self.next_line().is_some() {}
        // A rename this container made may have been repaired by another one that
        // ended first: every rename since this one started counts.
        let renamed = renames_since(self.renames_at_start);
        if !renamed.is_empty() {
            claim("the host's hostname is left alone")
                .expected(host_hostname())
                .shown(format!(
                    "the host was renamed {} while this container ran (the test renamed it back)",
                    renamed.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ")
                ))
                .hint(
                    "your program renamed the host: sethostname ran in the host's UTS namespace. \
                     Unshare CLONE_NEWUTS before the child sets the hostname",
                )
                .fail();
        }
        if let (127, Some(busybox)) = (code, &self.host_busybox) {
            claim("the command is found by its path on the host (steps 1 to 4)")
                .expected(format!(
                    "{busybox} runs: until step 5 the container sees the host's files"
                ))
                .shown(format!("exit code 127 (not found)\n{}", self.printed()))
                .hint(chroot_too_early(busybox))
                .fail();
        }
        let (stdout, stderr) = (std::mem::take(&mut self.stdout), std::mem::take(&mut self.stderr));
        Output { pid: self.pid(), code, stdout, stderr }
    }

    /// The hint for a container that ended with `code` before its command did.
    fn why_it_ended(&self, code: i32) -> String {
        match (code, &self.host_busybox) {
            (127, Some(busybox)) => chroot_too_early(busybox),
            _ => ended_early(code).to_string(),
        }
    }

    /// The next line the container printed, None once its output has ended; the
    /// check fails if it has not ended by the deadline.
    fn next_line(&mut self) -> Option<Line> {
        self.receive().unwrap_or_else(|TimedOut| {
            claim("the container's output ends with it")
                .expected(format!(
                    "stdout and stderr closed within {}",
                    slow_machine_note(container_timeout())
                ))
                .shown(format!("still open: {}\n{}", self.what, self.printed()))
                .hint(
                    "a process of the container outlived it and holds its output open: when the \
                     container's PID 1 ends, the kernel kills the rest of its PID namespace",
                )
                .hang()
                .fail()
        })
    }

    /// The next line the container printed (kept in what it printed), None once its
    /// output has ended, or [`TimedOut`] at the container's deadline.
    fn receive(&mut self) -> Result<Option<Line>, TimedOut> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        let line = match self.lines.recv_timeout(left) {
            Ok(line) => line,
            Err(RecvTimeoutError::Disconnected) => return Ok(None),
            Err(RecvTimeoutError::Timeout) => return Err(TimedOut),
        };
        let (Line::Out(text) | Line::Err(text)) = &line;
        let all = if matches!(line, Line::Out(_)) { &mut self.stdout } else { &mut self.stderr };
        all.push_str(text);
        all.push('\n');
        Ok(Some(line))
    }

    fn printed(&self) -> String {
        format!("stdout:\n{}stderr:\n{}", self.stdout, self.stderr)
    }
}

/// The hint for a command not found by its host path at steps 1 to 4.
fn chroot_too_early(busybox: &str) -> String {
    format!(
        "the command {busybox} was not found: at steps 1 to 4 the container still sees the \
         host's files, and the checks run busybox by its host path. Does your program chroot \
         (or pivot_root) already? That is step 5's feature: grade it as step 5 or later"
    )
}

impl Drop for Running {
    /// A test that fails midway must leave nothing behind: kill the program and
    /// everything it started, and detach any mount it left on the root filesystem.
    fn drop(&mut self) {
        // Ended, and no check failed: nothing to clean. A failed check may have left
        // processes of the group behind even though the program itself has ended
        // (an orphan holding its output open): kill the group then too.
        if matches!(self.child.try_wait(), Ok(Some(_))) && !std::thread::panicking() {
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

/// Pass each line read `from` to `send`, until the end or until `send` says stop.
fn forward_lines(from: impl Read, mut send: impl FnMut(String) -> bool) {
    for line in BufReader::new(from).lines() {
        let Ok(line) = line else { return };
        if !send(line) {
            return;
        }
    }
}

/// The exit code, or 128+n when signal n killed the process (as a shell reports it).
fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().or(status.signal().map(|n| 128 + n)).unwrap_or(-1)
}
