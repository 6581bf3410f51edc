//! Where the statically linked busybox comes from.
//!
//! In this order, never downloading from anywhere but the distribution's own archive:
//! 1. a static busybox already installed on this machine;
//! 2. Debian/Ubuntu: `apt-get download busybox-static`, unpacked into a cache dir;
//! 3. otherwise: an error telling which package to install.

use std::env;
use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::Error;
use crate::elf::is_static_elf64;
use crate::lock::lock_exclusive;
use crate::owner;
use crate::remove::remove_tree;

/// Places where distributions install busybox, besides `$PATH`.
const WELL_KNOWN: [&str; 6] = [
    "/bin/busybox",
    "/usr/bin/busybox",
    "/sbin/busybox",
    "/usr/sbin/busybox",
    "/usr/lib/busybox/busybox",
    "/usr/libexec/busybox",
];

/// The Debian package that contains a static busybox in `bin/busybox`.
const DEBIAN_PACKAGE: &str = "busybox-static";

/// Where the busybox binary will come from; chosen before any slow work.
pub(crate) enum Source {
    /// A static busybox installed on this machine.
    Installed(PathBuf),
    /// The `busybox-static` .deb, fetched with `apt-get download` (or already cached).
    AptDownload,
}

impl Source {
    /// Picks the first available source, or explains what to install.
    pub(crate) fn choose() -> Result<Self, Error> {
        if let Some(installed) = find_installed_static() {
            return Ok(Self::Installed(installed));
        }
        if find_on_path("apt-get").is_some() && find_on_path("dpkg-deb").is_some() {
            return Ok(Self::AptDownload);
        }
        Err(Error::new(
            "find a statically linked busybox",
            "none installed; install one: Debian/Ubuntu `apt-get install busybox-static`, \
             Fedora `dnf install busybox`, Arch `pacman -S busybox`, Alpine `apk add busybox-static`",
        ))
    }

    /// The path of a static busybox binary, downloading into `cache` if needed.
    pub(crate) fn busybox(&self, cache: &Path) -> Result<PathBuf, Error> {
        match self {
            Self::Installed(path) => Ok(path.clone()),
            Self::AptDownload => fetch_with_apt(cache),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Installed(path) => write!(f, "{}", path.display()),
            Self::AptDownload => write!(f, "{DEBIAN_PACKAGE}"),
        }
    }
}

/// The first `busybox` on `$PATH` or in a well-known place that is statically linked.
/// Debian's plain `busybox` package is dynamically linked: it is skipped here.
fn find_installed_static() -> Option<PathBuf> {
    let on_path = find_on_path("busybox");
    let well_known = WELL_KNOWN.iter().map(PathBuf::from);
    on_path
        .into_iter()
        .chain(well_known)
        .find(|candidate| is_static_elf64(candidate).unwrap_or(false))
}

/// Like the shell's `command -v`: the first `$PATH` entry holding a file called `name`.
fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
}

/// `<cache>/busybox-static/bin/busybox`, downloading and unpacking the .deb on first use.
/// A second call finds the unpacked file and works offline.
fn fetch_with_apt(cache: &Path) -> Result<PathBuf, Error> {
    let fetched = fetch_into(cache);
    // apt and dpkg-deb ran as root: hand what they left to the clone's owner, even
    // after a failure (a partial download, say), so that they can delete it.
    let handed_over = match cache.parent() {
        Some(parent) => owner::hand_over(parent, cache),
        None => Ok(()),
    };
    let busybox = fetched?;
    handed_over.map(|()| busybox)
}

fn fetch_into(cache: &Path) -> Result<PathBuf, Error> {
    create_dir(cache)?;
    // Several builds (other dirs, other processes) may share this cache.
    let _lock = lock_exclusive(&cache.join(".lock"))?;
    let unpacked = cache.join(DEBIAN_PACKAGE);
    let busybox = unpacked.join("bin/busybox");
    if !busybox.is_file() {
        let deb = match find_deb(cache)? {
            Some(deb) => deb,
            None => download_deb(cache)?,
        };
        unpack_deb(&deb, &unpacked)?;
    }
    match is_static_elf64(&busybox) {
        Ok(true) => Ok(busybox),
        Ok(false) => Err(Error::new(
            format!("check {}", busybox.display()),
            "not a statically linked 64-bit program",
        )),
        Err(err) => Err(Error::io(format!("read({})", busybox.display()), err)),
    }
}

