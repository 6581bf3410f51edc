package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
)

// run makes the container and runs command in it. It returns the exit code, or
// an error when the container could not be made.
func run(command []string) (int, error) {
	if !has(reexecChild) {
		return runDirectly(command)
	}
	var signals chan os.Signal
	if has(pidNamespace) {
		// The parent-death signal (below) comes when the *thread* that started
		// the child ends, not the process (prctl(2), PR_SET_PDEATHSIG). Go runs
		// a goroutine on any of its threads and may end threads: keep this one
		// on a thread of its own for as long as the program runs.
		runtime.LockOSThread()
		// Caught from now on, passed on once the child runs.
		signals = catchSignals()
	}

	// The child is this same program, re-executed by the kernel inside the new
	// namespaces. We keep our name as its argv[0], so it finds the same step.
	childArgs := []string{"child"}
	if has(pidsCgroup) {
		cgroup, err := newCgroup()
		if err != nil {
			return 0, err
		}
		defer removeCgroup(cgroup)
		childArgs = append(childArgs, "--cgroup", cgroup)
	}
	child := exec.Command("/proc/self/exe", append(childArgs, command...)...)
	child.Args[0] = os.Args[0]
	wireToOurTerminal(child)
	// Cloneflags: the kernel makes the child in new namespaces from its first
	// instruction on. unshare(2) here would move only the calling thread of our
	// threaded runtime, not the process.
	child.SysProcAttr = &syscall.SysProcAttr{Cloneflags: namespaces()}
	if has(pidNamespace) {
		// If we die, even by SIGKILL, the kernel kills the child, our
		// container's PID 1, and with it everything in its PID namespace.
		child.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}

	if err := child.Start(); err != nil {
		return 0, fmt.Errorf("start the container's child: %w", err)
	}
	if has(pidNamespace) {
		go passOn(signals, child.Process)
	}
	// An error here is the child's non-zero exit: its status says it all.
	_ = child.Wait()
	return exitCode(child.ProcessState.Sys().(syscall.WaitStatus)), nil
}

// namespaces are the new namespaces the container gets, as clone(2) flags.
func namespaces() uintptr {
	var flags uintptr
	if has(utsNamespace) {
		flags |= syscall.CLONE_NEWUTS
	}
	if has(pidNamespace) {
		flags |= syscall.CLONE_NEWPID
	}
	if has(mountNamespace) {
		flags |= syscall.CLONE_NEWNS
	}
	return flags
}

// runDirectly is steps 1 and 2: we start the command ourselves (step 2: in a
// new UTS namespace) and wait for it.
func runDirectly(command []string) (int, error) {
	cmd := exec.Command(command[0], command[1:]...)
	wireToOurTerminal(cmd)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: namespaces()}
	if err := cmd.Start(); err != nil {
		// clone(2) refuses new namespaces with EPERM: a container we could not
		// make, not a command that cannot be executed.
		if has(utsNamespace) && errors.Is(err, syscall.EPERM) {
			return 0, fmt.Errorf("make a UTS namespace (root needed): %w", err)
		}
		return cannotStart(command[0], err), nil
	}
	_ = cmd.Wait()
	return exitCode(cmd.ProcessState.Sys().(syscall.WaitStatus)), nil
}

// wireToOurTerminal gives cmd our own stdin, stdout and stderr. They are
// *os.File, so Go hands the file descriptors over as they are: no goroutine
// copies in between.
func wireToOurTerminal(cmd *exec.Cmd) {
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
}

// cannotStart says on stderr why the command could not be started, and returns
// docker run's exit code for it: 127 when it does not exist, else 126.
func cannotStart(name string, err error) int {
	fmt.Fprintf(os.Stderr, "container: %s: %v\n", name, errors.Unwrap(err))
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return exitNotFound
	}
	return exitCannotExecute
}

// exitCode is docker run's exit code for a process that ended with status: its
// own exit status, or 128+n when signal n killed it.
func exitCode(status syscall.WaitStatus) int {
	if status.Signaled() {
		return 128 + int(status.Signal())
	}
	return status.ExitStatus()
}

// catchSignals makes the signals a container passes on arrive on the returned
// channel instead of ending this program. Call it before starting the process
// they go to, so that none is lost meanwhile: they wait in the channel.
func catchSignals() chan os.Signal {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	return signals
}

// passOn sends every signal caught to process, for as long as we run.
func passOn(signals chan os.Signal, process *os.Process) {
	for sig := range signals {
		_ = process.Signal(sig) // fails only if the process has just ended
	}
}
