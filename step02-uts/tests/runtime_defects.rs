//! Runtime defects once found in this course's step 2, each checked so that it
//! stays fixed. Not graded: they check this program's own behaviour and messages.

#[path = "runtime_defects/checks.rs"]
mod checks;

checks::runtime_defect_tests!(2, env!("CARGO_BIN_EXE_step02-uts"));
