//! Starting a container program under test: `BIN run CMD ARGS...`, with the
//! environment every container of its step gets.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::ROOTFS_VAR;
use crate::fixtures::{SharedMountHost, busybox, require_root, rootfs};
use crate::kernel::hostname::host_hostname;
use crate::report::{claim, ended_early};
use crate::running::{Output, Running};
use crate::workspace::step_number;

/// The step under test in this test crate: `harness::step!()` in a step's tests is
/// that step (its package name and binary, which `CONTAINER_BIN` replaces when set).
#[macro_export]
macro_rules! step {
    () => {
        $crate::StepProgram::of(
            env!("CARGO_PKG_NAME"),
            env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME"))),
        )
    };
}

/// The first step whose containers have the root filesystem as `/` (it chroots).
pub const FIRST_STEP_WITH_A_ROOT_OF_ITS_OWN: usize = 5;

/// The container program of a step under test, and how its containers reach busybox.
#[derive(Clone)]
pub struct StepProgram {
    /// The step's package, `step04-pid`.
    pub(crate) package: String,
    pub(crate) bin: PathBuf,
    pub(crate) busybox: String,
    /// Whether to hand the course's root filesystem over in [`ROOTFS_VAR`].
    pub(crate) rootfs_env: bool,
}

impl StepProgram {
    /// Step `package` (`step04-pid`), whose own binary is `default_bin`
    /// (`env!("CARGO_BIN_EXE_…")`), replaced by `CONTAINER_BIN` when set; most
    /// simply [`step!`]`()`. Until step 5, containers still see the host's files:
    /// they run the root filesystem's busybox by its host path. From step 5 on, they
    /// have the root filesystem as `/`, and every container gets the course's in
    /// `CONTAINER_ROOTFS`.
    pub fn of(package: &str, default_bin: &str) -> StepProgram {
        require_root();
        host_hostname();
        let own_root = step_number(package) >= FIRST_STEP_WITH_A_ROOT_OF_ITS_OWN;
        let busybox = if own_root { "/bin/busybox".into() } else { busybox() };
        let bin = std::env::var_os("CONTAINER_BIN").unwrap_or_else(|| default_bin.into());
        StepProgram {
            package: package.into(),
            bin: PathBuf::from(bin),
            busybox,
            rootfs_env: own_root,
        }
    }

    /// The same step, but its containers get no `CONTAINER_ROOTFS`: the program
    /// picks its root filesystem itself (ours: the course's, built on first use).
    pub fn without_rootfs_env(self) -> StepProgram {
        StepProgram { rootfs_env: false, ..self }
    }

    /// The program under test.
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// The step's package name, `step04-pid`.
    pub fn package(&self) -> &str {
        &self.package
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
        let mut running = Running::spawn(command);
        let runs_busybox =
            args.first().is_some_and(|first| first.as_ref() == self.busybox.as_str());
        let host_files = step_number(&self.package) < FIRST_STEP_WITH_A_ROOT_OF_ITS_OWN;
        if runs_busybox && host_files {
            running.host_busybox = Some(self.busybox.clone());
        }
        running
    }

    /// Like [`StepProgram::start_sh`], but inside the mount namespace of `host` (see
    /// [`SharedMountHost`]).
    pub fn start_sh_in(&self, host: &SharedMountHost, script: &str) -> Running {
        let mount = format!("--mount=/proc/{}/ns/mnt", host.pid());
        self.start_sh_through(&["nsenter", &mount, "--"], script)
    }

    /// Like [`StepProgram::sh`], but the program started through `wrapper`, a command
    /// and its arguments that then runs it (`setpriv --groups 0 --`).
    pub fn sh_through(&self, wrapper: &[&str], script: &str) -> Output {
        self.start_sh_through(wrapper, script).finish()
    }

    /// Like [`StepProgram::start_sh`], but through `wrapper` (see [`StepProgram::sh_through`]).
    fn start_sh_through(&self, wrapper: &[&str], script: &str) -> Running {
        let Some((program, args)) = wrapper.split_first() else { return self.start_sh(script) };
        let mut command = self.command(program);
        command.args(args).arg(&self.bin).arg("run").args([&self.busybox, "sh", "-c", script]);
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
        claim(format!("the container runs `sh -c '{script}'` and exits 0"))
            .expected("exit code 0, and the script's output on stdout")
            .program(&out)
            .hint(ended_early(out.code))
            .holds(out.code == 0);
        out.stdout
    }
}
