//! Step 6's graded checks: a mount namespace, with private propagation.

use crate::StepProgram;
use crate::fixtures::{SharedMountHost, rootfs};
use crate::kernel::mounts::{mounts_below, new_mounts};
use crate::kernel::namespaces::namespace_of;
use crate::report::claim;

/// Step 6 on: a mount namespace, with private propagation.
impl StepProgram {
    /// While a container runs, this test process sees no mount of it.
    pub fn assert_mounts_stay_inside(&self) {
        let me = std::process::id() as i32;
        let before = mounts_below(me, &rootfs());
        let mut running = self.start_sh("echo ready; read x");
        running.wait_for_line("ready");
        let leaked = new_mounts(&before, mounts_below(me, &rootfs()));
        // Another test's clean-up may take a leaked mount down meanwhile; sharing the
        // host's mount namespace is leaking all the same.
        let ns = |pid: i32| namespace_of(pid, "mnt");
        let shared = ns(running.container_init()) == ns(me);
        claim("the container's proc mount does not reach the host")
            .expected("no mount below the root filesystem in the host's mount table")
            .shown(format!(
                "mounted on the host: {leaked:?}{}",
                if shared { "; the container is in the host's mount namespace" } else { "" }
            ))
            .hint(
                "the proc mount reached the host: does run unshare a mount namespace \
                 (CLONE_NEWNS) before the child mounts proc?",
            )
            .holds(leaked.is_empty() && !shared);
        running.finish();
    }

    /// While a container runs on a host whose mounts are shared (as systemd's are),
    /// that host sees no mount of it.
    pub fn assert_mounts_stay_inside_a_shared_host(&self) {
        // The root filesystem on a mount of its own there, so that a program that makes
        // only `/` private (no MS_REC) leaks its proc mount through it.
        let host = SharedMountHost::with_rootfs_on_its_own_mount();
        let before = host.mounts_below(&rootfs());
        let mut running = self.start_sh_in(&host, "echo ready; read x");
        running.wait_for_line("ready");
        let leaked = new_mounts(&before, host.mounts_below(&rootfs()));
        let ns = |pid: i32| namespace_of(pid, "mnt");
        let hint = if ns(running.container_init()) == ns(host.pid()) {
            "the container shares the host's mount namespace: unshare CLONE_NEWNS in run"
        } else {
            "the proc mount reached the host: is every mount made private (MS_REC|MS_PRIVATE on \
             /: recursive, as the root filesystem may be a mount of its own) in the new mount \
             namespace before mounting? Its mounts start as copies of the host's, and copies of \
             shared mounts pass new mounts back to the host"
        };
        claim("the container's proc mount does not reach a host whose `/` is shared (systemd's)")
            .expected("no mount below the root filesystem in that host's mount table")
            .shown(format!("mounted on that host: {leaked:?}"))
            .hint(hint)
            .holds(leaked.is_empty());
        running.finish();
        let left = new_mounts(&before, host.mounts_below(&rootfs()));
        claim("nothing is left mounted on a shared host after the container")
            .expected("no mount below the root filesystem")
            .shown(format!("{left:?}"))
            .hint("unmount /proc when the command has ended")
            .holds(left.is_empty());
    }
}
