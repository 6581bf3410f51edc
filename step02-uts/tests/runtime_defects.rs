//! Runtime defects once found in this course's step 2, each checked so that it
//! stays fixed. The checks are in runtime_defects/checks.rs, which steps 3 to 7
//! share. Not graded: they check this program's own messages.

#[path = "runtime_defects/checks.rs"]
mod checks;

const BIN: &str = env!("CARGO_BIN_EXE_step02-uts");

#[test]
fn eperm_says_run_as_root_only_when_not_root() {
    checks::assert_eperm_explained(BIN);
}
