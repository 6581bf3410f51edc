//! Step 5's graded checks: a root filesystem (chroot) and a proc of its own, and
//! nothing left behind.

use std::path::Path;
use std::process::Command;

use crate::checks::step07::assert_no_cgroup_left_by_its_command;
use crate::fixtures::{ScratchRoot, dir_listing, rootfs};
use crate::kernel::mounts::{detach, mount_table, mounts_below, new_mounts};
use crate::kernel::processes::{listed_pids, own_files};
use crate::report::{claim, ended_early};
use crate::running::Running;
use crate::{ROOTFS_VAR, StepProgram};

/// Step 5 on: a root filesystem (chroot) and a proc of its own.
impl StepProgram {
    /// `ls -1A /` inside lists the course's root filesystem.
    pub fn assert_root_is_the_rootfs(&self) {
        let inside = self.sh("ls -1A /");
        let listing: Vec<&str> = inside.stdout.lines().collect();
        let hint = if listing == dir_listing(Path::new("/")) || inside.code == 127 {
            "`/` is still the host's: did the child chroot into the directory CONTAINER_ROOTFS \
             names, and chdir(\"/\"), before starting the command?"
        } else {
            "`/` must be the root filesystem CONTAINER_ROOTFS names: chroot there, then chdir(\"/\")"
        };
        claim("`ls /` inside shows the busybox tree")
            .expected(dir_listing(&rootfs()).join(" "))
            .program(&inside)
            .hint(hint)
            .holds(inside.code == 0 && listing == dir_listing(&rootfs()));
    }

    /// `ps` inside lists only the container: exactly the processes of its PID
    /// namespace (its PID 1, the shell, and ps itself), none of the host's. Their
    /// numbers are the kernel's: a PID 1 with threads (a Go runtime's) leaves the
    /// shell and ps higher ones than 2 and 3.
    pub fn assert_ps_shows_only_the_container(&self) {
        // ps runs in the background so that the shell can say which PID it had.
        let script = "ps -o pid & ps=$!; wait; echo \"ps was $ps\"; echo ready; read x";
        let mut running = self.start_sh(script);
        running.wait_for_line("ready");
        let inside = running.pids_inside();
        let out = running.finish();
        let pids = listed_pids(&out.stdout);
        let ps: Option<i32> =
            out.stdout.lines().find_map(|line| line.strip_prefix("ps was ")?.parse().ok());
        let expected = inside.map(|mut container| {
            container.extend(ps);
            container.sort();
            container
        });
        let hint = if pids.contains(&(std::process::id() as i32)) {
            "ps lists the host's processes: is a new proc mounted on /proc inside the new root?"
        } else if pids.is_empty() {
            "ps lists no process: /proc in the new root is empty. Mount a proc filesystem on \
             /proc, after chroot, in the child (PID 1 of the new PID namespace)"
        } else {
            "ps should list the container's processes only: PID 1 (your child), the shell, and \
             ps itself, nothing else"
        };
        claim("`ps` inside lists only the container's processes")
            .expected(match &expected {
                Some(expected) => format!(
                    "PIDs {expected:?}: the container's processes, numbered as in its PID \
                     namespace (its PID 1, the shell, and ps itself)"
                ),
                None => "the processes of the container's own PID namespace".into(),
            })
            .program(&out)
            .hint(hint)
            .holds(expected.as_ref() == Some(&pids));
    }

    /// The container's `/` is whatever directory `CONTAINER_ROOTFS` names.
    pub fn assert_rootfs_from_the_environment(&self) {
        let scratch = ScratchRoot::copy_of_the_course_tree();
        let mut command = Command::new(&self.bin);
        command.env(ROOTFS_VAR, scratch.path()).args(["run", "/bin/busybox", "cat", "/marker"]);
        let out = Running::spawn(command).finish();
        claim("the container's `/` is the directory CONTAINER_ROOTFS names")
            .expected(format!("`cat /marker` inside prints {}", scratch.marker().trim()))
            .program(&out)
            .hint(
                "read the root filesystem's path from the environment variable CONTAINER_ROOTFS \
                 (the tests set it for every container) and chroot there",
            )
            .holds(out.code == 0 && out.stdout == scratch.marker());
    }

