//! The graded checks of step 7: the container runs in a cgroup of its own whose
//! pids controller allows 20 processes, so a fork bomb inside is held there and the
//! host stays usable; the cgroup is removed when the container ends.
//!
//! Grade any program with `CONTAINER_BIN=/path/to/it cargo test -p step07-cgroups
//! --test step07`, or `cargo course grade --bin /path/to/it 7`. Tests named `feature_…` check what
//! this step adds, and fail against step 6's program; the others are earlier steps'.
//! A fork bomb goes off only once the kernel shows the container held by a limit.

// The checks of steps 1 to 7, listed once in the harness's registry
// (rootfs/harness/src/registry.rs), run by its runner: `cargo test -p step07-cgroups
// --test step07 -- feature_` runs only what this step adds.
harness::graded_tests!();
