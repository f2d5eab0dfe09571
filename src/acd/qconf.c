/* qconf.c — see qconf.h.
 *
 * One table describes every key: its type, where it lives in the struct, and
 * its bounds. Setting, formatting and enumerating all walk that table, so a
 * new key is one line here and nothing else.
 */
#include "acd/qconf.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define QCONF_DEFAULT_HOLD "position,pause:2,file:music.wav,wait,repeat"

enum qconf_type {
	QT_NUMBER,      /* dialable number: digits, * and # */
	QT_STRATEGY,
	QT_UINT,
	QT_BOOL,
	QT_DEST,        /* destination or empty */
	QT_NAME,        /* queue name or empty */
	QT_HOLD,
	QT_ESTIMATOR,   /* last5 | throughput */
	QT_LANG,        /* prompt folder: [a-z]{2}(-[A-Za-z]{2})? */
	QT_DIDS,        /* more numbers: "N1,N2", or empty */
	QT_GATEWAY,     /* a gateway's name, or empty */
	QT_KEY,         /* one key: 0-9 or * */
	QT_HOURS,       /* HH:MM-HH:MM, or empty: any time */
	QT_OUTSIDE,     /* keep | drop */
	QT_CBMODE,      /* agent-first | customer-first */
};

enum qconf_key_id {
	K_NUMBER, K_STRATEGY, K_CALL_LIMIT, K_TIMEOUT, K_TIMEOUT_IF_EMPTY,
	K_ZERO_OUT, K_RECORD, K_SHOW_AGENTS, K_ESCALATION_QUEUE, K_ESCALATION_DEST,
	K_HOLD, K_CONNECT_TIMEOUT, K_FORCE_AWAY,
	K_RETRY_REJECTED, K_RETRY_TIMEOUT, K_RETRY_UNREACHABLE, K_RECOVERY, K_RECOVERY_EXTEND,
	K_RECOVERY_MULTI, K_WAIT_ESTIMATE, K_LANG, K_SERVICE_LEVEL, K_DIDS, K_PRIORITY_STEP,
	K_CALLBACK_GATEWAY, K_CALLBACK_KEY, K_CALLBACK_WAIT, K_CALLBACK_RETRIES,
	K_CALLBACK_RETRY_DELAY, K_CALLBACK_HOURS, K_CALLBACK_OUTSIDE, K_CALLBACK_MODE, K_COUNT
};

struct qconf_spec {
	enum qconf_type type;
	size_t off, size;       /* field in struct eng_queue_conf */
	unsigned min, max;      /* QT_UINT bounds */
};

#define F(field) offsetof(struct eng_queue_conf, field), \
	sizeof(((struct eng_queue_conf *)0)->field)

static const char *const qconf_names[K_COUNT + 1] = {
	[K_NUMBER] = "number",
	[K_STRATEGY] = "strategy",
	[K_CALL_LIMIT] = "call_limit",
	[K_TIMEOUT] = "timeout",
	[K_TIMEOUT_IF_EMPTY] = "timeout_if_empty",
	[K_ZERO_OUT] = "zero_out",
	[K_RECORD] = "record",
	[K_SHOW_AGENTS] = "show_agents",
	[K_ESCALATION_QUEUE] = "escalation_queue",
	[K_ESCALATION_DEST] = "escalation_dest",
	[K_HOLD] = "hold",
	[K_CONNECT_TIMEOUT] = "connect_timeout",
	[K_FORCE_AWAY] = "force_away",
	[K_RETRY_REJECTED] = "retry_rejected",
	[K_RETRY_TIMEOUT] = "retry_timeout",
	[K_RETRY_UNREACHABLE] = "retry_unreachable",
	[K_RECOVERY] = "recovery",
	[K_RECOVERY_EXTEND] = "recovery_extend",
	[K_RECOVERY_MULTI] = "recovery_multi",
	[K_WAIT_ESTIMATE] = "wait_estimate",
	[K_LANG] = "lang",
	[K_SERVICE_LEVEL] = "service_level",
	[K_DIDS] = "dids",
	[K_PRIORITY_STEP] = "priority_step",
	[K_CALLBACK_GATEWAY] = "callback_gateway",
	[K_CALLBACK_KEY] = "callback_key",
	[K_CALLBACK_WAIT] = "callback_wait",
	[K_CALLBACK_RETRIES] = "callback_retries",
	[K_CALLBACK_RETRY_DELAY] = "callback_retry_delay",
	[K_CALLBACK_HOURS] = "callback_hours",
	[K_CALLBACK_OUTSIDE] = "callback_outside",
	[K_CALLBACK_MODE] = "callback_mode",
	[K_COUNT] = NULL,
};

