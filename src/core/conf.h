/* conf.h — callqd's small key=value file (etc/callq.conf).
 *
 * Only what must be known before the database opens lives here: addresses,
 * ports, paths and the log level. Everything else is in SQLite. Unknown keys
 * and bad values are errors naming the line, so a typo never passes silently.
 */
#ifndef CALLQ_CONF_H
#define CALLQ_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/log.h"

#define CONF_STR_MAX 256

struct conf {
	char sip_listen[64];
	unsigned sip_port;
	char rtp_ip[64];
	unsigned rtp_port_min, rtp_port_max;
	char db[CONF_STR_MAX];
	char control[CONF_STR_MAX];
	char recordings[CONF_STR_MAX];
	char media[CONF_STR_MAX];
	enum log_level log_level;
	bool seed_demo;
	unsigned rtp_timeout_s;
	unsigned rtp_quiet_timeout_s;  /* the same for legs whose SDP says they will not send */
	unsigned media_threads;    /* 0 = one per CPU (at most 8) */
	unsigned max_calls;        /* calls in progress beyond which INVITEs get 503 */
	unsigned max_calls_per_source;  /* incoming legs from one address (503); 0: no cap */
	unsigned max_calls_per_member;  /* incoming legs from one member's phones (486); 0: no cap */
	unsigned journal_days;     /* journal retention; 0 keeps everything */
	unsigned ctl_idle_timeout_s;   /* control connections: to authenticate, between requests */
	unsigned record_max_s;     /* a call recording stops after this long (at most 3600) */
	unsigned voicemail_max_s;  /* a voicemail message stops after this long (at most 3600) */
	unsigned transfer_ring_s;  /* ringing a destination outside the queues gives up after this */
	char http_listen[64];
	unsigned http_port;        /* 0: no HTTP */
	char http_cert[CONF_STR_MAX], http_key[CONF_STR_MAX];   /* both set: HTTPS */
	char metrics_token[128];   /* "": /metrics open to anyone who can connect */
	char queue_log[CONF_STR_MAX];   /* "": no queue_log file */
	/* SIP over TLS (sips:) beside UDP/TCP, when a certificate is configured:
	 * a directory with agent.pem (key and certificate) and cafile.pem, as
	 * Sofia-SIP wants it, or a PEM certificate and key (both or neither). */
	unsigned sip_tls_port;
	char sip_tls_dir[CONF_STR_MAX];
	char sip_tls_cert[CONF_STR_MAX], sip_tls_key[CONF_STR_MAX];
	bool trunk_secure;         /* trunk calls must come over TLS with SRTP */
};

void conf_defaults(struct conf *c);
/* Reads FILE over the defaults. 0, or -1 with a message in err. */
int conf_load(struct conf *c, const char *path, char *err, size_t errlen);
/* Applies one "key=value" (command-line overrides). */
int conf_set(struct conf *c, const char *key, const char *value, char *err, size_t errlen);

#endif
