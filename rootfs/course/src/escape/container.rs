//! Where the escapes run: a scratch copy of the course's root filesystem with the
//! probe in it (this very program and the libraries it loads), and a container
//! started in it by the program under test, `BIN run CMD ARGS...`, under a time limit.

use std::cell::RefCell;
use std::ffi::OsStr;
use std::fs::{self, File};
use std::os::unix::process::CommandExt;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use harness::{ROOTFS_VAR, ScratchDir, ScratchRoot, poll_until, scaled};
use nix::sys::signal::{SIGKILL, killpg};
use nix::unistd::Pid;

use super::verdict::Verdict;

/// Where the probe is, inside the container.
pub const PROBE: &str = "/escape-probe";

/// The scratch root filesystem the containers run in, and a directory for what they
/// print; both removed when dropped, with whatever is mounted below them.
pub struct Scratch {
    root: ScratchRoot,
    output: ScratchDir,
    /// Whether the probe could be put inside, and if not, why.
    pub probe: Result<(), String>,
    /// The PID of each `bin run` started (a step 7 program names its cgroup after it).
    started: RefCell<Vec<i32>>,
}

/// How a container ended: its exit status (none when killed at the time limit)
/// and what it printed.
pub struct Ended {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Scratch {
    /// A copy of the course's root filesystem with the probe in it.
    pub fn make() -> Result<Scratch, String> {
        let root = quietly(ScratchRoot::copy_of_the_course_tree)
            .map_err(|why| format!("cannot copy the course's root filesystem: {why}"))?;
        let output = quietly(|| ScratchDir::new("escape-output"))
            .map_err(|why| format!("cannot make a scratch directory: {why}"))?;
        let probe = install_probe(root.path());
        Ok(Scratch { root, output, probe, started: RefCell::default() })
    }

    pub fn path(&self) -> &Path {
        self.root.path()
    }

    /// The PIDs of the containers' programs started so far.
    pub fn started(&self) -> Vec<i32> {
        self.started.borrow().clone()
    }

    /// `bin run argv...` in a container whose root filesystem is ours.
    pub fn run(&self, bin: &Path, argv: &[&OsStr]) -> Result<Ended, String> {
        let (stdout, stderr) =
            (self.output.path().join("stdout"), self.output.path().join("stderr"));
        let create = |path: &Path| {
            File::create(path).map_err(|err| format!("create {}: {err}", path.display()))
        };
        let mut command = Command::new(bin);
        command.arg("run").args(argv).env(ROOTFS_VAR, self.path()).stdin(Stdio::null());
        command.stdout(create(&stdout)?).stderr(create(&stderr)?).process_group(0);
        let mut child =
            command.spawn().map_err(|err| format!("cannot start {}: {err}", bin.display()))?;
        self.started.borrow_mut().push(child.id() as i32);
        let mut status = None;
        poll_until(time_limit(), || {
            status = child.try_wait().ok().flatten();
            status.is_some()
        });
        if status.is_none() {
            let _ = killpg(Pid::from_raw(child.id() as i32), SIGKILL);
            let _ = child.wait();
        }
        let read = |path: &Path| fs::read_to_string(path).unwrap_or_default();
        Ok(Ended {
            status: status.and_then(|s| s.code()),
            stdout: read(&stdout),
            stderr: read(&stderr),
        })
    }
}

/// How long one escape may take.
pub fn time_limit() -> Duration {
    scaled(Duration::from_secs(20))
}

impl Ended {
    /// The verdict the container printed, or why there is none.
    pub fn verdict(&self) -> Verdict {
        if let Some(verdict) = Verdict::printed_in(&self.stdout) {
            return verdict;
        }
        let Some(code) = self.status else {
            let limit = time_limit().as_secs();
            return Verdict::Skipped(format!("no verdict: the container did not end in {limit} s"));
        };
        let said = self.stderr.lines().rfind(|line| !line.trim().is_empty()).unwrap_or("");
        Verdict::Skipped(format!("no verdict: the container exited {code} ({said})"))
    }
}

/// Run `make`, which panics when it fails (the harness's fixtures do), and turn a
/// panic into its message, without the panic's own report.
fn quietly<T>(make: impl FnOnce() -> T) -> Result<T, String> {
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let made = panic::catch_unwind(AssertUnwindSafe(make));
    panic::set_hook(hook);
    made.map_err(|payload| {
        let text = payload.downcast_ref::<String>().map(String::as_str);
        text.or_else(|| payload.downcast_ref::<&str>().copied()).unwrap_or("panicked").to_string()
    })
}

/// Copy this program to [`PROBE`] in `root`, with the shared libraries it loads,
/// each at the same path as on the host (so its loader finds them).
fn install_probe(root: &Path) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|err| format!("where is this program: {err}"))?;
    copy_into(root, &exe, Path::new(PROBE))?;
    for library in libraries_of(&exe)? {
        copy_into(root, &library, &library)?;
    }
    Ok(())
}

/// Copy the host's file `from` to `inside` (an absolute path) in `root`.
fn copy_into(root: &Path, from: &Path, inside: &Path) -> Result<(), String> {
    let to = root.join(inside.strip_prefix("/").unwrap_or(inside));
    if let Some(dir) = to.parent() {
        fs::create_dir_all(dir).map_err(|err| format!("mkdir {}: {err}", dir.display()))?;
    }
    // A copy, never a hard link: root in the container could write through a link
    // into the host's own libc.
    fs::copy(from, &to)
        .map(|_| ())
        .map_err(|err| format!("copy {} to {}: {err}", from.display(), to.display()))
}

/// The shared libraries `program` loads, its loader included, as `ldd` names them;
/// none for a static program.
fn libraries_of(program: &Path) -> Result<Vec<PathBuf>, String> {
    let ldd = Command::new("ldd").arg(program).output();
    let ldd = ldd.map_err(|err| format!("cannot run ldd to find the probe's libraries: {err}"))?;
    Ok(libraries_named(&String::from_utf8_lossy(&ldd.stdout)))
}

/// The paths in `ldd`'s output: `libc.so.6 => /lib/…/libc.so.6 (0x…)` and
/// `/lib64/ld-linux-x86-64.so.2 (0x…)`; `linux-vdso.so.1 (0x…)` is in the kernel.
fn libraries_named(ldd: &str) -> Vec<PathBuf> {
    let path = |line: &str| {
        let line = line.split_once("=>").map_or(line, |(_, after)| after);
        let word = line.split_whitespace().next()?;
        word.starts_with('/').then(|| PathBuf::from(word))
    };
    ldd.lines().filter_map(path).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_names_the_libraries_and_the_loader() {
        let ldd = "\tlinux-vdso.so.1 (0x00007ffd)\n\
                   \tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007f35)\n\
                   \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f35)\n\
                   \t/lib64/ld-linux-x86-64.so.2 (0x00007f35)\n";
        let expected: Vec<PathBuf> = [
            "/lib/x86_64-linux-gnu/libgcc_s.so.1",
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/lib64/ld-linux-x86-64.so.2",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(libraries_named(ldd), expected);
    }

    #[test]
    fn a_static_program_needs_no_library() {
        assert!(libraries_named("\tnot a dynamic executable\n").is_empty());
        assert!(libraries_named("\tstatically linked\n").is_empty());
    }

    #[test]
    fn a_container_that_printed_no_verdict_says_how_it_ended() {
        let ended = Ended { status: Some(125), stdout: String::new(), stderr: "bin: no\n".into() };
        assert_eq!(
            ended.verdict(),
            Verdict::Skipped("no verdict: the container exited 125 (bin: no)".into())
        );
    }
}
