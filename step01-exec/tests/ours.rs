//! What this course's own step 1 shows beyond the graded checks (tests/step01.rs):
//! it isolates nothing, so the hostname, the processes `ps` lists and the files are
//! the host's; and its row of the isolation matrix (book:
//! classroom/isolation-matrix.md). Not graded: another program may isolate more.

use std::path::Path;

use harness::{Step, assert_isolation_row_in_the_book, current_hostname, dir_listing};

fn step() -> Step {
    Step::on_host_files(env!("CARGO_BIN_EXE_step01-exec"))
}

#[test]
fn isolation_matrix_row() {
    let row = step().isolation_row("1 `step01-exec`");
    insta::assert_snapshot!(row);
    assert_isolation_row_in_the_book("step01-exec");
}

#[test]
fn hostname_is_the_hosts() {
    assert_eq!(step().hostname(), current_hostname());
}

#[test]
fn ps_lists_the_hosts_processes() {
    assert!(step().sees_host_processes());
}

#[test]
fn files_are_the_hosts() {
    let inside = step().sh("ls -1A /").stdout;
    assert_eq!(inside.lines().collect::<Vec<_>>(), dir_listing(Path::new("/")));
}