static const struct qconf_spec qconf_specs[K_COUNT] = {
	[K_NUMBER] = { QT_NUMBER, F(number), 0, 0 },
	[K_STRATEGY] = { QT_STRATEGY, F(strategy), 0, 0 },
	[K_CALL_LIMIT] = { QT_UINT, F(call_limit), 0, 100000 },
	[K_TIMEOUT] = { QT_UINT, F(timeout_s), 1, 7200 },
	[K_TIMEOUT_IF_EMPTY] = { QT_BOOL, F(timeout_if_empty), 0, 0 },
	[K_ZERO_OUT] = { QT_DEST, F(zero_out), 0, 0 },
	[K_RECORD] = { QT_BOOL, F(record), 0, 0 },
	[K_SHOW_AGENTS] = { QT_BOOL, F(show_agents), 0, 0 },
	[K_ESCALATION_QUEUE] = { QT_NAME, F(escalation_queue), 0, 0 },
	[K_ESCALATION_DEST] = { QT_DEST, F(escalation_dest), 0, 0 },
	[K_HOLD] = { QT_HOLD, F(hold), 0, 0 },
	[K_CONNECT_TIMEOUT] = { QT_UINT, F(connect_timeout_s), 1, 600 },
	[K_FORCE_AWAY] = { QT_BOOL, F(force_away), 0, 0 },
	/* No 0: a phone that fails at once would be rung again at once, forever. */
	[K_RETRY_REJECTED] = { QT_UINT, F(retry_rejected_s), 1, 3600 },
	[K_RETRY_TIMEOUT] = { QT_UINT, F(retry_timeout_s), 1, 3600 },
	[K_RETRY_UNREACHABLE] = { QT_UINT, F(retry_unreachable_s), 1, 3600 },
	[K_RECOVERY] = { QT_UINT, F(recovery_s), 0, 3600 },
	[K_RECOVERY_EXTEND] = { QT_UINT, F(recovery_extend_s), 0, 3600 },
	[K_RECOVERY_MULTI] = { QT_BOOL, F(recovery_multi), 0, 0 },
	[K_WAIT_ESTIMATE] = { QT_ESTIMATOR, F(wait_estimate), 0, 0 },
	[K_LANG] = { QT_LANG, F(lang), 0, 0 },
	[K_SERVICE_LEVEL] = { QT_UINT, F(service_level_s), 1, 7200 },
	[K_DIDS] = { QT_DIDS, F(dids), 0, 0 },
	[K_PRIORITY_STEP] = { QT_UINT, F(priority_step_s), 0, 3600 },
	[K_CALLBACK_GATEWAY] = { QT_GATEWAY, F(callback_gateway), 0, 0 },
	[K_CALLBACK_KEY] = { QT_KEY, F(callback_key), 0, 0 },
	[K_CALLBACK_WAIT] = { QT_UINT, F(callback_wait_s), 0, 7200 },
	[K_CALLBACK_RETRIES] = { QT_UINT, F(callback_retries), 0, 10 },
	/* No 0: every retry towards a customer waits. */
	[K_CALLBACK_RETRY_DELAY] = { QT_UINT, F(callback_retry_delay_s), 5, 86400 },
	[K_CALLBACK_HOURS] = { QT_HOURS, F(callback_open_min), 0, 0 },
	[K_CALLBACK_OUTSIDE] = { QT_OUTSIDE, F(callback_drop), 0, 0 },
	[K_CALLBACK_MODE] = { QT_CBMODE, F(callback_customer_first), 0, 0 },
};

static const char *const qconf_estimators[] = {
	[WAIT_LAST5] = "last5",
	[WAIT_THROUGHPUT] = "throughput",
};

void qconf_defaults(struct eng_queue_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->strategy = STRAT_ROUND_ROBIN;
	c->timeout_s = 600;
	c->connect_timeout_s = 15;
	c->recovery_s = 5;
	c->wait_estimate = WAIT_LAST5;
	c->service_level_s = 20;
	c->retry_rejected_s = 5;
	c->retry_timeout_s = 5;
	c->retry_unreachable_s = 30;
	c->callback_key = '1';
	c->callback_retries = 2;
	c->callback_retry_delay_s = 300;
	snprintf(c->lang, sizeof(c->lang), "en");
	snprintf(c->hold, sizeof(c->hold), "%s", QCONF_DEFAULT_HOLD);
}

const char *const *qconf_keys(void)
{
	return qconf_names;
}

