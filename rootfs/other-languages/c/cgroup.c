/*
 * cgroup.c: step 7 of the C implementation (container.c): a pids cgroup of the
 * container's own, found, made, joined and removed.
 */
#include "container.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------
 * Step 7: a cgroup of its own. The pids controller counts every process (and every
 * thread) of a cgroup and refuses a fork past pids.max.
 */

/* Print a path into BUFFER (SIZE bytes), as printf prints FORMAT. Returns 0, or 125
 * having said so when it does not fit. */
static int make_path(char *buffer, size_t size, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int length = vsnprintf(buffer, size, format, args);
    va_end(args);
    if (length < 0 || (size_t)length >= size) {
        say("a path too long for %zu bytes: %s...", size, buffer);
        return EXIT_CANNOT_MAKE;
    }
    return 0;
}

/* Whether the comma- or space-separated LIST holds WORD. */
static bool has_word(const char *list, const char *word)
{
    size_t length = strlen(word);
    for (const char *at = strstr(list, word); at; at = strstr(at + 1, word)) {
        bool starts = at == list || at[-1] == ',' || at[-1] == ' ';
        bool ends = strchr(", \n", at[length]) != NULL;   /* '\0' too */
        if (starts && ends)
            return true;
    }
    return false;
}

/* Whether the cgroup v2 tree at DIR offers the pids controller (cgroup.controllers). */
static bool offers_pids(const char *dir)
{
    char path[PATH_MAX], controllers[1024];
    if (make_path(path, sizeof path, "%s/cgroup.controllers", dir))
        return false;
    FILE *file = fopen(path, "re");
    if (!file)
        return false;
    bool offered = fgets(controllers, sizeof controllers, file) && has_word(controllers, "pids");
    fclose(file);
    return offered;
}

/* Write TEXT to the file NAME of the cgroup directory DIR. Returns 0, or 125 having
 * said what failed. */
int write_cgroup_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    int code = make_path(path, sizeof path, "%s/%s", dir, name);
    if (code)
        return code;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return failed(path);
    ssize_t written = write(fd, text, strlen(text));
    int error = errno;
    close(fd);
    if (written < 0) {
        say("write %s to %s: %s", text, path, strerror(error));
        return EXIT_CANNOT_MAKE;
    }
    return 0;
}

/* Find where the pids controller is mounted, as the kernel lists its mounts in
 * /proc/self/mountinfo: a cgroup v1 hierarchy with `pids` among its options, or the
 * cgroup v2 tree when its cgroup.controllers offers `pids`. A mountinfo line reads
 *   36 25 0:31 / /sys/fs/cgroup/pids rw,nosuid shared:13 - cgroup cgroup rw,pids
 * with the mount point 5th, and the type and options after the " - ". Puts the mount
 * point in DIR (PATH_MAX bytes) and whether it is v2 in V2; returns 0, or 125 having
 * said what failed. */
static int find_pids_hierarchy(char *dir, bool *v2)
{
    FILE *mounts = fopen("/proc/self/mountinfo", "re");
    if (!mounts)
        return failed("/proc/self/mountinfo");
    char line[PATH_MAX + 1024], type[64], options[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, mounts)) {
        const char *after = strstr(line, " - ");
        if (!after || sscanf(line, "%*s %*s %*s %*s %4095s", dir) != 1
            || sscanf(after + 3, "%63s %*s %1023s", type, options) != 2)
            continue;
        *v2 = strcmp(type, "cgroup2") == 0;
        if (strcmp(type, "cgroup") == 0)
            found = has_word(options, "pids");
        else if (*v2)
            found = offers_pids(dir);
    }
    fclose(mounts);
    if (!found) {
        say("no cgroup hierarchy offers the pids controller (see /proc/self/mountinfo)");
        return EXIT_CANNOT_MAKE;
    }
    return 0;
}

/* Remove the cgroups that runtimes killed before they could remove their own left
 * behind in HIERARCHY: ours are named after their run's PID, so a cgroup whose PID
 * no longer runs is stale (and one with our own PID is from a process that had it
 * before us). rmdir refuses a cgroup that still holds a process, which keeps this
 * from harming a container that is still running. */
static void remove_stale_cgroups(const char *hierarchy)
{
    DIR *dir = opendir(hierarchy);
    if (!dir)
        return;
    const struct dirent *entry;
    char path[PATH_MAX];
    while ((entry = readdir(dir))) {
        if (strncmp(entry->d_name, CGROUP_PREFIX, strlen(CGROUP_PREFIX)) != 0)
            continue;
        pid_t owner = atoi(entry->d_name + strlen(CGROUP_PREFIX));
        bool owner_gone = owner > 0 && kill(owner, 0) < 0 && errno == ESRCH;
        if ((owner_gone || owner == getpid())
            && make_path(path, sizeof path, "%s/%s", hierarchy, entry->d_name) == 0)
            rmdir(path);
    }
    closedir(dir);
}

/* Make this container's cgroup, limited to PIDS_MAX processes, and put its path in
 * CGROUP (PATH_MAX bytes). Returns 0, or 125 having said what failed. */
int make_cgroup(char *cgroup)
{
    char hierarchy[PATH_MAX];
    bool v2 = false;
    int code = find_pids_hierarchy(hierarchy, &v2);
    if (code)
        return code;
    remove_stale_cgroups(hierarchy);
    /* In cgroup v2 a controller works in a cgroup only when its parent hands it
     * down, in the parent's cgroup.subtree_control. */
    if (v2 && (code = write_cgroup_file(hierarchy, "cgroup.subtree_control", "+pids")))
        return code;
    code = make_path(cgroup, PATH_MAX, "%s/" CGROUP_PREFIX "%d", hierarchy, (int)getpid());
    if (code)
        return code;
    if (mkdir(cgroup, 0755) < 0)
        return failed(cgroup);
    if ((code = write_cgroup_file(cgroup, "pids.max", PIDS_MAX)))
        rmdir(cgroup);
    return code;
}

/* Remove the container's cgroup, now that nothing is left in it. */
void remove_cgroup(const char *cgroup)
{
    if (rmdir(cgroup) < 0)
        say("rmdir %s: %s (it is left behind)", cgroup, strerror(errno));
}

