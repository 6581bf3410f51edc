//! How a check fails: the one format a student reads, the record the grading reads
//! ([`crate::results`]), and the hints that several checks share.
//!
//! A check is built from named parts and then decided:
//!
//! ```ignore
//! claim("`ps` inside lists only the container's processes")
//!     .expected("PIDs [1, 2, 3]")
//!     .program(&out)            // what the kernel showed: how it ended, what it printed
//!     .hint("mount a proc filesystem on /proc, after chroot")
//!     .holds(pids == expected);
//! ```

use std::cell::RefCell;
use std::fmt::Display;

use crate::results::{Failure, FailureKind, ProgramEnd};
use crate::running::Output;

thread_local! {
    /// The failure this thread's test stopped on, for the runner to record.
    static FAILED: RefCell<Option<Failure>> = const { RefCell::new(None) };
}

/// A check under construction: what it checks, then what was expected, what the
/// kernel showed and the hint; [`Claim::holds`] decides it.
#[must_use = "a claim checks nothing until .holds(…) or .fail()"]
pub struct Claim {
    failure: Failure,
}

/// Start a check of `what`, in plain words: "`ls /` inside shows the busybox tree".
pub fn claim(what: impl Display) -> Claim {
    Claim { failure: Failure { check: what.to_string(), ..Failure::default() } }
}

impl Claim {
    /// What the check expected to see.
    pub fn expected(mut self, expected: impl Display) -> Claim {
        self.failure.expected = expected.to_string();
        self
    }

    /// What the kernel showed instead (added below what [`Claim::program`] put there).
    pub fn shown(mut self, shown: impl Display) -> Claim {
        let shown = shown.to_string();
        if self.failure.shown.is_empty() {
            self.failure.shown = shown;
        } else if !shown.is_empty() {
            // One line break between the parts: a summary already ends with one.
            if !self.failure.shown.ends_with('\n') {
                self.failure.shown.push('\n');
            }
            self.failure.shown.push_str(&shown);
        }
        self
    }

    /// How the program under test ended and what it printed: shown, and kept in the
    /// record (its exit code and stderr) so a verdict can quote it.
    pub fn program(mut self, out: &Output) -> Claim {
        self.failure.program = Some(ProgramEnd { code: out.code, stderr: out.stderr.clone() });
        self.shown(out.summary())
    }

    /// The likely cause, and what to do about it.
    pub fn hint(mut self, hint: impl Display) -> Claim {
        self.failure.hint = hint.to_string();
        self
    }

    /// Mark the failure as a container that did not end in time.
    pub fn hang(mut self) -> Claim {
        self.failure.kind = FailureKind::Hang;
        self
    }

    /// Fail the test unless `ok`.
    #[track_caller]
    pub fn holds(self, ok: bool) {
        if !ok {
            self.fail()
        }
    }

    /// Fail the test: in the format a student reads, and as a record.
    #[track_caller]
    pub fn fail(self) -> ! {
        let text = render(&self.failure);
        FAILED.with(|failed| *failed.borrow_mut() = Some(self.failure));
        panic!("{text}")
    }
}

/// The failure a test stopped on, taken: what [`Claim::fail`] left on this thread.
pub(crate) fn take_failure() -> Option<Failure> {
    FAILED.with(|failed| failed.borrow_mut().take())
}

/// A failure as a student reads it: which check, what was expected, what the kernel
/// showed, and the likely cause.
pub fn render(failure: &Failure) -> String {
    let expected = match failure.expected.is_empty() {
        true => String::new(),
        false => format!("  expected: {}\n", block(&failure.expected)),
    };
    let hint = match failure.hint.is_empty() {
        true => String::new(),
        false => format!("  hint: {}\n", failure.hint),
    };
    format!(
        "\ncheck failed: {}\n{expected}  the kernel showed: {}\n{hint}",
        failure.check,
        block(&failure.shown)
    )
}

/// A value on one line, or indented below its label when it has several.
pub(crate) fn block(value: impl Display) -> String {
    let text = value.to_string();
    let text = text.trim_end();
    if text.is_empty() {
        "(nothing)".into()
    } else if text.contains('\n') {
        format!("\n      {}", text.replace('\n', "\n      "))
    } else {
        text.into()
    }
}

/// Each line of `text` indented by two spaces, or `(nothing)`.
pub(crate) fn indented(text: &str) -> String {
    if text.is_empty() {
        return "  (nothing)\n".into();
    }
    text.lines().map(|line| format!("  {line}\n")).collect()
}

/// Why a container may have ended before its command did what the test asked.
pub(crate) fn ended_early(code: i32) -> &'static str {
    match code {
        127 => {
            "the command was not found (exit code 127). From step 5 on it is /bin/busybox in the \
             root filesystem CONTAINER_ROOTFS names: did the child chroot there?"
        }
        125 => "your program could not make the container (exit code 125): read its stderr",
        _ => "the container ended before its command did: read its stderr",
    }
}

/// The hint when the container lacks a namespace of its own of this kind.
pub(crate) fn namespace_hint(kind: &str) -> &'static str {
    match kind {
        "uts" => {
            "give the container a UTS namespace of its own: unshare(CLONE_NEWUTS) in run before \
             starting the command or the child (Go: SysProcAttr.Cloneflags)"
        }
        "pid" => {
            "give the container a PID namespace of its own: CLONE_NEWPID takes in the processes \
             started after it, not the caller, so unshare it in run and then start the child \
             (Go: Cloneflags on the child's exec.Cmd)"
        }
        "mnt" => {
            "give the container a mount namespace of its own: CLONE_NEWNS in run, before the \
             child mounts anything"
        }
        _ => "see the chapter that adds this namespace",
    }
}