static int qconf_find(const char *key)
{
	for (int i = 0; i < K_COUNT; i++)
		if (strcmp(qconf_names[i], key) == 0)
			return i;
	return -1;
}

static bool qconf_name_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
}

/* Checks that s[0..len) is a name, so group members can be checked in place. */
static bool qconf_name_span(const char *s, size_t len)
{
	if (len == 0 || len >= ENG_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!qconf_name_char(s[i]))
			return false;
	return true;
}

bool qconf_name_valid(const char *s)
{
	return s && qconf_name_span(s, strlen(s));
}

static bool qconf_number_span(const char *s, size_t len)
{
	if (len == 0 || len >= ENG_NUMBER_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '*' || s[i] == '#'))
			return false;
	return true;
}

static bool qconf_number_valid(const char *s)
{
	return qconf_number_span(s, strlen(s));
}

/* "N1,N2,..": numbers, none twice, none the queue's own number. */
static bool qconf_dids_valid(const struct eng_queue_conf *c, const char *s)
{
	if (strlen(s) >= ENG_DIDS_MAX)
		return false;
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, ",");

		if (!qconf_number_span(p, n) || (strlen(c->number) == n && !strncmp(c->number, p, n)))
			return false;
		for (const char *o = s; o < p; o += strcspn(o, ",") + 1)
			if (strcspn(o, ",") == n && !strncmp(o, p, n))
				return false;
		p += n;
		if (*p == ',' && *++p == '\0')
			return false;
	}
	return true;
}

static bool qconf_group_valid(const char *s)
{
	for (;;) {
		const char *plus = strchr(s, '+');
		size_t len = plus ? (size_t)(plus - s) : strlen(s);

		if (!qconf_name_span(s, len))
			return false;
		if (!plus)
			return true;
		s = plus + 1;
	}
}

/* A SIP URI is checked only for shape: the SIP stack parses it for real when
 * the call is escalated, and a bad one then fails like an unreachable target. */
static bool qconf_uri_valid(const char *s)
{
	const char *rest;

	if (strncmp(s, "sip:", 4) == 0)
		rest = s + 4;
	else if (strncmp(s, "sips:", 5) == 0)
		rest = s + 5;
	else
		return false;
	if (*rest == '\0')
		return false;
	for (; *rest; rest++)
		if (*rest <= ' ' || *rest > '~' || *rest == '"')
			return false;
	return true;
}

/* NAME/NUMBER: a gateway name, then digits, * or # (a leading + allowed).
 * Whether the gateway exists is seen when the call is placed. */
static bool qconf_gateway_valid(const char *s)
{
	const char *slash = strchr(s, '/');
	char name[ENG_NAME_MAX];
	size_t len = slash ? (size_t)(slash - s) : 0;
	if (!slash || len == 0 || len >= sizeof name)
		return false;
	memcpy(name, s, len);
	name[len] = 0;
	const char *num = slash + 1 + (slash[1] == '+');
	if (!qconf_name_valid(name) || !*num || strlen(num) >= ENG_NUMBER_MAX)
		return false;
	for (; *num; num++)
		if (!isdigit((unsigned char)*num) && *num != '*' && *num != '#')
			return false;
	return true;
}

bool qconf_dest_valid(const char *s)
{
	if (!s)
		return false;
	if (strlen(s) >= sizeof(((struct eng_queue_conf *)0)->zero_out))
		return false;
	if (strcmp(s, "hangup") == 0)
		return true;
	if (strncmp(s, "queue:", 6) == 0)
		return qconf_name_valid(s + 6);
	if (strncmp(s, "member:", 7) == 0)
		return qconf_name_valid(s + 7);
	if (strncmp(s, "voicemail:", 10) == 0)
		return qconf_name_valid(s + 10);
	if (strncmp(s, "group:", 6) == 0)
		return qconf_group_valid(s + 6);
	if (strncmp(s, "uri:", 4) == 0)
		return qconf_uri_valid(s + 4);
	if (strncmp(s, "gateway:", 8) == 0)
		return qconf_gateway_valid(s + 8);
	return false;
}

static int qconf_bool_parse(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "1", "on" };
	static const char *const no[] = { "no", "false", "0", "off" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/* Digits only: strtoul would take a sign, spaces and a hex prefix. */
static int qconf_uint_parse(const char *s, unsigned max, unsigned *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return -2;
	}
	*out = (unsigned)v;
	return 0;
}

static bool qconf_hold_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= ENG_HOLD_MAX)
		return false;
	for (; *s; s++)
		if (*s < ' ' || *s > '~')
			return false;
	return true;
}

