//! Runtime defects once found in this course's step 7, each checked so that it
//! stays fixed. Not graded: they check this program's own behaviour and messages.

#[path = "../../step02-uts/tests/runtime_defects/checks.rs"]
mod checks;

use std::fs;
use std::io::Write;
use std::process::{Command, Stdio};

use rootfs::harness::{ROOTFS_VAR, pids_hierarchy, rootfs};

const BIN: &str = env!("CARGO_BIN_EXE_step07-cgroups");

checks::runtime_defect_tests!(7, BIN);

/// After PID reuse: a run was killed and left its cgroup `container-<its PID>`, and
/// the kernel has since given that PID to a new run. To know the new run's PID
/// before it starts, a shell waits for a line, then execs the run: exec keeps the
/// PID. Meanwhile the test makes the stale cgroup, empty, as a killed run leaves it;
/// its PID is alive all the while, so no other run's sweep of stale cgroups takes
/// it away first.
#[test]
fn a_stale_cgroup_named_after_the_new_runs_pid_does_not_stop_it() {
    let mut shell = Command::new("sh")
        .args(["-c", r#"read go && exec "$0" run /bin/true"#, BIN])
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
