//! The graded checks of step 6: a mount namespace whose mounts are all made
//! private before anything is mounted, so the container's proc mount never
//! reaches the host, even a host whose mounts are shared (systemd's).
//!
//! Grade any program with `CONTAINER_BIN=/path/to/it cargo test -p step06-mount-ns
//! --test step06`, or `cargo course grade --bin /path/to/it 6`. Tests named `feature_…` check what
//! this step adds, and fail against step 5's program; the others are earlier steps'.

// The checks of steps 1 to 6, listed once in the harness's registry
// (rootfs/harness/src/registry.rs), run by its runner: `cargo test -p step06-mount-ns
// --test step06 -- feature_` runs only what this step adds.
harness::graded_tests!();
