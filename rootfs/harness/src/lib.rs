//! The harness every step's tests share.
//!
//! It starts a container program (a step's binary, or any program that keeps the
//! course's contract, below), feeds it a command, collects what it printed and how
//! it ended under a timeout, and reads what the kernel shows from the host's side:
//! processes, namespaces, mounts and cgroups. Tests assert on those, never on the
//! program's own messages, so that any honest implementation passes them.
//!
//! The contract (book: classroom/grading.md): `BIN run CMD ARGS...` runs CMD with
//! ARGS wired to BIN's stdin, stdout and stderr, prints nothing of its own on stdout,
//! and exits with CMD's status, 128+n when signal n killed it, 127 when CMD does not
//! exist, 126 when it cannot be executed, 125 when the container could not be made.
//! From step 5 on, the container's root filesystem is the directory named by the
//! environment variable `CONTAINER_ROOTFS`, which the harness sets for every
//! container of steps 5 to 7.
//!
//! `CONTAINER_BIN=/path/to/program` makes every test run that program instead of
//! the step's own binary. The graded checks are listed once, in [`registry`]; step
//! N's graded tests, `stepNN-*/tests/stepNN.rs`, are the checks of steps 1 to N, run
//! by this harness's own [`runner`], which records each check's result as data
//! ([`results`]) for `cargo course grade`, `class` and the proofs. Those named
//! `feature_…` check what step N adds, and fail against step N-1's program (`cargo
//! course dev proofs`). `tests/ours.rs`, `tests/book.rs`, step 7's `bad_input.rs`
//! and `load.rs`, and steps 2 to 7's `runtime_defects.rs` check this course's own
//! program (its flags, its messages, its snapshots) and are not graded. In each of
//! them, `harness::step!()` is the step under test (its package and binary).
//!
//! A check that fails says so in one format, built by [`claim`] from named parts:
//! which check, what was expected, what the kernel showed (with how the program
//! ended), and a hint at the likely cause. The hints live next to their checks.
//!
//! A slow machine (software emulation, a loaded runner) gets more time with
//! `CONTAINER_TIMEOUT_SCALE=N`, a whole number that multiplies every time limit of
//! the harness: 30 s for each container, 5 s for a signal or a parent's death to
//! take effect, and the others ([`timeouts`]).
//!
//! Where things are:
//! - [`registry`]: the graded checks, listed once; [`runner`]: the test runner of the
//!   graded tests and the exercises; [`results`]: what each check found, as data;
//! - [`report`]: how a check fails ([`claim`]) and the hints several share;
//! - [`mod@step`] and [`running`]: starting a container program ([`StepProgram`]), watching it
//!   while it runs ([`Running`]) and what it left ([`Output`]);
//! - [`kernel`]: what the kernel shows of processes, namespaces, mounts, cgroups and
//!   the hostname;
//! - [`fixtures`]: scratch directories and root filesystems, the shared-propagation
//!   host, the course's root filesystem, serialisation;
//! - `checks::stepNN`: the graded checks of step NN, each with its hint, as methods
//!   of [`StepProgram`];
//! - [`ungraded`]: the checks that several steps' `tests/ours.rs` and
//!   `tests/exercises.rs` share (not graded), in the same format;
//! - [`defects`]: runtime defects once found in this course's programs, each
//!   checked so that it stays fixed (not graded; [`runtime_defect_tests!`]);
//! - [`book`]: what the book shows, produced by the tests (sessions, the isolation
//!   matrix, the change from one step to the next);
//! - [`mod@workspace`]: the workspace and its steps, listed once ([`steps`]);
//! - [`timeouts`]: every time limit, `CONTAINER_TIMEOUT_SCALE`, and [`poll_until`],
//!   the one way the harness waits for the kernel to show something.

pub mod book;
pub mod checks;
pub mod defects;
pub mod escapes;
pub mod fixtures;
pub mod kernel;
pub mod probes;
pub mod registry;
pub mod report;
pub mod results;
pub mod runner;
pub mod running;
pub mod step;
pub mod timeouts;
pub mod ungraded;
pub mod workspace;

pub use book::{FILTERS, change};
pub use checks::step07::{
    FORK_BOMB, FORTY_SLEEPS, assert_cgroup_removed, assert_held_at_limit,
    assert_host_can_start_a_process, assert_no_cgroup_left_by,
};
pub use fixtures::{
    DirectoriesMade, FirstUse, HostMounts, ScratchDir, ScratchRoot, SharedMountHost, TestFiles,
    busybox, dir_listing, require_root, rootfs, serial,
};
pub use kernel::cgroups::{
    cgroup_hierarchy, cgroup_of, cgroups_printed, pids_cgroup_of, pids_hierarchy, read_cgroup_file,
    refused_forks, wait_until_empty,
};
pub use kernel::hostname::{current_hostname, host_hostname};
pub use kernel::mounts::{mount_points_printed, mounts_below};
pub use kernel::namespaces::{NAMESPACES, host_namespace_link, namespace_of};
pub use kernel::processes::{descendants, exists, zombie_children};
pub use report::{Claim, claim};
pub use running::{Output, Running};
pub use step::StepProgram;
pub use timeouts::{container_timeout, poll_until, scaled};
pub use ungraded::{assert_host_hostname_kept, assert_option_accepted};
pub use workspace::{previous_step, step_number, steps, workspace};

/// The environment variable that names a container's root filesystem (steps 5 to 7).
pub const ROOTFS_VAR: &str = "CONTAINER_ROOTFS";
