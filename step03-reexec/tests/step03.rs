//! The graded checks of step 3: the program re-executes itself as a child inside
//! the new UTS namespace, and that child sets the hostname to `container` before
//! the command starts.
//!
//! Grade any program with `CONTAINER_BIN=/path/to/it cargo test -p step03-reexec
//! --test step03`, or `.ci/grade.sh /path/to/it 3`. Tests named `feature_*` check what
//! this step adds, and fail against step 2's program; the others are earlier steps'.

use rootfs::harness::Step;

fn step() -> Step {
    Step::on_host_files(env!("CARGO_BIN_EXE_step03-reexec"))
}

#[test]
fn feature_hostname_is_container_from_the_start() {
    step().assert_hostname_is_container();
}

#[test]
fn uts_namespace_is_new() {
    step().assert_namespaces_new(&["uts"]);
}

#[test]
fn hostname_changed_inside_stays_inside() {
    step().assert_hostname_change_stays_inside();
}

#[test]
fn the_command_is_wired_to_stdin_stdout_and_stderr() {
    step().assert_stdio_wired();
}

#[test]
fn exit_codes_pass_through_the_child() {
    step().assert_exit_codes();
}

#[test]
fn arguments_pass_through_the_child_untouched() {
    step().assert_arguments_pass_through();
}
