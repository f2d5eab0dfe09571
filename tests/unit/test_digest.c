/* Tests src/sip/digest.c: a correct response passes once per nc; wrong
 * passwords and unknown users are BAD (a strike); forged, expired, replayed
 * and forgotten nonces are STALE (no strike); a digest-uri other than the
 * Request-URI, another user, or no qop are REFUSED. The client side is
 * computed here with Sofia's digest functions, as a phone would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/sip_header.h>

#include "sip/digest.h"

#define RURI "sip:127.0.0.1:5060"

static const char *ha1_of(void *ctx, const char *user)
{
	static char ha1[33];
	(void)ctx;
	if (strcmp(user, "1001"))
		return NULL;
	digest_ha1("1001", "callq", "secret1001", ha1);
	return ha1;
}

struct creds {
	const char *user, *password, *realm, *uri, *nc;
	bool qop;
};

/* Builds an Authorization header answering `challenge` with c. */
static msg_auth_t *answer(su_home_t *home, const char *challenge, const struct creds *c)
{
	char nonce[128], ha1[33], hdr[768];
	const char *p = strstr(challenge, "nonce=\"") + 7;
	size_t n = (size_t)(strchr(p, '"') - p);
	memcpy(nonce, p, n);
	nonce[n] = 0;
	const char *nc = c->nc ? c->nc : "00000001";
	const char *uri = c->uri ? c->uri : RURI;
	auth_response_t ar = { .ar_size = sizeof ar };
	ar.ar_username = c->user;
	ar.ar_realm = c->realm;
	ar.ar_nonce = nonce;
	ar.ar_uri = uri;
	if (c->qop) {
		ar.ar_qop = "auth";
		ar.ar_auth = 1;
		ar.ar_cnonce = "abcdef";
		ar.ar_nc = nc;
	}
	ar.ar_md5 = 1;
	auth_hexmd5_t resp;
	auth_digest_ha1(ha1, c->user, c->realm, c->password);
	auth_digest_response(&ar, resp, ha1, "REGISTER", NULL, 0);
	if (c->qop)
		snprintf(hdr, sizeof hdr,
		         "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
		         "response=\"%s\", algorithm=MD5, qop=auth, cnonce=\"abcdef\", nc=%s",
		         c->user, c->realm, nonce, uri, resp, nc);
	else
		snprintf(hdr, sizeof hdr,
		         "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
		         "response=\"%s\", algorithm=MD5",
		         c->user, c->realm, nonce, uri, resp);
	return (msg_auth_t *)sip_authorization_make(home, hdr);
}

static enum digest_result check_as(struct digest *d, int64_t now, msg_auth_t *au,
                                   const char *want)
{
	char user[64];
	url_t *ruri = url_make(NULL, RURI);
	enum digest_result r = digest_verify(d, now, au, "REGISTER", ruri, want, ha1_of, NULL, user,
	                                     sizeof user);
	su_free(NULL, ruri);
	return r;
}

static enum digest_result check(struct digest *d, int64_t now, msg_auth_t *au)
{
	return check_as(d, now, au, "1001");
}

static const struct creds good = { "1001", "secret1001", "callq", NULL, NULL, true };

static void test_good_and_bad(void **state)
{
	(void)state;
	su_home_t home[1] = { SU_HOME_INIT(home) };
	struct digest *d = malloc(sizeof *d);
	char chal[256];
	assert_int_equal(digest_init(d, "callq"), 0);
	digest_challenge(d, 1000, false, chal, sizeof chal);
	assert_non_null(strstr(chal, "realm=\"callq\""));
	assert_non_null(strstr(chal, "qop=\"auth\""));
	assert_null(strstr(chal, "stale"));

	assert_int_equal(check(d, 1001, answer(home, chal, &good)), DIGEST_OK);
	struct creds c = good;
	c.password = "wrong";
	c.nc = "00000002";
	assert_int_equal(check(d, 1001, answer(home, chal, &c)), DIGEST_BAD);
	c = good;
	c.user = "9999";
	assert_int_equal(check_as(d, 1001, answer(home, chal, &c), "9999"), DIGEST_BAD);
	c = good;
	c.realm = "other";
	assert_int_equal(check(d, 1001, answer(home, chal, &c)), DIGEST_NONE);
	assert_int_equal(check(d, 1001, NULL), DIGEST_NONE);
	free(d);
	su_home_deinit(home);
}

/* Replays: the same nc twice is refused, a higher one passes, a lower one not. */
static void test_nc_replay(void **state)
{
	(void)state;
	su_home_t home[1] = { SU_HOME_INIT(home) };
	struct digest *d = malloc(sizeof *d);
	char chal[256];
	digest_init(d, "callq");
	digest_challenge(d, 1000, false, chal, sizeof chal);
	msg_auth_t *au = answer(home, chal, &good);
	assert_int_equal(check(d, 1001, au), DIGEST_OK);
	assert_int_equal(check(d, 1002, au), DIGEST_STALE);
	assert_int_equal(check(d, 1003, au), DIGEST_STALE);
	struct creds c = good;
	c.nc = "00000003";
	assert_int_equal(check(d, 1004, answer(home, chal, &c)), DIGEST_OK);
	c.nc = "00000002";
	assert_int_equal(check(d, 1005, answer(home, chal, &c)), DIGEST_STALE);
	c.nc = "0000000g";
	assert_int_equal(check(d, 1005, answer(home, chal, &c)), DIGEST_REFUSED);
	free(d);
	su_home_deinit(home);
}

