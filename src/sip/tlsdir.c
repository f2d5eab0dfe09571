/* tlsdir.c — see tlsdir.h. */
#include "sip/tlsdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int tlsdir_readable(const char *dir, const char *name, char *err, size_t errlen)
{
	char p[CONF_STR_MAX + 16];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	if (access(p, R_OK) == 0)
		return 0;
	snprintf(err, errlen, "sip_tls_dir: %s: %s", p, strerror(errno));
	return -1;
}

/* Appends the file at src to the open descriptor out. */
static int tlsdir_append(int out, const char *src, char *err, size_t errlen)
{
	char buf[4096];
	ssize_t n;
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		snprintf(err, errlen, "%s: %s", src, strerror(errno));
		return -1;
	}
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			break;
	int rc = n == 0 ? 0 : -1;
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", src, strerror(errno));
	close(in);
	return rc;
}

/* dir/name made of the files in srcs, in order, mode 0600. */
static int tlsdir_write(const char *dir, const char *name, const char *const *srcs, size_t n,
                        char *err, size_t errlen)
{
	char p[CONF_STR_MAX + 16];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = tlsdir_append(fd, srcs[i], err, errlen);
		/* PEM blocks need a line break between files that lack a final one. */
		if (rc == 0 && write(fd, "\n", 1) != 1)
			rc = -1;
	}
	if (close(fd) < 0)
		rc = -1;
	return rc;
}

int tlsdir_prepare(struct tlsdir *t, const struct conf *c, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	if (c->sip_tls_cert[0]) {
		const char *agent[] = { c->sip_tls_key, c->sip_tls_cert };
		const char *ca[] = { c->sip_tls_cert };
		snprintf(t->path, sizeof t->path, "%s/callq-tls-XXXXXX",
		         getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp");
		if (!mkdtemp(t->path)) {
			snprintf(err, errlen, "cannot make a directory for the TLS key: %s", strerror(errno));
			t->path[0] = 0;
			return -1;
		}
		t->temporary = true;
		if (tlsdir_write(t->path, "agent.pem", agent, 2, err, errlen) < 0 ||
		    tlsdir_write(t->path, "cafile.pem", ca, 1, err, errlen) < 0) {
			tlsdir_done(t);
			return -1;
		}
		return 0;
	}
	if (!c->sip_tls_dir[0])
		return 0;
	if (tlsdir_readable(c->sip_tls_dir, "agent.pem", err, errlen) < 0 ||
	    tlsdir_readable(c->sip_tls_dir, "cafile.pem", err, errlen) < 0)
		return -1;
	snprintf(t->path, sizeof t->path, "%s", c->sip_tls_dir);
	return 0;
}

void tlsdir_done(struct tlsdir *t)
{
	static const char *const names[] = { "agent.pem", "cafile.pem" };
	char p[CONF_STR_MAX + 16];
	if (!t->temporary)
		return;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", t->path, names[i]);
		unlink(p);
	}
	rmdir(t->path);
	t->temporary = false;
}
