//! What this course's own step 3 shows beyond the graded checks (tests/step03.rs):
//! its row of the isolation matrix (book: classroom/isolation-matrix.md). Step 3 sets
//! the hostname to `container` and isolates nothing else yet. Not graded: another
//! program may isolate more.

use harness::{Step, assert_isolation_row_in_the_book};

fn step() -> Step {
    Step::on_host_files(env!("CARGO_BIN_EXE_step03-reexec"))
}

#[test]
fn isolation_matrix_row() {
    let row = step().isolation_row("3 `step03-reexec`");
    insta::assert_snapshot!(row);
    assert_isolation_row_in_the_book("step03-reexec");
}
