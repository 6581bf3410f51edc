//! Runtime defects once found in this course's step 5, each checked so that it
//! stays fixed. Not graded: they check this program's own behaviour and messages.

#[path = "../../step02-uts/tests/runtime_defects/checks.rs"]
mod checks;

const BIN: &str = env!("CARGO_BIN_EXE_step05-chroot-proc");

#[test]
fn eperm_says_run_as_root_only_when_not_root() {
    checks::assert_eperm_explained(BIN);
}
