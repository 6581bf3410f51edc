//! The checks of step 7's exercises (step07-cgroups/exercises/README.md). Each one
//! fails until its exercise is solved: `cargo test -p step07-cgroups --test exercises`.

use std::fs;
use std::path::PathBuf;

use harness::escapes::{self, Host};
use harness::{
    Output, assert_option_accepted, cgroup_hierarchy, cgroup_of, cgroups_printed, claim,
    host_namespace_link, pids_hierarchy, read_cgroup_file, step,
};

/// Once a container has ended, none of its cgroups is left: not `seen` (where the
/// test found its PID 1), nor one named after its `run` in the hierarchy of pids or
/// of `controllers`. Any left is removed (empty by then) before the test fails.
fn assert_no_cgroup_left(out: &Output, seen: &[PathBuf], controllers: &[&str]) {
    let name = out.cgroup_name();
    let hierarchies = controllers.iter().map(|c| cgroup_hierarchy(c).0).chain([pids_hierarchy()]);
    let mut left: Vec<PathBuf> =
        seen.iter().cloned().chain(hierarchies.map(|h| h.join(&name))).collect();
    left.sort();
    left.dedup();
    left.retain(|cgroup| cgroup.exists());
    for cgroup in &left {
        // rmdir refuses a cgroup that still has a process, or is a hierarchy's root.
        let _ = fs::remove_dir(cgroup);
    }
    assert!(left.is_empty(), "cgroups left behind after the container ended: {left:?}");
}

fn cgroup_namespace() {
    let script = "cat /proc/self/cgroup; echo --; readlink /proc/self/ns/cgroup";
    let out = step!().run(&["--cgroupns", "/bin/sh", "-c", script]);
    assert_option_accepted(&out, "--cgroupns");
    assert_eq!(out.code, 0, "the container failed: {out:?}");
    let (cgroups, namespace) = out.stdout.split_once("--\n").unwrap_or_default();
    let cgroups = cgroups_printed(cgroups);
    let host_paths: Vec<&str> =
        cgroups.iter().map(|cgroup| cgroup.pathname.as_str()).filter(|path| *path != "/").collect();
    assert!(
        !cgroups.is_empty() && host_paths.is_empty(),
        "expected every line of /proc/self/cgroup inside to end in `:/`; these show where the \
         host put the container: {host_paths:?}\n\
         hint: unshare(CLONE_NEWCGROUP) in `child`, after it has joined its cgroup"
    );
    assert_ne!(
        namespace.trim(),
        host_namespace_link("cgroup"),
        "the container's cgroup namespace is the host's"
    );
    assert_no_cgroup_left(&out, &[], &[]);
}

fn memory_max() {
    const LIMIT: &str = "16777216"; // 16 MiB
    let probe = step!().run(&["--memory-max", LIMIT, "/bin/true"]);
    assert_option_accepted(&probe, "--memory-max");
    assert_eq!(probe.code, 0, "the container failed: {probe:?}");

    let mut running =
        step!().start(&["--memory-max", LIMIT, "/bin/sh", "-c", "echo ready; read x"]);
    running.wait_for_line("ready");
    let cgroup = cgroup_of(running.container_init(), "memory");
    let (_, v2) = cgroup_hierarchy("memory");
    let file = if v2 { "memory.max" } else { "memory.limit_in_bytes" };
    let limit = read_cgroup_file(&cgroup, file);
    let out = running.finish();
    assert_eq!(
        limit,
        LIMIT,
        "expected the container's memory cgroup {} to have {file} = {LIMIT}\n\
         hint: on cgroup v1, memory has a hierarchy of its own: make a cgroup there too, \
         and have `child` join it",
        cgroup.display()
    );
    assert_no_cgroup_left(&out, &[cgroup], &["memory"]);

    // dd's buffer is 64 MiB, and reading /dev/zero into it touches every page of it.
    let args = ["--memory-max", LIMIT, "/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=64M"];
    let out = step!().run(&[&args[..], &["count=1"]].concat());
    assert_eq!(
        out.code,
        128 + 9,
        "expected `dd bs=64M` under a 16 MiB limit to be killed by the OOM killer (137, \
         128 + SIGKILL): {out:?}\nhint: is the command in the memory cgroup? Is swap limited too?"
    );
    assert_no_cgroup_left(&out, &[], &["memory"]);
}