static bool qconf_lower(char ch)
{
	return ch >= 'a' && ch <= 'z';
}

static bool qconf_letter(char ch)
{
	return qconf_lower(ch) || (ch >= 'A' && ch <= 'Z');
}

/* A folder name that cannot climb out of the media directory. */
static bool qconf_lang_valid(const char *s)
{
	if (!qconf_lower(s[0]) || !qconf_lower(s[1]))
		return false;
	if (s[2] == '\0')
		return true;
	return s[2] == '-' && qconf_letter(s[3]) && qconf_letter(s[4]) && s[5] == '\0';
}

static int qconf_estimator_parse(const char *s, enum eng_wait_estimator *out)
{
	for (size_t i = 0; i < sizeof(qconf_estimators) / sizeof(*qconf_estimators); i++) {
		if (strcmp(s, qconf_estimators[i]) == 0) {
			*out = (enum eng_wait_estimator)i;
			return 0;
		}
	}
	return -1;
}

/* "HH:MM" -> minutes since midnight; -1 if malformed. */
static int qconf_hhmm(const char *s)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
	    !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
	return h < 24 && m < 60 ? h * 60 + m : -1;
}

/* "HH:MM-HH:MM" (the end may be earlier: past midnight), or "" for any time. */
static int qconf_hours_parse(const char *s, unsigned *open, unsigned *close)
{
	int a, b;

	if (!*s) {
		*open = *close = 0;
		return 0;
	}
	if (strlen(s) != 11 || s[5] != '-' || (a = qconf_hhmm(s)) < 0 || (b = qconf_hhmm(s + 6)) < 0 ||
	    a == b)
		return -1;
	*open = (unsigned)a;
	*close = (unsigned)b;
	return 0;
}

static int qconf_fail(char *err, size_t errlen, const char *key, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", key, why);
	return -1;
}

static int qconf_set_uint(struct eng_queue_conf *c, const char *key,
                          const struct qconf_spec *sp, const char *value,
                          char *err, size_t errlen)
{
	char why[96];
	unsigned v = 0;
	int rc = qconf_uint_parse(value, sp->max, &v);

	if (rc == -1) {
		snprintf(why, sizeof(why), "'%.32s' is not a whole number", value);
		return qconf_fail(err, errlen, key, why);
	}
	if (rc == -2 || v < sp->min) {
		snprintf(why, sizeof(why), "%.32s is out of range %u..%u", value, sp->min, sp->max);
		return qconf_fail(err, errlen, key, why);
	}
	*(unsigned *)((char *)c + sp->off) = v;
	return 0;
}

static int qconf_set_text(struct eng_queue_conf *c, const struct qconf_spec *sp,
                          const char *value)
{
	snprintf((char *)c + sp->off, sp->size, "%s", value);
	return 0;
}

