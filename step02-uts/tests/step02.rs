//! The graded checks of step 2: a UTS namespace of its own, so the hostname can
//! change inside without changing the host's (it starts as a copy of the host's).
//!
//! Grade any program with `CONTAINER_BIN=/path/to/it cargo test -p step02-uts --test
//! step02`, or `.ci/grade.sh /path/to/it 2`. Tests named `feature_*` check what this
//! step adds, and fail against step 1's program; the others are step 1's, again.

use rootfs::harness::Step;

fn step() -> Step {
    Step::on_host_files(env!("CARGO_BIN_EXE_step02-uts"))
}

#[test]
fn feature_uts_namespace_is_new() {
    step().assert_namespaces_new(&["uts"]);
}

#[test]
fn feature_hostname_changed_inside_stays_inside() {
    step().assert_hostname_change_stays_inside();
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
fn arguments_pass_through_untouched() {
    step().assert_arguments_pass_through();
}
