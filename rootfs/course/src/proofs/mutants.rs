//! The mutants: each takes one feature out of a step's program by textual edits of
//! its `src/main.rs` (each OLD found exactly once, replaced by NEW), and says what
//! catches the mistake: the step's graded checks (what a learner's copy is graded
//! by), or only this course's own tests (`tests/ours.rs`, `tests/runtime_defects.rs`,
//! step 7's `bad_input.rs` and `load.rs`). Every mutant must still compile.
//!
//! This table is the start of a catalogue of mistakes: a learner who makes one of
//! these gets the verdict the proofs show for it.

/// What catches a mutant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaughtBy {
    /// The step's graded checks (tests/stepNN.rs): at least one fails.
    Graded,
    /// Only the course's own, non-graded tests of the step.
    OwnTests,
}

/// One feature taken out of one step's program.
#[derive(Debug)]
pub struct Mutant {
    pub step: u8,
    /// Short and unique: it names the mutant's package (`proof-step04-pid-no-reaping`).
    pub id: &'static str,
    /// The feature removed, in words.
    pub removed: &'static str,
    /// (OLD, NEW): each OLD occurs exactly once in the text the edits before left.
    pub edits: &'static [(&'static str, &'static str)],
    pub caught_by: CaughtBy,
}

use CaughtBy::{Graded, OwnTests};

