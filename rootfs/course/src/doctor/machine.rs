//! What kind of machine this is: a container, a virtual machine, which distribution.
//!
//! Only to word the verdicts and their fixes: whether a step works is decided by
//! trying it (see `probe.rs`), never from the kind of machine.

use std::fmt;

/// The container we run in, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Container {
    /// Windows Subsystem for Linux; 1 has no real Linux kernel, 2 is a light VM.
    Wsl(u8),
    Codespaces,
    /// A dev container (VS Code's Dev Containers, devcontainer CLI).
    Dev,
    Docker,
    Podman,
    Nspawn,
    Lxc,
    Other(String),
}

impl Container {
    /// How to give this container what the course needs (namespaces, mounts,
    /// a writable cgroup tree), when it lacks them.
    pub fn privileged_fix(&self) -> String {
        match self {
            Self::Wsl(1) => "WSL 1 has no Linux kernel: switch to WSL 2, in PowerShell: wsl --set-version <distro> 2".into(),
            Self::Wsl(_) => "run the course in your WSL 2 distribution itself, as root or with sudo".into(),
            Self::Codespaces | Self::Dev => {
                "make the dev container privileged: add \"privileged\": true to .devcontainer/devcontainer.json and rebuild it".into()
            }
            Self::Docker => "start the container with docker run --privileged …".into(),
            Self::Podman => "start the container with sudo podman run --privileged … (rootful)".into(),
            Self::Nspawn => "run the course on the host, or in a virtual machine".into(),
            Self::Lxc => "allow nesting: lxc config set <container> security.nesting=true security.privileged=true".into(),
            Self::Other(_) => "run the container privileged, or run the course in a virtual machine".into(),
        }
    }
}

impl fmt::Display for Container {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Wsl(n) => write!(f, "WSL {n} (Windows Subsystem for Linux)"),
            Self::Codespaces => write!(f, "a GitHub Codespace (a dev container)"),
            Self::Dev => write!(f, "a dev container"),
            Self::Docker => write!(f, "a Docker container"),
            Self::Podman => write!(f, "a Podman container"),
            Self::Nspawn => write!(f, "a systemd-nspawn container"),
            Self::Lxc => write!(f, "an LXC container"),
            Self::Other(name) => write!(f, "a container ({name})"),
        }
    }
}

/// The traces a container leaves, read from files and the environment.
#[derive(Debug, Default)]
pub struct Clues {
    /// `/.dockerenv` exists.
    pub dockerenv: bool,
    /// `/run/.containerenv` exists (Podman).
    pub containerenv: bool,
    /// `/proc/sys/kernel/osrelease` (and /proc/version): "microsoft" on WSL.
    pub kernel: String,
    /// `/run/systemd/container`, or `container=` in PID 1's environment.
    pub container_variable: Option<String>,
    /// Our environment's `CODESPACES`, `REMOTE_CONTAINERS`, `DEVCONTAINER`.
    pub codespaces: bool,
    pub dev_container: bool,
}

/// Which container the clues point to, the most specific first.
pub fn container(clues: &Clues) -> Option<Container> {
    let kernel = clues.kernel.to_lowercase();
    if kernel.contains("microsoft") {
        // WSL 2 kernels are called e.g. 5.15.153.1-microsoft-standard-WSL2; WSL 1's
        // fake kernel reports e.g. 4.4.0-19041-Microsoft.
        let two = kernel.contains("wsl2") || kernel.contains("microsoft-standard");
        return Some(Container::Wsl(if two { 2 } else { 1 }));
    }
    if clues.codespaces {
        return Some(Container::Codespaces);
    }
    if clues.dev_container {
        return Some(Container::Dev);
    }
    if clues.dockerenv {
        return Some(Container::Docker);
    }
    if clues.containerenv {
        return Some(Container::Podman);
    }
    match clues.container_variable.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("docker") => Some(Container::Docker),
        Some("podman") => Some(Container::Podman),
        Some("systemd-nspawn") => Some(Container::Nspawn),
        Some(lxc) if lxc.starts_with("lxc") => Some(Container::Lxc),
        Some(other) => Some(Container::Other(other.to_string())),
    }
}

/// A virtual machine's name from the firmware's vendor (`/sys/class/dmi/id/sys_vendor`).
pub fn vm_from_vendor(vendor: &str) -> Option<String> {
    let vendor = vendor.trim();
    let name = match vendor {
        "QEMU" => "QEMU/KVM",
        "innotek GmbH" | "Oracle Corporation" => "VirtualBox",
        "VMware, Inc." => "VMware",
        "Microsoft Corporation" => "Hyper-V",
        "Xen" => "Xen",
        "Parallels Software International Inc." | "Parallels International GmbH." => "Parallels",
        "Amazon EC2" => "Amazon EC2",
        "Google" => "Google Compute Engine",
        _ => return None,
    };
    Some(name.to_string())
}

