//! Step 7, locked down: the same container, with the ways out of it closed.
//!
//! `lockdown run [--pids-max N] [--rootfs DIR] CMD [ARGS]...` keeps step 7's contract
//! (UTS, PID and mount namespaces, a fresh /proc, a pids cgroup) and adds, one part
//! each, what `cargo course escape` finds missing in step 7: `pivot_root` instead
//! of chroot; capabilities dropped to a few, and no_new_privs; a user namespace,
//! whose root is nobody outside; /proc's dangerous files read-only or hidden; a
//! seccomp filter; a network namespace. Each part says which escapes it stops.
//!
//! For measuring, `LOCKDOWN_WITHOUT=FEATURE,...` (or the hidden `--without`) turns
//! parts off: then the escapes they stop come back.

use std::ffi::{OsStr, OsString};
use std::fmt::Display;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::{fs, io};

use caps::{CapSet, Capability};
use clap::{Args, Parser, Subcommand, ValueEnum};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, clone};
use nix::sys::prctl::{set_no_new_privs, set_pdeathsig};
use nix::sys::signal::{SIGCHLD, SIGKILL, SigSet, Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{
    Gid, Pid, Uid, User, chdir, chroot, getegid, geteuid, getpid, getppid, pipe2, pivot_root, read,
    setgroups, sethostname, setresgid, setresuid,
};

// ANCHOR: cli
#[derive(Parser)]
#[command(about = "Step 7 locked down: its container, with the ways out closed")]
struct Cli {
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand)]
enum Action {
    /// Run CMD with ARGS in a container, wired to this terminal
    Run(Target),
    /// Inside the container: finish setting it up, then run CMD (started by `run`)
    #[command(hide = true)]
    Child(Target),
}

/// The command to run, exactly as typed after `run`.
#[derive(Args)]
struct Target {
    /// Root filesystem of the container [default: the course's busybox tree]
    #[arg(long, value_name = "DIR", env = "CONTAINER_ROOTFS")]
    rootfs: Option<PathBuf>,
    /// How many processes the container may have at once
    #[arg(long, value_name = "N", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=4_194_304))]
    pids_max: u32,
    /// Parts of the lock-down to leave out, to measure what each one stops
    #[arg(long, hide = true, env = "LOCKDOWN_WITHOUT", value_delimiter = ',')]
    without: Vec<Feature>,
    /// The program to run, then its arguments, passed on untouched (hyphens included)
    #[arg(value_name = "CMD", required = true, trailing_var_arg = true)]
    argv: Vec<OsString>,
}
// ANCHOR_END: cli

/// The parts of the lock-down, each of which `--without` can leave out.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Feature {
    PivotRoot,
    Capabilities,
    Userns,
    MaskedPaths,
    Seccomp,
    Netns,
}

impl Feature {
    fn name(self) -> String {
        self.to_possible_value().map(|value| value.get_name().to_string()).unwrap_or_default()
    }
}

impl Target {
    fn with(&self, feature: Feature) -> bool {
        !self.without.contains(&feature)
    }
}

/// Why the container did not run, and the exit code that says who failed.
struct Failure {
    code: u8,
    message: String,
}

// ANCHOR: main
fn main() -> ExitCode {
    let outcome = match Cli::parse().action {
        Action::Run(target) => run(&target),
        Action::Child(target) => child(&target),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("{}: {}", env!("CARGO_PKG_NAME"), failure.message);
            ExitCode::from(failure.code)
        }
    }
}
// ANCHOR_END: main

// ANCHOR: run
/// Outside the container: start ourselves again inside new namespaces, hold that
/// child until it is set up from here, then wait for it.
fn run(target: &Target) -> Result<u8, Failure> {
    // First: building the root filesystem starts processes of its own.
    let rootfs = rootfs_dir(target)?;
    let signals = block_signals()?;
    let cgroup = if geteuid().is_root() {
        Some(create_cgroup(target.pids_max)?)
    } else {
        delegated_cgroup(target.pids_max)
    };
    let code = start_container(target, &rootfs, cgroup.as_deref(), &signals);
    match &cgroup {
        Some(cgroup) => remove_cgroup(cgroup).and(code),
        None => code,
    }
}