fn cpu_max() {
    let probe = step!().run(&["--cpus", "0.1", "/bin/true"]);
    assert_option_accepted(&probe, "--cpus");
    assert_eq!(probe.code, 0, "the container failed: {probe:?}");

    // A busy loop for one second, under a tenth of a CPU: throttled in each period.
    let script = "timeout 1 sh -c 'while :; do :; done'; echo done; read x";
    let mut running = step!().start(&["--cpus", "0.1", "/bin/sh", "-c", script]);
    running.wait_for_line("done");
    let cgroup = cgroup_of(running.container_init(), "cpu");
    let (_, v2) = cgroup_hierarchy("cpu");
    let limit = if v2 {
        read_cgroup_file(&cgroup, "cpu.max")
    } else {
        let quota = read_cgroup_file(&cgroup, "cpu.cfs_quota_us");
        format!("{quota} {}", read_cgroup_file(&cgroup, "cpu.cfs_period_us"))
    };
    let stat = read_cgroup_file(&cgroup, "cpu.stat");
    let out = running.finish();
    assert_eq!(
        limit,
        "10000 100000",
        "expected the container's cpu cgroup {} to allow 10000 µs each 100000 µs (quota, \
         period)\nhint: on cgroup v1, cpu has a hierarchy of its own: make a cgroup there \
         too, and have `child` join it",
        cgroup.display()
    );
    let throttled = stat.lines().find_map(|line| line.strip_prefix("nr_throttled "));
    assert!(
        throttled.and_then(|n| n.parse::<u64>().ok()).is_some_and(|n| n > 0),
        "a busy loop of one second under --cpus 0.1 was never throttled; cpu.stat:\n{stat}"
    );
    assert_no_cgroup_left(&out, &[cgroup], &["cpu"]);
}

// The lock-down, one part each (../../book/src/break-out.md): each check tries in a
// container the escapes that part stops, with the very scripts of `cargo course
// escape` (harness::escapes: harmless to the host, what is written is the value
// read), and requires them held; then looks for the part where the kernel shows it.

/// Try the escape `name` of the book's table with its script in a container of the
/// program under test, and require it held (or skipped, when `may_skip`: this host
/// lacks what it needs, such as a block device under its `/`).
fn assert_held(name: &str, script: fn(&Host) -> String, may_skip: bool, hint: &str) {
    let host = Host::look().unwrap_or_else(|err| panic!("cannot look at the host: {err}"));
    let out = step!().sh(&script(&host));
    let verdict = out.stdout.lines().find(|line| {
        ["held ", "escaped ", "skipped "].iter().any(|verdict| line.starts_with(verdict))
    });
    let held =
        verdict.is_some_and(|v| v.starts_with("held ") || may_skip && v.starts_with("skipped "));
    claim(format!("the `{name}` escape (book: Break out, then lock down) is held"))
        .expected("held: the kernel refuses it")
        .shown(verdict.unwrap_or("no verdict: the container did not run the escape"))
        .program(&out)
        .hint(hint)
        .holds(held);
}

/// `cat FILE; echo --; …` of `files` in a container; what each printed.
/// `why_it_may_fail`, if not empty, is what the part makes fail, for the verdict.
fn read_inside(files: &[&str], why_it_may_fail: &str) -> Vec<String> {
    let script: Vec<String> = files.iter().map(|file| format!("cat {file}")).collect();
    let out = step!().sh(&script.join("; echo --; "));
    let why = match why_it_may_fail {
        "" => String::new(),
        why => format!(" ({why})"),
    };
    claim(format!("`cat {}` inside{why}", files.join(" ")))
        .expected("exit code 0")
        .program(&out)
        .holds(out.code == 0);
    out.stdout.split("--\n").map(String::from).collect()
}

/// The value of `field` in a /proc/PID/status (`CapEff:\t00000000000405fb`).
fn status_field<'a>(status: &'a str, field: &str) -> &'a str {
    let value = status.lines().find_map(|line| line.strip_prefix(field)?.strip_prefix(':'));
    value.unwrap_or("(none)").trim()
}

/// Docker's default capabilities, less CAP_MKNOD, CAP_NET_RAW, CAP_SETFCAP and
/// CAP_AUDIT_WRITE, as /proc/PID/status shows them: CHOWN, DAC_OVERRIDE, FOWNER,
/// FSETID, KILL, SETGID, SETUID, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT.
const KEPT_CAPABILITIES: &str = "00000000000405fb";

