//! The checks of step 2's exercises (step02-uts/exercises/README.md). Each fails
//! on the step as it is, and passes once the exercise is solved.
//!
//!     cargo test -p step02-uts --test exercises -- NAME

use std::fs;
use std::process::Command;

use harness::{assert_host_hostname_kept, busybox, host_hostname, step};

fn hostname_flag() {
    step!().assert_hostname_flag(
        "an option in `Target`, and nix::unistd::sethostname in `run`, after unshare",
    );

    // The kernel takes at most 64 bytes (HOST_NAME_MAX).
    let long = "x".repeat(65);
    let out = step!().run(&["--hostname", &long, &busybox(), "hostname"]);
    assert_eq!(
        out.code, 125,
        "a 65-byte hostname, which sethostname refuses: expected exit code 125 with one line \
         on stderr, got {}\nstdout: {}stderr: {}\nhint: turn sethostname's error into a Failure \
         with the `failed` helper",
        out.code, out.stdout, out.stderr
    );
    assert_eq!(out.stdout, "", "the command ran although the hostname could not be set");
    assert_eq!(out.stderr.lines().count(), 1, "expected one line on stderr:\n{}", out.stderr);
    assert_host_hostname_kept();
    step!().assert_hostname_without_the_option(
        host_hostname(),
        "without the option, the hostname stays a copy of the host's: call sethostname only when \
         --hostname is given (an Option<String>, no default)",
    );
}

/// A System V message queue made on the host with ipcmk(1), removed when dropped.
struct HostQueue {
    id: String,
}

impl HostQueue {
    fn new() -> HostQueue {
        let out = Command::new("ipcmk")
            .arg("-Q")
            .output()
            .unwrap_or_else(|err| panic!("cannot run ipcmk (util-linux): {err}"));
        let printed = String::from_utf8_lossy(&out.stdout);
        // "Message queue id: 3"
        let id = printed.rsplit(':').next().unwrap_or_default().trim().to_owned();
        assert!(out.status.success() && id.parse::<u32>().is_ok(), "ipcmk -Q failed: {out:?}");
        HostQueue { id }
    }

    /// Whether a /proc/sysvipc/msg listing holds this queue (its second column, msqid).
    fn listed_in(&self, listing: &str) -> bool {
        listing.lines().skip(1).any(|line| line.split_whitespace().nth(1) == Some(&self.id))
    }
}

impl Drop for HostQueue {
    fn drop(&mut self) {
        let _ = Command::new("ipcrm").args(["-q", &self.id]).status();
    }
}

fn ipc_namespace() {
    step!().assert_exactly_these_namespaces_new(
        &["--ipc", "private"],
        &["ipc", "uts"],
        "a value enum option `--ipc host|private`; with `private`, add \
         CloneFlags::CLONE_NEWIPC to the unshare call",
    );
    for options in [&["--ipc", "host"][..], &[]] {
        step!().assert_exactly_these_namespaces_new(
            options,
            &["uts"],
            "`--ipc host`, the default, keeps the host's IPC namespace: CLONE_NEWIPC only \
             with `private`",
        );
    }
    step!().assert_option_value_refused("--ipc", "hots", "host, private");

    // What the IPC namespace isolates: the host's queue is not the container's.
    let queue = HostQueue::new();
    let host = fs::read_to_string("/proc/sysvipc/msg").unwrap_or_default();
    assert!(queue.listed_in(&host), "the host does not list its own queue {}:\n{host}", queue.id);
    let out = step!().run(&["--ipc", "private", &busybox(), "cat", "/proc/sysvipc/msg"]);
    assert!(
        out.code == 0 && !queue.listed_in(&out.stdout),
        "the container sees the host's message queue {} in /proc/sysvipc/msg:\n{}",
        queue.id,
        out.stdout
    );
    let out = step!().run(&[&busybox(), "cat", "/proc/sysvipc/msg"]);
    assert!(
        queue.listed_in(&out.stdout),
        "without --ipc, the container should share the host's IPC namespace and see queue {}:\n{}",
        queue.id,
        out.stdout
    );
}

harness::tests!(hostname_flag, ipc_namespace);
