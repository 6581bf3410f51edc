//! What this course's own step 4 shows beyond the graded checks (tests/step04.rs):
//! its row of the isolation matrix (book: classroom/isolation-matrix.md). Step 4 has
//! a PID namespace, yet `ps` lists the host's processes: it reads /proc, which is
//! still the host's. Not graded: another program may isolate more.

use harness::step;

#[test]
fn isolation_matrix_row() {
    let step = step!();
    let row = step.isolation_row();
    insta::assert_snapshot!(row);
    step.assert_isolation_row_in_the_book();
}

#[test]
fn ps_still_lists_the_hosts_processes_through_the_hosts_proc() {
    assert!(step!().sees_host_processes());
}