// Lock-down 3: a user namespace. Stops /proc/sys and fresh proc (the host's kernel
// settings belong to the host's root, which root in here no longer is), and holds
// every other escape a second time: what the container's root may do, it may do
// only to what its own user namespace owns.
// Every other namespace belongs to a user namespace: the one its creator was in.
// So it must come first, or together with the others: clone(2) with all the
// flags makes the user namespace first, then the rest, owned by it, and starts
// the child in them as PID 1 at once (unshare would not move us into the PID
// namespace; step 7 re-executed itself for that). `run` stays outside, in the host's
// namespaces: from there it writes the child's ID maps and joins it to its cgroup,
// which the child, root in its namespace only, may not.
/// Start `child` in new namespaces, held until `run` has set it up; wait for it.
fn start_container(
    target: &Target,
    rootfs: &Path,
    cgroup: Option<&Path>,
    signals: &SigSet,
) -> Result<u8, Failure> {
    let mut namespaces =
        CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS;
    if target.with(Feature::Userns) {
        namespaces |= CloneFlags::CLONE_NEWUSER;
    }
    // Lock-down 6: a network namespace. Stops `network`: step 7 shares the host's
    // interfaces and ports. The new one has only a loopback interface, down.
    if target.with(Feature::Netns) {
        namespaces |= CloneFlags::CLONE_NEWNET;
    }
    // /proc/self/exe is the program this process runs: this very binary.
    let mut reexec = Command::new("/proc/self/exe");
    reexec.arg("child").arg("--rootfs").arg(rootfs);
    for feature in &target.without {
        reexec.arg(format!("--without={}", feature.name()));
    }
    reexec.args(&target.argv);
    // The child waits on this pipe until we write a byte: until its IDs are mapped
    // and it is in its cgroup. Should we die first, it reads the end of the pipe.
    let (held, release) = pipe2(OFlag::O_CLOEXEC).map_err(|err| failed("pipe2", err))?;
    let become_root = target.with(Feature::Userns);
    let release_fd = release.as_raw_fd();
    let mut stack = vec![0u8; 1 << 20];
    let in_child = Box::new(move || {
        // SAFETY: our copy of the writing end, which we close so that `run`'s death
        // ends the pipe; `run`'s own copy lives in its own memory.
        drop(unsafe { OwnedFd::from_raw_fd(release_fd) });
        let mut byte = [0u8];
        if read(&held, &mut byte) != Ok(1) {
            return 125;
        }
        let failure = enter_namespaces(&mut reexec, become_root);
        eprintln!("{}: {}", env!("CARGO_PKG_NAME"), failure.message);
        failure.code as isize
    });
    // SAFETY: we are single-threaded, so the child (a copy of us, as after fork) runs
    // `in_child` with no lock held by another thread; it only reads, calls setuid,
    // prctl and sigprocmask, and execs or exits. Its stack is `stack`, 1 MiB.
    let child = unsafe { clone(in_child, &mut stack, namespaces, Some(SIGCHLD as i32)) }
        .map_err(|err| failed(format_args!("clone({namespaces:?})"), err))?;
    let ready = (if become_root { map_ids(child) } else { Ok(()) })
        .and_then(|()| cgroup.map_or(Ok(()), |cgroup| join_cgroup(cgroup, child)))
        .and_then(|()| {
            nix::unistd::write(&release, b"!")
                .map(drop)
                .map_err(|err| failed("write to the child", err))
        });
    if let Err(failure) = ready {
        let _ = kill(child, SIGKILL);
        let _ = waitpid(child, None);
        return Err(failure);
    }
    supervise(child, signals)
}

/// In the child, once `run` has set it up: become root of the user namespace, and
/// re-execute this program as `child`. Returns only if that failed.
fn enter_namespaces(reexec: &mut Command, become_root: bool) -> Failure {
    // The maps are written, but we still carry the host's IDs, which the user
    // namespace may not map: we take its root's. Supplementary groups go first,
    // while we may (rootless, the kernel forbids it: see map_ids).
    if become_root {
        let _ = setgroups(&[]);
        let root = setresgid(Gid::from_raw(0), Gid::from_raw(0), Gid::from_raw(0))
            .and_then(|()| setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0)));
        if let Err(err) = root {
            return failed("setresuid(0) in the user namespace", err);
        }
    }
    // After setresuid: the kernel clears the parent-death signal when our IDs change.
    if let Err(err) = SigSet::all().thread_unblock().and_then(|()| set_pdeathsig(SIGKILL)) {
        return failed("prctl(PR_SET_PDEATHSIG)", err);
    }
    io_failed("re-execute /proc/self/exe", reexec.exec())
}

/// Map root in the child's user namespace to an unprivileged user outside, and
/// its group likewise: a range of them when /etc/subuid and /etc/subgid reserve
/// one for us, else a single one (nobody, or rootless, ourselves).
fn map_ids(child: Pid) -> Result<(), Failure> {
    let proc = PathBuf::from(format!("/proc/{child}"));
    let (uid, gid) = (geteuid().as_raw(), getegid().as_raw());
    let (uids, gids) = if geteuid().is_root() {
        let mine = |file| subordinate_range(file, uid).unwrap_or((65534, 1));
        (mine("/etc/subuid"), mine("/etc/subgid"))
    } else {
        // Without root, the kernel lets us map our own IDs only, and our group only
        // once setgroups is denied: else dropping a group could open what that
        // group is denied.
        write(&proc.join("setgroups"), "deny")?;
        ((uid, 1), (gid, 1))
    };
    write(&proc.join("uid_map"), &format!("0 {} {}", uids.0, uids.1))?;
    write(&proc.join("gid_map"), &format!("0 {} {}", gids.0, gids.1))
}

