//! Step 7 runs the container in a cgroup of its own whose pids controller allows
//! 20 processes (`--pids-max` changes it); `run` removes the cgroup at the end.

use std::process::Command;

use nix::sys::signal::{SIGKILL, SIGTERM, kill};
use nix::unistd::Pid;
use rootfs::harness::{
    FILTERS, FORK_BOMB, Step, assert_held_at_limit, pids_cgroup_of, read_cgroup_file,
};

fn step() -> Step {
    Step::in_rootfs(env!("CARGO_BIN_EXE_step07-cgroups"))
}

/// Starts 40 background `sleep`s, printing the count after each one that started.
/// busybox's shell stops at the first fork the kernel refuses.
const FORTY_SLEEPS: &str = "i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); echo $i; done";

#[test]
fn only_18_of_40_sleeps_start_under_the_default_limit() {
    // 20 = PID 1 (`child`) + the shell + 18 sleeps.
    let out = step().sh(FORTY_SLEEPS);
    assert_eq!(out.stdout.lines().last(), Some("18"), "{out:?}");
}

#[test]
fn pids_max_flag_changes_the_limit() {
    let out = step().run(&["--pids-max", "7", "/bin/sh", "-c", FORTY_SLEEPS]);
    assert_eq!(out.stdout.lines().last(), Some("5"), "{out:?}");
}

#[test]
fn the_kernel_reports_the_limit_and_the_cgroup_is_removed_after() {
    let mut running = step().start_sh("echo ready; read x");
    running.wait_for_line("ready");
    let cgroup = pids_cgroup_of(running.container_init());
    assert_eq!(read_cgroup_file(&cgroup, "pids.max"), "20");
    assert_eq!(read_cgroup_file(&cgroup, "pids.current"), "2", "PID 1 and the shell");
    running.finish();
    assert!(!cgroup.exists(), "{} was left behind", cgroup.display());
}

#[test]
fn a_fork_bomb_is_held_at_the_limit_and_the_host_stays_usable() {
    let mut running = step().start_sh(FORK_BOMB);
    let cgroup = running.detonate_fork_bomb(20);
    assert_held_at_limit(&cgroup, 20);
    let host_can_fork = Command::new("true").status().is_ok_and(|status| status.success());
    assert!(host_can_fork, "the host could not start a process during the fork bomb");
    running.finish();
    assert!(!cgroup.exists(), "{} was left behind", cgroup.display());
}

#[test]
fn the_cgroup_is_removed_after_a_signal_too() {
    // `sleep`, not `read`: finish() closes stdin, which could end `read` first.
    let mut running = step().start_sh("echo ready; sleep 30");
    running.wait_for_line("ready");
    let cgroup = pids_cgroup_of(running.container_init());
    let _ = kill(Pid::from_raw(running.pid()), SIGTERM);
    assert_eq!(running.finish().code, 128 + 15);
    assert!(!cgroup.exists(), "{} was left behind", cgroup.display());
}

#[test]
fn a_cgroup_left_by_a_killed_runtime_is_removed_by_the_next_run() {
    let mut running = step().start_sh("echo ready; read x");
    running.wait_for_line("ready");
    let cgroup = pids_cgroup_of(running.container_init());
    let _ = kill(Pid::from_raw(running.pid()), SIGKILL);
    assert_eq!(running.finish().code, 128 + 9);
    assert_eq!(step().sh("exit 0").code, 0);
    assert!(!cgroup.exists(), "{} was left behind", cgroup.display());
}

#[test]
fn another_run_leaves_a_live_containers_cgroup_alone() {
    let mut running = step().start_sh("echo ready; read x");
    running.wait_for_line("ready");
    let cgroup = pids_cgroup_of(running.container_init());
    assert_eq!(step().sh("exit 0").code, 0);
    assert_eq!(read_cgroup_file(&cgroup, "pids.max"), "20");
    running.finish();
}

#[test]
fn ps_shows_only_the_container() {
    let ps = step().run(&["ps"]).stdout;
    insta::with_settings!({ filters => FILTERS.to_vec() }, { insta::assert_snapshot!(ps) });
}

#[test]
fn namespaces_are_step_6s() {
    insta::assert_snapshot!(step().namespaces());
}

#[test]
fn two_hundred_containers_in_a_row_leave_nothing_behind() {
    step().assert_nothing_accumulates(200);
}

#[test]
fn only_stdin_stdout_and_stderr_are_open() {
    step().assert_only_stdio_open();
}

#[test]
fn the_container_dies_with_its_runtime() {
    step().assert_container_dies_with_its_runtime();
}

#[test]
fn signals_reach_the_command() {
    step().assert_signals_forwarded();
}

#[test]
fn exit_codes_follow_docker() {
    step().assert_exit_codes();
}
