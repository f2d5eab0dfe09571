/* conf.c — see conf.h. */
#include "core/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->sip_listen, sizeof c->sip_listen, "127.0.0.1");
	c->sip_port = 5060;
	snprintf(c->rtp_ip, sizeof c->rtp_ip, "127.0.0.1");
	c->rtp_port_min = 20000;
	c->rtp_port_max = 29999;
	snprintf(c->db, sizeof c->db, "run/callq.db");
	snprintf(c->control, sizeof c->control, "run/callq.sock");
	snprintf(c->recordings, sizeof c->recordings, "run/recordings");
	snprintf(c->media, sizeof c->media, "media");
	c->log_level = LOG_INFO;
	c->rtp_timeout_s = 60;
	c->rtp_quiet_timeout_s = 3600;
	c->max_calls = 4000;
	c->max_calls_per_source = 100;
	c->max_calls_per_member = 8;
	c->journal_days = 90;
	c->ctl_idle_timeout_s = 300;
	c->record_max_s = 3600;
	c->voicemail_max_s = 120;
	c->transfer_ring_s = 30;
	snprintf(c->http_listen, sizeof c->http_listen, "127.0.0.1");
	c->sip_tls_port = 5061;
}

static int conf_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end || errno || n < lo || n > hi)
		return -1;
	*out = (unsigned)n;
	return 0;
}

static int conf_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return -1;
	return 0;
}

static int conf_str(const char *v, char *out, size_t cap)
{
	if (!*v || strlen(v) >= cap)
		return -1;
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

int conf_set(struct conf *c, const char *k, const char *v, char *err, size_t errlen)
{
	int rc;
	if (!strcmp(k, "sip_listen"))
		rc = conf_str(v, c->sip_listen, sizeof c->sip_listen);
	else if (!strcmp(k, "sip_port"))
		rc = conf_uint(v, 1, 65535, &c->sip_port);
	else if (!strcmp(k, "rtp_ip"))
		rc = conf_str(v, c->rtp_ip, sizeof c->rtp_ip);
	else if (!strcmp(k, "rtp_port_min"))
		rc = conf_uint(v, 1024, 65534, &c->rtp_port_min);
	else if (!strcmp(k, "rtp_port_max"))
		rc = conf_uint(v, 1025, 65535, &c->rtp_port_max);
	else if (!strcmp(k, "db"))
		rc = conf_str(v, c->db, sizeof c->db);
	else if (!strcmp(k, "control"))
		rc = conf_str(v, c->control, sizeof c->control);
	else if (!strcmp(k, "recordings"))
		rc = conf_str(v, c->recordings, sizeof c->recordings);
	else if (!strcmp(k, "media"))
		rc = conf_str(v, c->media, sizeof c->media);
	else if (!strcmp(k, "log_level"))
		rc = log_level_parse(v, &c->log_level);
	else if (!strcmp(k, "seed_demo"))
		rc = conf_bool(v, &c->seed_demo);
	else if (!strcmp(k, "rtp_timeout"))
		rc = conf_uint(v, 0, 86400, &c->rtp_timeout_s);
	else if (!strcmp(k, "rtp_quiet_timeout"))
		rc = conf_uint(v, 0, 86400, &c->rtp_quiet_timeout_s);
	else if (!strcmp(k, "media_threads"))
		rc = conf_uint(v, 0, 8, &c->media_threads);
	else if (!strcmp(k, "max_calls"))
		rc = conf_uint(v, 1, 1000000, &c->max_calls);
	else if (!strcmp(k, "max_calls_per_source"))
		rc = conf_uint(v, 0, 1000000, &c->max_calls_per_source);
	else if (!strcmp(k, "max_calls_per_member"))
		rc = conf_uint(v, 0, 1000000, &c->max_calls_per_member);
	else if (!strcmp(k, "journal_days"))
		rc = conf_uint(v, 0, 36500, &c->journal_days);
	else if (!strcmp(k, "ctl_idle_timeout"))
		rc = conf_uint(v, 1, 86400, &c->ctl_idle_timeout_s);
	else if (!strcmp(k, "record_max"))
		rc = conf_uint(v, 1, 3600, &c->record_max_s);   /* RECORD_MAX_S caps the recorder */
	else if (!strcmp(k, "voicemail_max"))
		rc = conf_uint(v, 1, 3600, &c->voicemail_max_s);
	else if (!strcmp(k, "transfer_ring"))
		rc = conf_uint(v, 1, 600, &c->transfer_ring_s);
	else if (!strcmp(k, "http_listen"))
		rc = conf_str(v, c->http_listen, sizeof c->http_listen);
	else if (!strcmp(k, "http_port"))
		rc = conf_uint(v, 0, 65535, &c->http_port);
	else if (!strcmp(k, "http_cert"))
		rc = conf_str(v, c->http_cert, sizeof c->http_cert);
	else if (!strcmp(k, "http_key"))
		rc = conf_str(v, c->http_key, sizeof c->http_key);
	else if (!strcmp(k, "metrics_token"))
		rc = conf_str(v, c->metrics_token, sizeof c->metrics_token);
	else if (!strcmp(k, "queue_log"))
		rc = conf_str(v, c->queue_log, sizeof c->queue_log);
	else if (!strcmp(k, "sip_tls_port"))
		rc = conf_uint(v, 1, 65535, &c->sip_tls_port);
	else if (!strcmp(k, "sip_tls_dir"))
		rc = conf_str(v, c->sip_tls_dir, sizeof c->sip_tls_dir);
	else if (!strcmp(k, "sip_tls_cert"))
		rc = conf_str(v, c->sip_tls_cert, sizeof c->sip_tls_cert);
	else if (!strcmp(k, "sip_tls_key"))
		rc = conf_str(v, c->sip_tls_key, sizeof c->sip_tls_key);
	else if (!strcmp(k, "trunk_secure"))
		rc = conf_bool(v, &c->trunk_secure);
	else {
		snprintf(err, errlen, "unknown key '%s'", k);
		return -1;
	}
	if (rc < 0)
		snprintf(err, errlen, "bad value for %s: '%s'", k, v);
	return rc;
}

static char *conf_trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

int conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char line[512], msg[256];
	int lineno = 0, rc = 0;
	while (rc == 0 && fgets(line, sizeof line, f)) {
		lineno++;
		char *s = conf_trim(line);
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected key = value", path, lineno);
			rc = -1;
			break;
		}
		*eq = 0;
		if (conf_set(c, conf_trim(s), conf_trim(eq + 1), msg, sizeof msg) < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			rc = -1;
		}
	}
	fclose(f);
	if (rc == 0 && !c->http_cert[0] != !c->http_key[0]) {
		snprintf(err, errlen, "%s: http_cert and http_key go together", path);
		rc = -1;
	}
	if (rc == 0 && !c->sip_tls_cert[0] != !c->sip_tls_key[0]) {
		snprintf(err, errlen, "%s: sip_tls_cert and sip_tls_key go together", path);
		rc = -1;
	}
	if (rc == 0 && c->rtp_port_min >= c->rtp_port_max) {
		snprintf(err, errlen, "%s: rtp_port_min must be below rtp_port_max", path);
		rc = -1;
	}
	return rc;
}
