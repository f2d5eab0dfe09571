/* Tests src/sip/digest.c: a correct response passes, wrong password, forged
 * or expired nonce and wrong realm do not. The client side is computed here
 * with Sofia's digest functions, as a phone would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/sip_header.h>

#include "sip/digest.h"

static const char *ha1_of(void *ctx, const char *user)
{
	static char ha1[33];
	(void)ctx;
	if (strcmp(user, "1001"))
		return NULL;
	digest_ha1("1001", "callq", "secret1001", ha1);
	return ha1;
}

/* Builds an Authorization header answering `challenge` with `password`. */
static msg_auth_t *answer(su_home_t *home, const char *challenge, const char *user,
                          const char *password, const char *realm)
{
	char nonce[64], ha1[33], hdr[512];
	const char *p = strstr(challenge, "nonce=\"") + 7;
	size_t n = (size_t)(strchr(p, '"') - p);
	memcpy(nonce, p, n);
	nonce[n] = 0;
	auth_response_t ar = { .ar_size = sizeof ar };
	ar.ar_username = user;
	ar.ar_realm = realm;
	ar.ar_nonce = nonce;
	ar.ar_uri = "sip:127.0.0.1";
	ar.ar_qop = "auth";
	ar.ar_auth = 1;
	ar.ar_cnonce = "abcdef";
	ar.ar_nc = "00000001";
	ar.ar_md5 = 1;
	auth_hexmd5_t resp;
	auth_digest_ha1(ha1, user, realm, password);
	auth_digest_response(&ar, resp, ha1, "REGISTER", NULL, 0);
	snprintf(hdr, sizeof hdr,
	         "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"sip:127.0.0.1\", "
	         "response=\"%s\", algorithm=MD5, qop=auth, cnonce=\"abcdef\", nc=00000001",
	         user, realm, nonce, resp);
	return (msg_auth_t *)sip_authorization_make(home, hdr);
}

static enum digest_result check(struct digest *d, int64_t now, msg_auth_t *au, char *user)
{
	return digest_verify(d, now, au, "REGISTER", ha1_of, NULL, user, 64);
}

static void test_good_and_bad(void **state)
{
	(void)state;
	su_home_t home[1] = { SU_HOME_INIT(home) };
	struct digest d;
	char chal[256], user[64];
	assert_int_equal(digest_init(&d, "callq"), 0);
	digest_challenge(&d, 1000, false, chal, sizeof chal);
	assert_non_null(strstr(chal, "realm=\"callq\""));
	assert_null(strstr(chal, "stale"));

	assert_int_equal(check(&d, 1001, answer(home, chal, "1001", "secret1001", "callq"), user),
	                 DIGEST_OK);
	assert_string_equal(user, "1001");
	assert_int_equal(check(&d, 1001, answer(home, chal, "1001", "wrong", "callq"), user),
	                 DIGEST_BAD);
	assert_int_equal(check(&d, 1001, answer(home, chal, "9999", "secret1001", "callq"), user),
	                 DIGEST_BAD);
	assert_int_equal(check(&d, 1001, answer(home, chal, "1001", "secret1001", "other"), user),
	                 DIGEST_NONE);
	assert_int_equal(check(&d, 1001, NULL, user), DIGEST_NONE);
	su_home_deinit(home);
}

static void test_nonce_expiry_and_forgery(void **state)
{
	(void)state;
	su_home_t home[1] = { SU_HOME_INIT(home) };
	struct digest d, other;
	char chal[256], user[64];
	digest_init(&d, "callq");
	digest_init(&other, "callq");
	digest_challenge(&d, 1000, false, chal, sizeof chal);
	msg_auth_t *au = answer(home, chal, "1001", "secret1001", "callq");
	assert_int_equal(check(&d, 1000 + DIGEST_NONCE_TTL + 1, au, user), DIGEST_STALE);
	/* A nonce made by another process (another secret) is not ours. */
	assert_int_equal(check(&other, 1001, au, user), DIGEST_BAD);
	digest_challenge(&d, 1000, true, chal, sizeof chal);
	assert_non_null(strstr(chal, "stale=true"));
	su_home_deinit(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_and_bad),
		cmocka_unit_test(test_nonce_expiry_and_forgery),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
