//! Step 1's graded checks: the contract itself.

use crate::StepProgram;
use crate::report::claim;
use crate::running::Output;

/// Step 1 on: the contract itself.
impl StepProgram {
    /// The command is wired to the program's stdin, stdout and stderr, and the
    /// program adds nothing of its own to stdout.
    pub fn assert_stdio_wired(&self) {
        let script = "read line; echo \"out:$line\"; echo \"err:$line\" >&2";
        let out = self.run_with_input(&[self.busybox.as_str(), "sh", "-c", script], "hello\n");
        claim("the command reads stdin and writes to stdout and stderr")
            .expected(
                "exit code 0, stdout exactly `out:hello`, stderr with `err:hello` (from \
                 `read line; echo out:$line; echo err:$line >&2`, given `hello`)",
            )
            .program(&out)
            .hint(
                "start the command with your program's own stdin, stdout and stderr (Go: \
                 cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr), and print \
                 your own messages to stderr, never to stdout",
            )
            .holds(
                out.code == 0 && out.stdout == "out:hello\n" && out.stderr.contains("err:hello\n"),
            );
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
    }
}
