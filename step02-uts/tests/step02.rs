//! The graded checks of step 2: a UTS namespace of its own, so the hostname can
//! change inside without changing the host's (it starts as a copy of the host's).
//!
//! Grade any program with `CONTAINER_BIN=/path/to/it cargo test -p step02-uts --test
//! step02`, or `cargo course grade --bin /path/to/it 2`. Tests named `feature_…` check what this
//! step adds, and fail against step 1's program; the others are step 1's, again.

// The checks of steps 1 to 2, listed once in the harness's registry
// (rootfs/harness/src/registry.rs), run by its runner: `cargo test -p step02-uts
// --test step02 -- feature_` runs only what this step adds.
harness::graded_tests!();
