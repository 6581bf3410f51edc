//! What this course's own step 2 shows beyond the graded checks (tests/step02.rs):
//! its UTS namespace's hostname starts as a copy of the host's, `ps` still lists the
//! host's processes; and its row of the isolation matrix (book:
//! classroom/isolation-matrix.md). Not graded: another program may isolate more.

use harness::{Step, assert_isolation_row_in_the_book, current_hostname};

fn step() -> Step {
    Step::on_host_files(env!("CARGO_BIN_EXE_step02-uts"))
}

#[test]
fn isolation_matrix_row() {
    let row = step().isolation_row("2 `step02-uts`");
    insta::assert_snapshot!(row);
    assert_isolation_row_in_the_book("step02-uts");
}

#[test]
fn hostname_starts_as_the_hosts() {
    assert_eq!(step().hostname(), current_hostname());
}

#[test]
fn ps_still_lists_the_hosts_processes() {
    assert!(step().sees_host_processes());
}
