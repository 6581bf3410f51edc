//! The graded checks of step 1: run a command. No isolation yet, so what is
//! checked is the contract itself: `BIN run CMD ARGS...` runs CMD wired to BIN's
//! stdin, stdout and stderr, passes its arguments on untouched, and exits as Docker
//! does. Every later step's tests check these again.
//!
//! Grade any program with `CONTAINER_BIN=/path/to/it cargo test -p step01-exec
//! --test step01`, or `cargo course grade --bin /path/to/it 1`. Step 1 has no step before it,
//! so none of its tests is marked `feature_*`; from step 2 on, those so named check
//! what the step adds. What step 1 leaves to the host is in tests/ours.rs.

// The checks of steps 1 to 1, listed once in the harness's registry
// (rootfs/harness/src/registry.rs), run by its runner: `cargo test -p step01-exec
// --test step01 -- feature_` runs only what this step adds.
harness::graded_tests!();
