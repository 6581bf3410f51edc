//! Step 5: a root filesystem of its own (chroot), with a /proc of its own.
//!
//! `step05-chroot-proc run [--rootfs DIR] CMD [ARGS]...`: the child now changes its
//! root to DIR (by default the course's busybox tree) and mounts a fresh proc on
//! /proc. `ls /` shows the busybox tree and `ps` only the container's processes.
//! With no mount namespace yet, the host sees that proc mount while we run.

use std::ffi::{OsStr, OsString};
use std::fmt::Display;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::{fs, io};

use clap::{Args, Parser, Subcommand};
use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, unshare};
use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::{SIGKILL, SigSet, Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, chdir, chroot, geteuid, getppid, sethostname};

// ANCHOR: cli
#[derive(Parser)]
#[command(about = "Step 5: a root filesystem of its own (chroot), with its own /proc")]
struct Cli {
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand)]
enum Action {
    /// Run CMD with ARGS in a container, wired to this terminal
    Run(Target),
    /// Inside the container: finish setting it up, then run CMD (started by `run`)
    #[command(hide = true)]
    Child(Target),
}

/// The command to run, exactly as typed after `run`.
#[derive(Args)]
struct Target {
    /// Root filesystem of the container [default: the course's busybox tree]
    #[arg(long, value_name = "DIR", env = "CONTAINER_ROOTFS")]
    rootfs: Option<PathBuf>,
    /// The program to run, then its arguments, passed on untouched (hyphens included)
    #[arg(value_name = "CMD", required = true, trailing_var_arg = true)]
    argv: Vec<OsString>,
}
// ANCHOR_END: cli

/// Why the container did not run, and the exit code that says who failed.
struct Failure {
    code: u8,
    message: String,
}

// ANCHOR: main
fn main() -> ExitCode {
    let outcome = match Cli::parse().action {
        Action::Run(target) => run(&target),
        Action::Child(target) => child(&target),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("{}: {}", env!("CARGO_PKG_NAME"), failure.message);
            ExitCode::from(failure.code)
        }
    }
}
// ANCHOR_END: main

// ANCHOR: run
/// Outside the container: make the namespaces, then start ourselves again inside them.
fn run(target: &Target) -> Result<u8, Failure> {
    // Before unshare: building the root filesystem starts processes, and the first
    // process started after unshare(CLONE_NEWPID) would become the new PID 1.
    let rootfs = rootfs_dir(target)?;
    // unshare() moves this process into a new UTS namespace, a copy of the host's;
    // the child we start next inherits it. Only root (CAP_SYS_ADMIN) may do this.
    // A new PID namespace is different: it does not take in the caller, only the
    // children it starts afterwards, and the first of them is its PID 1.
    unshare(CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWPID)
        .map_err(|err| failed("unshare(CLONE_NEWUTS | CLONE_NEWPID)", err))?;
    let signals = block_signals()?;
    // /proc/self/exe is the program this process runs: this very binary.
    let mut reexec = Command::new("/proc/self/exe");
    reexec.arg("child").arg("--rootfs").arg(&rootfs);
    reexec.args(&target.argv);
    let child =
        spawn_supervised(&mut reexec).map_err(|err| io_failed("re-execute /proc/self/exe", err))?;
    supervise(Pid::from_raw(child.id() as i32), &signals)
}
// ANCHOR_END: run

// ANCHOR: child
/// Inside the container, before the command starts: the moment to set it up.
fn child(target: &Target) -> Result<u8, Failure> {
    ensure_started_by_run()?;
    sethostname("container").map_err(|err| failed("sethostname(container)", err))?;
    enter_rootfs(&rootfs_dir(target)?)?;
    let code = run_command(target);
    // With no mount namespace, our proc mount is in the host's mount table: remove it,
    // lazily (DETACH), as orphans still running may hold it open until we exit.
    match umount2("/proc", MntFlags::MNT_DETACH) {
        // EINVAL: /proc is no mount point any more, as the command unmounted it itself.
        Err(err) if err != Errno::EINVAL => Err(failed("umount(/proc)", err)),
        _ => code,
    }
}

/// `run` starts us by re-executing its own program; started by hand from a shell,
/// we would change the host itself. So our parent must run this same program, or
/// be outside our PID namespace: as its PID 1, we see our parent as PID 0.
fn ensure_started_by_run() -> Result<(), Failure> {
    let exe = |pid: &str| fs::read_link(format!("/proc/{pid}/exe")).ok();
    let parent = getppid().as_raw();
    if parent == 0 || exe(&parent.to_string()) == exe("self") {
        return Ok(());
    }
    let message = "`child` is started by `run`, not by hand: here it would change the host".into();
    Err(Failure { code: 125, message })
}
// ANCHOR_END: child

// ANCHOR: rootfs
/// The root filesystem asked for, or the course's own, built on first use.
fn rootfs_dir(target: &Target) -> Result<PathBuf, Failure> {
    let Some(dir) = &target.rootfs else {
        return rootfs::ensure().map_err(|err| Failure { code: 125, message: err.to_string() });
    };
    if !dir.join("proc").is_dir() {
        let message = format!("--rootfs {}: not a root filesystem (no /proc in it)", dir.display());
        return Err(Failure { code: 125, message });
    }
    Ok(dir.clone())
}

/// Make `rootfs` our `/`, and mount on its /proc a proc filesystem, which shows
/// the processes of the PID namespace of whoever mounts it: ours.
fn enter_rootfs(rootfs: &Path) -> Result<(), Failure> {
    chroot(rootfs).map_err(|err| failed(format_args!("chroot({})", rootfs.display()), err))?;
    chdir("/").map_err(|err| failed("chdir(/)", err))?;
    mount(Some("proc"), "/proc", Some("proc"), MsFlags::empty(), None::<&str>)
        .map_err(|err| failed("mount(proc, /proc)", err))
}
// ANCHOR_END: rootfs

