package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// child runs inside the container's new namespaces (step 3 on), started by run
// as `child [--cgroup DIR] CMD [ARGS]...`. It finishes the container from the
// inside, then starts the command and waits for it. It returns the exit code,
// or an error when the container could not be made.
func child(args []string) (int, error) {
	cgroup := ""
	if has(pidsCgroup) {
		if len(args) < 3 || args[0] != "--cgroup" {
			return 0, errors.New("child: run starts it as `child --cgroup DIR CMD [ARGS]...`")
		}
		cgroup, args = args[1], args[2:]
	}
	// We were born in the new UTS namespace: this renames the container only.
	if err := syscall.Sethostname([]byte("container")); err != nil {
		return 0, fmt.Errorf("sethostname: %w", err)
	}
	if has(mountNamespace) {
		// The new mount namespace starts with copies of the host's mounts, and
		// a copy of a *shared* mount (systemd makes / shared) passes what is
		// mounted on it back to the host. Make them all private before any
		// mount (mount_namespaces(7)). After chroot, / would be a plain
		// directory, not a mount: do it first.
		if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
			return 0, fmt.Errorf("make / private (mount MS_REC|MS_PRIVATE): %w", err)
		}
	}
	if has(pidsCgroup) {
		// Before chroot, which hides the host's /sys/fs/cgroup.
		if err := joinCgroup(cgroup); err != nil {
			return 0, err
		}
	}
	if has(chrootAndProc) {
		if err := changeRoot(); err != nil {
			return 0, err
		}
		// ps reads /proc: a proc of this PID namespace shows its processes only.
		if err := syscall.Mount("proc", "/proc", "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
			return 0, fmt.Errorf("mount proc on /proc: %w", err)
		}
		// MNT_DETACH: processes the command left behind may still be using
		// /proc until the kernel has killed them, after we have ended.
		defer syscall.Unmount("/proc", syscall.MNT_DETACH)
	}
	return runCommand(args), nil
}

// changeRoot makes the directory CONTAINER_ROOTFS names the container's /.
func changeRoot() error {
	root := os.Getenv("CONTAINER_ROOTFS")
	if root == "" {
		return fmt.Errorf("CONTAINER_ROOTFS is not set: it names the container's root filesystem")
	}
	// chroot changes the root of the whole process: Go's threads share it.
	if err := syscall.Chroot(root); err != nil {
		return fmt.Errorf("chroot %s: %w", root, err)
	}
	// Our working directory is still the host's until we leave it.
	if err := os.Chdir("/"); err != nil {
		return fmt.Errorf("chdir / in %s: %w", root, err)
	}
	return nil
}

// runCommand starts the command and waits for it, doing PID 1's duties
// meanwhile from step 4 on. It returns docker run's exit code.
func runCommand(args []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	wireToOurTerminal(cmd)
	var signals chan os.Signal
	if has(pidNamespace) {
		// The kernel delivers to a namespace's PID 1 only the signals it has a
		// handler for (pid_namespaces(7)): catch them, to pass them on. And
		// SIGCHLD, which says a child has ended.
		signals = catchSignals()
		signal.Notify(signals, syscall.SIGCHLD)
	}
	if err := cmd.Start(); err != nil {
		return cannotStart(args[0], err)
	}
	if !has(pidNamespace) {
		_ = cmd.Wait() // an error here is the command's non-zero exit
		return exitCode(cmd.ProcessState.Sys().(syscall.WaitStatus))
	}
	return superviseAsPID1(cmd.Process, signals)
}

// superviseAsPID1 does PID 1's duties until the command has ended, and returns
// its exit code. It passes the signals it catches on to the command, and reaps
// every child that ends: as PID 1 we are the parent of every orphan of the
// namespace, and each stays a zombie (<defunct>) until we wait for it. When we
// end, the kernel kills what is left.
//
// One loop does both, so no signal is passed on to a command already reaped.
func superviseAsPID1(command *os.Process, signals chan os.Signal) int {
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			_ = command.Signal(sig) // fails only if the command has just ended
			continue
		}
		// Signals of a kind do not queue up: one SIGCHLD may stand for
		// several ended children. Reap until none is left waiting (WNOHANG).
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if err == syscall.EINTR {
				continue
			}
			if err != nil || pid <= 0 {
				break
			}
			if pid == command.Pid {
				return exitCode(status)
			}
		}
	}
	return exitContainerFailed // unreachable: the channel is never closed
}