/// The first range of IDs `file` (/etc/subuid's format, `name:first:count`)
/// reserves for user `uid`, by name or number.
fn subordinate_range(file: &str, uid: u32) -> Option<(u32, u32)> {
    let name = User::from_uid(Uid::from_raw(uid)).ok().flatten().map(|user| user.name);
    let lines = fs::read_to_string(file).ok()?;
    lines.lines().find_map(|line| {
        let mut fields = line.trim().split(':');
        let owner = fields.next()?;
        let ours = Some(owner) == name.as_deref() || owner == uid.to_string();
        let range = (fields.next()?.parse().ok()?, fields.next()?.parse().ok()?);
        ours.then_some(range)
    })
}
// ANCHOR_END: run

// ANCHOR: child
/// Inside the container, before the command starts: the moment to set it up.
fn child(target: &Target) -> Result<u8, Failure> {
    ensure_started_by_run()?;
    sethostname("container").map_err(|err| failed("sethostname(container)", err))?;
    // The new mount namespace starts with copies of the host's mounts, and copies of
    // shared mounts stay peers of the originals: a mount below them in here would
    // appear on the host too. Make all of ours private before mounting anything.
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
        .map_err(|err| failed("mount(/, MS_REC | MS_PRIVATE)", err))?;
    enter_rootfs(&rootfs_dir(target)?, target)?;
    lock_down(target)?;
    // No need to unmount /proc as step 7 does (nor the right, once the capabilities
    // are dropped): the mount namespace is ours alone and ends with its last process.
    run_command(target)
}

/// The last things before the command starts, for it and for us: once done,
/// neither can undo them.
fn lock_down(target: &Target) -> Result<(), Failure> {
    if target.with(Feature::Capabilities) {
        drop_capabilities()?;
    }
    if target.with(Feature::Seccomp) {
        filter_system_calls()?;
    }
    Ok(())
}

/// `run` starts us by re-executing its own program; started by hand from a shell,
/// we would change the host itself. So our parent must run this same program, or
/// be outside our PID namespace: as its PID 1, we see our parent as PID 0.
fn ensure_started_by_run() -> Result<(), Failure> {
    let exe = |pid: &str| fs::read_link(format!("/proc/{pid}/exe")).ok();
    let parent = getppid().as_raw();
    if parent == 0 || exe(&parent.to_string()) == exe("self") {
        return Ok(());
    }
    let message = "`child` is started by `run`, not by hand: here it would change the host".into();
    Err(Failure { code: 125, message })
}
// ANCHOR_END: child

// ANCHOR: rootfs
/// The root filesystem asked for, or the course's own, built on first use.
fn rootfs_dir(target: &Target) -> Result<PathBuf, Failure> {
    let Some(dir) = &target.rootfs else {
        return rootfs::ensure().map_err(|err| Failure { code: 125, message: err.to_string() });
    };
    if !dir.join("proc").is_dir() {
        let message = format!("--rootfs {}: not a root filesystem (no /proc in it)", dir.display());
        return Err(Failure { code: 125, message });
    }
    Ok(dir.clone())
}

/// Make `rootfs` our `/`, and mount on its /proc a proc filesystem, which shows
/// the processes of the PID namespace of whoever mounts it: ours.
fn enter_rootfs(rootfs: &Path, target: &Target) -> Result<(), Failure> {
    let pivot = target.with(Feature::PivotRoot);
    if pivot {
        // pivot_root wants a mount point; a directory becomes one by a bind mount onto itself.
        let bind = MsFlags::MS_BIND | MsFlags::MS_REC;
        mount(Some(rootfs), rootfs, None::<&str>, bind, None::<&str>).map_err(|err| {
            failed(format_args!("bind-mount {} on itself", rootfs.display()), err)
        })?;
    }
    // Before the root changes: in a user namespace the kernel mounts a proc only
    // while one that shows all of its files is in our mount namespace (the host's,
    // until pivot_root drops it), so that a new one can reveal nothing more.
    let proc = rootfs.join("proc");
    mount(Some("proc"), &proc, Some("proc"), MsFlags::empty(), None::<&str>)
        .map_err(|err| failed(format_args!("mount(proc, {})", proc.display()), err))?;
    if pivot {
        pivot_into(rootfs)?;
    } else {
        chroot(rootfs).map_err(|err| failed(format_args!("chroot({})", rootfs.display()), err))?;
    }
    chdir("/").map_err(|err| failed("chdir(/)", err))?;
    if target.with(Feature::MaskedPaths) {
        hide_host_files()?;
    }
    Ok(())
}

