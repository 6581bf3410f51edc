//! Step 7's graded checks: a cgroup of its own that holds the container at 20
//! processes, removed when the container ends.

use std::path::Path;
use std::process::Command;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::StepProgram;
use crate::kernel::cgroups::{
    cgroup_among, cgroups_printed, pids_cgroup_of, pids_hierarchy, pids_max, refused_forks,
};
use crate::report::{block, claim};
use crate::running::Output;
use crate::timeouts::{container_timeout, poll_until, slow_machine_note};

const CGROUP_LEFT: &str = "the container's cgroup was left behind: remove it (rmdir) once the \
     container has ended. The kernel refuses while a process is in it, so it is run's job, \
     after the child has exited";

/// Step 7 on: a cgroup of its own, with a limit of 20 processes.
impl StepProgram {
    /// The kernel reports `pids.max` = `limit` in the container's own cgroup, and
    /// the cgroup is gone after the container.
    pub fn assert_pids_limit(&self, limit: u32) {
        let mut running = self.start_sh("echo ready; read x");
        running.wait_for_line("ready");
        let check_name = format!("the container's cgroup has pids.max = {limit}");
        let cgroup = running.container_cgroup_limited_to(limit, &check_name, "");
        // `run` in the container's cgroup itself: then it can never remove it (EBUSY).
        let run_inside = pids_cgroup_of(running.pid()) == cgroup;
        let out = running.finish();
        if run_inside && cgroup.exists() {
            claim("the container's cgroup is removed when it ends")
                .expected("no such directory")
                .shown(format!("{} still exists", cgroup.display()))
                .program(&out)
                .hint(
                    "run itself is in the container's cgroup (its PID in cgroup.procs), so its \
                     rmdir fails (EBUSY: a process is still in it). Have the child join the \
                     cgroup (its own PID, before it starts the command), not run",
                )
                .fail();
        }
        assert_cgroup_removed(&cgroup);
    }

    /// A shell that starts 40 background sleeps starts at most 18: PID 1 and the
    /// shell count against the limit of 20 too (and more, if PID 1 has threads).
    pub fn assert_sleeps_held_at_limit(&self) {
        let out = self.sh(FORTY_SLEEPS);
        let started: u32 = out.stdout.lines().last().and_then(|n| n.parse().ok()).unwrap_or(0);
        claim("a shell inside starts at most 18 of 40 background sleeps (limit 20)")
            .expected(
                "from 1 to 18 (20, less PID 1 and the shell, and less any thread of theirs: \
                 threads count against pids.max too)",
            )
            .shown(format!("{started} started"))
            .program(&out)
            .hint(
                "the container's processes are not held at 20: is every one of them in the \
                 container's cgroup? The child joins it (its PID into cgroup.procs) before it \
                 starts the command, and children are born in their parent's cgroup",
            )
            .holds((1..=18).contains(&started));
    }

    /// A fork bomb goes off only under a pids limit, is held at it, and the host
    /// can still start processes; the cgroup is gone after.
    pub fn assert_fork_bomb_held(&self, limit: u32) {
        let mut running = self.start_sh(FORK_BOMB);
        let cgroup = running.detonate_fork_bomb(limit);
        assert_held_at_limit(&cgroup, limit);
        running.finish();
        assert_cgroup_removed(&cgroup);
    }

    /// SIGTERM to `run`: the command gets it, and the cgroup is removed all the same.
    pub fn assert_cgroup_removed_after_a_signal(&self) {
        // `sleep`, not `read`: finish() closes stdin, which could end `read` first.
        let mut running = self.start_sh("echo ready; sleep 30");
        running.wait_for_line("ready");
        let cgroup = running.container_cgroup();
        let _ = kill(Pid::from_raw(running.pid()), Signal::SIGTERM);
        let out = running.finish();
        claim("SIGTERM to run ends the container with exit code 143 (128+15)")
            .expected("exit code 143")
            .program(&out)
            .hint("pass SIGTERM on to the child, and exit with the 128+n it reports")
            .holds(out.code == 128 + 15);
        assert_cgroup_removed(&cgroup);
    }

    /// Two containers at once each have a cgroup of their own, and the end of one
    /// leaves the other's alone.
    pub fn assert_each_container_has_its_own_cgroup(&self) {
        let mut first = self.start_sh("echo ready; read x");
        first.wait_for_line("ready");
        let mut second = self.start_sh("echo ready; read x");
        second.wait_for_line("ready");
        let (one, two) = (first.container_cgroup(), second.container_cgroup());
        claim("two containers at once have a cgroup each")
            .expected("two different cgroups")
            .shown(format!("both in {}", one.display()))
            .hint(
                "name each container's cgroup after something unique to it, e.g. run's PID: with \
                 a fixed name, containers share one limit, and the first to end removes the \
                 cgroup of the others",
            )
            .holds(one != two);
        second.finish();
        let max = pids_max(&one);
        claim("the end of one container leaves another's cgroup alone")
            .expected(format!("{} still there, pids.max 20", one.display()))
            .shown(format!("pids.max: {}", block(&max)))
            .hint("remove only the cgroup of the container that ended")
            .holds(max == "20");
        first.finish();
    }
}

