//! What this course's own step 6 does beyond the graded checks (tests/step06.rs):
//! its row of the isolation matrix (book: classroom/isolation-matrix.md), its
//! `child` as the container's PID 1, its `--rootfs` flag and its default root
//! filesystem. Not graded: they are this program's, not the contract's.

use harness::{FILTERS, step};

#[test]
fn isolation_matrix_row() {
    let step = step!();
    let row = step.isolation_row();
    insta::assert_snapshot!(row);
    step.assert_isolation_row_in_the_book();
}

#[test]
fn the_rootfs_flag_picks_the_root_filesystem() {
    step!().assert_rootfs_flag_picks_the_root_filesystem();
}

#[test]
fn without_container_rootfs_the_courses_tree_is_used() {
    step!().assert_courses_tree_by_default(&["/bin/busybox", "hostname"]);
}

#[test]
fn ps_shows_our_child_as_pid_1() {
    let ps = step!().run(&["ps"]).stdout;
    insta::with_settings!({ filters => FILTERS.to_vec() }, { insta::assert_snapshot!(ps) });
}

#[test]
fn only_stdin_stdout_and_stderr_are_open() {
    step!().assert_only_stdio_open();
}