// Lock-down 1: pivot_root. Stops the `chroot` escape.
// chroot(2) changes what `/` means for path lookups, nothing more: the host's tree
// is still mounted in our namespace, and a process whose working directory is
// outside its root (chroot again into a subdirectory while holding `/`) walks `..`
// up into it. pivot_root(2) moves the whole mount namespace onto the new root, and
// once the old root is unmounted there is no host tree left to walk to.
/// Make `rootfs` the root mount of our mount namespace, and drop the host's.
fn pivot_into(rootfs: &Path) -> Result<(), Failure> {
    chdir(rootfs).map_err(|err| failed(format_args!("chdir({})", rootfs.display()), err))?;
    // pivot_root(".", "."): the old root is stacked on top of the new one, at the
    // same place, so it needs no directory of its own in the root filesystem (and
    // leaves none to remove). Unmounting `.` then takes the old root off; DETACH,
    // as the host's mounts below it are busy.
    pivot_root(".", ".").map_err(|err| failed("pivot_root(., .)", err))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(|err| failed("umount the old root", err))
}
// Lock-down 4: read-only and masked paths, as runc has them. Stops /proc/sys,
// sysrq-trigger and kcore (where this kernel has those files), and with the user
// namespace makes a fresh proc impossible even to a process with CAP_SYS_ADMIN:
// a user namespace may mount a proc only while one fully visible is mounted, and
// ours no longer is.
// A proc filesystem is the kernel's, not the container's: beside the processes it
// shows the host's settings (/proc/sys), its memory (/proc/kcore), a trigger that
// reboots it (/proc/sysrq-trigger). Mount options cannot leave parts of it out; a
// bind mount over a part can: read-only over what the command may read, and over
// what it must not even read, /dev/null (a file) or an empty read-only tmpfs (a
// directory). What this kernel lacks is skipped.
/// What stays readable in the container, read-only.
const READ_ONLY: [&str; 5] =
    ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];
/// What is hidden. (/sys is not mounted; were it, read-only, /sys/firmware would be hidden.)
const MASKED: [&str; 10] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/sys/firmware",
];

/// Make [`READ_ONLY`] read-only and hide [`MASKED`], in the new root.
fn hide_host_files() -> Result<(), Failure> {
    let mount_failed = |what: &str, path: &str, err| failed(format_args!("{what} {path}"), err);
    for path in READ_ONLY.into_iter().filter(|path| Path::new(path).exists()) {
        // A bind mount takes the flags of the mount it copies: read-only needs a
        // second call, a remount of the bind mount.
        let bind = MsFlags::MS_BIND | MsFlags::MS_REC;
        mount(Some(path), path, None::<&str>, bind, None::<&str>)
            .map_err(|err| mount_failed("bind-mount on itself", path, err))?;
        let read_only = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
        mount(None::<&str>, path, None::<&str>, read_only, None::<&str>)
            .map_err(|err| mount_failed("remount read-only", path, err))?;
    }
    for path in MASKED.into_iter().filter(|path| Path::new(path).exists()) {
        let hidden = if Path::new(path).is_dir() {
            mount(Some("tmpfs"), path, Some("tmpfs"), MsFlags::MS_RDONLY, None::<&str>)
        } else {
            mount(Some("/dev/null"), path, None::<&str>, MsFlags::MS_BIND, None::<&str>)
        };
        hidden.map_err(|err| mount_failed("hide", path, err))?;
    }
    Ok(())
}
// ANCHOR_END: rootfs

// Lock-down 2: capabilities. Stops the escapes that need a privilege root has and
// the command does not: mounting (cgroup limit, release_agent, fresh proc, sysfs,
// disk mount: CAP_SYS_ADMIN), a node for the host's disk (disk device: CAP_MKNOD),
// loading a module (CAP_SYS_MODULE).
// Root's power is a set of capabilities, and a process keeps five sets of them.
// Dropping from the effective and permitted sets is not enough: on execve, root
// gets back every capability of the bounding set, and those of the inheritable and
// ambient sets, so those go too. no_new_privs then makes sure no execve (a setuid
// program, one with file capabilities) ever gives any back.
/// What root in the container keeps: Docker's default set, less CAP_MKNOD,
/// CAP_NET_RAW, CAP_SETFCAP and CAP_AUDIT_WRITE, which no command here needs.
/// (CAP_SYS_CHROOT stays, as in Docker: after pivot_root a chroot leads nowhere.)
const KEPT_CAPABILITIES: [Capability; 10] = {
    use Capability::*;
    [
        CAP_CHOWN,
        CAP_DAC_OVERRIDE,
        CAP_FOWNER,
        CAP_FSETID,
        CAP_KILL,
        CAP_SETGID,
        CAP_SETUID,
        CAP_SETPCAP,
        CAP_NET_BIND_SERVICE,
        CAP_SYS_CHROOT,
    ]
};

