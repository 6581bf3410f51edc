//! Runtime defects once found in this course's step 4, each checked so that it
//! stays fixed. Not graded: they check this program's own behaviour and messages.

#[path = "../../step02-uts/tests/runtime_defects/checks.rs"]
mod checks;

use rootfs::harness::busybox;

const BIN: &str = env!("CARGO_BIN_EXE_step04-pid");

#[test]
fn eperm_says_run_as_root_only_when_not_root() {
    checks::assert_eperm_explained(BIN);
}

#[test]
fn child_started_by_hand_refuses() {
    checks::assert_child_refuses_when_started_by_hand(BIN, &[&busybox(), "true"]);
}
