/*
 * container.h: what container.c and cgroup.c share.
 */
#ifndef CONTAINER_H
#define CONTAINER_H

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#define EXIT_CANNOT_MAKE 125   /* the container could not be made */
#define PIDS_MAX "20"          /* step 7: how many processes the container may have */
#define CGROUP_PREFIX "c-container-"  /* step 7: our cgroups, named c-container-<PID of run> */

/* Print "NAME: WHAT" (formatted like printf) on one line of stderr. */
void say(const char *format, ...);
/* Say that CALL failed and why (errno), and return 125: the container could not be made. */
int failed(const char *call);

/* Step 7 (cgroup.c). CGROUP is a buffer of PATH_MAX bytes. */
int make_cgroup(char *cgroup);
int write_cgroup_file(const char *dir, const char *name, const char *text);
void remove_cgroup(const char *cgroup);

#endif
