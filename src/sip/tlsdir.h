/* tlsdir.h — the certificate folder Sofia-SIP's TLS transport reads.
 *
 * Sofia-SIP (tport_tls) takes one directory (TPTAG_CERTIFICATE): agent.pem
 * holds the private key and the certificate chain, cafile.pem the
 * certificates it trusts (it refuses to start TLS without one). callq takes
 * either such a directory (sip_tls_dir) or a PEM certificate and key
 * (sip_tls_cert, sip_tls_key); for the latter it writes a private directory
 * (mode 0700, files 0600) that lives only until Sofia has read it at start:
 * agent.pem = key + certificate, cafile.pem = the certificate.
 */
#ifndef CALLQ_TLSDIR_H
#define CALLQ_TLSDIR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/conf.h"

struct tlsdir {
	char path[CONF_STR_MAX];   /* "" when TLS is not configured */
	bool temporary;            /* made from sip_tls_cert/key: removed by tlsdir_done */
};

/* Finds or makes the directory for conf; 0 (path "" if no TLS is
 * configured), or -1 with a reason in err (a file missing or unreadable). */
int tlsdir_prepare(struct tlsdir *t, const struct conf *c, char *err, size_t errlen);
/* Removes a temporary directory once Sofia has read it. */
void tlsdir_done(struct tlsdir *t);

#endif