fn lock_capabilities() {
    let status = read_inside(
        &["/proc/1/status", "/proc/self/status"],
        "mount and umount2 need CAP_SYS_ADMIN: drop the capabilities after /proc is mounted, \
         and leave its unmount to the end of the mount namespace",
    );
    let none = "0000000000000000";
    let expected = [
        ("CapBnd", KEPT_CAPABILITIES),
        ("CapPrm", KEPT_CAPABILITIES),
        ("CapEff", KEPT_CAPABILITIES),
        ("CapInh", none),
        ("CapAmb", none),
        ("NoNewPrivs", "1"),
    ];
    for (who, status) in ["PID 1 (`child`)", "the command"].into_iter().zip(&status) {
        for (field, value) in expected {
            let shown = status_field(status, field);
            claim(format!("{field} of {who}, in its /proc/PID/status inside"))
                .expected(format!("{field}: {value}"))
                .shown(format!("{field}: {shown}{}", capability_difference(shown, value)))
                .hint(capability_hint(field, shown, value))
                .holds(shown == value);
        }
    }
    let hint = "without CAP_SYS_ADMIN no mount works; without CAP_MKNOD no device node";
    assert_held("cgroup limit", escapes::cgroup_limit, false, hint);
    assert_held("disk device", escapes::disk_device, true, hint);
}

/// What each field of /proc/PID/status is, and what sets it right; or, when a set
/// holds a few capabilities more than the ten, which.
fn capability_hint(field: &str, shown: &str, expected: &str) -> String {
    let more = match (u64::from_str_radix(shown, 16), u64::from_str_radix(expected, 16)) {
        (Ok(shown), Ok(expected)) => shown & !expected,
        _ => 0,
    };
    if field.starts_with("Cap") && (1..=3).contains(&more.count_ones()) {
        let names: Vec<String> =
            (0..64).filter(|bit| more & (1u64 << bit) != 0).map(capability_name).collect();
        return format!(
            "{field} keeps more than the ten: {}. Keep the ten only: with CAP_SYS_ADMIN, root \
             may mount (every mount escape); with CAP_MKNOD, make a node for the host's disk",
            names.join(" ")
        );
    }
    let hint = match field {
        "CapBnd" => {
            "CapBnd is the bounding set: on execve, root gets back every capability in it. \
             Drop each capability not kept from the bounding set, prctl(PR_CAPBSET_DROP, n), \
             first, while CAP_SETPCAP is still yours"
        }
        "CapPrm" | "CapEff" => {
            "keep the ten capabilities only, in the permitted and effective sets: capset(2), \
             version 3, two halves of 32 bits"
        }
        "CapInh" => {
            "CapInh is the inheritable set: execve passes it on to programs with file \
             capabilities. Clear it in the capset(2) call"
        }
        "CapAmb" => {
            "CapAmb is the ambient set: execve passes it on to every program. Clear it: \
             prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)"
        }
        _ => {
            "set no_new_privs, prctl(PR_SET_NO_NEW_PRIVS), so that no later execve (a setuid \
             program, a file with capabilities) gives any capability back"
        }
    };
    hint.to_string()
}

/// The capabilities a mask shown has more or fewer than the one expected, by name:
/// ` (more: CAP_SYS_ADMIN)`; nothing when either is not a mask.
fn capability_difference(shown: &str, expected: &str) -> String {
    let (Ok(shown), Ok(expected)) =
        (u64::from_str_radix(shown, 16), u64::from_str_radix(expected, 16))
    else {
        return String::new();
    };
    let names = |mask: u64| {
        let named = (0..64).filter(|bit| mask & (1u64 << bit) != 0).map(capability_name);
        named.collect::<Vec<_>>().join(" ")
    };
    let mut parts = Vec::new();
    if shown & !expected != 0 {
        parts.push(format!("more: {}", names(shown & !expected)));
    }
    if expected & !shown != 0 {
        parts.push(format!("fewer: {}", names(expected & !shown)));
    }
    match parts.is_empty() {
        true => String::new(),
        false => format!(" ({})", parts.join("; ")),
    }
}

