//! The checks of step 5's exercises (step05-chroot-proc/exercises/README.md). Each one
//! fails until its exercise is solved: `cargo test -p step05-chroot-proc --test exercises`.
//!
//! Every test holds `serial()`: step 5 containers share the host's mount table.

use std::fs;

use harness::{HostMounts, assert_option_accepted, rootfs, serial, step};
use nix::fcntl::{OFlag, open};
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
}

fn close_inherited_fds() {
    let _serial = serial();
    // A descriptor without close-on-exec, as a careless caller of `run` leaves one:
    // every process this test starts inherits it while `leaked` is open.
    let leaked = open("/dev/null", OFlag::O_RDONLY, Mode::empty())
        .unwrap_or_else(|err| panic!("open /dev/null: {err}"));
    let out = step!().run(&["/bin/ls", "/proc/self/fd"]);
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

harness::tests!(tmpfs_on_tmp, close_inherited_fds);
