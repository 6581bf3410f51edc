//! Starting a container program under test: `BIN run CMD ARGS...`, with the
//! environment every container of its step gets.

use std::ffi::OsStr;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use crate::ROOTFS_VAR;
use crate::fixtures::{SharedMountHost, busybox, require_root, rootfs};
use crate::kernel::hostname::host_hostname;
use crate::report::{check, ended_early};
use crate::running::{Output, Running};

/// The container program of a step under test, and how its containers reach busybox.
#[derive(Clone)]
pub struct Step {
    pub(crate) bin: PathBuf,
    pub(crate) busybox: String,
    /// Whether to hand the course's root filesystem over in [`ROOTFS_VAR`].
    pub(crate) rootfs_env: bool,
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
