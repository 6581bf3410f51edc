//! The escapes, as data: for each, its name, what it tries, how it is judged, what
//! would stop it, and how it runs inside (a busybox script, or the probe).

use super::host::Host;
use super::probe::Probe;
use harness::escapes as scripts;

/// One escape of the suite.
pub struct Escape {
    /// Its name on the report's line, e.g. `cgroup limit`.
    pub name: &'static str,
    /// What it tries, in a few words.
    pub tries: &'static str,
    /// How it is judged: what counts as escaped.
    pub judged: &'static str,
    /// How it runs inside the container.
    pub inside: Inside,
}

/// How an escape runs inside the container.
pub enum Inside {
    /// A busybox `sh -c` script, made from what we know of the host.
    Script(fn(&Host) -> String),
    /// This program itself, copied inside: `course escape --probe NAME`.
    Probe(Probe),
}

/// Every escape, in the order the report prints them.
pub const ESCAPES: &[Escape] = &[
    Escape {
        name: "cgroup limit",
        tries: "mount the pids hierarchy (cgroup v1, else cgroup2), find the container's own \
                cgroup in /proc/self/cgroup, write its pids.max back",
        judged: "escaped if the mount and the write both succeed",
        inside: Inside::Script(scripts::cgroup_limit),
    },
    Escape {
        name: "release_agent",
        tries: "mount the cgroup v1 pids hierarchy and write its release_agent back",
        judged: "escaped if the write succeeds (the kernel runs that program as root on the host)",
        inside: Inside::Script(scripts::release_agent),
    },
    Escape {
        name: "/proc/sys",
        tries: "write /proc/sys/kernel/core_pattern back, through the container's /proc",
        judged: "escaped if the write succeeds and it reads the same after",
        inside: Inside::Script(scripts::proc_sys),
    },
    Escape {
        name: "fresh proc",
        tries: "mount a proc of its own at /tmp/escape-proc, write core_pattern back through it",
        judged: "escaped if the mount and the write succeed",
        inside: Inside::Script(scripts::fresh_proc),
    },
    Escape {
        name: "sysfs",
        tries: "mount sysfs, open a root-only file of it for writing (nothing written)",
        judged: "escaped if the mount succeeds and the open for writing too",
        inside: Inside::Script(scripts::sysfs),
    },
    Escape {
        name: "disk device",
        tries: "mknod the host's root filesystem's device (its major:minor, from outside), \
                read its first sector",
        judged: "escaped if a sector is read",
        inside: Inside::Script(scripts::disk_device),
    },
    Escape {
        name: "disk mount",
        tries: "mknod the same device and mount it as the host has it (ro or rw), list it, \
                unmount it",
        judged: "escaped if the mount succeeds",
        inside: Inside::Script(scripts::disk_mount),
    },
    Escape {
        name: "chroot",
        tries: "chroot into a subdirectory while holding /, fchdir back, `..` up to the top, \
                chroot there",
        judged: "escaped if the root reached is not the container's own",
        inside: Inside::Probe(Probe::Chroot),
    },
    Escape {
        name: "sysrq-trigger",
        tries: "open /proc/sysrq-trigger for writing (nothing written)",
        judged: "escaped if the open succeeds",
        inside: Inside::Script(scripts::sysrq_trigger),
    },
    Escape {
        name: "kcore",
        tries: "read the first 4 bytes of /proc/kcore, the host kernel's memory",
        judged: "escaped if they are an ELF header",
        inside: Inside::Script(scripts::kcore),
    },
    Escape {
        name: "kernel module",
        tries: "init_module with 64 zero bytes (no module)",
        judged: "escaped if the kernel refuses the image rather than the caller (not EPERM)",
        inside: Inside::Probe(Probe::KernelModule),
    },
    Escape {
        name: "host process",
        tries: "kill -0 this suite's own PID on the host (signal 0 sends nothing)",
        judged: "escaped if the PID is found and is ours",
        inside: Inside::Script(scripts::host_process),
    },
    Escape {
        name: "network",
        tries: "compare the container's network namespace with the host's, list its interfaces",
        judged: "escaped if they are the same namespace",
        inside: Inside::Script(scripts::network),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_at_least_eight() {
        let mut names: Vec<&str> = ESCAPES.iter().map(|escape| escape.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ESCAPES.len());
        assert!(names.len() >= 8);
    }

    #[test]
    fn every_script_ends_in_a_verdict() {
        let host = Host { pid: 7, net_namespace: "net:[1]".into(), root: None };
        for escape in ESCAPES {
            if let Inside::Script(script) = escape.inside {
                let text = script(&host);
                let last = text.trim_end().lines().last().unwrap_or_default();
                let ends = ["held ", "escaped ", "skipped "].iter().any(|w| last.starts_with(w));
                assert!(ends, "{}: its last line is {last:?}", escape.name);
            }
        }
    }
}