/// Keep [`KEPT_CAPABILITIES`] only, in every set, for us and all we start.
fn drop_capabilities() -> Result<(), Failure> {
    let kept = KEPT_CAPABILITIES.into_iter().collect();
    let caps_failed = |what: &str, err: caps::errors::CapsError| Failure {
        code: 125,
        message: format!("drop capabilities: {what}: {err}"),
    };
    // Dropping from the bounding set takes CAP_SETPCAP: first, while we have it.
    // (Only the capabilities this kernel knows: it refuses to drop others.)
    for cap in caps::runtime::thread_all_supported().difference(&kept) {
        caps::drop(None, CapSet::Bounding, *cap).map_err(|err| caps_failed("bounding", err))?;
    }
    caps::clear(None, CapSet::Ambient).map_err(|err| caps_failed("ambient", err))?;
    caps::clear(None, CapSet::Inheritable).map_err(|err| caps_failed("inheritable", err))?;
    // The effective set must stay within the permitted one: shrink it first.
    caps::set(None, CapSet::Effective, &kept).map_err(|err| caps_failed("effective", err))?;
    caps::set(None, CapSet::Permitted, &kept).map_err(|err| caps_failed("permitted", err))?;
    set_no_new_privs().map_err(|err| failed("prctl(PR_SET_NO_NEW_PRIVS)", err))
}

// Lock-down 5: a seccomp filter. Stops every escape that needs one of the calls it
// refuses (the mounts of cgroup limit, release_agent, fresh proc, sysfs, disk
// mount; kernel module), whatever capabilities are left: a second wall behind them.
// The kernel runs the filter, a small BPF program, on every system call of this
// process and of all it starts, for good: no process can remove it. Ours refuses,
// with EPERM, calls no container needs and through which one reaches the kernel or
// the host: mounting (the old call and the new mount API), modules, kexec, reboot,
// swap, keys, BPF, perf, handles to the host's files, new namespaces. It also
// checks the architecture: an x86_64 process may make 32-bit calls, whose numbers
// differ; seccompiler kills a process that tries.
/// The calls refused outright.
const REFUSED_CALLS: [nix::libc::c_long; 27] = {
    use nix::libc::*;
    [
        SYS_mount,
        SYS_umount2,
        SYS_pivot_root,
        SYS_move_mount,
        SYS_open_tree,
        SYS_fsopen,
        SYS_fsconfig,
        SYS_fsmount,
        SYS_fspick,
        SYS_mount_setattr,
        SYS_init_module,
        SYS_finit_module,
        SYS_delete_module,
        SYS_kexec_load,
        SYS_kexec_file_load,
        SYS_reboot,
        SYS_swapon,
        SYS_swapoff,
        SYS_open_by_handle_at,
        SYS_bpf,
        SYS_perf_event_open,
        SYS_keyctl,
        SYS_add_key,
        SYS_request_key,
        SYS_unshare,
        SYS_setns,
        SYS_userfaultfd,
    ]
};

/// The bit that marks an x32 call's number on x86_64.
const X32_BIT: i64 = 0x4000_0000;

/// Install the filter: [`REFUSED_CALLS`], and clone(2) asking for a new namespace.
fn filter_system_calls() -> Result<(), Failure> {
    use seccompiler::{SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition};
    use seccompiler::{SeccompFilter, SeccompRule};
    let seccomp_failed =
        |err: seccompiler::Error| Failure { code: 125, message: format!("seccomp filter: {err}") };
    let arch: seccompiler::TargetArch = std::env::consts::ARCH
        .try_into()
        .map_err(|err: seccompiler::BackendError| seccomp_failed(err.into()))?;
    let mut rules: std::collections::BTreeMap<i64, Vec<SeccompRule>> =
        REFUSED_CALLS.into_iter().map(|call| (call, vec![])).collect();
    // clone's first argument holds its flags; a rule per namespace flag, any matches.
    let namespaces = CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWUSER
        | CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWNET
        | CloneFlags::CLONE_NEWCGROUP;
    let flag_set = |flag: CloneFlags| {
        let flag = flag.bits() as u64;
        let condition =
            SeccompCondition::new(0, SeccompCmpArgLen::Qword, SeccompCmpOp::MaskedEq(flag), flag)?;
        SeccompRule::new(vec![condition])
    };
    let clone_rules =
        namespaces.iter().map(flag_set).collect::<Result<_, seccompiler::BackendError>>();
    rules.insert(nix::libc::SYS_clone, clone_rules.map_err(|err| seccomp_failed(err.into()))?);
    // x32, x86_64's other ABI, has x86_64's architecture and the same numbers with
    // bit 30 set (__X32_SYSCALL_BIT): refuse those too, where a kernel has x32.
    if cfg!(target_arch = "x86_64") {
        let x32: Vec<_> = rules.iter().map(|(call, rule)| (call | X32_BIT, rule.clone())).collect();
        rules.extend(x32);
    }
    let refuse = SeccompAction::Errno(Errno::EPERM as u32);
    let filter = SeccompFilter::new(rules, SeccompAction::Allow, refuse, arch);
    // clone3 passes its flags in memory, where a filter cannot look: answer that it
    // does not exist, and the C library falls back to clone. (A second filter, as
    // one filter answers with one error; the kernel runs both.)
    let no_clone3 =
        [(nix::libc::SYS_clone3, vec![]), (nix::libc::SYS_clone3 | X32_BIT, vec![])].into();
    let enosys = SeccompAction::Errno(Errno::ENOSYS as u32);
    let filter3 = SeccompFilter::new(no_clone3, SeccompAction::Allow, enosys, arch);
    for filter in [filter, filter3] {
        let program: seccompiler::BpfProgram = filter
            .and_then(TryInto::try_into)
            .map_err(|err: seccompiler::BackendError| seccomp_failed(err.into()))?;
        seccompiler::apply_filter(&program).map_err(seccomp_failed)?;
    }
    Ok(())
}