// ANCHOR: run_command
/// Start the command with our stdin, stdout and stderr, and wait for it to end.
fn run_command(target: &Target) -> Result<u8, Failure> {
    let signals = block_signals()?;
    let command = spawn_supervised(Command::new(&target.argv[0]).args(&target.argv[1..]))
        .map_err(|err| cannot_start(&target.argv[0], err))?;
    supervise(Pid::from_raw(command.id() as i32), &signals)
}
// ANCHOR_END: run_command

// ANCHOR: pid1
/// Hold back the signals we pass on, so that they queue up for `supervise`: the
/// kernel drops any signal that a namespace's PID 1 has no handler for. Do it
/// before starting the command, so that none can slip through in between.
fn block_signals() -> Result<SigSet, Failure> {
    use Signal::*;
    let signals: SigSet = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD].into_iter().collect();
    signals.thread_block().map_err(|err| failed("sigprocmask", err))?;
    Ok(signals)
}

/// Start `command` for `supervise`: with no signal blocked (a new process inherits
/// its parent's mask), and killed if we die first, so a container does not outlive
/// `run`. (If we die before the new process reaches its prctl, no signal comes.)
fn spawn_supervised(command: &mut Command) -> io::Result<Child> {
    let prepare = || {
        SigSet::all().thread_unblock()?;
        Ok(set_pdeathsig(SIGKILL)?)
    };
    // SAFETY: `prepare` runs in the new process between fork and exec, where only
    // async-signal-safe calls are sound; sigprocmask and prctl are.
    unsafe { command.pre_exec(prepare) };
    command.spawn()
}

/// Wait for `main` to end, doing PID 1's duties meanwhile: pass signals on to it
/// (`kill` from the host reaches PID 1 only), and reap every child that ends, as
/// orphans become PID 1's children. (`run` waits the same way for `child`.)
fn supervise(main: Pid, signals: &SigSet) -> Result<u8, Failure> {
    loop {
        if let Some(code) = reap_children(main)? {
            return Ok(code);
        }
        match signals.wait().map_err(|err| failed("sigwait", err))? {
            Signal::SIGCHLD => {} // reaped at the top of the loop
            signal => {
                let _ = kill(main, signal); // fails only if `main` has just ended
            }
        }
    }
}

/// Reap every child that has ended; return `main`'s exit code if it is one of them:
/// its own status, or 128+n when signal n killed it (Docker's convention).
fn reap_children(main: Pid) -> Result<Option<u8>, Failure> {
    let mut main_code = None;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == main => main_code = Some(code as u8),
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == main => {
                main_code = Some(128 + sig as u8)
            }
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return Ok(main_code),
            Ok(_) => {} // an orphan, now reaped
            Err(err) => return Err(failed("waitpid", err)),
        }
    }
}
// ANCHOR_END: pid1

// ANCHOR: errors
/// The runtime itself failed (exit code 125): say which call and why.
fn failed(call: impl Display, err: Errno) -> Failure {
    let hint = match err {
        Errno::EPERM if !geteuid().is_root() => " — run as root (sudo)",
        Errno::EPERM => {
            " — refused although root: a security module (AppArmor, SELinux), a seccomp \
             filter or a container without this capability"
        }
        _ => "",
    };
    let message = format!("{call}: {}{hint}", err.desc());
    Failure { code: 125, message }
}

/// A file or process operation of the runtime failed (exit code 125).
fn io_failed(what: impl Display, err: io::Error) -> Failure {
    Failure { code: 125, message: format!("{what}: {err}") }
}

/// The command never started: 127 when it does not exist, 126 when it cannot be executed.
fn cannot_start(command: &OsStr, err: io::Error) -> Failure {
    let message = format!("cannot run {}: {err}", command.display());
    if err.kind() != io::ErrorKind::NotFound {
        return Failure { code: 126, message };
    }
    let Some(file) = find_in_path(command) else {
        return Failure { code: 127, message };
    };
    // The kernel says ENOENT also when the file exists but what starts it does not.
    // It exists, so we exit 126 (shells exit 127 here; runc, 1).
    let why = missing_starter(&file);
    Failure { code: 126, message: format!("{message} — yet it exists: {why}") }
}

/// The file `command` names, looked up in PATH as running it would, if it exists.
fn find_in_path(command: &OsStr) -> Option<PathBuf> {
    if command.as_encoded_bytes().contains(&b'/') {
        return Some(PathBuf::from(command)).filter(|file| file.exists());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|dir| dir.join(command)).find(|file| file.exists())
}

/// What the kernel starts to run `file`, and did not find: a script's interpreter,
/// named on its first line after `#!`, or else a dynamically linked program's loader.
fn missing_starter(file: &Path) -> String {
    let mut head = Vec::new();
    let _ = fs::File::open(file).and_then(|file| file.take(256).read_to_end(&mut head));
    let Some(line) = head.strip_prefix(b"#!") else {
        return "it is dynamically linked and its loader is missing from the root filesystem \
                (use a statically linked program)"
            .into();
    };
    // The first word, as the kernel reads it. Quoted: a script saved with Windows line
    // ends names "/bin/sh\r".
    let line = String::from_utf8_lossy(line);
    let mut words = line.split('\n').next().unwrap_or_default().split([' ', '\t']);
    let interpreter = words.find(|word| !word.is_empty()).unwrap_or_default();
    format!("its interpreter {interpreter:?} is not found in the container")
}
// ANCHOR_END: errors
