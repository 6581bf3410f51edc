//! Step 4's graded checks: a PID namespace whose PID 1 does PID 1's duties.

use std::fs;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::StepProgram;
use crate::fixtures::rootfs;
use crate::kernel::cgroups::{pids_cgroup_of, wait_until_empty};
use crate::kernel::mounts::detach_mounts_below;
use crate::kernel::namespaces::host_namespace_link;
use crate::kernel::processes::{
    blocked_signals, children, descendants, ignored_signals, nspid, stat, zombie_children,
};
use crate::report::{claim, ended_early};
use crate::timeouts::{container_timeout, poll_until, scaled, slow_machine_note};

/// Step 4 on: a PID namespace, whose PID 1 (the child) does PID 1's duties.
impl StepProgram {
    /// The command is a child of the container's PID 1, in a PID namespace of its
    /// own: `echo $PPID` inside prints 1. Its own number (`echo $$`) is whatever the
    /// kernel gave it there, a small one: 2 when PID 1 has one thread, more when PID
    /// 1's threads took the first numbers (a Go runtime's do). So it is not checked
    /// beyond "not 1".
    pub fn assert_command_is_a_child_of_pid_1(&self) {
        let script = "echo $$ $PPID; readlink /proc/self/ns/pid; echo ready; read x; exit 0";
        let mut running = self.start_sh(script);
        running.wait_for_line("ready");
        // Who started the container's PID 1, as the host sees it: `run` itself, or a
        // process of `run`'s that made the PID namespace itself (unshare in the child).
        let init_parent = descendants(running.pid())
            .into_iter()
            .find(|pid| nspid(*pid).is_some_and(|ids| ids.len() > 1 && ids.last() == Some(&1)))
            .and_then(|init| Some(stat(init)?.1));
        let init_started_by_run = init_parent.is_none_or(|parent| parent == running.pid());
        let out = running.finish();
        claim(format!("the container runs `sh -c '{script}'` and exits 0"))
            .expected("exit code 0, and the script's output on stdout")
            .program(&out)
            .hint(ended_early(out.code))
            .holds(out.code == 0);
        let mut lines = out.stdout.lines();
        let (pids, ns) = (lines.next().unwrap_or_default(), lines.next().unwrap_or_default());
        let (pid, parent) = pids.split_once(' ').unwrap_or((pids, ""));
        let new_namespace = host_namespace_link("pid") != ns;
        let hint = if !new_namespace {
            "the command is not in a new PID namespace: start the child with CLONE_NEWPID \
             (unshare in run, then spawn it; Go: Cloneflags), so that it is PID 1 there and \
             the command it starts its child"
        } else if pid == "1" && !init_started_by_run {
            "the command is PID 1 itself, as the PID namespace was made by the child, not by \
             run: unshare(CLONE_NEWPID) takes in only the processes started after it, not the \
             caller, so the child's first child, the command, became PID 1. Unshare \
             CLONE_NEWPID in run, before starting the child"
        } else if pid == "1" {
            "the command is PID 1 itself: start it from a child that stays PID 1 and waits \
             for it (the re-executed `child`), as that child has PID 1's duties"
        } else {
            "PID 1 of the new namespace must start the command itself, as its child: the \
             command's parent (`echo $PPID` inside) must be PID 1"
        };
        claim("the command is a child of PID 1 of a new PID namespace (`echo $$ $PPID` inside)")
            .expected(
                "`echo $PPID` prints 1 (and `echo $$` the command's own PID there, a small number \
                 other than 1), in a PID namespace that is not the host's",
            )
            .shown(format!("`echo $$ $PPID` printed `{pids}`; /proc/self/ns/pid is {ns}"))
            .hint(hint)
            .holds(new_namespace && parent == "1");
    }

    /// The container's PID 1 reaps the orphans the kernel hands to it: an inner
    /// shell starts eight `sleep`s in the background and exits at once, so they
    /// become PID 1's children. The test stops PID 1 (SIGSTOP) until they have all
    /// exited, then lets it go on: their eight SIGCHLDs have merged into one by then,
    /// as they do whenever children end at once, so one waitpid per signal reaps one
    /// and leaves seven; a loop until none is left reaps them all. Then it gives PID 1
    /// a moment (a Go runtime reaps when SIGCHLD reaches it).
    pub fn assert_orphans_reaped(&self) {
        let orphans = "sh -c 'for i in 1 2 3 4 5 6 7 8; do sleep 1 & done'";
        let mut running = self.start_sh(&format!("{orphans}; echo ready; read x"));
        running.wait_for_line("ready");
        let (init, command) = (running.container_init(), running.command());
        let _ = kill(Pid::from_raw(init), Signal::SIGSTOP);
        let orphans: Vec<i32> = children(init).into_iter().filter(|&p| p != command).collect();
        let exited = |pid: &i32| stat(*pid).is_none_or(|(state, _)| state == 'Z');
        let limit = scaled(Duration::from_secs(10));
        let all_exited = poll_until(limit, || orphans.iter().all(exited));
        let _ = kill(Pid::from_raw(init), Signal::SIGCONT);
        claim("the orphans the test made have exited (eight `sleep 1`, adopted by PID 1)")
            .expected(format!("they end within {}", slow_machine_note(limit)))
            .shown(format!("still running, by host PID: {orphans:?}"))
            .hint("the orphans' `sleep 1` never ended: is the machine very slow?")
            .holds(all_exited);
        let mut zombies = Vec::new();
        poll_until(scaled(Duration::from_secs(2)), || {
            zombies = zombie_children(init);
            zombies.is_empty()
        });
        claim("the container's PID 1 reaps orphans")
            .expected("no <defunct> process left under the container's PID 1")
            .shown(format!("<defunct> children of PID 1, by host PID: {zombies:?}"))
            .hint(
                "orphans are handed to PID 1 of their namespace: the child must wait for any child \
                 that ends (waitpid(-1)), not only for the command, and in a loop (WNOHANG, \
                 until none is left): signals of children that end at once merge into one",
            )
            .holds(zombies.is_empty());
        running.finish();
    }