// ANCHOR: cgroup
/// Find the pids controller: in a cgroup v1 hierarchy of its own (v1 and hybrid
/// hosts), or in the unified cgroup v2 tree. Returns its mount point, and whether it is v2.
fn pids_hierarchy() -> Result<(PathBuf, bool), Failure> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo")
        .map_err(|err| io_failed("read /proc/self/mountinfo", err))?;
    for line in mountinfo.lines() {
        // e.g. "35 24 0:30 / /sys/fs/cgroup/pids rw shared:12 - cgroup cgroup rw,pids"
        let (mount, source) = line.split_once(" - ").unwrap_or_default();
        let dir = PathBuf::from(mount.split(' ').nth(4).unwrap_or_default());
        let mut source = source.split(' ');
        let (fstype, options) = (source.next(), source.nth(1).unwrap_or_default());
        if fstype == Some("cgroup") && options.split(',').any(|option| option == "pids") {
            return Ok((dir, false));
        }
        let v2_controllers =
            || fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
        if fstype == Some("cgroup2") && v2_controllers().split_whitespace().any(|c| c == "pids") {
            return Ok((dir, true));
        }
    }
    let message = "no cgroup hierarchy offers the pids controller (see /proc/cgroups)".into();
    Err(Failure { code: 125, message })
}

/// Create this container's cgroup, limited to `pids_max` processes. It is named
/// after our PID, so two containers never share one.
fn create_cgroup(pids_max: u32) -> Result<PathBuf, Failure> {
    let (hierarchy, v2) = pids_hierarchy()?;
    if v2 {
        refuse_internal_processes(&hierarchy)?;
    }
    create_cgroup_in(&hierarchy, v2, pids_max)
}

/// Create `container-PID` below `parent`, limited to `pids_max` processes.
fn create_cgroup_in(parent: &Path, v2: bool, pids_max: u32) -> Result<PathBuf, Failure> {
    remove_stale_cgroups(parent);
    if v2 {
        // In cgroup v2 a controller acts in a cgroup only if its parent hands it down.
        write(&parent.join("cgroup.subtree_control"), "+pids")?;
    }
    let cgroup = parent.join(format!("container-{}", getpid()));
    fs::create_dir(&cgroup)
        .map_err(|err| io_failed(format_args!("mkdir {}", cgroup.display()), err))?;
    write(&cgroup.join("pids.max"), &pids_max.to_string()).inspect_err(|_| {
        let _ = fs::remove_dir(&cgroup);
    })?;
    Ok(cgroup)
}