/* Credentials computed for another request, another user, or without qop. */
static void test_refused(void **state)
{
	(void)state;
	su_home_t home[1] = { SU_HOME_INIT(home) };
	struct digest *d = malloc(sizeof *d);
	char chal[256];
	digest_init(d, "callq");
	digest_challenge(d, 1000, false, chal, sizeof chal);
	struct creds c = good;
	c.uri = "sip:*50@127.0.0.1:5060";
	assert_int_equal(check(d, 1001, answer(home, chal, &c)), DIGEST_REFUSED);
	c.uri = "sip:127.0.0.1:5061";
	assert_int_equal(check(d, 1001, answer(home, chal, &c)), DIGEST_REFUSED);
	/* the same URI written differently is the same (url_cmp: default port) */
	c.uri = "sip:127.0.0.1:5060;transport=udp";
	assert_int_equal(check(d, 1001, answer(home, chal, &c)), DIGEST_OK);
	c = good;
	c.qop = false;
	assert_int_equal(check(d, 1001, answer(home, chal, &c)), DIGEST_REFUSED);
	assert_int_equal(check_as(d, 1001, answer(home, chal, &good), "1002"), DIGEST_REFUSED);
	free(d);
	su_home_deinit(home);
}

static void test_nonce_expiry_and_forgery(void **state)
{
	(void)state;
	su_home_t home[1] = { SU_HOME_INIT(home) };
	struct digest *d = malloc(sizeof *d), *other = malloc(sizeof *other);
	char chal[256];
	digest_init(d, "callq");
	digest_init(other, "callq");
	digest_challenge(d, 1000, false, chal, sizeof chal);
	msg_auth_t *au = answer(home, chal, &good);
	assert_int_equal(check(d, 1000 + DIGEST_NONCE_TTL + 1, au), DIGEST_STALE);
	/* A nonce made by another process (a restart: another secret) is stale, and
	 * so is one whose MAC was tampered with, even with a wrong password. */
	assert_int_equal(check(other, 1001, au), DIGEST_STALE);
	char forged[256];
	snprintf(forged, sizeof forged, "%s", chal);
	char *mac = strrchr(strstr(forged, "nonce=\""), '-') + 1;
	mac[0] = mac[0] == '0' ? '1' : '0';
	struct creds c = good;
	c.password = "guess";
	assert_int_equal(check(d, 1001, answer(home, forged, &c)), DIGEST_STALE);
	assert_int_equal(check(d, 1001, answer(home, "nonce=\"1-2-3\"", &c)), DIGEST_STALE);
	digest_challenge(d, 1000, true, chal, sizeof chal);
	assert_non_null(strstr(chal, "stale=true"));
	free(d);
	free(other);
	su_home_deinit(home);
}

/* The nc table is bounded; a nonce whose record was pushed out while fresh is
 * answered stale, never taken as new (that would allow a replay). */
static void test_table_bounded(void **state)
{
	(void)state;
	su_home_t home[1] = { SU_HOME_INIT(home) };
	struct digest *d = malloc(sizeof *d);
	char chal[256], first[256];
	digest_init(d, "callq");
	digest_challenge(d, 1000, false, first, sizeof first);
	msg_auth_t *au = answer(home, first, &good);
	assert_int_equal(check(d, 1000, au), DIGEST_OK);
	int64_t now = 1001;
	for (int i = 0; i < 4 * DIGEST_NC_SLOTS; i++) {
		now = 1001 + i / 64;
		digest_challenge(d, now, false, chal, sizeof chal);
		check(d, now, answer(home, chal, &good));
		if (i % 256 == 0) {
			su_home_deinit(home);
			su_home_init(home);
			au = NULL;
		}
	}
	assert_true(now - 1000 < DIGEST_NONCE_TTL);
	au = answer(home, first, &good);
	assert_int_equal(check(d, now, au), DIGEST_STALE);
	struct creds c = good;
	c.nc = "00000002";
	assert_int_equal(check(d, now, answer(home, first, &c)), DIGEST_STALE);
	/* a new nonce still works */
	digest_challenge(d, now + 1, false, chal, sizeof chal);
	assert_int_equal(check(d, now + 1, answer(home, chal, &good)), DIGEST_OK);
	free(d);
	su_home_deinit(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_and_bad),
		cmocka_unit_test(test_nc_replay),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_nonce_expiry_and_forgery),
		cmocka_unit_test(test_table_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