pub static MUTANTS: &[Mutant] = &[
    Mutant {
        step: 1,
        id: "exit-code-always-0",
        removed: "exit code passthrough (always 0)",
        edits: &[("(Some(code), _) => code as u8,", "(Some(_), _) => 0,")],
        caught_by: Graded,
    },
    Mutant {
        step: 2,
        id: "no-uts-namespace",
        removed: "CLONE_NEWUTS",
        edits: &[("unshare(CloneFlags::CLONE_NEWUTS)", "unshare(CloneFlags::empty())")],
        caught_by: Graded,
    },
    Mutant {
        step: 2,
        id: "run-as-root-always",
        removed: "EPERM: 'run as root (sudo)' only when not root",
        edits: &[("Errno::EPERM if !geteuid().is_root() =>", "Errno::EPERM =>")],
        caught_by: OwnTests,
    },
    Mutant {
        step: 3,
        id: "no-sethostname",
        removed: "sethostname(container) in child",
        edits: &[(r#"sethostname("container")"#, "Ok::<(), Errno>(())")],
        caught_by: Graded,
    },
    Mutant {
        step: 3,
        id: "child-by-hand",
        removed: "child refuses when started by hand",
        edits: &[("ensure_started_by_run()?;", "// mutant: no check")],
        caught_by: OwnTests,
    },
    Mutant {
        step: 4,
        id: "no-pid-namespace",
        removed: "CLONE_NEWPID",
        edits: &[(
            "unshare(CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWPID)",
            "unshare(CloneFlags::CLONE_NEWUTS)",
        )],
        caught_by: Graded,
    },
    Mutant {
        step: 4,
        id: "no-signal-forwarding",
        removed: "signal forwarding (kill(main, signal))",
        edits: &[("let _ = kill(main, signal);", "let _ = signal;")],
        caught_by: Graded,
    },
    Mutant {
        step: 4,
        id: "no-reaping",
        removed: "orphan reaping (waitpid(main) only)",
        edits: &[(
            "waitpid(None, Some(WaitPidFlag::WNOHANG))",
            "waitpid(main, Some(WaitPidFlag::WNOHANG))",
        )],
        caught_by: Graded,
    },
    Mutant {
        step: 4,
        id: "no-pdeathsig",
        removed: "parent-death signal (set_pdeathsig)",
        edits: &[("Ok(set_pdeathsig(SIGKILL)?)", "Ok::<(), io::Error>(())")],
        caught_by: Graded,
    },
    Mutant {
        step: 5,
        id: "no-chroot",
        removed: "chroot",
        edits: &[(
            "chroot(rootfs).map_err(|err| failed(format_args!(\"chroot({})\", rootfs.display()), err))?;",
            "let _ = rootfs;",
        )],
        caught_by: Graded,
    },
    Mutant {
        step: 5,
        id: "no-proc-mount",
        removed: "proc mount (and its umount)",
        edits: &[
            (
                r#"mount(Some("proc"), "/proc", Some("proc"), MsFlags::empty(), None::<&str>)"#,
                "Ok::<(), Errno>(())",
            ),
            (r#"umount2("/proc", MntFlags::MNT_DETACH)"#, "Ok::<(), Errno>(())"),
        ],
        caught_by: Graded,
    },
    Mutant {
        step: 5,
        id: "no-proc-umount",
        removed: "umount of /proc after the command",
        edits: &[(r#"umount2("/proc", MntFlags::MNT_DETACH)"#, "Ok::<(), Errno>(())")],
        caught_by: Graded,
    },
    Mutant {
        step: 5,
        id: "einval-not-ignored",
        removed: "EINVAL from the umount of /proc ignored",
        edits: &[("Err(err) if err != Errno::EINVAL =>", "Err(err) =>")],
        caught_by: OwnTests,
    },
    Mutant {
        step: 5,
        id: "interpreter-not-named",
        removed: "a missing #! interpreter named",
        edits: &[(r##"head.strip_prefix(b"#!")"##, "None::<&[u8]>")],
        caught_by: OwnTests,
    },
    Mutant {
        step: 6,
        id: "no-mount-namespace",
        removed: "CLONE_NEWNS",
        edits: &[(
            "unshare(CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS)",
            "unshare(CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWPID)",
        )],
        caught_by: Graded,
    },
    Mutant {
        step: 6,
        id: "no-private-remount",
        removed: "MS_REC | MS_PRIVATE remount of /",
        edits: &[(
            r#"mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)"#,
            "Ok::<(), Errno>(())",
        )],
        caught_by: Graded,
    },
    Mutant {
        step: 7,
        id: "no-pids-max",
        removed: "pids.max write",
        edits: &[(
            r#"write(&cgroup.join("pids.max"), &pids_max.to_string())"#,
            "Ok::<(), Failure>(())",
        )],
        caught_by: Graded,
    },
    Mutant {
        step: 7,
        id: "no-cgroup-removal",
        removed: "cgroup removal (remove_cgroup is a no-op)",
        edits: &[(
            "fs::remove_dir(cgroup).map_err(|err| io_failed(format_args!(\"rmdir {}\", cgroup.display()), err))",
            "let _ = cgroup; Ok(())",
        )],
        caught_by: Graded,
    },
    Mutant {
        step: 7,
        id: "no-cgroup-join",
        removed: "child joins the cgroup",
        edits: &[("join_cgroup(cgroup)?;", "let _ = cgroup;")],
        caught_by: Graded,
    },
    Mutant {
        step: 7,
        id: "stale-cgroups-kept",
        removed: "remove_stale_cgroups",
        edits: &[("remove_stale_cgroups(&hierarchy);", "// mutant: stale cgroups kept")],
        caught_by: OwnTests,
    },
    Mutant {
        step: 7,
        id: "own-pid-cgroup-swept",
        removed: "a stale cgroup named after our own PID swept",
        edits: &[("pid == getpid() || ", "")],
        caught_by: OwnTests,
    },
];

impl Mutant {
    /// `program` with this mutant's edits made, in order; or which edit could not
    /// be made, and why.
    pub fn apply(&self, program: &str, file: &str) -> Result<String, String> {
        let mut text = program.to_string();
        for (old, new) in self.edits {
            let found = text.matches(old).count();
            if found != 1 {
                return Err(format!(
                    "mutant {} ({}): in {file}, this text occurs {found} times, not once: {old} \
                     (the code changed: update the table in rootfs/course/src/proofs/mutants.rs)",
                    self.id, self.removed
                ));
            }
            text = text.replacen(old, new, 1);
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mutant(edits: &'static [(&'static str, &'static str)]) -> Mutant {
        Mutant { step: 4, id: "test-mutant", removed: "a feature", edits, caught_by: Graded }
    }

    #[test]
    fn each_edit_replaces_its_text_in_turn() {
        let changed = mutant(&[("b()", "c()"), ("c();", "d();")]).apply("a(); b();", "main.rs");
        assert_eq!(changed, Ok("a(); d();".to_string()));
    }

    #[test]
    fn a_text_found_twice_or_not_at_all_is_an_error_naming_the_mutant() {
        let twice = mutant(&[("a", "b")]).apply("a a", "step04-pid/src/main.rs");
        let message = twice.err().unwrap_or_default();
        assert!(message.contains("test-mutant") && message.contains("occurs 2 times"), "{message}");
        let never = mutant(&[("z", "b")]).apply("a a", "step04-pid/src/main.rs");
        let message = never.err().unwrap_or_default();
        assert!(message.contains("test-mutant") && message.contains("occurs 0 times"), "{message}");
    }

    #[test]
    fn ids_are_unique_and_make_package_names() {
        for (i, mutant) in MUTANTS.iter().enumerate() {
            assert!(MUTANTS[..i].iter().all(|other| other.id != mutant.id), "{}", mutant.id);
            let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
            assert!(mutant.id.chars().all(ok), "{}", mutant.id);
            assert!(!mutant.edits.is_empty(), "{}", mutant.id);
        }
    }
}
