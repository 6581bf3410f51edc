//! What this course's own step 3 shows beyond the graded checks (tests/step03.rs):
//! its row of the isolation matrix (book: classroom/isolation-matrix.md). Step 3 sets
//! the hostname to `container` and isolates nothing else yet. Not graded: another
//! program may isolate more.

use harness::step;

#[test]
fn isolation_matrix_row() {
    let step = step!();
    let row = step.isolation_row();
    insta::assert_snapshot!(row);
    step.assert_isolation_row_in_the_book();
}
