//! Runtime defects once found in this course's step 6, each checked so that it
//! stays fixed. Not graded: they check this program's own behaviour and messages.

#[path = "../../step02-uts/tests/runtime_defects/checks.rs"]
mod checks;

checks::runtime_defect_tests!(6, env!("CARGO_BIN_EXE_step06-mount-ns"));