int qconf_set(struct eng_queue_conf *c, const char *key, const char *value,
              char *err, size_t errlen)
{
	int k = key ? qconf_find(key) : -1;
	const struct qconf_spec *sp;
	enum eng_strategy st;
	enum eng_wait_estimator we;
	bool b;

	if (k < 0) {
		if (key && strcmp(key, "paused") == 0)
			return qconf_fail(err, errlen, key, "set by queue.pause and queue.resume");
		return qconf_fail(err, errlen, key ? key : "(null)", "unknown setting");
	}
	if (!value)
		return qconf_fail(err, errlen, key, "missing value");
	sp = &qconf_specs[k];
	switch (sp->type) {
	case QT_NUMBER:
		if (!qconf_number_valid(value))
			return qconf_fail(err, errlen, key, "must be 1 to 31 characters of 0-9, * and #");
		return qconf_set_text(c, sp, value);
	case QT_STRATEGY:
		if (!engine_strategy_parse(value, &st))
			return qconf_fail(err, errlen, key,
			                  "must be round-robin, most-idle, least-calls, least-offers, "
			                  "skills-strict or skills-loose");
		c->strategy = st;
		return 0;
	case QT_UINT:
		return qconf_set_uint(c, key, sp, value, err, errlen);
	case QT_BOOL:
		if (qconf_bool_parse(value, &b) < 0)
			return qconf_fail(err, errlen, key, "must be yes or no (true/false, 1/0, on/off)");
		*(bool *)((char *)c + sp->off) = b;
		return 0;
	case QT_DEST:
		if (*value && !qconf_dest_valid(value))
			return qconf_fail(err, errlen, key,
			                  "must be queue:NAME, member:LOGIN, group:L1+L2, voicemail:LOGIN, "
			                  "uri:sip:..., gateway:NAME/NUMBER, hangup or empty");
		return qconf_set_text(c, sp, value);
	case QT_NAME:
		if (*value && !qconf_name_valid(value))
			return qconf_fail(err, errlen, key,
			                  "must be a queue name ([A-Za-z0-9_.-], 1 to 63) or empty");
		if (strcmp(value, c->name) == 0 && *value)
			return qconf_fail(err, errlen, key, "a queue cannot escalate to itself");
		return qconf_set_text(c, sp, value);
	case QT_HOLD:
		if (!qconf_hold_valid(value))
			return qconf_fail(err, errlen, key, "must be 1 to 511 printable characters");
		return qconf_set_text(c, sp, value);
	case QT_ESTIMATOR:
		if (qconf_estimator_parse(value, &we) < 0)
			return qconf_fail(err, errlen, key, "must be last5 or throughput");
		c->wait_estimate = we;
		return 0;
	case QT_LANG:
		if (!qconf_lang_valid(value))
			return qconf_fail(err, errlen, key, "must be a language tag like en or pt-BR");
		return qconf_set_text(c, sp, value);
	case QT_DIDS:
		if (!qconf_dids_valid(c, value))
			return qconf_fail(err, errlen, key,
			                  "must be numbers (0-9, * and #) separated by commas, none twice "
			                  "and not the queue's number");
		return qconf_set_text(c, sp, value);
	case QT_GATEWAY:
		if (*value && !qconf_name_valid(value))
			return qconf_fail(err, errlen, key,
			                  "must be a gateway name ([A-Za-z0-9_.-], 1 to 63) or empty");
		return qconf_set_text(c, sp, value);
	case QT_KEY:
		if (!((value[0] >= '0' && value[0] <= '9') || value[0] == '*') || value[1])
			return qconf_fail(err, errlen, key, "must be one key: 0-9 or *");
		c->callback_key = value[0];
		return 0;
	case QT_HOURS:
		if (qconf_hours_parse(value, &c->callback_open_min, &c->callback_close_min) < 0)
			return qconf_fail(err, errlen, key,
			                  "must be HH:MM-HH:MM (local time, two different times) or empty");
		return 0;
	case QT_OUTSIDE:
		if (strcmp(value, "keep") && strcmp(value, "drop"))
			return qconf_fail(err, errlen, key, "must be keep or drop");
		c->callback_drop = value[0] == 'd';
		return 0;
	case QT_CBMODE:
		if (strcmp(value, "agent-first") && strcmp(value, "customer-first"))
			return qconf_fail(err, errlen, key, "must be agent-first or customer-first");
		c->callback_customer_first = value[0] == 'c';
		return 0;
	}
	return qconf_fail(err, errlen, key, "unknown setting");
}

int qconf_get(const struct eng_queue_conf *c, const char *key, char *buf, size_t len)
{
	int k = key ? qconf_find(key) : -1;
	const struct qconf_spec *sp;
	const char *p;
	int n;

	if (k < 0 || !buf || len == 0)
		return -1;
	sp = &qconf_specs[k];
	p = (const char *)c + sp->off;
	switch (sp->type) {
	case QT_STRATEGY:
		n = snprintf(buf, len, "%s", engine_strategy_name(c->strategy));
		break;
	case QT_UINT:
		n = snprintf(buf, len, "%u", *(const unsigned *)p);
		break;
	case QT_BOOL:
		n = snprintf(buf, len, "%s", *(const bool *)p ? "yes" : "no");
		break;
	case QT_ESTIMATOR:
		n = snprintf(buf, len, "%s", qconf_estimators[c->wait_estimate == WAIT_THROUGHPUT]);
		break;
	case QT_KEY:
		n = snprintf(buf, len, "%c", c->callback_key);
		break;
	case QT_HOURS:
		n = c->callback_open_min == c->callback_close_min
		            ? snprintf(buf, len, "%s", "")
		            : snprintf(buf, len, "%02u:%02u-%02u:%02u", c->callback_open_min / 60,
		                       c->callback_open_min % 60, c->callback_close_min / 60,
		                       c->callback_close_min % 60);
		break;
	case QT_OUTSIDE:
		n = snprintf(buf, len, "%s", c->callback_drop ? "drop" : "keep");
		break;
	case QT_CBMODE:
		n = snprintf(buf, len, "%s", c->callback_customer_first ? "customer-first" : "agent-first");
		break;
	default:
		n = snprintf(buf, len, "%s", p);
		break;
	}
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}
