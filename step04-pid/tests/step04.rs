//! Step 4 adds a PID namespace whose PID 1 is `child`: the shell's PID is small,
//! yet `ps` still shows the host's processes, because /proc is still the host's.

use rootfs::harness::Step;

fn step() -> Step {
    Step::on_host_files(env!("CARGO_BIN_EXE_step04-pid"))
}

#[test]
fn the_command_is_pid_2_after_child_as_pid_1() {
    assert_eq!(step().sh("echo $$").stdout, "2\n");
}

#[test]
fn ps_still_lists_the_hosts_processes_through_the_hosts_proc() {
    assert!(step().sees_host_processes());
}

#[test]
fn uts_and_pid_namespaces_are_new() {
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
