//! Step 6's graded checks: a mount namespace, with private propagation.

use std::path::PathBuf;

use procfs::process::{MountInfo, MountOptFields};

use crate::StepProgram;
use crate::fixtures::{SharedMountHost, rootfs};
use crate::kernel::mounts::{mount_point, mountinfo, mounts_below, new_mounts};
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
    /// that host sees no mount of it, and its own mounts stay shared: a program
    /// that makes the mounts private before it has a mount namespace of its own
    /// changes the host's.
    pub fn assert_mounts_stay_inside_a_shared_host(&self) {
        // The root filesystem a plain directory there, as on most machines (then `/`
        // is no mount point once the program has chrooted into it: making it private
        // there fails); then on a mount of its own, so that a program that makes only
        // `/` private (no MS_REC) leaks its proc mount through it.
        self.assert_shared_host_kept_out(SharedMountHost::start(), "");
        let own_mount = SharedMountHost::with_rootfs_on_its_own_mount();
        self.assert_shared_host_kept_out(own_mount, ", the root filesystem on a mount of its own");
    }

    fn assert_shared_host_kept_out(&self, host: SharedMountHost, which: &str) {
        let before = host.mounts_below(&rootfs());
        let shared_before = shared_mounts(host.pid());
        let mut running = self.start_sh_in(&host, "echo ready; read x");
        running.wait_for_line("ready");
        let leaked = new_mounts(&before, host.mounts_below(&rootfs()));
        let shared_now = shared_mounts(host.pid());
        let made_private: Vec<&PathBuf> =
            shared_before.iter().filter(|mount| !shared_now.contains(*mount)).collect();
        let ns = |pid: i32| namespace_of(pid, "mnt");
        let own_namespace = ns(running.container_init()) != ns(host.pid());
        running.finish();
        let hint = if !own_namespace {
            "the container shares the host's mount namespace: unshare CLONE_NEWNS in run"
        } else if leaked.is_empty() {
            ""
        } else if leaks_only_below_a_shared_mount(self) {
            "the proc mount reached the host through the mount the root filesystem is on: `/` \
             was made private, but not the mounts below it. MS_PRIVATE without MS_REC changes \
             the mount at `/` only; make every mount private, recursively (MS_REC|MS_PRIVATE \
             on /), before mounting"
        } else {
            "the proc mount reached the host: is every mount made private (MS_REC|MS_PRIVATE on \
             /: recursive, as the root filesystem may be a mount of its own) in the new mount \
             namespace before mounting, and before chroot (after it, `/` may be no mount point, \
             and the call fails)? Its mounts start as copies of the host's, and copies of \
             shared mounts pass new mounts back to the host"
        };
        claim(format!(
            "the container's proc mount does not reach a host whose `/` is shared (systemd's){which}"
        ))
            .expected("no mount below the root filesystem in that host's mount table")
            .shown(format!("mounted on that host: {leaked:?}"))
            .hint(hint)
            .holds(leaked.is_empty() && own_namespace);
        claim(format!(
            "the container leaves the propagation of the host's own mounts alone{which}"
        ))
        .expected("the host's shared mounts still shared while the container runs")
        .shown(format!("made private on the host: {made_private:?}"))
        .hint(
            "your program made the host's own mounts private: it changed their propagation \
                 before it had a mount namespace of its own (or in the host's). Unshare \
                 CLONE_NEWNS first, then make every mount private (MS_REC|MS_PRIVATE on /) in \
                 the new namespace, only after unshare(CLONE_NEWNS)",
        )
        .holds(made_private.is_empty());
        let left = new_mounts(&before, host.mounts_below(&rootfs()));
        claim(format!("nothing is left mounted on a shared host after the container{which}"))
            .expected("no mount below the root filesystem")
            .shown(format!("{left:?}"))
            .hint("unmount /proc when the command has ended")
            .holds(left.is_empty());
    }
}

/// The mount points of process `pid`'s mount namespace that are shared (a
/// `shared:N` tag in its mountinfo).
fn shared_mounts(pid: i32) -> Vec<PathBuf> {
    let shared = |mount: &&MountInfo| {
        mount.opt_fields.iter().any(|field| matches!(field, MountOptFields::Shared(_)))
    };
    mountinfo(pid).iter().filter(shared).map(mount_point).collect()
}

/// Whether the program's proc mount stays off a shared host whose root filesystem
/// is on `/`'s own mount: then only the mounts below `/` were left shared (no
/// MS_REC), as the one the root filesystem is on in the host that leaked.
fn leaks_only_below_a_shared_mount(step: &StepProgram) -> bool {
    let host = SharedMountHost::start();
    let before = host.mounts_below(&rootfs());
    let mut running = step.start_sh_in(&host, "echo ready; read x");
    running.wait_for_line("ready");
    let leaked = new_mounts(&before, host.mounts_below(&rootfs()));
    running.finish();
    leaked.is_empty()
}
