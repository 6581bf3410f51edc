//! The graded checks of step 5: the child changes the container's root to the
//! directory `CONTAINER_ROOTFS` names (chroot) and mounts a proc of its own there,
//! so `ls /` shows the busybox tree and `ps` only the container. With no mount
//! namespace yet, the host sees that mount while the container runs; it must be
//! gone after.
//!
//! Grade any program with `CONTAINER_BIN=/path/to/it cargo test -p step05-chroot-proc
//! --test step05`, or `.ci/grade.sh /path/to/it 5`. Tests named `feature_*` check what
//! this step adds, and fail against step 4's program; the others are earlier steps'
//! and the cleaning up this step brings.
//!
//! Every test holds `serial()`: step 5 containers share the host's mount table,
//! so a second container's proc would cover the first one's /proc.

use rootfs::harness::{Step, serial};

fn step() -> Step {
    Step::in_rootfs(env!("CARGO_BIN_EXE_step05-chroot-proc"))
}

#[test]
fn feature_ls_shows_the_busybox_tree() {
    let _serial = serial();
    step().assert_root_is_the_rootfs();
}

#[test]
fn feature_ps_shows_only_the_container() {
    let _serial = serial();
    step().assert_ps_shows_only_the_container();
}

#[test]
fn feature_the_root_is_the_directory_container_rootfs_names() {
    let _serial = serial();
    step().assert_rootfs_from_the_environment();
}

#[test]
fn nothing_is_left_mounted_after_a_failing_command() {
    let _serial = serial();
    step().assert_nothing_left_mounted();
}

#[test]
fn two_hundred_containers_in_a_row_leave_nothing_behind() {
    let _serial = serial();
    step().assert_nothing_accumulates(200);
}

#[test]
fn the_command_holds_no_file_of_the_runtime() {
    let _serial = serial();
    step().assert_command_holds_only_stdio();
}

#[test]
fn uts_and_pid_namespaces_are_new() {
    let _serial = serial();
    step().assert_namespaces_new(&["uts", "pid"]);
}

#[test]
fn hostname_is_container() {
    let _serial = serial();
    step().assert_hostname_is_container();
}

#[test]
fn hostname_changed_inside_stays_inside() {
    let _serial = serial();
    step().assert_hostname_change_stays_inside();
}

#[test]
fn the_command_is_pid_2_after_child_as_pid_1() {
    let _serial = serial();
    step().assert_command_is_pid_2();
}

#[test]
fn pid_1_reaps_orphans() {
    let _serial = serial();
    step().assert_orphans_reaped();
}

#[test]
fn signals_reach_the_command() {
    let _serial = serial();
    step().assert_signals_forwarded();
}

#[test]
fn the_container_dies_with_its_runtime() {
    let _serial = serial();
    step().assert_container_dies_with_its_runtime();
}

#[test]
fn the_command_is_wired_to_stdin_stdout_and_stderr() {
    let _serial = serial();
    step().assert_stdio_wired();
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
