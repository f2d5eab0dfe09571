/* recording.c — see web.h: GET /api/recording, the parts that need no
 * HTTP: reading the `recordings id=N` reply and opening the file safely. */
#include "web/web.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/proto.h"

int recording_reply(const char *reply, size_t len, char *code, size_t ccap, char *path,
                    size_t pcap)
{
	static char line[CTL_LINE_MAX + 1];
	char key[32], val[CTL_LINE_MAX + 1];
	const char *nl = memchr(reply, '\n', len), *p;
	bool done = false;
	snprintf(code, ccap, "internal");
	path[0] = '\0';
	if (!nl)
		return -1;
	if (!strncmp(reply, "ERR ", 4)) {
		size_t n = strcspn(reply + 4, " \n");
		snprintf(code, ccap, "%.*s", (int)n, reply + 4);
		return -1;
	}
	if (strncmp(reply, "OK 1 rows\n", 10))
		return -1;
	const char *row = nl + 1, *end = memchr(row, '\n', len - (size_t)(row - reply));
	if (!end || (size_t)(end - row) >= sizeof line)
		return -1;
	memcpy(line, row, (size_t)(end - row));
	line[end - row] = '\0';
	for (p = line; api_kv_next(&p, key, sizeof key, val, sizeof val);) {
		if (!strcmp(key, "status"))
			done = !strcmp(val, "done");
		else if (!strcmp(key, "path"))
			snprintf(path, pcap, "%s", val);
	}
	if (!done || !path[0]) {
		snprintf(code, ccap, "notfound");
		return -1;
	}
	return 0;
}

/* The file name part of path if path is dir + "/" + a plain name, else NULL. */
static const char *recording_name_in(const char *dir, const char *path)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (!n || strncmp(path, dir, n) || path[n] != '/')
		return NULL;
	const char *name = path + n;
	while (*name == '/')
		name++;
	if (!*name || *name == '.' || strchr(name, '/'))
		return NULL;
	return name;
}

int recording_open(const char *dir, const char *path, uint64_t *size)
{
	const char *name = recording_name_in(dir, path);
	struct stat st;
	if (!name) {
		errno = EACCES;
		return -1;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	/* O_NONBLOCK: a FIFO planted under the name must not stall the loop
	 * before fstat refuses it. */
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	int saved = errno;
	close(dfd);
	if (fd < 0) {
		errno = saved == ELOOP ? EACCES : saved;
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EACCES;
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}
