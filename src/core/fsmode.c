/* fsmode.c — see fsmode.h. */
#include "core/fsmode.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"

int fsmode_narrow(const char *path, mode_t keep)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISLNK(st.st_mode) || (st.st_mode & 07777 & ~keep) == 0)
		return 0;
	if (chmod(path, st.st_mode & 07777 & keep) != 0)
		return -1;
	log_info("app", "%s: narrowed mode %04o to %04o", path, (unsigned)(st.st_mode & 07777),
	         (unsigned)(st.st_mode & 07777 & keep));
	return 1;
}

int fsmode_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	return fsmode_narrow(path, mode) < 0 ? -1 : 0;
}

void fsmode_dirname(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(out, cap, ".");
	else if (slash == path)
		snprintf(out, cap, "/");
	else
		snprintf(out, cap, "%.*s", (int)(slash - path), path);
}
