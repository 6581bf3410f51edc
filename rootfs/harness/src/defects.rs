//! Not graded: runtime defects once found in this course's own programs, each
//! checked so that it stays fixed (their messages are this course's, not the
//! contract's). `harness::runtime_defect_tests!(N)` in step N's
//! `tests/runtime_defects.rs` makes a test of each that step N can have.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use crate::fixtures::{HostMounts, ScratchDir, rootfs};
use crate::kernel::cgroups::pids_hierarchy;
use crate::kernel::hostname::current_hostname;
use crate::running::Output;
use crate::{ROOTFS_VAR, StepProgram};

/// How a command ended and what it printed, as the harness reports a container.
fn output(command: &mut Command) -> Output {
    let out = command.output().unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"));
    Output {
        pid: 0,
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The program failed with `code` and said why in one line on stderr.
#[track_caller]
fn assert_fails_in_one_line(out: &Output, code: i32) {
    assert_eq!(out.code, code, "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "one line on stderr: {out:?}");
}

/// A root filesystem of the test's own: an empty /proc, so that steps 5 to 7 accept
/// it, and these files (path inside, contents, mode).
fn scratch_root(name: &str, files: &[(&str, &[u8], u32)]) -> ScratchDir {
    let root = ScratchDir::new(name);
    fs::create_dir(root.path().join("proc")).expect("mkdir proc");
    for (inside, contents, mode) in files {
        let file = root.path().join(inside);
        fs::write(&file, contents).expect("write into the scratch root");
        fs::set_permissions(&file, fs::Permissions::from_mode(*mode)).expect("chmod");
    }
    root
}

impl StepProgram {
    /// `BIN run true`, started through `setpriv SETPRIV...` (util-linux), from a copy
    /// of the program in a scratch root any user can read (the build directory may not be).
    fn run_through_setpriv(&self, setpriv: &[&str]) -> Output {
        let program = fs::read(self.bin()).expect("read the program");
        let root = scratch_root("setpriv", &[("program", &program, 0o755)]);
        let mut command = Command::new("setpriv");
        command.args(setpriv).arg(root.path().join("program")).args(["run", "true"]);
        output(command.env(ROOTFS_VAR, root.path()))
    }

    /// An operation the kernel refuses (EPERM) is explained by who runs the program:
    /// a user who is not root is told to run it as root; root, that something refused
    /// even root: here root without CAP_SYS_ADMIN, as in a container without it.
    pub fn assert_eperm_explained(&self) {
        let no_sys_admin = ["--bounding-set=-sys_admin", "--inh-caps=-sys_admin"];
        let out = self.run_through_setpriv(&no_sys_admin);
        assert_fails_in_one_line(&out, 125);
        assert!(out.stderr.contains("refused although root"), "should say who refuses: {out:?}");
        assert!(!out.stderr.contains("sudo"), "root needs no sudo: {out:?}");

        let out = self.run_through_setpriv(&["--reuid=65534", "--regid=65534", "--clear-groups"]);
        assert_fails_in_one_line(&out, 125);
        assert!(out.stderr.contains("run as root (sudo)"), "should say how to run it: {out:?}");
    }

    /// A command that unmounts /proc itself ends the container with its own status,
    /// and nothing is left mounted on the host.
    pub fn assert_command_may_unmount_proc(&self) {
        let mounts = HostMounts::now();
        let out = self.sh("umount /proc && exit 3");
        assert_eq!(out.code, 3, "{out:?}");
        assert_eq!(mounts.added(), Vec::<std::path::PathBuf>::new(), "left mounted");
    }

    /// `BIN child /bin/true` started by hand, as a learner might try on the host: it
    /// refuses (125, one line) and changes nothing, as it is not in the namespaces
    /// `run` makes. (From step 5 on, its root filesystem is the course's.)
    ///
    /// Safely: the child runs in a small copy of the host that unshare(1) makes, with
    /// PID, UTS and mount namespaces of its own, so a child that does not refuse
    /// renames and mounts in that copy, never on this machine. The copy keeps what the
    /// child may look at to tell where it is: a PID 1 of its own (the shell, whose UTS
    /// namespace the child shares, as the host's init shares the host's), /proc
    /// showing it, and the child not PID 1. (`unshare --uts` alone would not do: the
    /// child would not share the UTS namespace of PID 1, as if `run` had started it.)
    pub fn assert_child_refuses_when_started_by_hand(&self) {
        let script = r#""$0" child /bin/true; code=$?; hostname; exit $code"#;
        let mut unshare = Command::new("unshare");
        unshare.args(["--pid", "--fork", "--mount-proc", "--uts", "sh", "-c", script]);
        let out = output(unshare.arg(self.bin()).env(ROOTFS_VAR, rootfs()));
        assert_fails_in_one_line(&out, 125);
        assert_eq!(out.stdout.trim(), current_hostname(), "the child renamed its host: {out:?}");
    }

    /// A program that exists but cannot start, as what the kernel starts to run it
    /// does not exist: a script's `#!` interpreter is named as such (quoted, so that a
    /// Windows line end shows), a dynamically linked program's loader as a loader.
    /// Both exit 126: the file exists but cannot be executed.
    pub fn assert_missing_interpreter_or_loader_named(&self) {
        let host_true = fs::read("/bin/true").expect("the host's /bin/true (dynamically linked)");
        let files: [(&str, &[u8], u32); 3] = [
            ("script", b"#!/no/such/interpreter -x\necho hi\n", 0o755),
            ("windows", b"#!/bin/sh\r\necho hi\r\n", 0o755),
            ("true", &host_true, 0o755),
        ];
        let root = scratch_root("no-interpreter", &files);
        let dir = root.path().display().to_string();
        let named = |command: &str, expected: &str| {
            let out = self.run(&["--rootfs", &dir, command]);
            assert_fails_in_one_line(&out, 126);
            assert!(out.stderr.contains(expected), "should say {expected}: {out:?}");
        };
        named("/script", r#"its interpreter "/no/such/interpreter" is not found"#);
        named("/windows", r#"its interpreter "/bin/sh\r" is not found"#);
        named("/true", "its loader is missing");
    }

    /// After PID reuse: a run was killed and left its cgroup `container-<its PID>`,
    /// and the kernel has since given that PID to a new run. To know the new run's
    /// PID before it starts, a shell waits for a line, then execs the run: exec keeps
    /// the PID. Meanwhile the test makes the stale cgroup, empty, as a killed run
    /// leaves it; its PID is alive all the while, so no other run's sweep of stale
    /// cgroups takes it away first.
    pub fn assert_stale_cgroup_of_our_pid_is_no_obstacle(&self) {
        let mut shell = Command::new("sh")
            .args(["-c", r#"read go && exec "$0" run /bin/true"#])
            .arg(self.bin())
            .env(ROOTFS_VAR, rootfs())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sh");
        let stale = pids_hierarchy().join(format!("container-{}", shell.id()));
        fs::create_dir(&stale).expect("mkdir the stale cgroup");
        shell.stdin.take().expect("stdin").write_all(b"go\n").expect("write to the shell");
        let out = shell.wait_with_output().expect("wait for the run");
        let left = stale.exists();
        let _ = fs::remove_dir(&stale);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(!left, "{} was left behind", stale.display());
    }
}

/// The `#[test]` functions of the checks above that step N (2 to 7) can fail:
/// `harness::runtime_defect_tests!(7);` in step 7's tests/runtime_defects.rs.
#[macro_export]
macro_rules! runtime_defect_tests {
    (2) => {
        #[test]
        fn eperm_says_run_as_root_only_when_not_root() {
            $crate::step!().assert_eperm_explained();
        }
    };
    (3) => {
        $crate::runtime_defect_tests!(2);
        #[test]
        fn child_started_by_hand_refuses() {
            $crate::step!().assert_child_refuses_when_started_by_hand();
        }
    };
    (4) => {
        $crate::runtime_defect_tests!(3);
    };
    (5) => {
        $crate::runtime_defect_tests!(4);
        #[test]
        fn a_command_may_unmount_proc_itself() {
            $crate::step!().assert_command_may_unmount_proc();
        }
        #[test]
        fn a_missing_script_interpreter_is_named_not_called_a_loader() {
            $crate::step!().assert_missing_interpreter_or_loader_named();
        }
    };
    (6) => {
        $crate::runtime_defect_tests!(5);
    };
    (7) => {
        $crate::runtime_defect_tests!(6);
        #[test]
        fn a_stale_cgroup_named_after_the_new_runs_pid_does_not_stop_it() {
            $crate::step!().assert_stale_cgroup_of_our_pid_is_no_obstacle();
        }
    };
}
