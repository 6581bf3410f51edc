//! The checks of step 4's exercises (step04-pid/exercises/README.md). Each fails
//! on the step as it is, and passes once the exercise is solved.
//!
//!     cargo test -p step04-pid --test exercises -- NAME

use std::thread;
use std::time::{Duration, Instant};

use harness::{busybox, descendants, exists, scaled, step};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

fn nspid() {
    let mut running = step!().start_sh("echo ready; read x");
    running.wait_for_line("ready");
    let init = running.container_init();
    let out = running.finish();
    let lines: Vec<&str> = out.stderr.lines().filter(|line| line.starts_with("NSpid:")).collect();
    let pids: Vec<Vec<i32>> = lines
        .iter()
        .map(|line| line["NSpid:".len()..].split_whitespace().flat_map(str::parse).collect())
        .collect();
    assert_eq!(
        pids,
        [vec![init, 1]],
        "stderr should hold one NSpid line with the two PIDs of the container's PID 1: {init} \
         on the host, 1 inside. stderr was:\n{}hint: print the NSpid: line of \
         /proc/self/status from `child`; /proc/1/status is the host's init, with one PID",
        out.stderr
    );
}

fn forward_usr_signals() {
    // First to `run` (which such a signal kills, unless it passes it on), then to
    // the container's PID 1 (which the kernel spares it, unless it has a handler).
    for signal in [Signal::SIGUSR1, Signal::SIGUSR2] {
        for to_init in [false, true] {
            let n = signal as i32;
            let name = &signal.as_str()[3..];
            let mut running =
                step!().start_sh(&format!("trap 'exit {n}' {name}; echo ready; sleep 5 & wait"));
            running.wait_for_line("ready");
            let (target, who) = if to_init {
                (running.container_init(), "the container's PID 1")
            } else {
                (running.pid(), "`run`")
            };
            let _ = kill(Pid::from_raw(target), signal);
            let out = running.finish();
            assert_eq!(
                out.code,
                n,
                "{signal} sent to {who} should reach the command, whose trap exits {n}; the \
                 container exited {}{}\nhint: add {signal} to the signals `block_signals` \
                 holds back for `supervise`",
                out.code,
                if out.code == 128 + n { &" (killed by it)" } else { &"" }
            );
        }
    }
}

fn timeout_flag() {
    let bb = busybox();
    let out = step!().run(&["--timeout", "5", &bb, "true"]);
    assert_eq!(
        out.code,
        0,
        "`run --timeout 5 true` should run `true` and exit 0, got {}\nstderr: {}\nhint: an \
         option `--timeout SECONDS` in `Target`",
        out.code,
        out.stderr.trim()
    );

    let start = Instant::now();
    let mut running =
        step!().start(&["--timeout", "1", &bb, "sh", "-c", "sleep 20 & echo ready; wait"]);
    running.wait_for_line("ready");
    let container = descendants(running.pid());
    let out = running.finish();
    let took = start.elapsed();
    assert!(
        took < scaled(Duration::from_secs(10)) && out.code == 128 + 9,
        "`run --timeout 1` of a command that sleeps 20 s should end after about 1 s with exit \
         code 137 (SIGKILL); it took {took:?} and exited {}\nstderr: {}\nhint: alarm() sends \
         SIGALRM: let `supervise` in `run` receive it, and kill the container's PID 1",
        out.code,
        out.stderr.trim()
    );
    // The kernel kills every process of a PID namespace whose PID 1 dies.
    let deadline = Instant::now() + scaled(Duration::from_secs(5));
    let alive = || container.iter().copied().filter(|pid| exists(*pid)).collect::<Vec<_>>();
    while !alive().is_empty() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(alive(), Vec::<i32>::new(), "processes of the container outlived the time limit");
}

harness::tests!(nspid, forward_usr_signals, timeout_flag);
