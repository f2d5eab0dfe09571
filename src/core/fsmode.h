/* fsmode.h — keeping callqd's private files private.
 *
 * callqd runs with umask 077, so what it creates is the owner's only. Files
 * and folders left by an older version or made by hand (scripts/run.sh's
 * mkdir) may be wider: these functions narrow them at start and say so.
 */
#ifndef CALLQ_FSMODE_H
#define CALLQ_FSMODE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Clears every permission bit of `path` not in `keep` (a missing file is
 * fine). 1 if it narrowed the mode, 0 if nothing to do, -1 on error (errno).
 * Never follows a symbolic link. */
int fsmode_narrow(const char *path, mode_t keep);
/* Creates folder `path` with mode `mode` if missing, else narrows it to
 * `mode`; logs a narrowing. 0 or -1 (errno). */
int fsmode_dir(const char *path, mode_t mode);
/* The folder part of `path` ("." if none) into out. */
void fsmode_dirname(const char *path, char *out, size_t cap);

#endif
