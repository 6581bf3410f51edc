//! The graded checks of step 4: a PID namespace whose PID 1 is the child, which
//! starts the command as its own child and does PID 1's duties: it reaps orphans,
//! passes signals on, and dies with the program that started it.
//!
//! Grade any program with `CONTAINER_BIN=/path/to/it cargo test -p step04-pid --test
//! step04`, or `.ci/grade.sh /path/to/it 4`. Tests named `feature_*` check what this
//! step adds, and fail against step 3's program; the others are earlier steps'.

use harness::step;

#[test]
fn feature_pid_namespace_is_new() {
    step!().assert_namespaces_new(&["pid"]);
}

#[test]
fn feature_the_command_is_a_child_of_pid_1() {
    step!().assert_command_is_a_child_of_pid_1();
}

#[test]
fn feature_pid_1_reaps_orphans() {
    step!().assert_orphans_reaped();
}

#[test]
fn feature_signals_reach_the_command() {
    step!().assert_signals_forwarded();
}

#[test]
fn feature_the_container_dies_with_its_runtime() {
    step!().assert_container_dies_with_its_runtime();
}

// The checks of steps 1 to 3, which step 4 must still pass.
harness::graded_checks_up_to_step!(3);
