//! What this course's own step 1 shows beyond the graded checks (tests/step01.rs):
//! it isolates nothing, so the hostname, the processes `ps` lists and the files are
//! the host's; and its row of the isolation matrix (book:
//! classroom/isolation-matrix.md). Not graded: another program may isolate more.

use std::path::Path;

use harness::{current_hostname, dir_listing, step};

#[test]
fn isolation_matrix_row() {
    let step = step!();
    let row = step.isolation_row();
    insta::assert_snapshot!(row);
    step.assert_isolation_row_in_the_book();
}

#[test]
fn hostname_is_the_hosts() {
    assert_eq!(step!().hostname(), current_hostname());
}

#[test]
fn ps_lists_the_hosts_processes() {
    assert!(step!().sees_host_processes());
}

#[test]
fn files_are_the_hosts() {
    let inside = step!().sh("ls -1A /").stdout;
    assert_eq!(inside.lines().collect::<Vec<_>>(), dir_listing(Path::new("/")));
}
