//! How a check fails: the one format a student reads, and the hints that several
//! checks share.

use std::fmt::Display;

/// Fail a check, in the format a student reads and `.ci/grade.sh` sums up: which
/// check failed, what was expected, what the kernel showed, and the likely cause.
#[track_caller]
pub fn fail(check: &str, expected: impl Display, shown: impl Display, hint: &str) -> ! {
    panic!(
        "\ncheck failed: {check}\n  expected: {}\n  the kernel showed: {}\n  hint: {hint}\n",
        block(expected),
        block(shown)
    )
}

/// [`fail`] unless `ok`.
#[track_caller]
pub fn check(ok: bool, check: &str, expected: impl Display, shown: impl Display, hint: &str) {
    if !ok {
        fail(check, expected, shown, hint)
    }
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
