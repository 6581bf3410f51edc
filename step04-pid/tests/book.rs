//! What the book shows for step 4, kept as snapshots that its chapter includes:
//! the change from the previous step, and a shell session in the container. They
//! depend on this course's own code, so grading another program leaves them out.

use harness::{FILTERS, change, step};

#[test]
fn the_change_from_step_3() {
    insta::assert_snapshot!(change(env!("CARGO_PKG_NAME")));
}

#[test]
fn a_session() {
    let session = step!().session(&["hostname", "echo $$", "sh -c 'echo $$'"]);
    insta::with_settings!({ filters => FILTERS.to_vec() }, { insta::assert_snapshot!(session) });
}