// Lock-down 7: rootless. Without root, the user namespace is what makes the rest
// possible (where the kernel lets anyone make one: Debian's
// kernel.unprivileged_userns_clone, Ubuntu's
// kernel.apparmor_restrict_unprivileged_userns): every part above works the same.
// Only the cgroup is not ours to make, unless one is delegated to us (systemd-run
// --user --scope -p Delegate=yes, on cgroup v2; a cgroup chowned to us, on v1).
// Without one we run without the pids limit and say so, in one line: refusing
// would leave a plain user with no container at all, and the limit protects the
// host from the container, which here runs as that user anyway, under the limits
// the host sets for that user (RLIMIT_NPROC).
/// Rootless: a cgroup below our own, if it is ours to write in; else none, said once.
fn delegated_cgroup(pids_max: u32) -> Option<PathBuf> {
    let made = pids_hierarchy().and_then(|(hierarchy, v2)| {
        let cgroups = fs::read_to_string("/proc/self/cgroup")
            .map_err(|err| io_failed("read /proc/self/cgroup", err))?;
        // e.g. "8:pids:/user/course" (v1), "0::/user.slice/…/run-u7.scope" (v2)
        let ours = |line: &str| match v2 {
            true => line.strip_prefix("0::").map(String::from),
            false => line.split_once(":pids:").map(|(_, path)| path.to_string()),
        };
        let own = cgroups.lines().find_map(ours).unwrap_or_default();
        let base = hierarchy.join(own.trim_start_matches('/'));
        if v2 {
            // No internal processes: we leave our own cgroup for a leaf of it first.
            let leaf = base.join("lockdown");
            let _ = fs::create_dir(&leaf);
            write(&leaf.join("cgroup.procs"), &getpid().to_string())?;
        }
        create_cgroup_in(&base, v2, pids_max)
    });
    let uid = geteuid();
    made.inspect_err(|failure| {
        eprintln!(
            "{}: no pids limit: no cgroup is delegated to uid {uid} ({}); on cgroup v2 run \
             it under systemd-run --user --scope -p Delegate=yes",
            env!("CARGO_PKG_NAME"),
            failure.message
        )
    })
    .ok()
}

/// cgroup v2's rule of "no internal processes": the cgroups below one that holds
/// processes get no controller, unless it is the root. In a container, the tree we
/// see is often rooted at the container's own cgroup, which holds its processes.
/// (Writing +pids would even succeed, and joining our cgroup fail, EOPNOTSUPP.)
fn refuse_internal_processes(hierarchy: &Path) -> Result<(), Failure> {
    // The real root cgroup is the one without a cgroup.type file.
    let is_root = !hierarchy.join("cgroup.type").exists();
    let processes = fs::read_to_string(hierarchy.join("cgroup.procs")).unwrap_or_default();
    if is_root || processes.trim().is_empty() {
        return Ok(());
    }
    let h = hierarchy.display();
    let message = format!(
        "{h} holds processes and is not the root cgroup (are we in a container?): cgroup v2 \
         then gives no controller to the cgroups below it; move the processes into a cgroup \
         of their own first: mkdir -p {h}/init && xargs -rn1 < {h}/cgroup.procs > \
         {h}/init/cgroup.procs"
    );
    Err(Failure { code: 125, message })
}

/// Remove the cgroups of containers whose `run` was killed before it could: their
/// names hold a PID that no longer exists, or ours, which the kernel has given to us
/// since (we have made no cgroup yet). (rmdir refuses a cgroup with a process.)
fn remove_stale_cgroups(hierarchy: &Path) {
    let stale = |pid| pid == getpid() || kill(pid, None) == Err(Errno::ESRCH);
    for entry in fs::read_dir(hierarchy).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let pid = name.to_str().and_then(|n| n.strip_prefix("container-")?.parse().ok());
        if pid.map(Pid::from_raw).is_some_and(stale) {
            let _ = fs::remove_dir(entry.path());
        }
    }
}

/// Move the child into the cgroup before it starts anything: children are born in
/// their parent's cgroup, so every process of the container will count. We write
/// its PID as the host numbers it: we are in the host's PID namespace.
fn join_cgroup(cgroup: &Path, child: Pid) -> Result<(), Failure> {
    write(&cgroup.join("cgroup.procs"), &child.to_string())
}

/// Remove the cgroup. The kernel refuses while a process is in it, so this is
/// `run`'s job, once `child` has ended: when a PID namespace's PID 1 ends, the
/// kernel kills and reaps all the rest of it before PID 1 is gone.
fn remove_cgroup(cgroup: &Path) -> Result<(), Failure> {
    fs::remove_dir(cgroup).map_err(|err| io_failed(format_args!("rmdir {}", cgroup.display()), err))
}

/// Cgroups are set up by writing to their files.
fn write(file: &Path, value: &str) -> Result<(), Failure> {
    fs::write(file, value)
        .map_err(|err| io_failed(format_args!("write {value} to {}", file.display()), err))
}
// ANCHOR_END: cgroup

// ANCHOR: run_command
/// Start the command with our stdin, stdout and stderr, and wait for it to end.
fn run_command(target: &Target) -> Result<u8, Failure> {
    let signals = block_signals()?;
    let command = spawn_supervised(Command::new(&target.argv[0]).args(&target.argv[1..]))
        .map_err(|err| cannot_start(&target.argv[0], err))?;
    supervise(Pid::from_raw(command.id() as i32), &signals)
}
// ANCHOR_END: run_command

