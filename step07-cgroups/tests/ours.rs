//! What this course's own step 7 does beyond the graded checks (tests/step07.rs):
//! its row of the isolation matrix (book: classroom/isolation-matrix.md), its
//! `--pids-max` flag, its single-threaded `child` (exactly 18 sleeps start), its
//! cleaning up of cgroups left by killed runs, and its `--rootfs` flag. Not graded:
//! they are this program's, not the contract's. (Its bad input is in bad_input.rs,
//! 16 fork bombs at once in load.rs.)

use harness::{FILTERS, FORTY_SLEEPS, read_cgroup_file, step, wait_until_empty};
use nix::sys::signal::{SIGKILL, kill};
use nix::unistd::Pid;

#[test]
fn isolation_matrix_row() {
    let step = step!();
    let row = step.isolation_row();
    insta::assert_snapshot!(row);
    step.assert_isolation_row_in_the_book();
}

#[test]
fn only_18_of_40_sleeps_start_under_the_default_limit() {
    // 20 = PID 1 (`child`, one thread) + the shell + 18 sleeps.
    let out = step!().sh(FORTY_SLEEPS);
    assert_eq!(out.stdout.lines().last(), Some("18"), "{out:?}");
}

#[test]
fn pids_max_flag_changes_the_limit() {
    let out = step!().run(&["--pids-max", "7", "/bin/sh", "-c", FORTY_SLEEPS]);
    assert_eq!(out.stdout.lines().last(), Some("5"), "{out:?}");
}

#[test]
fn pid_1_and_the_shell_are_the_cgroups_two_processes() {
    let mut running = step!().start_sh("echo ready; read x");
    running.wait_for_line("ready");
    let cgroup = running.container_cgroup();
    assert_eq!(read_cgroup_file(&cgroup, "pids.current"), "2", "PID 1 and the shell");
    running.finish();
}

#[test]
fn a_cgroup_left_by_a_killed_runtime_is_removed_by_the_next_run() {
    let mut running = step!().start_sh("echo ready; read x");
    running.wait_for_line("ready");
    let cgroup = running.container_cgroup();
    let _ = kill(Pid::from_raw(running.pid()), SIGKILL);
    assert_eq!(running.finish().code, 128 + 9);
    // The killed runtime's container ends after it (its PID 1 by its parent-death
    // signal): until the kernel shows its cgroup empty, no run could remove it.
    assert!(wait_until_empty(&cgroup), "{} still holds processes", cgroup.display());
    assert_eq!(step!().sh("exit 0").code, 0);
    assert!(!cgroup.exists(), "{} was left behind", cgroup.display());
}

#[test]
fn the_rootfs_flag_picks_the_root_filesystem() {
    step!().assert_rootfs_flag_picks_the_root_filesystem();
}

#[test]
fn without_container_rootfs_the_courses_tree_is_used() {
    step!().assert_courses_tree_by_default(&["/bin/busybox", "hostname"]);
}

#[test]
fn ps_shows_our_child_as_pid_1() {
    let ps = step!().run(&["ps"]).stdout;
    insta::with_settings!({ filters => FILTERS.to_vec() }, { insta::assert_snapshot!(ps) });
}

#[test]
fn only_stdin_stdout_and_stderr_are_open() {
    step!().assert_only_stdio_open();
}
