//! The graded checks of step 2: a UTS namespace of its own, so the hostname can
//! change inside without changing the host's (it starts as a copy of the host's).
//!
//! Grade any program with `CONTAINER_BIN=/path/to/it cargo test -p step02-uts --test
//! step02`, or `.ci/grade.sh /path/to/it 2`. Tests named `feature_*` check what this
//! step adds, and fail against step 1's program; the others are step 1's, again.

use harness::step;

#[test]
fn feature_uts_namespace_is_new() {
    step!().assert_namespaces_new(&["uts"]);
}

#[test]
fn feature_hostname_changed_inside_stays_inside() {
    step!().assert_hostname_change_stays_inside();
}

// The checks of steps 1 to 1, which step 2 must still pass.
harness::graded_checks_up_to_step!(1);
