/* digest.c — see digest.h. */
#include "sip/digest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/su_md5.h>

int digest_init(struct digest *d, const char *realm)
{
	unsigned char rnd[16];
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		return -1;
	snprintf(d->realm, sizeof d->realm, "%s", realm);
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(d->secret + 2 * i, 3, "%02x", rnd[i]);
	return 0;
}

static void digest_mac(const struct digest *d, const char *stamp, char mac[17])
{
	su_md5_t md5;
	char hex[33];
	su_md5_init(&md5);
	su_md5_strupdate(&md5, d->secret);
	su_md5_update(&md5, ":", 1);
	su_md5_strupdate(&md5, stamp);
	su_md5_hexdigest(&md5, hex);
	memcpy(mac, hex, 16);
	mac[16] = 0;
}

void digest_challenge(const struct digest *d, int64_t now_s, bool stale, char *buf, size_t cap)
{
	char stamp[17], mac[17];
	snprintf(stamp, sizeof stamp, "%llx", (unsigned long long)now_s);
	digest_mac(d, stamp, mac);
	snprintf(buf, cap, "Digest realm=\"%s\", nonce=\"%s-%s\", algorithm=MD5, qop=\"auth\"%s",
	         d->realm, stamp, mac, stale ? ", stale=true" : "");
}

/* 1 fresh, 0 expired, -1 forged or malformed. */
static int digest_nonce_check(const struct digest *d, int64_t now_s, const char *nonce)
{
	const char *dash = strchr(nonce, '-');
	if (!dash || dash == nonce || dash - nonce > 16 || strlen(dash + 1) != 16)
		return -1;
	char stamp[17], mac[17];
	memcpy(stamp, nonce, (size_t)(dash - nonce));
	stamp[dash - nonce] = 0;
	digest_mac(d, stamp, mac);
	if (strcmp(mac, dash + 1))
		return -1;
	long long issued = strtoll(stamp, NULL, 16);
	return (now_s - issued <= DIGEST_NONCE_TTL && issued <= now_s + 5) ? 1 : 0;
}

static const msg_auth_t *digest_for_realm(const struct digest *d, const msg_auth_t *au)
{
	for (; au; au = au->au_next) {
		if (!au->au_scheme || strcasecmp(au->au_scheme, "Digest") || !au->au_params)
			continue;
		const char *realm = msg_params_find(au->au_params, "realm=");
		if (realm && auth_strcmp(realm, d->realm) == 0)
			return au;
	}
	return NULL;
}

enum digest_result digest_verify(const struct digest *d, int64_t now_s, const msg_auth_t *auth,
                                 const char *method, digest_ha1_fn ha1_of, void *ctx,
                                 char *user, size_t userlen)
{
	const msg_auth_t *au = digest_for_realm(d, auth);
	if (!au)
		return DIGEST_NONE;
	su_home_t home[1] = { SU_HOME_INIT(home) };
	auth_response_t ar[1] = { { .ar_size = sizeof ar[0] } };
	enum digest_result res = DIGEST_BAD;
	if (auth_digest_response_get(home, ar, au->au_params) < 0 || !ar->ar_username ||
	    !ar->ar_nonce || !ar->ar_response || !ar->ar_uri)
		goto out;
	if (ar->ar_algorithm && !ar->ar_md5)
		goto out;
	const char *ha1 = ha1_of(ctx, ar->ar_username);
	int fresh = digest_nonce_check(d, now_s, ar->ar_nonce);
	if (!ha1 || fresh < 0)
		goto out;
	auth_hexmd5_t expect;
	auth_digest_response(ar, expect, ha1, method, NULL, 0);
	if (strcasecmp(expect, ar->ar_response))
		goto out;
	res = fresh ? DIGEST_OK : DIGEST_STALE;
	snprintf(user, userlen, "%s", ar->ar_username);
out:
	su_home_deinit(home);
	return res;
}

void digest_ha1(const char *user, const char *realm, const char *password, char out[33])
{
	auth_digest_ha1(out, user, realm, password);
}
