//! Step 5 changes the container's root to the busybox tree and mounts a proc of
//! its own: `ls /` and `ps` show only the container. With no mount namespace yet,
//! that proc mount is in the host's mount table while the container runs.
//!
//! Every test holds `serial()`: step 5 containers share the host's mount table,
//! so a second container's proc would cover the first one's /proc.

use rootfs::harness::{FILTERS, FirstUse, SharedMountHost, Step, mounts_below, rootfs, serial};

fn step() -> Step {
    Step::in_rootfs(env!("CARGO_BIN_EXE_step05-chroot-proc"))
}

#[test]
fn the_first_run_builds_the_root_filesystem() {
    let _serial = serial();
    let _first_use = FirstUse::start();
    let out = step().run(&["hostname"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "container\n"), "{out:?}");
}

#[test]
fn ls_shows_the_busybox_tree() {
    let _serial = serial();
    insta::assert_snapshot!(step().run(&["ls", "/"]).stdout);
}

#[test]
fn ps_shows_only_the_container() {
    let _serial = serial();
    let ps = step().run(&["ps"]).stdout;
    insta::with_settings!({ filters => FILTERS.to_vec() }, { insta::assert_snapshot!(ps) });
}

#[test]
fn proc_mount_shows_on_the_host_while_running_and_is_gone_after() {
    let _serial = serial();
    let me = std::process::id() as i32;
    let mut running = step().start_sh("echo ready; read x");
    running.wait_for_line("ready");
    assert_eq!(mounts_below(me, &rootfs()), vec![rootfs().join("proc")]);
    running.finish();
    assert_eq!(mounts_below(me, &rootfs()), Vec::<std::path::PathBuf>::new(), "a mount was left");
}

#[test]
fn proc_mount_shows_on_a_shared_host_too() {
    let _serial = serial();
    let host = SharedMountHost::start();
    let mut running = step().start_sh_in(&host, "echo ready; read x");
    running.wait_for_line("ready");
    assert_eq!(host.mounts_below(&rootfs()), vec![rootfs().join("proc")]);
    running.finish();
    assert!(host.mounts_below(&rootfs()).is_empty(), "a mount was left");
}

#[test]
fn hostname_is_container() {
    let _serial = serial();
    assert_eq!(step().hostname(), "container");
}

#[test]
fn uts_and_pid_namespaces_are_new() {
    let _serial = serial();
    insta::assert_snapshot!(step().namespaces());
}

#[test]
fn pid_1_reaps_orphans() {
    let _serial = serial();
    step().assert_orphans_reaped();
}

#[test]
fn two_hundred_containers_in_a_row_leave_nothing_behind() {
    let _serial = serial();
    step().assert_nothing_accumulates(200);
}

#[test]
fn only_stdin_stdout_and_stderr_are_open() {
    let _serial = serial();
    step().assert_only_stdio_open();
}

#[test]
fn the_container_dies_with_its_runtime() {
    let _serial = serial();
    step().assert_container_dies_with_its_runtime();
}

#[test]
fn signals_reach_the_command() {
    let _serial = serial();
    step().assert_signals_forwarded();
}

#[test]
fn exit_codes_follow_docker() {
    let _serial = serial();
    step().assert_exit_codes();
}

#[test]
fn arguments_pass_through_the_child_untouched() {
    let _serial = serial();
    step().assert_arguments_pass_through();
}
