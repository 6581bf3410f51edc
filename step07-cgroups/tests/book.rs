//! What the book shows for step 7, kept as snapshots that its chapter includes:
//! the change from the previous step, and a shell session in the container. They
//! depend on this course's own code, so grading another program leaves them out.

use harness::{FILTERS, change, step};

#[test]
fn the_change_from_step_6() {
    insta::assert_snapshot!(change(env!("CARGO_PKG_NAME")));
}

#[test]
fn a_session() {
    // A shell that starts sleeps until the kernel refuses a fork: 16 start, as
    // PID 1, two shells and `tail` count against the limit of 20 too.
    let sleeps = "sh -c 'n=0; while true; do sleep 60 >/dev/null 2>&1 & n=$((n+1)); echo \"$n sleeping\"; done' 2>&1 | tail -2";
    let session = step!().session(&["ps", sleeps]);
    insta::with_settings!({ filters => FILTERS.to_vec() }, { insta::assert_snapshot!(session) });
}
