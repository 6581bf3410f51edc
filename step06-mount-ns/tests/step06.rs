//! The graded checks of step 6: a mount namespace whose mounts are all made
//! private before anything is mounted, so the container's proc mount never
//! reaches the host, even a host whose mounts are shared (systemd's).
//!
//! Grade any program with `CONTAINER_BIN=/path/to/it cargo test -p step06-mount-ns
//! --test step06`, or `.ci/grade.sh /path/to/it 6`. Tests named `feature_*` check what
//! this step adds, and fail against step 5's program; the others are earlier steps'.

use harness::step;

#[test]
fn feature_mount_namespace_is_new() {
    step!().assert_namespaces_new(&["mnt"]);
}

#[test]
fn feature_proc_mount_never_reaches_this_host() {
    step!().assert_mounts_stay_inside();
}

#[test]
fn feature_proc_mount_never_reaches_a_shared_host() {
    step!().assert_mounts_stay_inside_a_shared_host();
}

// The checks of steps 1 to 5, which step 6 must still pass.
harness::graded_checks_up_to_step!(5);
