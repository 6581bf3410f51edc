//! The graded checks of step 7: the container runs in a cgroup of its own whose
//! pids controller allows 20 processes, so a fork bomb inside is held there and the
//! host stays usable; the cgroup is removed when the container ends.
//!
//! Grade any program with `CONTAINER_BIN=/path/to/it cargo test -p step07-cgroups
//! --test step07`, or `.ci/grade.sh /path/to/it 7`. Tests named `feature_*` check what
//! this step adds, and fail against step 6's program; the others are earlier steps'.
//! A fork bomb goes off only once the kernel shows the container held by a limit.

use rootfs::harness::Step;

fn step() -> Step {
    Step::in_rootfs(env!("CARGO_BIN_EXE_step07-cgroups"))
}

#[test]
fn feature_the_kernel_reports_the_limit_and_the_cgroup_is_removed_after() {
    step().assert_pids_limit(20);
}

#[test]
fn feature_a_shell_starts_at_most_18_of_40_sleeps() {
    step().assert_sleeps_held_at_limit();
}

#[test]
fn feature_a_fork_bomb_is_held_at_the_limit_and_the_host_stays_usable() {
    step().assert_fork_bomb_held(20);
}

#[test]
fn feature_the_cgroup_is_removed_after_a_signal_too() {
    step().assert_cgroup_removed_after_a_signal();
}

#[test]
fn feature_each_container_has_a_cgroup_of_its_own() {
    step().assert_each_container_has_its_own_cgroup();
}

#[test]
fn mount_namespace_is_new() {
    step().assert_namespaces_new(&["mnt"]);
}

#[test]
fn proc_mount_never_reaches_this_host() {
    step().assert_mounts_stay_inside();
}

#[test]
fn proc_mount_never_reaches_a_shared_host() {
    step().assert_mounts_stay_inside_a_shared_host();
}

#[test]
fn ls_shows_the_busybox_tree() {
    step().assert_root_is_the_rootfs();
}

#[test]
fn ps_shows_only_the_container() {
    step().assert_ps_shows_only_the_container();
}

#[test]
fn the_root_is_the_directory_container_rootfs_names() {
    step().assert_rootfs_from_the_environment();
}

#[test]
fn nothing_is_left_mounted_after_a_failing_command() {
    step().assert_nothing_left_mounted();
}

#[test]
fn two_hundred_containers_in_a_row_leave_nothing_behind() {
    step().assert_nothing_accumulates(200);
}

#[test]
fn the_command_holds_no_file_of_the_runtime() {
    step().assert_command_holds_only_stdio();
}

#[test]
fn uts_and_pid_namespaces_are_new() {
    step().assert_namespaces_new(&["uts", "pid"]);
}

#[test]
fn hostname_is_container() {
    step().assert_hostname_is_container();
}

#[test]
fn hostname_changed_inside_stays_inside() {
    step().assert_hostname_change_stays_inside();
}

#[test]
fn the_command_is_pid_2_after_child_as_pid_1() {
    step().assert_command_is_pid_2();
}

#[test]
fn pid_1_reaps_orphans() {
    step().assert_orphans_reaped();
}

#[test]
fn signals_reach_the_command() {
    step().assert_signals_forwarded();
}

#[test]
fn the_container_dies_with_its_runtime() {
    step().assert_container_dies_with_its_runtime();
}

#[test]
fn the_command_is_wired_to_stdin_stdout_and_stderr() {
    step().assert_stdio_wired();
}

#[test]
fn exit_codes_follow_docker() {
    step().assert_exit_codes();
}

#[test]
fn arguments_pass_through_the_child_untouched() {
    step().assert_arguments_pass_through();
}
