//! The graded checks of step 3: the program re-executes itself as a child inside
//! the new UTS namespace, and that child sets the hostname to `container` before
//! the command starts.
//!
//! Grade any program with `CONTAINER_BIN=/path/to/it cargo test -p step03-reexec
//! --test step03`, or `cargo course grade --bin /path/to/it 3`. Tests named `feature_…` check what
//! this step adds, and fail against step 2's program; the others are earlier steps'.

// The checks of steps 1 to 3, listed once in the harness's registry
// (rootfs/harness/src/registry.rs), run by its runner: `cargo test -p step03-reexec
// --test step03 -- feature_` runs only what this step adds.
harness::graded_tests!();