/// A capability's name by its number (capabilities(7), linux/capability.h).
fn capability_name(number: u32) -> String {
    const NAMES: [&str; 41] = [
        "CHOWN",
        "DAC_OVERRIDE",
        "DAC_READ_SEARCH",
        "FOWNER",
        "FSETID",
        "KILL",
        "SETGID",
        "SETUID",
        "SETPCAP",
        "LINUX_IMMUTABLE",
        "NET_BIND_SERVICE",
        "NET_BROADCAST",
        "NET_ADMIN",
        "NET_RAW",
        "IPC_LOCK",
        "IPC_OWNER",
        "SYS_MODULE",
        "SYS_RAWIO",
        "SYS_CHROOT",
        "SYS_PTRACE",
        "SYS_PACCT",
        "SYS_ADMIN",
        "SYS_BOOT",
        "SYS_NICE",
        "SYS_RESOURCE",
        "SYS_TIME",
        "SYS_TTY_CONFIG",
        "MKNOD",
        "LEASE",
        "AUDIT_WRITE",
        "AUDIT_CONTROL",
        "SETFCAP",
        "MAC_OVERRIDE",
        "MAC_ADMIN",
        "SYSLOG",
        "WAKE_ALARM",
        "BLOCK_SUSPEND",
        "AUDIT_READ",
        "PERFMON",
        "BPF",
        "CHECKPOINT_RESTORE",
    ];
    match NAMES.get(number as usize) {
        Some(name) => format!("CAP_{name}"),
        None => format!("capability {number}"),
    }
}

fn lock_user_namespace() {
    let read = read_inside(&["/proc/self/uid_map", "/proc/self/gid_map"], "");
    for (kind, map) in ["uid", "gid"].into_iter().zip(&read) {
        // Each line: the first ID inside, the first outside, how many.
        let ranges: Vec<Vec<u64>> = map
            .lines()
            .map(|line| line.split_whitespace().filter_map(|n| n.parse().ok()).collect())
            .collect();
        let root_outside = ranges.iter().find(|r| r.len() == 3 && r[0] == 0).map(|r| r[1]);
        let maps_host_root = ranges.iter().any(|r| r.len() == 3 && r[1] == 0);
        let hint = match (root_outside, maps_host_root) {
            (_, true) if ranges == [vec![0, 0, u64::from(u32::MAX)]] => format!(
                "this is the host's own {kind} map: the container has no user namespace of its \
                 own, or one that maps every ID to itself, root included. clone (or unshare) with CLONE_NEWUSER together with the other namespaces, \
                 and have `run`, still outside, write the child's {kind}_map (user_namespaces(7))"
            ),
            (_, true) => format!(
                "the map gives the host's {kind} 0, root, to the container: root inside is root \
                 outside. Map 0 inside to an unprivileged {kind} of its own: root's range in \
                 /etc/sub{kind}, else nobody (65534); never to your own ID, when that is 0"
            ),
            (None, false) => format!(
                "{kind} 0 inside has no map: have `run`, outside, write /proc/CHILD/{kind}_map \
                 (`0 FIRST COUNT`) before the child goes on"
            ),
            (Some(_), false) => String::new(),
        };
        claim(format!("/proc/self/{kind}_map inside: root inside is not root outside"))
            .expected(format!(
                "{kind} 0 mapped to an unprivileged {kind} outside, and the host's 0 to none: \
                 `0 65534 1`, or a range of /etc/sub{kind} such as `0 100000 65536`"
            ))
            .shown(format!("{}\n(`0 0 4294967295` is the host's own)", map.trim_end()))
            .hint(hint)
            .holds(root_outside.is_some_and(|id| id != 0) && !maps_host_root);
    }
    let hint = "root inside must be an unprivileged user outside: the host's settings and \
                cgroup files belong to the host's root";
    assert_held("/proc/sys", escapes::proc_sys, false, hint);
    assert_held("cgroup limit", escapes::cgroup_limit, false, hint);
}

/// runc's read-only paths of /proc, and its masked ones (each where this kernel has it).
const READ_ONLY: [&str; 5] =
    ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];
const MASKED: [&str; 9] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/timer_list",
    "/proc/timer_stats",
];

