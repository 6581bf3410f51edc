//! The checks of step 5's exercises (step05-chroot-proc/exercises/README.md). Each one
//! fails until its exercise is solved: `cargo test -p step05-chroot-proc --test exercises`.
//!
//! Every test holds `serial()`: step 5 containers share the host's mount table.

use std::fs;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use harness::{HostMounts, assert_option_accepted, claim, rootfs, serial, step};
use nix::fcntl::{FcntlArg, OFlag, fcntl, open};
use nix::sys::stat::Mode;

fn tmpfs_on_tmp() {
    let _serial = serial();
    let host = HostMounts::now();
    let name = format!("tmpfs-on-tmp-{}", std::process::id());
    let on_host = rootfs().join("tmp").join(&name);
    let script = format!("grep ' /tmp ' /proc/mounts; echo inside > /tmp/{name}");
    let out = step!().run(&["--tmpfs", "/tmp", "/bin/sh", "-c", &script]);
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
    assert_tmpfs_on_the_directory_asked_for();
    assert_no_tmpfs_without_the_option();
    assert_tmpfs_unmounted_when_the_command_is_not_found();
}

/// `--tmpfs DIR` mounts the tmpfs on DIR, whichever directory it names.
fn assert_tmpfs_on_the_directory_asked_for() {
    // Detaches, when dropped, what a wrong program leaves on the host.
    let _host = HostMounts::now();
    let out = step!().run(&["--tmpfs", "/root", "/bin/sh", "-c", "grep tmpfs /proc/mounts"]);
    let points: Vec<&str> = out.stdout.lines().filter_map(|line| line.split(' ').nth(1)).collect();
    claim("`run --tmpfs /root` mounts the tmpfs on /root, the directory asked for")
        .expected("exit code 0, and a tmpfs on /root (and none on /tmp) in /proc/mounts inside")
        .program(&out)
        .shown(format!("tmpfs mounts inside: {points:?}"))
        .hint(
            "mount the tmpfs on the DIR that --tmpfs names, passed on from `run` to `child`, \
             not on a /tmp written in the code",
        )
        .holds(out.code == 0 && points == ["/root"]);
}

/// Without `--tmpfs`, no tmpfs: nothing changes.
fn assert_no_tmpfs_without_the_option() {
    // Detaches, when dropped, what a wrong program leaves on the host.
    let _host = HostMounts::now();
    let out = step!().run(&["/bin/sh", "-c", "grep tmpfs /proc/mounts; true"]);
    claim("without --tmpfs, no tmpfs is mounted inside")
        .expected("exit code 0, and no tmpfs in /proc/mounts inside")
        .program(&out)
        .hint(
            "mount a tmpfs only when --tmpfs is given: an `Option<PathBuf>` with no default \
             value, and nothing mounted when it is None",
        )
        .holds(out.code == 0 && out.stdout.is_empty());
}

/// The tmpfs is unmounted however the command ends: also when it cannot start.
fn assert_tmpfs_unmounted_when_the_command_is_not_found() {
    let host = HostMounts::now();
    let out = step!().run(&["--tmpfs", "/tmp", "/bin/nosuch"]);
    let left = host.added();
    claim("`run --tmpfs /tmp /bin/nosuch` leaves nothing mounted on the host")
        .expected("exit code 127, and no mount below the root filesystem on the host")
        .program(&out)
        .shown(format!("mounts left: {left:?}"))
        .hint(
            "unmount the tmpfs once the command has ended, however it ended: an early return \
             (`?`) when the command could not start must not skip the unmount",
        )
        .holds(out.code == 127 && left.is_empty());
}

fn close_inherited_fds() {
    let _serial = serial();
    // Descriptors without close-on-exec, as a careless caller of `run` leaves them:
    // every process this test starts inherits them while they are open. One low, the
    // lowest free, and one high, with a gap between: a loop that stops at the first
    // descriptor not open, or at a fixed number, misses the high one.
    let leaked = open("/dev/null", OFlag::O_RDONLY, Mode::empty())
        .unwrap_or_else(|err| panic!("open /dev/null: {err}"));
    // F_DUPFD (not F_DUPFD_CLOEXEC): the copy is not close-on-exec either.
    let high = fcntl(&leaked, FcntlArg::F_DUPFD(HIGH_FD))
        .unwrap_or_else(|err| panic!("fcntl(F_DUPFD, {HIGH_FD}): {err}"));
    let (low_number, high_number) = (leaked.as_raw_fd().to_string(), high.to_string());
    let out = step!().run(&["/bin/ls", "/proc/self/fd"]);
    // SAFETY: `high` is the descriptor F_DUPFD just made, ours alone; closed once.
    drop(unsafe { OwnedFd::from_raw_fd(high) });
    drop(leaked);
    assert_eq!(out.code, 0, "the container failed: {out:?}");
    let fds: Vec<&str> = out.stdout.lines().collect();
    let beyond_stdio: Vec<&str> =
        fds.iter().copied().filter(|fd| !["0", "1", "2"].contains(fd)).collect();
    let high = high_number.as_str();
    claim("the command inherits none of the descriptors the caller of `run` left open")
        .expected(format!(
            "`ls /proc/self/fd` inside lists 0, 1, 2 and the one descriptor ls opens to read \
             that directory (the lowest free); not {low_number} nor {high} besides, which this \
             test left open on purpose"
        ))
        .program(&out)
        .shown(format!("descriptors above 2: {beyond_stdio:?}"))
        .hint(
            "in `child`, mark every descriptor above 2 close-on-exec before starting the \
             command: all those /proc/self/fd lists, not only up to the first one that is not \
             open, nor up to a fixed number",
        )
        .holds(
            ["0", "1", "2"].iter().all(|fd| fds.contains(fd))
                && !fds.contains(&high)
                && beyond_stdio.len() == 1,
        );
}

/// The high descriptor `close_inherited_fds` leaves open, far above the others.
const HIGH_FD: i32 = 1000;

harness::tests!(tmpfs_on_tmp, close_inherited_fds);
