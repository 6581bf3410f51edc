/*
 * container.c: the course's container contract, in C (one program for all seven steps).
 *
 *   stepNN run CMD [ARGS]...
 *
 * runs CMD in a container wired to this program's stdin, stdout and stderr, and exits
 * as `docker run` does: CMD's own status, 128+n when signal n killed it, 127 when CMD
 * does not exist, 126 when it cannot be executed, 125 (with one line on stderr) when
 * the container could not be made. The contract is the course's grading page
 * (book/src/classroom/grading.md); this file is written from it and from the kernel's
 * manual pages: clone(2), namespaces(7), pid_namespaces(7), mount_namespaces(7),
 * cgroups(7), prctl(2).
 *
 * Which step it is comes from its own name: the last `stepNN` in the name it was
 * started by (a class folder holds symlinks step01 ... step07 to this one binary), or
 * the environment variable CONTAINER_STEP=N, which wins when set. Step N does what
 * steps 1 to N of the course add, and nothing more:
 *
 *   1  run the command (a child process, then wait for it)
 *   2  ... in a new UTS namespace: a hostname of its own
 *   3  ... started by a `child`: this program again, through /proc/self/exe, which
 *          sets the hostname `container` before it starts the command
 *   4  ... in a new PID namespace, where that child is PID 1: it passes signals on,
 *          reaps orphans, and dies with the runtime that started it
 *   5  ... with `/` the directory CONTAINER_ROOTFS names (chroot) and a proc of its own
 *   6  ... in a new mount namespace, all of it private before anything is mounted
 *   7  ... in a pids cgroup of its own limited to 20 processes, removed at the end
 *
 * Unlike the course's Rust steps, it makes the namespaces with clone(2) and its flags
 * in one call, rather than unshare(2) then fork; and it passes signals on from
 * handlers rather than with sigwait. The tests only look at what the kernel shows.
 *
 * Step 7's cgroup is in cgroup.c; container.h is what the two share.
 *
 * Build: make (or `make OUT=/abs/path/container`, `make STATIC=1`). Run as root.
 */
#define _GNU_SOURCE
#include "container.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Docker's exit codes for what went wrong before the command could run. */
#define EXIT_CANNOT_RUN 126    /* the command exists but cannot be executed */
#define EXIT_NOT_FOUND 127     /* the command does not exist */

#define HOSTNAME "container"   /* step 3: the hostname inside */

static int step;               /* 1 to 7: which step of the course this program is */
static const char *progname;   /* the name we were started by, for messages */
static char *argv0;            /* argv[0] as given, passed on to the re-executed child */

/* ------------------------------------------------------------------------------------
 * Saying what failed. Every message is one line on stderr, starting with our name;
 * stdout belongs to the command alone.
 */

void say(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fprintf(stderr, "%s: ", progname);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
}

int failed(const char *call)
{
    say("%s: %s", call, strerror(errno));
    return EXIT_CANNOT_MAKE;
}

/* ------------------------------------------------------------------------------------
 * Which step we are.
 */

/* The number after the last "step" in NAME that has one ("alice-step04" is 4), or 0. */
static int step_in_name(const char *name)
{
    int found = 0;
    for (const char *at = strstr(name, "step"); at; at = strstr(at + 1, "step")) {
        if (isdigit((unsigned char)at[4]))
            found = atoi(at + 4);
    }
    return found;
}

/* The step from CONTAINER_STEP when it is set, else from our own name; 0 if neither says. */
static int which_step(void)
{
    const char *from_env = getenv("CONTAINER_STEP");
    if (from_env && *from_env)
        return atoi(from_env);
    return step_in_name(progname);
}

/* ------------------------------------------------------------------------------------
 * Starting the command, and how it ended.
 */

/* Replace this process with COMMAND (searched in PATH, as a shell would). Returns
 * only by exiting, with the shell's codes: 127 when the command does not exist,
 * 126 when it exists but cannot be executed (no execute bit, a directory). */
static void exec_command(char **command)
{
    execvp(command[0], command);
    int error = errno;
    say("cannot run %s: %s", command[0], strerror(error));
    _exit(error == ENOENT || error == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN);
}

/* Docker's exit code for a process that ended with STATUS (from waitpid). */
static int exit_code(int status)
{
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

/* Wait until process MAIN ends and return its exit code. Every other child that ends
 * meanwhile is reaped too: from step 4 on, the container's PID 1 is handed every
 * orphan of its namespace, and nobody else will wait for them. */
static int wait_for(pid_t main)
{
    for (;;) {
        int status;
        pid_t ended = waitpid(-1, &status, 0);
        if (ended < 0 && errno == EINTR)
            continue;
        if (ended < 0)
            return failed("waitpid");
        if (ended == main)
            return exit_code(status);
    }
}

/* ------------------------------------------------------------------------------------
 * Step 4: signals. The kernel drops a signal sent to a namespace's PID 1 when PID 1
 * has no handler for it (only SIGKILL and SIGSTOP from outside the namespace get
 * through: pid_namespaces(7)). So both run and the child catch the signals a user
 * sends to stop a container, and pass each on: run to the child, the child to the
 * command. (sigprocmask and sigaction below cannot fail with these arguments.)
 */

static const int forwarded_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define FORWARDED_SIGNALS (sizeof forwarded_signals / sizeof forwarded_signals[0])

/* The process our handler passes signals on to; 0 while there is none. */
static volatile sig_atomic_t forward_to;

static void forward_signal(int number)
{
    int saved = errno;   /* a handler must leave errno as it found it */
    if (forward_to > 0)
        kill(forward_to, number);
    errno = saved;
}

/* Block the forwarded signals (HOW: SIG_BLOCK or SIG_UNBLOCK). While blocked they
 * wait, pending, until there is someone to pass them on to. */
static void block_forwarded_signals(int how)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < FORWARDED_SIGNALS; i++)
        sigaddset(&set, forwarded_signals[i]);
    sigprocmask(how, &set, NULL);
}