    /// However the command ends (it fails, it is not found, it cannot be executed,
    /// a signal kills it), nothing is left mounted on the root filesystem, as the
    /// host sees it.
    pub fn assert_nothing_left_mounted(&self) {
        let me = std::process::id() as i32;
        // The shell opens /proc/uptime before it forks, so the job holds it from the
        // start (`sleep 2 < /proc/uptime &` opens it in the job, maybe after the unmount).
        let holds_proc = "exec 3< /proc/uptime; sleep 5 & exit 0";
        let ends: [(&str, &[&str], i32); 5] = [
            ("fails (`exit 3`)", &["/bin/busybox", "sh", "-c", "exit 3"], 3),
            (
                "leaves a job that holds /proc open (a `sleep 5 &` with /proc/uptime open: unmount it \
                 lazily, MNT_DETACH, or the kernel says it is busy)",
                &["/bin/busybox", "sh", "-c", holds_proc],
                0,
            ),
            ("is not found (/bin/nosuch)", &["/bin/nosuch"], 127),
            ("cannot be executed (`/`, a directory)", &["/"], 126),
            ("is killed (`kill -9 $$`)", &["/bin/busybox", "sh", "-c", "kill -9 $$"], 137),
        ];
        for (how, command, code) in ends {
            let before = mounts_below(me, &rootfs());
            let out = self.run(command);
            let left = new_mounts(&before, mounts_below(me, &rootfs()));
            detach(&left);
            let hint = match left.is_empty() {
                true => format!(
                    "the container exited {} where its command exits {code}: `run` exits with the \
                     command's own status (read its stderr)",
                    out.code
                ),
                false => "unmount /proc once the command has ended, however it ended: an early \
                          return (`?`) when it could not start or failed must not skip the unmount"
                    .to_owned(),
            };
            claim(format!("nothing is left mounted after a container whose command {how}"))
                .expected(format!(
                    "exit code {code}, and no mount below the root filesystem on the host"
                ))
                .program(&out)
                .shown(format!("mounts left: {left:?}"))
                .hint(hint)
                .holds(out.code == code && left.is_empty());
        }
    }

    /// The command starts in `/` of the new root, and `..` there is `/` too: a
    /// process that chroots keeps its working directory, outside the new root,
    /// from where `..` walks out into the host's files.
    pub fn assert_working_directory_is_the_root(&self) {
        let out = self.sh("stat -c '%d:%i' / . .. && pwd");
        let lines: Vec<&str> = out.stdout.lines().collect();
        let at_root =
            out.code == 0 && lines.len() == 4 && lines[..3].iter().all(|l| *l == lines[0]);
        claim("the command starts in `/` of the new root, and `..` of it is `/`")
            .expected("`stat -c %d:%i / . ..` inside prints the same device and inode three times")
            .program(&out)
            .hint(
                "after chroot, chdir(\"/\"): chroot changes what `/` means, not where the process \
                 stands, so its working directory is still the host's directory and `ls ..` \
                 lists the host's files",
            )
            .holds(at_root);
    }

    /// `runs` short containers in a row leave nothing behind: no mount in the host's
    /// mount table, no cgroup where the kernel had put their command, and each one
    /// ends. The command, `cat /proc/self/cgroup`, says where that was.
    pub fn assert_nothing_accumulates(&self, runs: usize) {
        let me = std::process::id() as i32;
        let mounts = mount_table(me);
        for _ in 0..runs {
            let out = self.run(&[self.busybox.as_str(), "cat", "/proc/self/cgroup"]);
            let ran = "`cat /proc/self/cgroup` in a container exits 0";
            claim(ran)
                .expected("exit code 0")
                .program(&out)
                .hint(ended_early(out.code))
                .holds(out.code == 0);
            assert_no_cgroup_left_by_its_command(&out);
        }
        let after = mount_table(me);
        let changed = |from: &[String], to: &[String], sign: &str| -> Vec<String> {
            to.iter()
                .filter(|line| !from.contains(line))
                .map(|line| format!("{sign} {line}"))
                .collect()
        };
        let diff = [changed(&after, &mounts, "-"), changed(&mounts, &after, "+")].concat();
        claim(format!("{runs} containers in a row leave the host's mount table as it was"))
            .expected("the same mount table after as before")
            .shown(format!("mounts gone (-) and new (+):\n{}", diff.join("\n")))
            .hint(
                "unmount what the container mounted when it ends (or keep its mounts in a mount \
                 namespace of its own, step 6)",
            )
            .holds(after == mounts);
    }

    /// The command holds no file that the program under test opened: only stdin,
    /// stdout, stderr, and what this test process passed down.
    pub fn assert_command_holds_only_stdio(&self) {
        let mut running = self.start_sh("echo ready; read x");
        running.wait_for_line("ready");
        let command = running.command();
        let files = own_files(command);
        claim("the command holds no file your program opened")
            .expected("only stdin, stdout and stderr (and what the test itself passed down)")
            .shown(files.join("\n"))
            .hint(
                "open your own files close-on-exec (O_CLOEXEC; Go does by default), or close them \
                 before starting the command: a descriptor leaked into a container lets it reach \
                 outside (runc's CVE-2024-21626)",
            )
            .holds(files.is_empty());
        running.finish();
    }
}
