//! The escapes busybox has no applet for, tried by this very program inside the
//! container (`course escape --probe NAME`, copied into the root filesystem with the
//! libraries it loads): each prints its verdict as one line.

use std::fs;
use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::kmod::init_module;
use nix::sys::stat::{FileStat, Mode, stat};
use nix::unistd::{chdir, chroot, fchdir, mkdir};

use super::verdict::Verdict;

/// What the probe tries, named on its command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// chroot into a subdirectory while holding `/`, then `..` up to the real root
    Chroot,
    /// init_module with an image that is no module: EPERM, or the image refused
    KernelModule,
}

impl Probe {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Probe::Chroot => "chroot",
            Probe::KernelModule => "kernel-module",
        }
    }
}

/// Try `probe` here and say what the kernel did.
pub fn run(probe: Probe) -> Verdict {
    match probe {
        Probe::Chroot => chroot_escape(),
        Probe::KernelModule => load_a_module(),
    }
}

/// Where the probe chroots into, inside the container's root.
const JAIL: &str = "/tmp/escape-jail";

/// chroot(2) moves the root, not the working directory, and a process whose working
/// directory is outside its root walks `..` past it. So: hold `/`, chroot into a
/// subdirectory, go back to what we hold, climb `..` until it leads nowhere higher,
/// and make that the root.
fn chroot_escape() -> Verdict {
    let (container_root, outside) = match stat("/").and_then(|root| Ok((root, hold_root()?))) {
        Ok(held) => held,
        Err(err) => return Verdict::Skipped(format!("cannot open / to hold it: {}", err.desc())),
    };
    if let Err(err) = mkdir(JAIL, Mode::S_IRWXU).or_else(|err| match err {
        Errno::EEXIST => Ok(()),
        err => Err(err),
    }) {
        return Verdict::Skipped(format!("mkdir {JAIL}: {}", err.desc()));
    }
    if let Err(err) = chroot(JAIL) {
        return Verdict::Held(format!("chroot({JAIL}) refused: {}", err.desc()));
    }
    match climb_out_from(&outside) {
        Ok(steps) => judge_new_root(&container_root, steps),
        Err(why) => Verdict::Held(why),
    }
}

fn hold_root() -> Result<OwnedFd, Errno> {
    open("/", OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
}

/// From the directory `outside` our root, climb `..` to the top and chroot there;
/// how many steps it took.
fn climb_out_from(outside: &OwnedFd) -> Result<usize, String> {
    fchdir(outside).map_err(|err| format!("fchdir to the / held: {}", err.desc()))?;
    let mut steps = 0;
    while !at_the_top().map_err(|err| format!("stat(..): {}", err.desc()))? && steps < 256 {
        chdir("..").map_err(|err| format!("chdir(..): {}", err.desc()))?;
        steps += 1;
    }
    chroot(".").map_err(|err| format!("chroot(.) after {steps} times `..`: {}", err.desc()))?;
    chdir("/").map_err(|err| format!("chdir(/): {}", err.desc()))?;
    Ok(steps)
}

/// Whether `.` is its own `..`: the top of the mount namespace's tree.
fn at_the_top() -> Result<bool, Errno> {
    Ok(same_file(&stat(".")?, &stat("..")?))
}

fn same_file(a: &FileStat, b: &FileStat) -> bool {
    (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
}

/// Escaped if the new root is not the container's.
fn judge_new_root(container_root: &FileStat, steps: usize) -> Verdict {
    let new_root = match stat("/") {
        Ok(root) => root,
        Err(err) => return Verdict::Held(format!("stat(/) after the climb: {}", err.desc())),
    };
    if same_file(&new_root, container_root) {
        return Verdict::Held(format!(
            "chroot({JAIL}) worked, but `..` from the / held led back to the container's own \
             root ({steps} steps): nothing of the host above it"
        ));
    }
    Verdict::Escaped(format!(
        "chroot({JAIL}) while holding /, then `..` {steps} times: reached a / that is not the \
         container's ({})",
        what_is_there()
    ))
}

/// A few words on the root reached: its system's name, or its top directory.
fn what_is_there() -> String {
    let release = fs::read_to_string("/etc/os-release").unwrap_or_default();
    let name = release.lines().find_map(|line| line.strip_prefix("PRETTY_NAME="));
    if let Some(name) = name {
        return format!("its /etc/os-release says {}", name.trim_matches('"'));
    }
    let entries = fs::read_dir("/").into_iter().flatten().flatten();
    let mut names: Vec<String> =
        entries.map(|entry| entry.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names.truncate(8);
    format!("its top holds {}", names.join(" "))
}

/// init_module(2) checks CAP_SYS_MODULE (and modules_disabled) before it reads the
/// image: EPERM says it held; an image refused as invalid says a real one would load.
fn load_a_module() -> Verdict {
    let not_a_module = [0u8; 64];
    match init_module(&not_a_module, c"") {
        Err(Errno::EPERM) => Verdict::Held(
            "init_module refused: EPERM (no CAP_SYS_MODULE, a seccomp filter, or modules_disabled)"
                .into(),
        ),
        Err(Errno::ENOSYS) => {
            Verdict::Skipped("this kernel loads no modules (init_module: ENOSYS)".into())
        }
        Err(err) => Verdict::Escaped(format!(
            "init_module with 64 zero bytes passed the capability check and only the image was \
             refused ({err}: {}): a real module would load into the host's kernel",
            err.desc()
        )),
        Ok(()) => Verdict::Escaped("init_module loaded 64 zero bytes as a module".into()),
    }
}
