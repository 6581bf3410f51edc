//! The graded checks of step 7: the container runs in a cgroup of its own whose
//! pids controller allows 20 processes, so a fork bomb inside is held there and the
//! host stays usable; the cgroup is removed when the container ends.
//!
//! Grade any program with `CONTAINER_BIN=/path/to/it cargo test -p step07-cgroups
//! --test step07`, or `.ci/grade.sh /path/to/it 7`. Tests named `feature_*` check what
//! this step adds, and fail against step 6's program; the others are earlier steps'.
//! A fork bomb goes off only once the kernel shows the container held by a limit.

use harness::step;

#[test]
fn feature_the_kernel_reports_the_limit_and_the_cgroup_is_removed_after() {
    step!().assert_pids_limit(20);
}

#[test]
fn feature_a_shell_starts_at_most_18_of_40_sleeps() {
    step!().assert_sleeps_held_at_limit();
}

#[test]
fn feature_a_fork_bomb_is_held_at_the_limit_and_the_host_stays_usable() {
    step!().assert_fork_bomb_held(20);
}

#[test]
fn feature_the_cgroup_is_removed_after_a_signal_too() {
    step!().assert_cgroup_removed_after_a_signal();
}

#[test]
fn feature_each_container_has_a_cgroup_of_its_own() {
    step!().assert_each_container_has_its_own_cgroup();
}

// The checks of steps 1 to 6, which step 7 must still pass.
harness::graded_checks_up_to_step!(6);
