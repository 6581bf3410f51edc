// Command container keeps the course's container contract
// (book/src/classroom/grading.md) in Go, with the standard library only. It is
// one program for all seven steps of the course:
//
//	container run CMD [ARGS]...
//
// runs CMD in a container made as far as step N of the course makes it, and no
// further:
//
//  1. CMD runs with our stdin, stdout and stderr; we exit as `docker run` does.
//  2. CMD gets a UTS namespace of its own (its own hostname).
//  3. We re-execute ourselves as a hidden `child` inside the new namespaces; the
//     child sets the hostname to `container`, then starts CMD.
//  4. The child is PID 1 of a new PID namespace: it passes signals on to CMD,
//     reaps orphans, and dies with us.
//  5. The child changes root to the directory CONTAINER_ROOTFS names, with a
//     fresh /proc there, unmounted at the end.
//  6. The container gets a mount namespace of its own, with / made private first.
//  7. The container gets a pids cgroup of its own, pids.max = 20, removed at the end.
//
// N is the last "stepNN" in the program's own name (so step01 … step07 can be
// links to this one binary), or the environment variable CONTAINER_STEP when it
// is set. With neither, N is 7: the whole container.
//
// Build it with `CGO_ENABLED=0 go build -o container .` and grade it, from the
// course's directory, with `.ci/grade.sh /path/to/step04 4`.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
)

// Step is how far the container goes. Each step adds one feature to the step
// before, so a feature is there when the step is at least the one that adds it.
type Step int

const (
	execCommand    Step = 1 // run the command, exit as docker run does
	utsNamespace   Step = 2 // a hostname of its own
	reexecChild    Step = 3 // a re-executed child sets the hostname
	pidNamespace   Step = 4 // the child is PID 1
	chrootAndProc  Step = 5 // a root filesystem and a /proc of its own
	mountNamespace Step = 6 // mounts of its own, private
	pidsCgroup     Step = 7 // at most 20 processes (and threads)
	lastStep            = pidsCgroup
)

// step is this program's step, set once at the start of main.
var step Step

// has reports whether the program's step includes the feature that step f adds.
func has(f Step) bool { return step >= f }

// Exit codes, as docker run has them. Otherwise we exit with the command's own
// status, or 128+n when signal n killed it.
const (
	exitContainerFailed = 125 // the container could not be made
	exitCannotExecute   = 126 // the command exists but cannot be executed
	exitNotFound        = 127 // the command does not exist
)

func main() {
	var err error
	if step, err = chosenStep(); err != nil {
		exit(0, err)
	}
	args := os.Args[1:]
	switch {
	case len(args) >= 2 && args[0] == "run":
		exit(run(args[1:]))
	case len(args) >= 2 && args[0] == "child" && has(reexecChild):
		exit(child(args[1:]))
	}
	exit(0, fmt.Errorf("usage: %s run CMD [ARGS]...", filepath.Base(os.Args[0])))
}

// chosenStep reads the step from CONTAINER_STEP, else from the last "stepNN" in
// the program's name, else it is the last step.
func chosenStep() (Step, error) {
	text, from := os.Getenv("CONTAINER_STEP"), "CONTAINER_STEP"
	if text == "" {
		names := regexp.MustCompile(`step(\d+)`).FindAllStringSubmatch(filepath.Base(os.Args[0]), -1)
		if len(names) == 0 {
			return lastStep, nil
		}
		text, from = names[len(names)-1][1], "the program's name"
	}
	n, err := strconv.Atoi(text)
	if err != nil || n < int(execCommand) || n > int(lastStep) {
		return 0, fmt.Errorf("%s names step %q: there are steps 1 to %d", from, text, lastStep)
	}
	return Step(n), nil
}

// exit ends the program with code, or, when err says why the container could
// not be made, with 125 and that reason in one line on stderr. (os.Exit skips
// deferred calls: run and child return here once they have cleaned up.)
func exit(code int, err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "container: %v\n", err)
		code = exitContainerFailed
	}
	os.Exit(code)
}
