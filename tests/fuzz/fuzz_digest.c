/* fuzz_digest.c — digest_verify on any Authorization header value: Sofia's
 * header parser, then our checks of nonce, qop, nc, digest-uri and response.
 * The secret is fixed so that "@NONCE@" in an input stands for a nonce we
 * issued (the seeds use it to get past the nonce check). Checks the output
 * contract: a known result, the user name NUL-terminated, and a repeat of
 * the same credentials never DIGEST_OK twice (the nc must grow). */
#include "sip/digest.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/sip_header.h>

static struct digest *d;
static char nonce[128];
static url_t *ruri;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_digest: %s\n", what);
	abort();
}

static const char *ha1_of(void *ctx, const char *user)
{
	static char ha1[33];
	(void)ctx;
	if (strcmp(user, "1001"))
		return NULL;
	digest_ha1("1001", "callq", "secret1001", ha1);
	return ha1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char chal[256];
	d = malloc(sizeof *d);
	if (!d || digest_init(d, "callq") < 0)
		die("init");
	memset(d->secret, 0, sizeof d->secret);
	digest_challenge(d, 1000, false, chal, sizeof chal);
	const char *p = strstr(chal, "nonce=\"") + 7;
	snprintf(nonce, sizeof nonce, "%.*s", (int)(strchr(p, '"') - p), p);
	ruri = url_make(NULL, "sip:127.0.0.1:5060");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	/* each 7-byte "@NONCE@" becomes the nonce: room for every one */
	size_t cap = size / 7 * strlen(nonce) + size + 1;
	char *text = malloc(cap);
	size_t k = 0;
	for (size_t i = 0; i < size; i++) {
		if (i + 7 <= size && !memcmp(data + i, "@NONCE@", 7)) {
			k += (size_t)snprintf(text + k, cap - k, "%s", nonce);
			i += 6;
		} else {
			text[k++] = data[i] ? (char)data[i] : ' ';
		}
	}
	text[k] = 0;
	su_home_t home[1] = { SU_HOME_INIT(home) };
	msg_auth_t *au = (msg_auth_t *)sip_authorization_make(home, text);
	char user[64];
	memset(user, 'x', sizeof user);
	enum digest_result r1 = digest_verify(d, 1001, au, "REGISTER", ruri, "1001", ha1_of, NULL,
	                                      user, sizeof user);
	if (!memchr(user, 0, sizeof user))
		die("user not terminated");
	enum digest_result r2 = digest_verify(d, 1001, au, "REGISTER", ruri, "1001", ha1_of, NULL,
	                                      user, sizeof user);
	if (r1 > DIGEST_BAD || r2 > DIGEST_BAD)
		die("unknown result");
	if (r1 == DIGEST_OK && r2 == DIGEST_OK)
		die("the same nc accepted twice");
	if (!au && (r1 != DIGEST_NONE || r2 != DIGEST_NONE))
		die("no credentials but not DIGEST_NONE");
	su_home_deinit(home);
	free(text);
	return 0;
}
