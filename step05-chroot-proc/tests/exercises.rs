//! The checks of step 5's exercises (step05-chroot-proc/exercises/README.md). Each one
//! fails until its exercise is solved: `cargo test -p step05-chroot-proc --test exercises`.
//!
//! Every test holds `serial()`: step 5 containers share the host's mount table.

use std::fs;
use std::path::PathBuf;

use nix::fcntl::{OFlag, open};
use nix::mount::{MntFlags, umount2};
use nix::sys::stat::Mode;
use rootfs::harness::{Output, Step, mounts_below, rootfs, serial};

fn step() -> Step {
    Step::in_rootfs(env!("CARGO_BIN_EXE_step05-chroot-proc"))
}

/// Fail with a hint when `run` rejected an option it does not have yet.
fn assert_option_accepted(out: &Output, option: &str) {
    assert!(
        !(out.code == 2 && out.stderr.contains(option)),
        "`run` does not accept {option} yet (exit code 2, clap's):\n{}\n\
         hint: add the option to `Target`, and pass it on from `run` to `child`",
        out.stderr
    );
}

/// The mounts on the root filesystem when a test began. When dropped, it detaches
/// those added since: a wrong solution leaves none on the host, even when its check fails.
struct HostMounts {
    before: Vec<PathBuf>,
}

impl HostMounts {
    fn now() -> HostMounts {
        HostMounts { before: mounts_below(std::process::id() as i32, &rootfs()) }
    }

    /// Mount points at or below the root filesystem that were not there before.
    fn added(&self) -> Vec<PathBuf> {
        let now = mounts_below(std::process::id() as i32, &rootfs());
        now.into_iter().filter(|mount| !self.before.contains(mount)).collect()
    }
}

impl Drop for HostMounts {
    fn drop(&mut self) {
        for mount in self.added().iter().rev() {
            let _ = umount2(mount, MntFlags::MNT_DETACH);
        }
    }
}

#[test]
fn tmpfs_on_tmp() {
    let _serial = serial();
    let host = HostMounts::now();
    let name = format!("tmpfs-on-tmp-{}", std::process::id());
    let on_host = rootfs().join("tmp").join(&name);
    let script = format!("grep ' /tmp ' /proc/mounts; echo inside > /tmp/{name}");
    let out = step().run(&["--tmpfs", "/tmp", "/bin/sh", "-c", &script]);
    // Whatever happened, leave the root filesystem as it was.
    let written_on_host = fs::remove_file(&on_host).is_ok();
    assert_option_accepted(&out, "--tmpfs");
    assert_eq!(out.code, 0, "the container failed: {out:?}");
    let fstype = out.stdout.lines().next().and_then(|line| line.split(' ').nth(2));
    assert_eq!(
        fstype,
        Some("tmpfs"),
        "expected a tmpfs on /tmp in /proc/mounts inside; saw:\n{}\n\
         hint: mount it in `child`, after chroot, with the path as the container sees it",
        out.stdout
    );
    assert!(
        !written_on_host,
        "a file written to /tmp inside landed in {} on the host: /tmp was not the tmpfs",
        on_host.display()
    );
    let left = host.added();
    assert!(
        left.is_empty(),
        "the container left mounts in the host's mount table: {left:?}\n\
         hint: unmount the tmpfs in `child` once the command has ended, as /proc"
    );
}

#[test]
fn close_inherited_fds() {
    let _serial = serial();
    // A descriptor without close-on-exec, as a careless caller of `run` leaves one:
    // every process this test starts inherits it while `leaked` is open.
    let leaked = open("/dev/null", OFlag::O_RDONLY, Mode::empty())
        .unwrap_or_else(|err| panic!("open /dev/null: {err}"));
    let out = step().run(&["/bin/ls", "/proc/self/fd"]);
    drop(leaked);
    assert_eq!(out.code, 0, "the container failed: {out:?}");
    let fds: Vec<&str> = out.stdout.lines().collect();
    let beyond_stdio: Vec<&str> =
        fds.iter().copied().filter(|fd| !["0", "1", "2"].contains(fd)).collect();
    assert!(
        ["0", "1", "2"].iter().all(|fd| fds.contains(fd)) && beyond_stdio.len() == 1,
        "expected `ls /proc/self/fd` inside to list 0, 1, 2 and the one descriptor ls opens \
         to read that directory; it listed {fds:?}: the command inherited {} more from the \
         caller of `run` (this test left one open on purpose)\n\
         hint: in `child`, mark every descriptor above 2 close-on-exec before starting the command",
        beyond_stdio.len().saturating_sub(1)
    );
}
