//! What this course's own step 2 shows beyond the graded checks (tests/step02.rs):
//! its UTS namespace's hostname starts as a copy of the host's, `ps` still lists the
//! host's processes; and its row of the isolation matrix (book:
//! classroom/isolation-matrix.md). Not graded: another program may isolate more.

use harness::{current_hostname, step};

#[test]
fn isolation_matrix_row() {
    let step = step!();
    let row = step.isolation_row();
    insta::assert_snapshot!(row);
    step.assert_isolation_row_in_the_book();
}

#[test]
fn hostname_starts_as_the_hosts() {
    assert_eq!(step!().hostname(), current_hostname());
}

#[test]
fn ps_still_lists_the_hosts_processes() {
    assert!(step!().sees_host_processes());
}