/// Starts 40 background `sleep`s, printing the count after each one that started.
/// busybox's shell stops at the first fork the kernel refuses.
pub const FORTY_SLEEPS: &str = "i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); echo $i; done";

/// The cgroup of a container that has ended is gone.
#[track_caller]
pub fn assert_cgroup_removed(cgroup: &Path) {
    claim("the container's cgroup is removed when it ends")
        .expected("no such directory")
        .shown(format!("{} still exists", cgroup.display()))
        .hint(CGROUP_LEFT)
        .holds(!cgroup.exists());
}

/// The container that printed `out` has ended and left no cgroup in the pids
/// hierarchy under the name this course's program gives it ([`Output::cgroup_name`]).
#[track_caller]
pub fn assert_no_cgroup_left_by(out: &Output) {
    assert_short_container_left_no(&pids_hierarchy().join(out.cgroup_name()));
}

/// The container that printed `out`, whose command was `cat /proc/self/cgroup`,
/// has ended and left no cgroup where the kernel had put its command (pids
/// hierarchy), whatever the program named it and wherever it made it. Nothing to
/// check when that was this test process's own cgroup (steps 5 and 6 make none), or
/// when a cgroup namespace of the container's own hides where it was.
#[track_caller]
pub fn assert_no_cgroup_left_by_its_command(out: &Output) {
    let cgroups = cgroups_printed(&out.stdout);
    let Some(cgroup) = cgroup_among(&cgroups, "pids") else {
        claim("the command's /proc/self/cgroup shows its pids cgroup")
            .expected("a line for the hierarchy of the pids controller")
            .program(out)
            .hint(
                "the kernel lists every cgroup hierarchy of a process in /proc/PID/cgroup: is the \
                 pids controller mounted in the container's view (cgroup v1: /sys/fs/cgroup/pids)?",
            )
            .fail()
    };
    // In a cgroup namespace of the container's own, the path is relative to where it
    // was made: `/`, or `/../…` when the container moved on after unsharing it.
    let hidden = cgroup == pids_hierarchy() || cgroup.components().any(|c| c.as_os_str() == "..");
    if hidden || cgroup == pids_cgroup_of(std::process::id() as i32) {
        return;
    }
    assert_short_container_left_no(&cgroup);
}

/// A short container that has ended left no `cgroup` behind.
#[track_caller]
fn assert_short_container_left_no(cgroup: &Path) {
    claim("a short container leaves no cgroup behind")
        .expected("no cgroup left")
        .shown(format!("{} left", cgroup.display()))
        .hint(CGROUP_LEFT)
        .holds(!cgroup.exists());
}

/// The host can still start a process (`true`), as during a fork bomb it must.
#[track_caller]
pub fn assert_host_can_start_a_process() {
    let host_can_fork = Command::new("true").status().is_ok_and(|status| status.success());
    claim("the host can start a process during the fork bomb")
        .expected("`true` runs on the host")
        .shown("it could not")
        .hint("the limit does not hold the container's processes")
        .holds(host_can_fork);
}

/// A fork bomb, armed: it prints `ready`, waits for a line on stdin, then goes off
/// and lasts until stdin closes. Start it only with [`crate::Running::detonate_fork_bomb`],
/// which first checks that the container is held by a pids limit. The shell forks
/// once, `(bomb) &`: for `bomb | bomb &` it would fork twice, and the second fork
/// could already find the cgroup full and stop the script.
pub const FORK_BOMB: &str = "bomb() { bomb | bomb & }; echo ready; read go; (bomb) & read x";

/// Wait until the pids controller of `cgroup` has refused a fork, checking all the
/// while that the cgroup never holds more than `limit` processes.
pub fn assert_held_at_limit(cgroup: &Path, limit: u32) {
    // pids.current never passes pids.max for forks inside the cgroup (the kernel
    // refuses them), so what is worth checking is that the bomb reaches it.
    let reached = poll_until(container_timeout(), || refused_forks(cgroup) > 0);
    claim(format!("the fork bomb reaches the limit of {limit} processes"))
        .expected("a fork refused (pids.events: max > 0)")
        .shown(format!("none refused in {}", slow_machine_note(container_timeout())))
        .hint("the bomb's processes are not counted in the container's cgroup")
        .holds(reached);
}