fn lock_masked_paths() {
    let paths = READ_ONLY.iter().chain(&MASKED).copied().collect::<Vec<_>>().join(" ");
    let script = format!(
        "cat /proc/self/mountinfo; echo --; for f in {paths}; do [ -e $f ] && echo $f; done; true"
    );
    let out = step!().sh(&script);
    claim("the container runs").expected("exit code 0").program(&out).holds(out.code == 0);
    let (mountinfo, present) = out.stdout.split_once("--\n").unwrap_or_default();
    // The last mount at a mount point is the one seen there: its options (field 6).
    let options_at = |path: &str| {
        let fields = |line: &str| line.split(' ').map(String::from).collect::<Vec<_>>();
        mountinfo.lines().map(fields).rfind(|f| f.len() > 5 && f[4] == path).map(|f| f[5].clone())
    };
    let present: Vec<&str> = present.lines().collect();
    for path in READ_ONLY.into_iter().filter(|path| *path == "/proc/sys" || present.contains(path))
    {
        let options = options_at(path);
        let read_only = options.as_deref().is_some_and(|o| o.split(',').any(|o| o == "ro"));
        let hint = match options {
            None => format!(
                "no mount at {path}: after /proc is mounted (not before: the proc mount would \
                 cover it), bind-mount {path} on itself, then remount that bind mount read-only"
            ),
            Some(_) => format!(
                "the mount at {path} is there, but read-write: the kernel ignores MS_RDONLY in \
                 the call that makes a bind mount (it takes the flags of the mount it copies). \
                 Remount it: mount(NULL, {path}, MS_BIND | MS_REMOUNT | MS_RDONLY)"
            ),
        };
        claim(format!("{path} is a read-only mount in /proc/self/mountinfo inside"))
            .expected(format!("a mount at {path} whose options start with `ro`"))
            .shown(
                options
                    .as_deref()
                    .map_or(format!("no mount at {path}"), |o| format!("options {o}")),
            )
            .hint(hint)
            .holds(read_only);
    }
    for path in MASKED.into_iter().filter(|path| present.contains(path)) {
        claim(format!("{path} is hidden inside"))
            .expected(format!("a mount at {path}: /dev/null bound on a file, an empty read-only tmpfs on a directory"))
            .shown(format!("no mount at {path}: the host's, readable"))
            .hint("after /proc is mounted: mount /dev/null (MS_BIND) over each such file")
            .holds(options_at(path).is_some());
    }
    let hint = "/proc/sys must be mounted read-only in the container";
    assert_held("/proc/sys", escapes::proc_sys, false, hint);
}

fn lock_seccomp() {
    let status = read_inside(
        &["/proc/1/status", "/proc/self/status"],
        "the filter refuses mount and umount2: install it after /proc is mounted, and leave \
         its unmount to the end of the mount namespace",
    );
    for (who, status) in ["PID 1 (`child`)", "the command"].into_iter().zip(&status) {
        let shown = status_field(status, "Seccomp");
        claim(format!("Seccomp of {who}, in its /proc/PID/status inside"))
            .expected("Seccomp: 2 (a filter: SECCOMP_MODE_FILTER)")
            .shown(format!("Seccomp: {shown}"))
            .hint(
                "in `child`, before the command starts: install a BPF filter with \
                 prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, …) (seccomp(2)); the command \
                 inherits it",
            )
            .holds(shown == "2");
    }
    let hint = "the filter must refuse mount(2) (and the new mount API) with EPERM, whatever \
                the capabilities";
    assert_held("fresh proc", escapes::fresh_proc, false, hint);
    assert_held("cgroup limit", escapes::cgroup_limit, false, hint);
    assert_foreign_calls_refused();
}

/// An x86_64 process may also make the system calls of i386 (`int 0x80`), whose
/// numbers differ: mount is 21 there, x86_64's access. A filter that does not check
/// the architecture lets it through. A 32-bit program of 164 bytes tries it: it
/// mounts a tmpfs on /tmp and unmounts it (exit code 0), or exits with the errno.
fn assert_foreign_calls_refused() {
    let octal: String = i386_mount_program().iter().map(|byte| format!("\\{byte:03o}")).collect();
    let script = format!(
        "f=$(mktemp /tmp/i386-mount.XXXXXX) && printf '{octal}' > $f && chmod +x $f || exit 90\n\
         $f; echo \"code $?\"; rm -f $f"
    );
    let out = step!().sh(&script);
    let code = out.stdout.lines().find_map(|line| line.strip_prefix("code "));
    let code: Option<i32> = code.and_then(|code| code.trim().parse().ok());
    // 128 + SIGSYS: the filter killed it; EPERM: refused. Anything else: this kernel
    // runs no 32-bit program (no IA32 emulation), and there is nothing to check.
    if !matches!(code, Some(0 | 1 | 159)) {
        return;
    }
    claim("a 32-bit (i386) mount(2), made through `int 0x80` inside, is refused")
        .expected("killed by SIGSYS (exit code 159), or refused with EPERM (exit code 1)")
        .shown(match code {
            Some(0) => "exit code 0: it mounted a tmpfs on /tmp (and unmounted it)".to_string(),
            other => format!("exit code {other:?}"),
        })
        .hint(
            "the filter checks the architecture first (offset 4 of seccomp_data, \
             AUDIT_ARCH_X86_64) and kills any other: an i386 call has other numbers, and \
             mount is 21 there, x86_64's access, which the filter lets through",
        )
        .holds(code != Some(0));
}