/// True when an earlier fetch left the unpacked busybox or the .deb in `cache`.
pub(crate) fn is_cached(cache: &Path) -> bool {
    cache.join(DEBIAN_PACKAGE).join("bin/busybox").is_file()
        || find_deb(cache).ok().flatten().is_some()
}

/// Runs `apt-get download busybox-static` inside `cache` and returns the .deb it wrote.
fn download_deb(cache: &Path) -> Result<PathBuf, Error> {
    let what = format!("apt-get download {DEBIAN_PACKAGE} (in {})", cache.display());
    let mut apt = Command::new("apt-get");
    // LC_ALL=C: we look for English messages in its output below.
    apt.args(["download", DEBIAN_PACKAGE]).current_dir(cache).env("LC_ALL", "C");
    // As root apt warns "Download is performed unsandboxed": harmless, only the exit status counts.
    run(&mut apt, &what).map_err(suggest_apt_update)?;
    find_deb(cache)?.ok_or_else(|| Error::new(what, "succeeded but no .deb file appeared"))
}

/// Empty package lists make apt say "Unable to locate package": tell how to fix it.
fn suggest_apt_update(err: Error) -> Error {
    let message = err.to_string();
    if message.contains("Unable to locate package") || message.contains("no candidate") {
        return err.with_hint("the package lists look empty: run `apt-get update` first");
    }
    err
}

/// The `busybox-static_*.deb` in `cache`, if one was downloaded before.
fn find_deb(cache: &Path) -> Result<Option<PathBuf>, Error> {
    let entries =
        fs::read_dir(cache).map_err(|e| Error::io(format!("readdir({})", cache.display()), e))?;
    let prefix = format!("{DEBIAN_PACKAGE}_");
    let deb = entries.filter_map(Result::ok).map(|e| e.path()).find(|p| {
        let name = p.file_name().and_then(OsStr::to_str).unwrap_or_default();
        name.starts_with(&prefix) && name.ends_with(".deb")
    });
    Ok(deb)
}

/// `dpkg-deb -x <deb> <into>`, unpacked next to `into` first and renamed, so a crash
/// midway never leaves a half-unpacked `into` behind.
fn unpack_deb(deb: &Path, into: &Path) -> Result<(), Error> {
    let partial = into.with_extension("partial");
    remove_tree(&partial)?;
    let what = format!("dpkg-deb -x {} {}", deb.display(), partial.display());
    let mut dpkg = Command::new("dpkg-deb");
    dpkg.arg("-x").arg(deb).arg(&partial);
    if let Err(err) = run(&mut dpkg, &what) {
        // Probably a truncated download: drop it so the next run fetches it again.
        let _ = fs::remove_file(deb);
        return Err(err.with_hint("deleted the .deb, run again to download it afresh"));
    }
    fs::rename(&partial, into)
        .map_err(|e| Error::io(format!("rename({} -> {})", partial.display(), into.display()), e))
}

/// Runs a command with its output captured; on failure the error quotes the most
/// telling line of its stderr (the last `E:` line for apt, else the last line).
fn run(command: &mut Command, what: &str) -> Result<Output, Error> {
    let output = command.output().map_err(|e| Error::io(what, e))?;
    if output.status.success() {
        return Ok(output);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let telling = lines.iter().rev().find(|l| l.starts_with("E:")).or(lines.last());
    let why = match telling {
        Some(line) => format!("{} ({line})", output.status),
        None => output.status.to_string(),
    };
    Err(Error::new(what, why))
}

fn create_dir(dir: &Path) -> Result<(), Error> {
    fs::create_dir_all(dir).map_err(|e| Error::io(format!("mkdir({})", dir.display()), e))
}
