//! Checks of runtime defects once found in this course's programs, shared by the
//! `tests/runtime_defects.rs` of steps 2 to 7: `checks::runtime_defect_tests!(N, BIN)`
//! makes a test of each check that step N can fail. They check this course's own
//! program and its messages, so grading leaves them out. (They belong next to the
//! harness's other checks of our own program.)

// Step N's tests use only the checks it can fail.
#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use rootfs::harness::{HostMounts, Output, ROOTFS_VAR, ScratchDir, Step, current_hostname, rootfs};

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

/// `bin run true`, started through `setpriv SETPRIV...` (util-linux), from a copy
/// of `bin` in a scratch root that any user can read (the build directory may not be).
fn run_through_setpriv(bin: &str, setpriv: &[&str]) -> Output {
    let program = fs::read(bin).expect("read the program");
    let root = scratch_root("setpriv", &[("program", &program, 0o755)]);
    let mut command = Command::new("setpriv");
    command.args(setpriv).arg(root.path().join("program")).args(["run", "true"]);
    output(command.env(ROOTFS_VAR, root.path()))
}

/// An operation the kernel refuses (EPERM) is explained by who runs the program:
/// a user who is not root is told to run it as root; root, that something refused
/// even root: here root without CAP_SYS_ADMIN, as in a container without it.
pub fn assert_eperm_explained(bin: &str) {
    let no_sys_admin = ["--bounding-set=-sys_admin", "--inh-caps=-sys_admin"];
    let out = run_through_setpriv(bin, &no_sys_admin);
    assert_fails_in_one_line(&out, 125);
    assert!(out.stderr.contains("refused although root"), "should say who else refuses: {out:?}");
    assert!(!out.stderr.contains("sudo"), "root needs no sudo: {out:?}");

    let out = run_through_setpriv(bin, &["--reuid=65534", "--regid=65534", "--clear-groups"]);
    assert_fails_in_one_line(&out, 125);
    assert!(out.stderr.contains("run as root (sudo)"), "should say how to run it: {out:?}");
}

/// A command that unmounts /proc itself ends the container with its own status,
/// and nothing is left mounted on the host.
pub fn assert_command_may_unmount_proc(step: &Step) {
    let mounts = HostMounts::now();
    let out = step.sh("umount /proc && exit 3");
    assert_eq!(out.code, 3, "{out:?}");
    assert_eq!(mounts.added(), Vec::<std::path::PathBuf>::new(), "left mounted");
}

/// `bin child /bin/true` started by hand, as a learner might try on the host: it
/// refuses (125, one line) and changes nothing, as it is not in the namespaces `run`
/// makes. The host's hostname is still the host's after it. (From step 5 on, its
/// root filesystem is the course's, named in `CONTAINER_ROOTFS`.)
///
/// Safely: the child runs in a small copy of the host that unshare(1) makes, with
/// PID, UTS and mount namespaces of its own, so a child that does not refuse renames
/// and mounts in that copy, never on this machine. The copy keeps what the child may
/// look at to tell where it is: a PID 1 of its own (the shell, whose UTS namespace
/// the child shares, as the host's init shares the host's), /proc showing it, and the
/// child not PID 1. (`unshare --uts` alone would not do: the child would not share
/// the UTS namespace of PID 1, the host's init, as if `run` had started it.)
pub fn assert_child_refuses_when_started_by_hand(bin: &str) {
    let script = r#""$0" child /bin/true; code=$?; hostname; exit $code"#;
    let mut unshare = Command::new("unshare");
    unshare.args(["--pid", "--fork", "--mount-proc", "--uts", "sh", "-c", script, bin]);
    let out = output(unshare.env(ROOTFS_VAR, rootfs()));
    assert_fails_in_one_line(&out, 125);
    assert_eq!(out.stdout.trim(), current_hostname(), "the child renamed its host: {out:?}");
}

/// A program that exists but cannot start, as what the kernel starts to run it
/// does not exist: a script's `#!` interpreter is named as such (quoted, so that a
/// Windows line end shows), a dynamically linked program's loader as a loader.
/// Both exit 126: the file exists but cannot be executed.
pub fn assert_missing_interpreter_or_loader_named(step: &Step) {
    let host_true = fs::read("/bin/true").expect("the host's /bin/true (dynamically linked)");
    let files: [(&str, &[u8], u32); 3] = [
        ("script", b"#!/no/such/interpreter -x\necho hi\n", 0o755),
        ("windows", b"#!/bin/sh\r\necho hi\r\n", 0o755),
        ("true", &host_true, 0o755),
    ];
    let root = scratch_root("no-interpreter", &files);
    let dir = root.path().display().to_string();
    let named = |command: &str, expected: &str| {
        let out = step.run(&["--rootfs", &dir, command]);
        assert_fails_in_one_line(&out, 126);
        assert!(out.stderr.contains(expected), "should say {expected}: {out:?}");
    };
    named("/script", r#"its interpreter "/no/such/interpreter" is not found"#);
    named("/windows", r#"its interpreter "/bin/sh\r" is not found"#);
    named("/true", "its loader is missing");
}

/// The `#[test]` functions of the checks above that step `$n` (2 to 7) can fail,
/// for its program `$bin`.
macro_rules! runtime_defect_tests {
    (2, $bin:expr) => {
        #[test]
        fn eperm_says_run_as_root_only_when_not_root() {
            $crate::checks::assert_eperm_explained($bin);
        }
    };
    (3, $bin:expr) => {
        $crate::checks::runtime_defect_tests!(2, $bin);
        #[test]
        fn child_started_by_hand_refuses() {
            $crate::checks::assert_child_refuses_when_started_by_hand($bin);
        }
    };
    (4, $bin:expr) => {
        $crate::checks::runtime_defect_tests!(3, $bin);
    };
    (5, $bin:expr) => {
        $crate::checks::runtime_defect_tests!(4, $bin);
        #[test]
        fn a_command_may_unmount_proc_itself() {
            let step = rootfs::harness::Step::in_rootfs($bin);
            $crate::checks::assert_command_may_unmount_proc(&step);
        }
        #[test]
        fn a_missing_script_interpreter_is_named_not_called_a_loader() {
            let step = rootfs::harness::Step::in_rootfs($bin);
            $crate::checks::assert_missing_interpreter_or_loader_named(&step);
        }
    };
    (6, $bin:expr) => {
        $crate::checks::runtime_defect_tests!(5, $bin);
    };
    (7, $bin:expr) => {
        $crate::checks::runtime_defect_tests!(6, $bin);
    };
}
pub(crate) use runtime_defect_tests;