/* Catch the forwarded signals with forward_signal (or HANDLER: SIG_DFL to give them back). */
static void handle_forwarded_signals(void (*handler)(int))
{
    struct sigaction action = { .sa_handler = handler, .sa_flags = SA_RESTART };
    sigfillset(&action.sa_mask);
    for (size_t i = 0; i < FORWARDED_SIGNALS; i++)
        sigaction(forwarded_signals[i], &action, NULL);
}

/* Step 4: die when run dies. PR_SET_PDEATHSIG asks the kernel for SIGKILL when our
 * parent ends, and when PID 1 dies the kernel kills the rest of its namespace. If run
 * died before the prctl, no signal will come: check that it is still there. getppid()
 * cannot tell (it returns 0 in a PID namespace whose parent is outside it), so run
 * holds the write end of a pipe open for as long as it lives, and a pipe whose every
 * write end is closed reads as hung up. */
static void die_with_the_runtime(int runtime_alive)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        _exit(failed("prctl(PR_SET_PDEATHSIG)"));
    struct pollfd alive = { .fd = runtime_alive, .events = POLLIN };
    if (poll(&alive, 1, 0) > 0 && (alive.revents & POLLHUP))
        _exit(EXIT_CANNOT_MAKE);   /* run is gone: nobody left to tell */
}

/* ------------------------------------------------------------------------------------
 * The child: this program again, as the container's first process (from step 4 on,
 * its PID 1). It prepares the container from the inside, then starts the command.
 *
 *   stepNN child STEP CGROUP CMD [ARGS]...     (CGROUP is "-" before step 7)
 */

/* Step 5: make `/` the directory CONTAINER_ROOTFS names, and mount a proc of the new
 * PID namespace on its /proc, so that ps shows the container's processes only. */
static int enter_rootfs(void)
{
    const char *rootfs = getenv("CONTAINER_ROOTFS");
    if (!rootfs || !*rootfs) {
        say("CONTAINER_ROOTFS is not set: name the container's root filesystem in it");
        return EXIT_CANNOT_MAKE;
    }
    if (chroot(rootfs) < 0) {
        say("chroot %s: %s", rootfs, strerror(errno));
        return EXIT_CANNOT_MAKE;
    }
    if (chdir("/") < 0)
        return failed("chdir /");
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        return failed("mount proc on /proc");
    return 0;
}

/* Start COMMAND as our child and wait for it; return its exit code. */
static int run_command(char **command)
{
    if (step >= 4)
        handle_forwarded_signals(forward_signal);   /* still blocked: see run() */
    pid_t pid = fork();
    if (pid < 0)
        return failed("fork");
    if (pid == 0) {
        if (step >= 4) {
            /* The command starts with the signals as a new process has them. */
            handle_forwarded_signals(SIG_DFL);
            block_forwarded_signals(SIG_UNBLOCK);
        }
        exec_command(command);
    }
    forward_to = pid;
    if (step >= 4)
        block_forwarded_signals(SIG_UNBLOCK);   /* what came meanwhile goes to the command */
    int code = wait_for(pid);
    forward_to = 0;
    return code;
}

/* The container's first process, this program re-executed inside the new namespaces
 * (ARGS: STEP CGROUP CMD [ARGS]...): it prepares the container from the inside, in
 * the order the kernel needs, then starts the command and waits for it. */