/// How this distribution installs packages, from /etc/os-release's ID and ID_LIKE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packages {
    Apt,
    Dnf,
    Pacman,
    Apk,
    Zypper,
    Unknown,
}

impl Packages {
    pub fn from_os_release(text: &str) -> Self {
        let ids: Vec<&str> = text
            .lines()
            .filter_map(|line| line.strip_prefix("ID=").or_else(|| line.strip_prefix("ID_LIKE=")))
            .flat_map(|value| value.trim_matches('"').split_whitespace())
            .collect();
        let known = [
            ("debian", Self::Apt),
            ("ubuntu", Self::Apt),
            ("fedora", Self::Dnf),
            ("rhel", Self::Dnf),
            ("arch", Self::Pacman),
            ("alpine", Self::Apk),
            ("suse", Self::Zypper),
            ("opensuse", Self::Zypper),
        ];
        ids.iter()
            .find_map(|id| known.iter().find(|(name, _)| name == id).map(|(_, packages)| *packages))
            .unwrap_or(Self::Unknown)
    }

    /// The command that installs a static busybox.
    pub fn install_busybox(self) -> &'static str {
        match self {
            Self::Apt => "apt-get install busybox-static",
            Self::Dnf => "dnf install busybox",
            Self::Pacman => "pacman -S busybox",
            Self::Apk => "apk add busybox-static",
            Self::Zypper => "zypper install busybox-static",
            Self::Unknown => "install your distribution's statically linked busybox",
        }
    }

    /// The command that installs unshare(1) and nsenter(1).
    pub fn install_util_linux(self) -> &'static str {
        match self {
            Self::Apt => "apt-get install util-linux",
            Self::Dnf => "dnf install util-linux",
            Self::Pacman => "pacman -S util-linux",
            Self::Apk => "apk add util-linux-misc",
            Self::Zypper => "zypper install util-linux",
            Self::Unknown => "install util-linux",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wsl_is_told_from_the_kernel_name() {
        let wsl2 =
            Clues { kernel: "5.15.153.1-microsoft-standard-WSL2".into(), ..Clues::default() };
        assert_eq!(container(&wsl2), Some(Container::Wsl(2)));
        let wsl1 = Clues { kernel: "4.4.0-19041-Microsoft".into(), ..Clues::default() };
        assert_eq!(container(&wsl1), Some(Container::Wsl(1)));
    }

    #[test]
    fn a_dev_container_is_named_before_the_docker_it_runs_in() {
        let clues = Clues { dockerenv: true, dev_container: true, ..Clues::default() };
        assert_eq!(container(&clues), Some(Container::Dev));
        let clues = Clues { dockerenv: true, codespaces: true, ..Clues::default() };
        assert_eq!(container(&clues), Some(Container::Codespaces));
    }

    #[test]
    fn files_and_pid1s_variable_name_the_container() {
        let docker = Clues { dockerenv: true, ..Clues::default() };
        assert_eq!(container(&docker), Some(Container::Docker));
        let podman = Clues { containerenv: true, ..Clues::default() };
        assert_eq!(container(&podman), Some(Container::Podman));
        let nspawn =
            Clues { container_variable: Some("systemd-nspawn\n".into()), ..Clues::default() };
        assert_eq!(container(&nspawn), Some(Container::Nspawn));
        let lxc = Clues { container_variable: Some("lxc-libvirt".into()), ..Clues::default() };
        assert_eq!(container(&lxc), Some(Container::Lxc));
    }

    #[test]
    fn no_clue_means_no_container() {
        let clues = Clues { kernel: "6.1.0-26-amd64".into(), ..Clues::default() };
        assert_eq!(container(&clues), None);
    }

    #[test]
    fn firmware_vendors_name_virtual_machines() {
        assert_eq!(vm_from_vendor("QEMU\n").as_deref(), Some("QEMU/KVM"));
        assert_eq!(vm_from_vendor("innotek GmbH").as_deref(), Some("VirtualBox"));
        assert_eq!(vm_from_vendor("Dell Inc."), None);
    }

    #[test]
    fn os_release_picks_the_package_manager() {
        let ubuntu = "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\n";
        assert_eq!(Packages::from_os_release(ubuntu), Packages::Apt);
        let rocky = "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n";
        assert_eq!(Packages::from_os_release(rocky), Packages::Dnf);
        assert_eq!(Packages::from_os_release("ID=alpine\n"), Packages::Apk);
        assert_eq!(Packages::from_os_release("ID=nixos\n"), Packages::Unknown);
    }
}
