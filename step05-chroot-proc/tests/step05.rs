//! The graded checks of step 5: the child changes the container's root to the
//! directory `CONTAINER_ROOTFS` names (chroot) and mounts a proc of its own there,
//! so `ls /` shows the busybox tree and `ps` only the container. With no mount
//! namespace yet, the host sees that mount while the container runs; it must be
//! gone after.
//!
//! Grade any program with `CONTAINER_BIN=/path/to/it cargo test -p step05-chroot-proc
//! --test step05`, or `cargo course grade --bin /path/to/it 5`. Tests named `feature_…` check what
//! this step adds, and fail against step 4's program; the others are earlier steps'
//! and the cleaning up this step brings.
//!
//! Every test holds `serial()`: step 5 containers share the host's mount table,
//! so a second container's proc would cover the first one's /proc.

// The checks of steps 1 to 5, listed once in the harness's registry
// (rootfs/harness/src/registry.rs), run by its runner: `cargo test -p step05-chroot-proc
// --test step05 -- feature_` runs only what this step adds.
harness::graded_tests!(one_at_a_time);