    /// A container does not outlive its program: SIGKILL `run`, and every process
    /// of the container is gone soon after, even a command that ignores the signals
    /// PID 1 passes on (as an interactive shell ignores SIGTERM).
    pub fn assert_container_dies_with_its_runtime(&self) {
        let mut running = self.start_sh("trap '' TERM INT HUP QUIT; echo ready; read x");
        running.wait_for_line("ready");
        let init = running.container_init();
        // A killed runtime cannot remove the cgroup it made (from step 7 on): the test
        // does, once the container has ended, to leave nothing behind.
        let cgroup = pids_cgroup_of(init);
        let own_cgroup = cgroup != pids_cgroup_of(std::process::id() as i32);
        let _ = kill(Pid::from_raw(running.pid()), Signal::SIGKILL);
        let limit = scaled(Duration::from_secs(5));
        let gone = poll_until(limit, || stat(init).is_none_or(|(state, _)| state == 'Z'));
        claim("the container dies when its program is killed (SIGKILL to run)")
            .expected(format!("the container's PID 1 gone within {}", slow_machine_note(limit)))
            .shown(format!("host PID {init} (the container's PID 1) still running after {limit:?}"))
            .hint(
                "set a parent-death signal on the child: prctl(PR_SET_PDEATHSIG, SIGKILL) (Go: \
                 SysProcAttr.Pdeathsig), after any change of its IDs (setresuid clears it). \
                 SIGKILL, not SIGTERM: PID 1 would pass SIGTERM on, and this command ignores it. \
                 When PID 1 dies, the kernel kills the rest of its PID namespace",
            )
            .holds(gone);
        // Killed by SIGKILL: it had no chance to say anything about it.
        let _ = running.finish();
        if own_cgroup && wait_until_empty(&cgroup) {
            let _ = fs::remove_dir(&cgroup);
        }
        // Step 5 has no mount namespace: its killed PID 1 leaves its proc mount on
        // the host (the lesson of step 6). Take it down, to leave nothing behind.
        detach_mounts_below(&rootfs());
    }

    /// Signals sent to the container's PID 1, and to the program itself, reach the command.
    pub fn assert_signals_forwarded(&self) {
        for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP, Signal::SIGQUIT] {
            for to_init in [true, false] {
                let n = signal as i32;
                let mut running = self.start_sh(&format!(
                    "trap 'exit {n}' {}; echo ready; sleep {} & wait",
                    &signal.as_str()[3..],
                    container_timeout().as_secs()
                ));
                running.wait_for_line("ready");
                // A new process inherits its parent's signal mask: a command started with
                // the signal blocked never runs its trap, whoever passes the signal on.
                let blocked = blocked_signals(running.command()) & (1 << (n - 1)) != 0;
                // And an ignored signal stays ignored across exec, where no trap can catch it.
                let ignored = ignored_signals(running.command()) & (1 << (n - 1)) != 0;
                let target = if to_init { running.container_init() } else { running.pid() };
                let _ = kill(Pid::from_raw(target), signal);
                let who = if to_init { "the container's PID 1" } else { "run" };
                let check_name = format!("{signal} sent to {who} reaches the command");
                let hint = if ignored {
                    "the command started with this signal ignored (SigIgn in its \
                     /proc/PID/status): an ignored signal stays ignored across exec, and a \
                     shell cannot trap it. Handle the signal in PID 1 (sigwait, or a handler) \
                     instead of ignoring it, or restore its default (SIG_DFL) in the new \
                     process before it runs the command"
                } else if blocked {
                    "the command started with this signal blocked (SigBlk in its \
                     /proc/PID/status): a new process inherits its parent's signal mask, so \
                     unblock every signal in the new process before it runs the command (Rust: \
                     SigSet::all().thread_unblock() in pre_exec; C: sigprocmask after fork)"
                } else {
                    "the kernel drops signals to a PID 1 that has no handler for them: \
                     catch SIGINT, SIGTERM, SIGHUP and SIGQUIT in run and in the child, and pass \
                     each on to the process it started (Go: signal.Notify, then Process.Signal)"
                };
                let expected = format!("exit code {n}: the command's trap ran `exit {n}`");
                let limit = scaled(Duration::from_secs(5));
                if !running.ends_within(limit) {
                    let shown =
                        format!("still running {} after the signal", slow_machine_note(limit));
                    claim(&check_name).expected(expected).shown(shown).hint(hint).fail();
                }
                let out = running.finish();
                claim(&check_name).expected(expected).program(&out).hint(hint).holds(out.code == n);
            }
        }
    }
}
