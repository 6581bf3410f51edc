//! Step 1's graded checks: the contract itself.

use std::io::Write;
use std::path::Path;

use crate::StepProgram;
use crate::report::claim;
use crate::running::Output;

/// Step 1 on: the contract itself.
impl StepProgram {
    /// The command is wired to the program's stdin, stdout and stderr, as it runs
    /// (not copied after it has ended), and the program adds nothing of its own to
    /// stdout, not even when the command cannot start.
    pub fn assert_stdio_wired(&self) {
        let script = "read line; echo \"out:$line\"; echo \"err:$line\" >&2";
        let out = self.run_with_input(&[self.busybox.as_str(), "sh", "-c", script], "hello\n");
        claim("the command reads stdin and writes to stdout and stderr")
            .expected(
                "exit code 0, stdout exactly `out:hello`, stderr with `err:hello` (from \
                 `read line; echo out:$line; echo err:$line >&2`, given `hello`)",
            )
            .program(&out)
            .hint(stdio_hint(&out))
            .holds(
                out.code == 0 && out.stdout == "out:hello\n" && out.stderr.contains("err:hello\n"),
            );

        let missing = self.run(&["/no/such/command"]);
        claim("your program's own messages go to stderr, never to stdout")
            .expected("nothing on stdout when the command does not exist (the message on stderr)")
            .program(&missing)
            .hint(
                "your program printed on stdout: print your own messages (\"cannot run …\") to \
                 stderr, never to stdout, which is the command's alone (Rust: eprintln!, not \
                 println!; Go: fmt.Fprintln(os.Stderr, …))",
            )
            .holds(missing.stdout.is_empty());

        // The command's output must arrive while it runs: it prints `ready`, then
        // waits for a line that the test writes only once `ready` has come.
        let script = "echo ready; read line; echo \"out:$line\"";
        let mut running = self.start(&[self.busybox.as_str(), "sh", "-c", script]);
        running.wait_for_line("ready");
        if let Some(stdin) = running.stdin.as_mut() {
            // A program that does not pass its stdin on may have closed it: the claim says so.
            let _ = stdin.write_all(b"hello\n");
        }
        let out = running.finish();
        claim("the command's output reaches stdout while it runs")
            .expected("stdout `ready` then `out:hello` (the test typed `hello` once `ready` came)")
            .program(&out)
            .hint(stdio_hint(&out))
            .holds(out.code == 0 && out.stdout == "ready\nout:hello\n");
    }

    /// Exit codes follow Docker: the command's own status, 128+n when signal n
    /// killed it, 127 when it does not exist, 126 when it cannot be executed.
    pub fn assert_exit_codes(&self) {
        let cases: [(&str, Output, i32, &str); 5] = [
            (
                "`exit 3` makes the program exit 3",
                self.sh("exit 3"),
                3,
                "exit with the command's own exit status: wait for it and pass its code on (from \
                 step 3 on, through the child too)",
            ),
            (
                "a command killed by SIGKILL makes the program exit 137 (128+9)",
                self.sh("kill -KILL $$"),
                128 + 9,
                "when signal n kills the command, exit with 128+n, as a shell reports it (Go: \
                 the ExitError's WaitStatus: Signaled() and Signal())",
            ),
            (
                "a command that does not exist makes the program exit 127",
                self.run(&["/no/such/command"]),
                127,
                "starting the command fails with ENOENT (\"no such file\"): exit 127, as a shell does",
            ),
            (
                "a file without the execute bit as the command makes the program exit 126",
                self.run(&["/etc/passwd"]),
                126,
                "the command exists but cannot be executed (EACCES): exit 126, as a shell does",
            ),
            (
                "a directory as the command makes the program exit 126",
                self.run(&["/"]),
                126,
                "the command exists but cannot be executed (EACCES): exit 126, as a shell does",
            ),
        ];
        for (name, out, code, hint) in cases {
            claim(name)
                .expected(format!("exit code {code}"))
                .program(&out)
                .hint(hint)
                .holds(out.code == code);
        }
    }

    /// Arguments after the command reach it untouched, hyphens and all.
    pub fn assert_arguments_pass_through(&self) {
        let args = ["-l", "--rootfs", "--", "a b", "--help"];
        let script = "for a; do echo \"<$a>\"; done";
        let mut command = vec![self.busybox.as_str(), "sh", "-c", script, "sh"];
        command.extend(args);
        let out = self.run(&command);
        let expected: String = args.iter().map(|a| format!("<{a}>\n")).collect();
        claim("the arguments after the command reach it untouched")
            .expected(format!(
                "each argument of `{}` on a line of its own, between <>",
                args.join(" ")
            ))
            .program(&out)
            .hint(
                "pass every argument after CMD on as it is: stop reading your own options at CMD \
                 (`-l`, `--rootfs`, `--` and `--help` there belong to the command)",
            )
            .holds(out.code == 0 && out.stdout == expected);

        // Busybox called `busybox` reads its applet from its first argument, and so
        // runs `busybox busybox sh …` as `busybox sh …`: the link `echo` does not.
        let echo = Path::new(&self.busybox).with_file_name("echo").display().to_string();
        let out = self.run(&[echo.as_str(), "a", "b c"]);
        let doubled = out.stdout.starts_with(&format!("{echo} "));
        claim("the command gets CMD as its argv[0] and only ARGS as its arguments")
            .expected(format!("`a b c` printed by `{echo} a 'b c'`"))
            .program(&out)
            .hint(if doubled {
                "the command got its own path again as its first argument: argv[0] is the \
                 program, its arguments are only what follows it (Rust: \
                 Command::new(&argv[0]).args(&argv[1..]), not .args(&argv))"
            } else {
                "start CMD itself, with the arguments after it as its arguments (from step 3 on, \
                 through the child too: `child CMD ARGS...`)"
            })
            .holds(out.code == 0 && out.stdout == "a b c\n");
    }
}

/// Why the command's stdin, stdout or stderr did not work, from what came out.
fn stdio_hint(out: &Output) -> &'static str {
    let said = |text: &str, prefix: &str| text.lines().any(|line| line.starts_with(prefix));
    let (out_line, err_line) = (said(&out.stdout, "out:"), said(&out.stderr, "err:"));
    if out.stdout.lines().any(|line| line == "out:") {
        "the command read nothing from stdin: give it your program's own stdin (Rust: \
         Command::status and spawn leave it inherited; Command::output and Stdio::null give it \
         nothing; Go: cmd.Stdin = os.Stdin)"
    } else if !out_line && !err_line && !out.stdout.trim().is_empty() {
        "the command printed, but not its script's lines: it did not run as given (`busybox sh \
         -c SCRIPT`). Pass its arguments on: Command::new(&argv[0]).args(&argv[1..]) (from step 3 \
         on, through the child too)"
    } else if !out_line && !err_line && out.code == 0 {
        "nothing the command wrote arrived: give it your program's own stdout and stderr rather \
         than capturing them (Rust: Command::status inherits them, Command::output captures \
         them; Go: cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr)"
    } else if out_line
        && out.stdout.lines().any(|line| !line.starts_with("out:") && line != "ready")
    {
        "your program printed on stdout: print your own messages to stderr, never to stdout, \
         which is the command's alone"
    } else if out_line && !err_line && out.stdout.starts_with("out:") {
        "the command's stderr did not arrive: give it your program's own stderr (Go: cmd.Stderr = \
         os.Stderr)"
    } else {
        "start the command with your program's own stdin, stdout and stderr (Go: cmd.Stdin, \
         cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr), and print your own messages \
         to stderr, never to stdout"
    }
}
