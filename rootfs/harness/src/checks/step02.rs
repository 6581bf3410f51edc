//! Step 2's graded checks: a UTS namespace of its own.

use crate::StepProgram;
use crate::kernel::namespaces::{compare_namespaces, host_namespace_link, print_namespaces};
use crate::report::{claim, namespace_hint};
use crate::running::Output;

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
        let table = self.namespaces();
        for kind in kinds {
            claim(format!("the container's {kind} namespace is not the host's"))
                .expected(format!("/proc/self/ns/{kind} inside differs from the host's"))
                .shown(format!(
                    "for each namespace, the container's compared with the host's:\n{table}"
                ))
                .hint(namespace_hint(kind))
                .holds(table.contains(&format!("{kind}: new\n")));
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
        claim(check_name)
            .expected("`changed-inside` printed by `hostname` inside")
            .program(&out)
            .hint(
                "the container could not set its own hostname: does it run as root, in a UTS \
                 namespace of its own?",
            )
            .holds(out.code == 0 && out.stdout == "changed-inside\n");
    }
}
