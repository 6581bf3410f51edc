//! What the book shows for step 6, kept as snapshots that its chapter includes:
//! the change from the previous step, and a shell session in the container. They
//! depend on this course's own code, so grading another program leaves them out.

use harness::{FILTERS, Step, change};

fn step() -> Step {
    Step::in_rootfs(env!("CARGO_BIN_EXE_step06-mount-ns"))
}

#[test]
fn the_change_from_step_5() {
    insta::assert_snapshot!(change("step05-chroot-proc", "step06-mount-ns"));
}

#[test]
fn a_session() {
    let session = step().session(&["hostname", "ps"]);
    insta::with_settings!({ filters => FILTERS.to_vec() }, { insta::assert_snapshot!(session) });
}
