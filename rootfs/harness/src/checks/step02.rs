//! Step 2's graded checks: a UTS namespace of its own.

use crate::StepProgram;
use crate::kernel::namespaces::{compare_namespaces, host_namespace_link, print_namespaces};
use crate::report::{claim, namespace_hint};
use crate::running::Output;
use crate::workspace::step_number;

/// Step 2 on: a UTS namespace.
impl StepProgram {
    /// The hostname inside a container.
    pub fn hostname(&self) -> String {
        self.sh("hostname").stdout.trim().into()
    }

    /// For each kind of namespace, whether a container's is the host's or new.
    pub fn namespaces(&self) -> String {
        self.namespaces_with(&[]).1
    }

    /// For each kind of namespace, whether the container's is the host's or new, in
    /// a container started as `run OPTIONS... busybox sh -c SCRIPT`; and how that
    /// container ended.
    pub fn namespaces_with(&self, options: &[&str]) -> (Output, String) {
        let script = print_namespaces();
        let mut args = options.to_vec();
        args.extend([self.busybox.as_str(), "sh", "-c", &script]);
        let out = self.run(&args);
        let table = compare_namespaces(&out.stdout);
        (out, table)
    }

    /// The container has a namespace of its own of each of these kinds.
    pub fn assert_namespaces_new(&self, kinds: &[&str]) {
        let (out, table) = self.namespaces_with(&[]);
        // It ran, but printed no namespace at all: not the command it was given.
        let none = table.lines().all(|line| line.ends_with(": not printed"));
        claim("the container runs the command it is given")
            .expected("the namespace links the script prints (`sh -c 'for n in …; do readlink …'`)")
            .program(&out)
            .hint(
                "the command ran (exit code 0) but printed none of its script's lines: it did not \
                 run as given (`busybox sh -c SCRIPT`). Pass its arguments on: \
                 Command::new(&argv[0]).args(&argv[1..]) (from step 3 on, through the child too)",
            )
            .holds(!(none && out.code == 0));
        for kind in kinds {
            claim(format!("the container's {kind} namespace is not the host's"))
                .expected(format!("/proc/self/ns/{kind} inside differs from the host's"))
                .shown(format!(
                    "for each namespace, the container's compared with the host's:\n{table}"
                ))
                .hint(self.namespace_hint_from(kind, &table))
                .holds(table.contains(&format!("{kind}: new\n")));
        }
    }

    /// The hint for a container without a `kind` namespace of its own, given the
    /// table of its namespaces: a new one of a kind this step does not ask for
    /// means a flag of the wrong kind.
    fn namespace_hint_from(&self, kind: &str, table: &str) -> String {
        let hint = namespace_hint(kind);
        let step = step_number(&self.package);
        let asked = |other: &str| match other {
            "uts" => step >= 2,
            "pid" => step >= 4,
            "mnt" => step >= 6,
            _ => false,
        };
        let unasked: Vec<&str> = table
            .lines()
            .filter_map(|line| line.strip_suffix(": new"))
            .filter(|other| *other != kind && !asked(other))
            .collect();
        match unasked.as_slice() {
            [] => format!(
                "{hint}; unshare moves only the thread that calls it, so call it in the thread \
                 that then starts the command"
            ),
            others => format!(
                "{hint}. The container has a new {} namespace instead: that is {}, a flag of \
                 another kind; the one for this namespace is {}",
                others.join(", "),
                others.iter().map(|other| clone_flag(other)).collect::<Vec<_>>().join(", "),
                clone_flag(kind)
            ),
        }
    }

    /// `hostname changed-inside` in a container changes its hostname, not the host's.
    /// The test changes it only once the kernel shows that the container's UTS
    /// namespace is not the host's: a program without one must fail this test, not
    /// rename the machine.
    pub fn assert_hostname_change_stays_inside(&self) {
        let host_uts = host_namespace_link("uts");
        let script = format!(
            "[ \"$(readlink /proc/self/ns/uts)\" != '{host_uts}' ] || exit 99; \
             hostname changed-inside && hostname"
        );
        let out = self.sh(&script);
        let check_name = "`hostname changed-inside` inside changes the container's hostname only";
        claim(check_name)
            .expected("a UTS namespace of its own, where renaming is safe")
            .shown(format!(
                "the container's UTS namespace is the host's ({host_uts}): the test did not \
                 rename, as it would have renamed the host"
            ))
            .hint(namespace_hint("uts"))
            .holds(out.code != 99);
        // A locked-down container (no CAP_SYS_ADMIN over its UTS namespace) may refuse
        // the rename altogether: the host's name is as safe.
        let refused = out.code != 0 && out.stderr.contains("Operation not permitted");
        claim(check_name)
            .expected(
                "`changed-inside` printed by `hostname` inside (or the rename refused: \
                 Operation not permitted)",
            )
            .program(&out)
            .hint(
                "the container could not set its own hostname: does it run as root, in a UTS \
                 namespace of its own?",
            )
            .holds(refused || (out.code == 0 && out.stdout == "changed-inside\n"));
    }
}

/// The clone flag that makes a namespace of this kind.
fn clone_flag(kind: &str) -> &'static str {
    match kind {
        "cgroup" => "CLONE_NEWCGROUP",
        "ipc" => "CLONE_NEWIPC",
        "mnt" => "CLONE_NEWNS",
        "net" => "CLONE_NEWNET",
        "pid" => "CLONE_NEWPID",
        "user" => "CLONE_NEWUSER",
        "uts" => "CLONE_NEWUTS",
        _ => "its CLONE_NEW… flag",
    }
}
