//! What this course's own step 5 does beyond the graded checks (tests/step05.rs):
//! its row of the isolation matrix (book: classroom/isolation-matrix.md), its proc
//! mount in the host's mount table while it runs (step 6 ends that), its `child` as
//! the container's PID 1, its `--rootfs` flag, and the root filesystem it builds on
//! first use. Not graded: they are this program's, not the contract's.
//!
//! Every test holds `serial()`: step 5 containers share the host's mount table.

use harness::{FILTERS, FirstUse, SharedMountHost, mounts_below, rootfs, serial, step};

#[test]
fn isolation_matrix_row() {
    let _serial = serial();
    let step = step!();
    let row = step.isolation_row();
    insta::assert_snapshot!(row);
    step.assert_isolation_row_in_the_book();
}

#[test]
fn the_first_run_builds_the_root_filesystem() {
    let _serial = serial();
    let _first_use = FirstUse::start();
    step!().assert_courses_tree_by_default(&["hostname"]);
}

#[test]
fn the_rootfs_flag_picks_the_root_filesystem() {
    let _serial = serial();
    step!().assert_rootfs_flag_picks_the_root_filesystem();
}

#[test]
fn ps_shows_our_child_as_pid_1() {
    let _serial = serial();
    let ps = step!().run(&["ps"]).stdout;
    insta::with_settings!({ filters => FILTERS.to_vec() }, { insta::assert_snapshot!(ps) });
}

#[test]
fn proc_mount_shows_on_a_shared_host_too() {
    let _serial = serial();
    let host = SharedMountHost::start();
    let mut running = step!().start_sh_in(&host, "echo ready; read x");
    running.wait_for_line("ready");
    assert_eq!(host.mounts_below(&rootfs()), vec![rootfs().join("proc")]);
    running.finish();
    assert!(host.mounts_below(&rootfs()).is_empty(), "a mount was left");
}

#[test]
fn only_stdin_stdout_and_stderr_are_open() {
    let _serial = serial();
    step!().assert_only_stdio_open();
}

#[test]
fn proc_mount_shows_on_the_host_while_running_and_is_gone_after() {
    let _serial = serial();
    let me = std::process::id() as i32;
    let mut running = step!().start_sh("echo ready; read x");
    running.wait_for_line("ready");
    assert_eq!(mounts_below(me, &rootfs()), vec![rootfs().join("proc")]);
    running.finish();
    assert_eq!(mounts_below(me, &rootfs()), Vec::<std::path::PathBuf>::new(), "a mount was left");
}
