package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// pidsMax is how many tasks the container's cgroup may hold. The pids
// controller counts tasks: every thread, not only every process. Our child is
// PID 1 there with all of its Go runtime's threads (six or seven), so about 13
// are left for the command and what it starts.
//
// Go's runtime starts a thread whenever it needs one, and aborts when the
// kernel refuses it ("fatal error: newosproc"). Once a fork bomb has filled
// the cgroup, that can happen to our PID 1: the kernel then kills the whole
// container. The limit holds and the host is safe, but the container ends
// (exit code 2). A single-threaded PID 1 (C, Rust) never needs a new thread.
const pidsMax = 20

// newCgroup makes the container's cgroup, container-<our PID>, in the pids
// hierarchy, with pids.max set, and returns its directory. It first removes
// the cgroups that runtimes killed before they could (step 7 on).
func newCgroup() (string, error) {
	hierarchy, v2, err := pidsHierarchy()
	if err != nil {
		return "", err
	}
	removeStaleCgroups(hierarchy)
	if v2 {
		// cgroup v2: a controller works in a cgroup only if its parent enables
		// it for its children.
		if err := writeFile(filepath.Join(hierarchy, "cgroup.subtree_control"), "+pids"); err != nil {
			return "", err
		}
	}
	dir := filepath.Join(hierarchy, fmt.Sprintf("container-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("make the container's cgroup: %w", err)
	}
	if err := writeFile(filepath.Join(dir, "pids.max"), strconv.Itoa(pidsMax)); err != nil {
		removeCgroup(dir)
		return "", err
	}
	return dir, nil
}

// joinCgroup moves the calling process, with all its threads, into the cgroup
// dir. The processes it starts afterwards are born there.
func joinCgroup(dir string) error {
	// Our PID is 1 in our own PID namespace: the kernel reads the number in
	// the writer's namespace, so this is us.
	return writeFile(filepath.Join(dir, "cgroup.procs"), strconv.Itoa(os.Getpid()))
}

// removeCgroup removes the container's cgroup once the container has ended.
// rmdir, not rm -r: a cgroup's files go with its directory. The kernel refuses
// while a task is in it; there is none left once the container's PID 1 has
// ended, as the kernel kills and reaps the rest of its PID namespace first.
func removeCgroup(dir string) {
	if err := syscall.Rmdir(dir); err != nil {
		fmt.Fprintf(os.Stderr, "container: remove the cgroup %s: %v\n", dir, err)
	}
}

// removeStaleCgroups removes the cgroups named after a runtime that no longer
// runs: a runtime killed by SIGKILL could not remove its own.
func removeStaleCgroups(hierarchy string) {
	dirs, _ := filepath.Glob(filepath.Join(hierarchy, "container-*"))
	for _, dir := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(dir), "container-"))
		if err != nil {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			_ = syscall.Rmdir(dir) // refused if its container still runs
		}
	}
}

// pidsHierarchy finds where the pids controller is mounted, as the kernel
// lists its mounts in /proc/self/mountinfo: a cgroup v1 hierarchy with "pids"
// among its options, or the cgroup v2 hierarchy when it offers pids. v2 tells
// which one it is.
func pidsHierarchy() (dir string, v2 bool, err error) {
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", false, err
	}
	for _, line := range strings.Split(string(mountinfo), "\n") {
		// "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids":
		// the mount point is the 5th field, the type and options follow " - ".
		mount, source, found := strings.Cut(line, " - ")
		fields, sourceFields := strings.Fields(mount), strings.Fields(source)
		if !found || len(fields) < 5 || len(sourceFields) < 3 {
			continue
		}
		point := fields[4]
		switch sourceFields[0] {
		case "cgroup":
			if contains(strings.Split(sourceFields[2], ","), "pids") {
				return point, false, nil
			}
		case "cgroup2":
			controllers, _ := os.ReadFile(filepath.Join(point, "cgroup.controllers"))
			if contains(strings.Fields(string(controllers)), "pids") {
				return point, true, nil
			}
		}
	}
	return "", false, errors.New("no cgroup hierarchy offers the pids controller (see /proc/self/mountinfo)")
}

func contains(list []string, item string) bool {
	for _, x := range list {
		if x == item {
			return true
		}
	}
	return false
}

// writeFile writes text to a cgroup file, which the kernel made: we never
// create one. The kernel answers at write(2), so its error is the one to report.
func writeFile(path, text string) error {
	file, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err == nil {
		_, err = file.WriteString(text)
		if closeErr := file.Close(); err == nil {
			err = closeErr
		}
	}
	if err != nil {
		return fmt.Errorf("write %s to %s: %w", text, path, err)
	}
	return nil
}
