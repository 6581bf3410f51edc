//! Step 3's graded check: the hostname is `container` before the command starts.

use std::os::unix::process::CommandExt;
use std::process::Command;

use crate::ROOTFS_VAR;
use crate::StepProgram;
use crate::fixtures::rootfs;
use crate::kernel::hostname::host_hostname;
use crate::report::{claim, ended_early};
use crate::running::{Output, Running};
use crate::step::FIRST_STEP_WITH_A_ROOT_OF_ITS_OWN;
use crate::workspace::step_number;

/// The script the check runs: the hostname, on a line that says it is the script's.
const SCRIPT: &str = "echo \"hostname=$(hostname)\"";

/// Step 3 on: the hostname is set inside, before the command starts.
impl StepProgram {
    pub fn assert_hostname_is_container(&self) {
        let out = self.sh(SCRIPT);
        self.claim_hostname_is_container("the hostname inside is `container` from the start", &out);
        // Started by its bare name, as a shell finds it on PATH: argv[0] is then no
        // path to the program, and only /proc/self/exe still leads to it.
        let out = self.sh_started_by_bare_name(SCRIPT);
        self.claim_hostname_is_container(
            "the hostname inside is `container` also when `run` was started by its bare name, \
             argv[0] no path (re-execute /proc/self/exe, never argv[0])",
            &out,
        );
    }

    fn claim_hostname_is_container(&self, check: &str, out: &Output) {
        claim(check)
            .expected("exit code 0, and the script's output on stdout")
            .program(out)
            .hint(ended_early(out.code))
            .holds(out.code == 0);
        let line = out.stdout.lines().find_map(|line| line.strip_prefix("hostname="));
        let Some(hostname) = line else {
            claim(check)
                .expected(format!("a line `hostname=container` (from `sh -c '{SCRIPT}'`)"))
                .program(out)
                .hint(
                    "the command did not run as given (`busybox sh -c SCRIPT`): pass CMD and \
                     every argument on, from run to the child (.arg(\"child\").args(&argv)) and \
                     from the child to the command",
                )
                .fail()
        };
        let hint = if hostname == host_hostname() {
            "hostname is still the host's: did the child set it (sethostname) to `container` \
             before starting the command?"
        } else {
            "the child must set the hostname to exactly `container`, before starting the command"
        };
        claim(check)
            .expected("container")
            .shown(hostname)
            .hint(hint)
            .holds(hostname == "container");
    }

    /// `BIN run busybox sh -c SCRIPT` to its end, BIN started with argv[0] its file
    /// name only (not found on this process's PATH).
    fn sh_started_by_bare_name(&self, script: &str) -> Output {
        let name = self.bin.file_name().unwrap_or(self.bin.as_os_str()).to_owned();
        let mut command = Command::new(&self.bin);
        command.arg0(name).arg("run").args([self.busybox.as_str(), "sh", "-c", script]);
        if self.rootfs_env {
            command.env(ROOTFS_VAR, rootfs());
        }
        let mut running = Running::spawn(command);
        if step_number(&self.package) < FIRST_STEP_WITH_A_ROOT_OF_ITS_OWN {
            running.host_busybox = Some(self.busybox.clone());
        }
        running.finish()
    }
}
