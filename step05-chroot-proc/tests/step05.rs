//! The graded checks of step 5: the child changes the container's root to the
//! directory `CONTAINER_ROOTFS` names (chroot) and mounts a proc of its own there,
//! so `ls /` shows the busybox tree and `ps` only the container. With no mount
//! namespace yet, the host sees that mount while the container runs; it must be
//! gone after.
//!
//! Grade any program with `CONTAINER_BIN=/path/to/it cargo test -p step05-chroot-proc
//! --test step05`, or `.ci/grade.sh /path/to/it 5`. Tests named `feature_*` check what
//! this step adds, and fail against step 4's program; the others are earlier steps'
//! and the cleaning up this step brings.
//!
//! Every test holds `serial()`: step 5 containers share the host's mount table,
//! so a second container's proc would cover the first one's /proc.

use harness::{serial, step};

#[test]
fn feature_ls_shows_the_busybox_tree() {
    let _serial = serial();
    step!().assert_root_is_the_rootfs();
}

#[test]
fn feature_ps_shows_only_the_container() {
    let _serial = serial();
    step!().assert_ps_shows_only_the_container();
}

#[test]
fn feature_the_root_is_the_directory_container_rootfs_names() {
    let _serial = serial();
    step!().assert_rootfs_from_the_environment();
}

// What a container with a root filesystem of its own must not leave behind (step 4's
// program passes these too).
harness::nothing_left_behind_checks!(let _serial = serial());

// The checks of steps 1 to 4, which step 5 must still pass.
harness::graded_checks_up_to_step!(4, let _serial = serial());
