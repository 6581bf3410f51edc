//! Runtime defects once found in this course's step 5, each checked so that it
//! stays fixed. Not graded: they check this program's own behaviour and messages.

#[path = "../../step02-uts/tests/runtime_defects/checks.rs"]
mod checks;

use rootfs::harness::{Step, rootfs};

const BIN: &str = env!("CARGO_BIN_EXE_step05-chroot-proc");

fn step() -> Step {
    Step::in_rootfs(BIN)
}

#[test]
fn eperm_says_run_as_root_only_when_not_root() {
    checks::assert_eperm_explained(BIN);
}

#[test]
fn a_command_may_unmount_proc_itself() {
    checks::assert_command_may_unmount_proc(&step());
}

#[test]
fn child_started_by_hand_refuses() {
    let rootfs = rootfs().display().to_string();
    checks::assert_child_refuses_when_started_by_hand(BIN, &["--rootfs", &rootfs, "/bin/true"]);
}

#[test]
fn a_missing_script_interpreter_is_named_not_called_a_loader() {
    checks::assert_missing_interpreter_or_loader_named(&step());
}