/// A static i386 ELF program: mount("none", "/tmp", "tmpfs", 0, NULL), then on
/// success umount2("/tmp", 0) and exit 0, else exit with the errno.
fn i386_mount_program() -> Vec<u8> {
    const BASE: u32 = 0x0804_8000; // where it is loaded
    const HEADERS: u32 = 52 + 32; // the ELF header, one program header
    const CODE: u32 = 64; // the length of `code` below
    let data = b"none\0/tmp\0tmpfs\0";
    let (none, tmp, tmpfs) =
        (BASE + HEADERS + CODE, BASE + HEADERS + CODE + 5, BASE + HEADERS + CODE + 10);
    let le = |n: u32| n.to_le_bytes();
    let mut code = Vec::new();
    code.extend([0xb8].iter().chain(&le(21))); // mov eax, 21 (mount)
    code.extend([0xbb].iter().chain(&le(none))); // mov ebx, source
    code.extend([0xb9].iter().chain(&le(tmp))); // mov ecx, target
    code.extend([0xba].iter().chain(&le(tmpfs))); // mov edx, type
    code.extend([0x31, 0xf6, 0x31, 0xff, 0xcd, 0x80]); // xor esi, esi; xor edi, edi; int 0x80
    code.extend([0x85, 0xc0, 0x75, 23]); // test eax, eax; jnz +23 (to `failed`)
    code.extend([0xb8].iter().chain(&le(52))); // mov eax, 52 (umount2)
    code.extend([0xbb].iter().chain(&le(tmp))); // mov ebx, target
    code.extend([0x31, 0xc9, 0xcd, 0x80]); // xor ecx, ecx; int 0x80
    code.extend([0x31, 0xdb, 0xb8, 1, 0, 0, 0, 0xcd, 0x80]); // exit(0)
    code.extend([0xf7, 0xd8, 0x89, 0xc3, 0xb8, 1, 0, 0, 0, 0xcd, 0x80]); // failed: exit(-eax)
    assert_eq!(code.len() as u32, CODE, "the i386 program's code changed length");
    let size = HEADERS + CODE + data.len() as u32;
    let mut elf = b"\x7fELF\x01\x01\x01".to_vec(); // 32-bit, little-endian, version 1
    elf.resize(16, 0);
    // e_type EXEC, e_machine 386, e_version, e_entry, e_phoff, e_shoff, e_flags,
    // e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx.
    for half in [2u16, 3] {
        elf.extend(half.to_le_bytes());
    }
    for word in [1, BASE + HEADERS, 52, 0, 0] {
        elf.extend(le(word));
    }
    for half in [52u16, 32, 1, 0, 0, 0] {
        elf.extend(half.to_le_bytes());
    }
    // One PT_LOAD of the whole file, readable and executable.
    for word in [1, 0, BASE, BASE, size, size, 5, 0x1000] {
        elf.extend(le(word));
    }
    elf.extend(code);
    elf.extend(data);
    elf
}

fn lock_network() {
    let script = "readlink /proc/self/ns/net; echo --; sed -n '3,$s/:.*//p' /proc/net/dev";
    let out = step!().sh(script);
    claim("the container runs").expected("exit code 0").program(&out).holds(out.code == 0);
    let (namespace, interfaces) = out.stdout.split_once("--\n").unwrap_or_default();
    let host = host_namespace_link("net");
    let hint = "add CLONE_NEWNET to the namespaces `run` makes";
    claim("the `network` escape (book: Break out, then lock down) is held: readlink /proc/self/ns/net inside")
        .expected(format!("a network namespace other than the host's {host}"))
        .shown(namespace.trim())
        .hint(hint)
        .holds(namespace.trim() != host);
    let interfaces: Vec<&str> = interfaces.split_whitespace().collect();
    claim("the interfaces inside (/proc/net/dev)")
        .expected("lo only")
        .shown(interfaces.join(" "))
        .hint(hint)
        .holds(interfaces == ["lo"]);
}

harness::tests!(
    cgroup_namespace,
    memory_max,
    cpu_max,
    lock_capabilities,
    lock_user_namespace,
    lock_masked_paths,
    lock_seccomp,
    lock_network
);
