/* digest.c — see digest.h. */
#include "sip/digest.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/msg_header.h>

#include "core/pwhash.h"

#define DIGEST_MAC_BYTES 16

int digest_init(struct digest *d, const char *realm)
{
	memset(d, 0, sizeof *d);
	if (getrandom(d->secret, sizeof d->secret, 0) != (ssize_t)sizeof d->secret ||
	    getrandom(&d->counter, sizeof d->counter, 0) != (ssize_t)sizeof d->counter)
		return -1;
	snprintf(d->realm, sizeof d->realm, "%s", realm);
	return 0;
}

/* The MAC of "TIME-RAND" in hex (2 * DIGEST_MAC_BYTES digits). */
static void digest_mac(const struct digest *d, const char *stamp, size_t n,
                       char hex[2 * DIGEST_MAC_BYTES + 1])
{
	uint8_t mac[PWHASH_SHA256_LEN];
	pwhash_hmac(d->secret, sizeof d->secret, stamp, n, mac);
	for (size_t i = 0; i < DIGEST_MAC_BYTES; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
}

void digest_challenge(struct digest *d, int64_t now_s, bool stale, char *buf, size_t cap)
{
	uint64_t rnd;
	char stamp[40], mac[2 * DIGEST_MAC_BYTES + 1];
	if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
		rnd = ++d->counter;
	int n = snprintf(stamp, sizeof stamp, "%llx-%016llx", (unsigned long long)now_s,
	                 (unsigned long long)rnd);
	digest_mac(d, stamp, (size_t)n, mac);
	snprintf(buf, cap, "Digest realm=\"%s\", nonce=\"%s-%s\", algorithm=MD5, qop=\"auth\"%s",
	         d->realm, stamp, mac, stale ? ", stale=true" : "");
}

/* Parses and authenticates a nonce: 1 fresh (issued, rand set), 0 ours but
 * expired, -1 not ours. */
static int digest_nonce_check(const struct digest *d, int64_t now_s, const char *nonce,
                              int64_t *issued, uint64_t *rand)
{
	const char *dash1 = strchr(nonce, '-');
	const char *dash2 = dash1 ? strchr(dash1 + 1, '-') : NULL;
	if (!dash2 || dash1 == nonce || dash1 - nonce > 16 || dash2 - dash1 != 17 ||
	    strlen(dash2 + 1) != 2 * DIGEST_MAC_BYTES)
		return -1;
	for (const char *p = nonce; p < dash2; p++)
		if (p != dash1 && !isxdigit((unsigned char)*p))
			return -1;
	char mac[2 * DIGEST_MAC_BYTES + 1];
	digest_mac(d, nonce, (size_t)(dash2 - nonce), mac);
	if (!pwhash_equal(mac, dash2 + 1, 2 * DIGEST_MAC_BYTES))
		return -1;
	*issued = (int64_t)strtoull(nonce, NULL, 16);
	*rand = strtoull(dash1 + 1, NULL, 16);
	return (now_s - *issued <= DIGEST_NONCE_TTL && *issued <= now_s + 5) ? 1 : 0;
}

/* Accepts nc for the nonce (issued, rand) if it is higher than any before;
 * false for a replay or a nonce whose record may have been lost. */
static bool digest_nc_take(struct digest *d, int64_t now_s, int64_t issued, uint64_t rand,
                           uint32_t nc)
{
	size_t home = (size_t)((rand ^ (uint64_t)issued) % DIGEST_NC_SLOTS);
	struct digest_nc *spare = NULL;
	bool spare_unused = false;
	for (size_t i = 0; i < DIGEST_NC_PROBE; i++) {
		struct digest_nc *e = &d->nc[(home + i) % DIGEST_NC_SLOTS];
		if (e->issued == issued && e->rand == rand) {
			if (nc <= e->nc)
				return false;
			e->nc = nc;
			return true;
		}
		/* Prefer a free or expired slot, else the oldest nonce. */
		bool unused = !e->issued || now_s - e->issued > DIGEST_NONCE_TTL;
		if (unused && !spare_unused)
			spare = e, spare_unused = true;
		else if (!unused && !spare_unused && (!spare || e->issued < spare->issued))
			spare = e;
	}
	if (issued <= d->forgotten)
		return false;
	if (!spare_unused && spare->issued > d->forgotten)
		d->forgotten = spare->issued;
	*spare = (struct digest_nc){ .rand = rand, .issued = issued, .nc = nc };
	return true;
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

/* The digest-uri names the request it was computed for. */
static bool digest_uri_matches(const char *uri, const url_t *ruri)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	url_t *u = ruri ? url_make(home, uri) : NULL;
	bool same = u && url_cmp(u, ruri) == 0;
	su_home_deinit(home);
	return same;
}

/* nc-value = 8LHEX; 0 if malformed. */
static uint32_t digest_nc_parse(const char *nc)
{
	if (!nc || strlen(nc) != 8)
		return 0;
	for (const char *p = nc; *p; p++)
		if (!isxdigit((unsigned char)*p))
			return 0;
	return (uint32_t)strtoul(nc, NULL, 16);
}

/* A response is 32 hex digits; compared without regard to case, in constant time. */
static bool digest_response_equal(const char *expect, const char *got)
{
	char low[33];
	if (strlen(got) != 32)
		return false;
	for (size_t i = 0; i < 32; i++)
		low[i] = (char)tolower((unsigned char)got[i]);
	return pwhash_equal(expect, low, 32);
}

enum digest_result digest_verify(struct digest *d, int64_t now_s, const msg_auth_t *auth,
                                 const char *method, const url_t *ruri, const char *want,
                                 digest_ha1_fn ha1_of, void *ctx, char *user, size_t userlen)
{
	const msg_auth_t *au = digest_for_realm(d, auth);
	user[0] = 0;
	if (!au)
		return DIGEST_NONE;
	su_home_t home[1] = { SU_HOME_INIT(home) };
	auth_response_t ar[1] = { { .ar_size = sizeof ar[0] } };
	enum digest_result res = DIGEST_REFUSED;
	if (auth_digest_response_get(home, ar, au->au_params) < 0 || !ar->ar_username ||
	    !ar->ar_nonce || !ar->ar_response || !ar->ar_uri)
		goto out;
	snprintf(user, userlen, "%s", ar->ar_username);
	int64_t issued;
	uint64_t rand;
	int fresh = digest_nonce_check(d, now_s, ar->ar_nonce, &issued, &rand);
	if (fresh <= 0) {
		res = DIGEST_STALE;
		goto out;
	}
	uint32_t nc = digest_nc_parse(ar->ar_nc);
	if ((ar->ar_algorithm && !ar->ar_md5) || !ar->ar_auth || ar->ar_auth_int || !nc ||
	    !ar->ar_cnonce || strcmp(ar->ar_username, want) || !digest_uri_matches(ar->ar_uri, ruri))
		goto out;
	const char *ha1 = ha1_of(ctx, ar->ar_username);
	res = DIGEST_BAD;
	if (!ha1)
		goto out;
	auth_hexmd5_t expect;
	auth_digest_response(ar, expect, ha1, method, NULL, 0);
	if (!digest_response_equal(expect, ar->ar_response))
		goto out;
	res = digest_nc_take(d, now_s, issued, rand, nc) ? DIGEST_OK : DIGEST_STALE;
out:
	su_home_deinit(home);
	return res;
}

void digest_ha1(const char *user, const char *realm, const char *password, char out[33])
{
	auth_digest_ha1(out, user, realm, password);
}
