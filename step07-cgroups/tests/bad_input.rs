//! Bad input, one test per row. Each ends with a documented exit code — 2 for
//! clap's usage errors, 125 when the container could not be made, 126 when the
//! command cannot be executed, 127 when it does not exist — with one line on
//! stderr (clap's own usage message for clap's errors), no panic, and no cgroup
//! left. These rows check this course's own CLI, flags and messages, so grading
//! another program (.ci/grade.sh) leaves them out.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

use harness::{Output, ScratchDir, ScratchRoot, assert_no_cgroup_left_by, rootfs, step};

const BIN: &str = env!("CARGO_BIN_EXE_step07-cgroups");

/// Runs `run ARGS...` and checks the exit code, stderr, and that no cgroup is left.
fn expect<S: AsRef<OsStr>>(args: &[S], code: i32) -> Output {
    let out = step!().run(args);
    assert_eq!(out.code, code, "{out:?}");
    assert!(!out.stderr.contains("panicked"), "{out:?}");
    if code != 0 && code != 2 {
        assert_eq!(out.stderr.lines().count(), 1, "one line on stderr: {out:?}");
    }
    assert_no_cgroup_left_by(&out);
    out
}

#[test]
fn no_command() {
    expect::<&str>(&[], 2);
}

#[test]
fn unknown_option() {
    expect(&["--bogus", "true"], 2);
}

#[test]
fn a_command_not_in_the_container() {
    expect(&["/no/such/command"], 127);
}

#[test]
fn a_directory_as_the_command() {
    expect(&["/"], 126);
}

#[test]
fn a_file_without_the_execute_bit() {
    expect(&["/etc/passwd"], 126);
}

#[test]
fn a_dynamically_linked_program_whose_loader_is_missing() {
    // The host's `true` is dynamically linked; the scratch root has no loader.
    let root =
        ScratchRoot::with_files("bad-input-dynamic", &[("bin/true", Path::new("/bin/true"))]);
    let out = expect(&["--rootfs", &root.path().display().to_string(), "/bin/true"], 126);
    assert!(out.stderr.contains("loader"), "the message should explain the loader: {out:?}");
}

#[test]
fn rootfs_missing() {
    expect(&["--rootfs", "/no/such/dir", "/bin/true"], 125);
}

#[test]
fn rootfs_is_a_file() {
    expect(&["--rootfs", "/etc/passwd", "/bin/true"], 125);
}

#[test]
fn rootfs_empty() {
    let root = ScratchDir::new("bad-input-empty");
    expect(&["--rootfs", &root.path().display().to_string(), "/bin/true"], 125);
}

#[test]
fn rootfs_without_bin_sh() {
    let root = ScratchRoot::with_files("bad-input-nosh", &[]);
    expect(&["--rootfs", &root.path().display().to_string(), "/bin/sh"], 127);
}

#[test]
fn pids_limit_zero() {
    expect(&["--pids-max", "0", "true"], 2);
}

#[test]
fn pids_limit_negative() {
    expect(&["--pids-max", "-1", "true"], 2);
}

#[test]
fn pids_limit_not_a_number() {
    expect(&["--pids-max", "many", "true"], 2);
}

#[test]
fn pids_limit_absurdly_large() {
    expect(&["--pids-max", "99999999999", "true"], 2);
}

#[test]
fn non_utf8_arguments_pass_through() {
    let byte = OsStr::from_bytes(b"\xff");
    let script = OsStr::new(r#"[ "$1" = "$(printf '\377')" ]"#);
    let args = [OsStr::new("/bin/sh"), OsStr::new("-c"), script, OsStr::new("sh"), byte];
    expect(&args, 0);
}

#[test]
fn hyphens_after_the_command_are_the_commands() {
    let out = step!().run(&["echo", "--pids-max", "-n", "--rootfs"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "--pids-max -n --rootfs\n"));
}

#[test]
fn not_root() {
    // A copy any user can run (the build directory may not be readable to nobody).
    let copy = ScratchRoot::with_files("bad-input-notroot", &[("step07", Path::new(BIN))]);
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(copy.path().join("step07"))
        .args(["run", "true"])
        .output()
        .expect("setpriv (util-linux)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("root"), "should say how to run it: {stderr}");
}

#[test]
fn no_pids_controller() {
    // In a mount namespace of its own, unmount every cgroup hierarchy first.
    let script =
        format!("umount -R /sys/fs/cgroup && exec {BIN} run --rootfs {} true", rootfs().display());
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output()
        .expect("unshare (util-linux)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