static int child(char **args)
{
    step = atoi(args[0]);
    const char *cgroup = args[1];
    char **command = args + 2;
    int code;

    /* Step 6: our mounts are copies of the host's, and a copy of a shared mount
     * passes new mounts back to the host (mount_namespaces(7)). Make every one
     * private before mounting anything. */
    if (step >= 6 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return failed("make / private (mount MS_REC|MS_PRIVATE)");
    /* Step 7: join the cgroup (0 means "the writing process", cgroups(7)) before
     * starting anything: a new process is born in its parent's cgroup. Before the
     * chroot too, since the cgroup is a path on the host. */
    if (step >= 7 && (code = write_cgroup_file(cgroup, "cgroup.procs", "0")))
        return code;
    /* Step 3: the hostname, in the UTS namespace of step 2, before the command starts. */
    if (sethostname(HOSTNAME, strlen(HOSTNAME)) < 0)
        return failed("sethostname " HOSTNAME);
    if (step >= 5 && (code = enter_rootfs()))
        return code;

    code = run_command(command);

    /* Step 5: take our proc down, also when the command failed. Lazily (MNT_DETACH):
     * an orphan still running may have its working directory in it. */
    if (step >= 5 && umount2("/proc", MNT_DETACH) < 0)
        say("umount /proc: %s", strerror(errno));
    return code;
}

/* ------------------------------------------------------------------------------------
 * run: the runtime, on the host's side.
 */

/* What the container's first process needs, handed over by clone(). */
struct start {
    char **command;          /* CMD [ARGS]... */
    const char *cgroup;      /* step 7: the cgroup to join; "-" before */
    int runtime_alive[2];    /* step 4: a pipe only run holds the write end of */
};

/* The container's first process, as clone() starts it: in steps 1 and 2 it becomes
 * the command; from step 3 on, it becomes our own program again, as `child`. */
static int container_main(void *arg)
{
    struct start *start = arg;
    if (step >= 4) {
        close(start->runtime_alive[1]);
        die_with_the_runtime(start->runtime_alive[0]);
    }
    if (step <= 2)
        exec_command(start->command);

    /* Re-execute this very program (/proc/self/exe is the file we run from, even if
     * the name we were started by no longer leads to it), now inside the new
     * namespaces: `child STEP CGROUP CMD [ARGS]...`. */
    size_t count = 0;
    while (start->command[count])
        count++;
    char number[16];
    snprintf(number, sizeof number, "%d", step);
    char **args = calloc(count + 5, sizeof *args);
    if (!args)
        _exit(failed("calloc"));
    args[0] = argv0;
    args[1] = "child";
    args[2] = number;
    args[3] = (char *)start->cgroup;
    memcpy(args + 4, start->command, count * sizeof *args);
    execv("/proc/self/exe", args);
    _exit(failed("re-execute /proc/self/exe"));
}

/* The namespaces the container gets at this step, as clone(2) flags. */
static int namespace_flags(void)
{
    int flags = 0;
    if (step >= 2)
        flags |= CLONE_NEWUTS;   /* step 2: a hostname of its own */
    if (step >= 4)
        flags |= CLONE_NEWPID;   /* step 4: its own process numbers; its first process is PID 1 */
    if (step >= 6)
        flags |= CLONE_NEWNS;    /* step 6: a mount table of its own */
    return flags;
}

/* clone() runs the new process on a stack of ours; without CLONE_VM the process gets
 * a copy of our memory, this array included. Stacks grow down: pass its end. */
static char clone_stack[256 * 1024] __attribute__((aligned(16)));

/* Start the container with clone(), in new namespaces; its PID, or -1 having said why. */
static pid_t start_container(struct start *start)
{
    pid_t pid = clone(container_main, clone_stack + sizeof clone_stack,
                      namespace_flags() | SIGCHLD, start);
    if (pid < 0)
        say("clone (new namespaces: needs root): %s", strerror(errno));
    return pid;
}

static int run(char **command)
{
    struct start start = { .command = command, .cgroup = "-", .runtime_alive = { -1, -1 } };
    char cgroup[PATH_MAX];
    int code;

    if (step >= 4) {
        /* Hold the signals back until there is a container to pass them on to. The
         * child inherits them blocked, even through execve. */
        block_forwarded_signals(SIG_BLOCK);
        handle_forwarded_signals(forward_signal);
        if (pipe2(start.runtime_alive, O_CLOEXEC) < 0)
            return failed("pipe2");
    }
    if (step >= 7) {
        if ((code = make_cgroup(cgroup)))
            return code;
        start.cgroup = cgroup;
    }

    pid_t pid = start_container(&start);
    if (pid < 0) {
        code = EXIT_CANNOT_MAKE;
    } else {
        if (step >= 4) {
            close(start.runtime_alive[0]);   /* the write end stays open until we exit */
            forward_to = pid;
            block_forwarded_signals(SIG_UNBLOCK);
        }
        code = wait_for(pid);
    }

    /* Step 7: the kernel removes no cgroup by itself. Now that the container's last
     * process has ended (a PID namespace ends with its PID 1), the cgroup is empty. */
    if (step >= 7)
        remove_cgroup(cgroup);
    return code;
}

int main(int argc, char **argv)
{
    argv0 = argv[0];
    const char *slash = strrchr(argv[0], '/');
    progname = slash ? slash + 1 : argv[0];

    /* The hidden subcommand, for the container's first process from step 3 on. */
    if (argc >= 5 && strcmp(argv[1], "child") == 0)
        return child(argv + 2);

    if (argc < 3 || strcmp(argv[1], "run") != 0) {
        fprintf(stderr, "usage: %s run CMD [ARGS]...\n", progname);
        return EXIT_CANNOT_MAKE;
    }
    step = which_step();
    if (step < 1 || step > 7) {
        say("which step am I? Name me stepNN (a symlink step04 to this program will do), "
            "or set CONTAINER_STEP to 1..7");
        return EXIT_CANNOT_MAKE;
    }
    return run(argv + 2);
}
