//! Step 6 adds a mount namespace with private propagation: the container's proc
//! mount never reaches the host, even a host whose mounts are shared (systemd's).

use rootfs::harness::{FILTERS, SharedMountHost, Step, mounts_below, rootfs};

fn step() -> Step {
    Step::in_rootfs(env!("CARGO_BIN_EXE_step06-mount-ns"))
}

#[test]
fn proc_mount_never_reaches_a_shared_host() {
    let host = SharedMountHost::start();
    let mut running = step().start_sh_in(&host, "echo ready; read x");
    running.wait_for_line("ready");
    let leaked = host.mounts_below(&rootfs());
    assert!(leaked.is_empty(), "the container's mounts reached the host: {leaked:?}");
    running.finish();
    assert!(host.mounts_below(&rootfs()).is_empty(), "a mount was left");
}

#[test]
fn proc_mount_never_reaches_this_host() {
    let mut running = step().start_sh("echo ready; read x");
    running.wait_for_line("ready");
    assert!(mounts_below(std::process::id() as i32, &rootfs()).is_empty());
    running.finish();
}

#[test]
fn ps_shows_only_the_container() {
    let ps = step().run(&["ps"]).stdout;
    insta::with_settings!({ filters => FILTERS.to_vec() }, { insta::assert_snapshot!(ps) });
}

#[test]
fn uts_pid_and_mount_namespaces_are_new() {
    insta::assert_snapshot!(step().namespaces());
}

#[test]
fn hostname_is_container() {
    assert_eq!(step().hostname(), "container");
}

#[test]
fn pid_1_reaps_orphans() {
    step().assert_orphans_reaped();
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
