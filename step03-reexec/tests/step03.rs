//! The graded checks of step 3: the program re-executes itself as a child inside
//! the new UTS namespace, and that child sets the hostname to `container` before
//! the command starts.
//!
//! Grade any program with `CONTAINER_BIN=/path/to/it cargo test -p step03-reexec
//! --test step03`, or `.ci/grade.sh /path/to/it 3`. Tests named `feature_*` check what
//! this step adds, and fail against step 2's program; the others are earlier steps'.

use harness::step;

#[test]
fn feature_hostname_is_container_from_the_start() {
    step!().assert_hostname_is_container();
}

// The checks of steps 1 to 2, which step 3 must still pass.
harness::graded_checks_up_to_step!(2);
