//! Step 3's graded check: the hostname is `container` before the command starts.

use crate::StepProgram;
use crate::kernel::hostname::host_hostname;
use crate::report::claim;

/// Step 3 on: the hostname is set inside, before the command starts.
impl StepProgram {
    pub fn assert_hostname_is_container(&self) {
        let hostname = self.sh_ok("hostname");
        let hostname = hostname.trim();
        let hint = if hostname == host_hostname() {
            "hostname is still the host's: did the child set it (sethostname) to `container` \
             before starting the command?"
        } else {
            "the child must set the hostname to exactly `container`, before starting the command"
        };
        claim("the hostname inside is `container` from the start")
            .expected("container")
            .shown(hostname)
            .hint(hint)
            .holds(hostname == "container");
    }
}
