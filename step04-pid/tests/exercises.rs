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
    // The command writes `started` to stderr too: `child` writes its line before it
    // starts the command, so the line comes first.
    let mut running = step!().start_sh("echo started >&2; echo ready; read x");
    running.wait_for_line("ready");
    let init = running.container_init();
    let out = running.finish();
    let before: Vec<&str> = out.stderr.lines().take_while(|line| *line != "started").collect();
    let pids: Vec<Vec<i32>> = before
        .iter()
        .map(|line| match line.strip_prefix("NSpid:") {
            Some(pids) => pids.split_whitespace().flat_map(str::parse).collect(),
            None => Vec::new(),
        })
        .collect();
    assert_eq!(
        pids,
        [vec![init, 1]],
        "before the command starts (it writes `started` to stderr), stderr should hold one line, \
         the NSpid: line with the two PIDs of the container's PID 1: {init} on the host, 1 \
         inside. stderr was:\n{}hint: print only the NSpid: line of /proc/self/status, from \
         `child`, before it starts the command; /proc/1/status is the host's init, with one PID",
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

    // The command ignores every signal it may be sent but SIGKILL, as programs may:
    // a time limit holds only if it kills. (Ignored signals stay ignored in `sleep`.)
    let start = Instant::now();
    let sleep = scaled(Duration::from_secs(20)).as_secs();
    let script = format!("trap '' TERM INT HUP QUIT USR1 USR2; sleep {sleep} & echo ready; wait");
    let mut running = step!().start(&["--timeout", "1", &bb, "sh", "-c", &script]);
    running.wait_for_line("ready");
    let container = descendants(running.pid());
    let out = running.finish();
    let took = start.elapsed();
    assert!(
        took < scaled(Duration::from_secs(10)) && out.code == 128 + 9,
        "`run --timeout 1` of a command that sleeps {sleep} s and ignores SIGTERM should end \
         after about 1 s with exit code 137 (SIGKILL); it took {took:?} and exited {}\nstderr: \
         {}\nhint: alarm() sends SIGALRM: let `supervise` in `run` receive it, and kill the \
         container's PID 1 with SIGKILL (a SIGTERM may be ignored)",
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