// ANCHOR: pid1
/// Hold back the signals we pass on, so that they queue up for `supervise`: the
/// kernel drops any signal that a namespace's PID 1 has no handler for. Do it
/// before starting the command, so that none can slip through in between.
fn block_signals() -> Result<SigSet, Failure> {
    use Signal::*;
    let signals: SigSet = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD].into_iter().collect();
    signals.thread_block().map_err(|err| failed("sigprocmask", err))?;
    Ok(signals)
}

/// Start `command` for `supervise`: with no signal blocked (a new process inherits
/// its parent's mask), and killed if we die first, so a container does not outlive
/// `run`. (If we die before the new process reaches its prctl, no signal comes.)
fn spawn_supervised(command: &mut Command) -> io::Result<Child> {
    let prepare = || {
        SigSet::all().thread_unblock()?;
        Ok(set_pdeathsig(SIGKILL)?)
    };
    // SAFETY: `prepare` runs in the new process between fork and exec, where only
    // async-signal-safe calls are sound; sigprocmask and prctl are.
    unsafe { command.pre_exec(prepare) };
    command.spawn()
}

/// Wait for `main` to end, doing PID 1's duties meanwhile: pass signals on to it
/// (`kill` from the host reaches PID 1 only), and reap every child that ends, as
/// orphans become PID 1's children. (`run` waits the same way for `child`.)
fn supervise(main: Pid, signals: &SigSet) -> Result<u8, Failure> {
    loop {
        if let Some(code) = reap_children(main)? {
            return Ok(code);
        }
        match signals.wait().map_err(|err| failed("sigwait", err))? {
            Signal::SIGCHLD => {} // reaped at the top of the loop
            signal => {
                let _ = kill(main, signal); // fails only if `main` has just ended
            }
        }
    }
}

/// Reap every child that has ended; return `main`'s exit code if it is one of them:
/// its own status, or 128+n when signal n killed it (Docker's convention).
fn reap_children(main: Pid) -> Result<Option<u8>, Failure> {
    let mut main_code = None;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == main => main_code = Some(code as u8),
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == main => {
                main_code = Some(128 + sig as u8)
            }
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return Ok(main_code),
            Ok(_) => {} // an orphan, now reaped
            Err(err) => return Err(failed("waitpid", err)),
        }
    }
}
// ANCHOR_END: pid1

// ANCHOR: errors
/// The runtime itself failed (exit code 125): say which call and why.
fn failed(call: impl Display, err: Errno) -> Failure {
    let hint = match err {
        Errno::EPERM if !geteuid().is_root() => " — run as root (sudo)",
        Errno::EPERM => {
            " — refused although root: a security module (AppArmor, SELinux), a seccomp \
             filter or a container without this capability"
        }
        _ => "",
    };
    let message = format!("{call}: {}{hint}", err.desc());
    Failure { code: 125, message }
}

/// A file or process operation of the runtime failed (exit code 125).
fn io_failed(what: impl Display, err: io::Error) -> Failure {
    Failure { code: 125, message: format!("{what}: {err}") }
}

/// The command never started: 127 when it does not exist, 126 when it cannot be executed.
fn cannot_start(command: &OsStr, err: io::Error) -> Failure {
    let message = format!("cannot run {}: {err}", command.display());
    if err.kind() != io::ErrorKind::NotFound {
        return Failure { code: 126, message };
    }
    let Some(file) = find_in_path(command) else {
        return Failure { code: 127, message };
    };
    // The kernel says ENOENT also when the file exists but what starts it does not.
    // It exists, so we exit 126 (shells exit 127 here; runc, 1).
    let why = missing_starter(&file);
    Failure { code: 126, message: format!("{message} — yet it exists: {why}") }
}

/// The file `command` names, looked up in PATH as running it would, if it exists.
fn find_in_path(command: &OsStr) -> Option<PathBuf> {
    if command.as_encoded_bytes().contains(&b'/') {
        return Some(PathBuf::from(command)).filter(|file| file.exists());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|dir| dir.join(command)).find(|file| file.exists())
}

/// What the kernel starts to run `file`, and did not find: a script's interpreter,
/// named on its first line after `#!`, or else a dynamically linked program's loader.
fn missing_starter(file: &Path) -> String {
    let mut head = Vec::new();
    let _ = fs::File::open(file).and_then(|file| file.take(256).read_to_end(&mut head));
    let Some(line) = head.strip_prefix(b"#!") else {
        return "it is dynamically linked and its loader is missing from the root filesystem \
                (use a statically linked program)"
            .into();
    };
    // The first word, as the kernel reads it. Quoted: a script saved with Windows line
    // ends names "/bin/sh\r".
    let line = String::from_utf8_lossy(line);
    let mut words = line.split('\n').next().unwrap_or_default().split([' ', '\t']);
    let interpreter = words.find(|word| !word.is_empty()).unwrap_or_default();
    format!("its interpreter {interpreter:?} is not found in the container")
}
// ANCHOR_END: errors
