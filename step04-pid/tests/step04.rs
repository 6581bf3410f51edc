//! The graded checks of step 4: a PID namespace whose PID 1 is the child, which
//! starts the command as its own child and does PID 1's duties: it reaps orphans,
//! passes signals on, and dies with the program that started it.
//!
//! Grade any program with `CONTAINER_BIN=/path/to/it cargo test -p step04-pid --test
//! step04`, or `cargo course grade --bin /path/to/it 4`. Tests named `feature_…` check what this
//! step adds, and fail against step 3's program; the others are earlier steps'.

// The checks of steps 1 to 4, listed once in the harness's registry
// (rootfs/harness/src/registry.rs), run by its runner: `cargo test -p step04-pid
// --test step04 -- feature_` runs only what this step adds.
harness::graded_tests!();
