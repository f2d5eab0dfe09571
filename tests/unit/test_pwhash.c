/* test_pwhash.c — src/core/pwhash.c against published vectors: SHA-256 from
 * FIPS 180-4's examples, HMAC-SHA256 from RFC 4231 (RFC 2104's construction
 * with SHA-256), PBKDF2-HMAC-SHA256 from RFC 7914 section 11; then the stored
 * text format, salting and malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/pwhash.h"

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void assert_sha256(const void *data, size_t n, const char *want)
{
	uint8_t d[PWHASH_SHA256_LEN];
	char got[2 * PWHASH_SHA256_LEN + 1];
	pwhash_sha256(data, n, d);
	hex(d, sizeof d, got);
	assert_string_equal(got, want);
}

static void test_sha256_vectors(void **state)
{
	(void)state;
	assert_sha256("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_sha256("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	assert_sha256(two, strlen(two),
	              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* A million 'a' fed in uneven pieces: exercises block boundaries and a
 * length that needs the extra padding block's logic on the way. */
static void test_sha256_incremental(void **state)
{
	(void)state;
	static uint8_t chunk[997];
	struct pwhash_sha256 c;
	uint8_t d[PWHASH_SHA256_LEN];
	char got[2 * PWHASH_SHA256_LEN + 1];
	memset(chunk, 'a', sizeof chunk);
	pwhash_sha256_init(&c);
	for (size_t left = 1000000; left;) {
		size_t n = left < sizeof chunk ? left : sizeof chunk;
		pwhash_sha256_update(&c, chunk, n);
		left -= n;
	}
	pwhash_sha256_final(&c, d);
	hex(d, sizeof d, got);
	assert_string_equal(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* 55 and 56 bytes: the last length that fits one block, and the first that does not. */
	assert_sha256("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 55,
	              "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
	assert_sha256("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 56,
	              "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
}

static void assert_hmac(const void *key, size_t klen, const char *msg, const char *want)
{
	uint8_t d[PWHASH_SHA256_LEN];
	char got[2 * PWHASH_SHA256_LEN + 1];
	pwhash_hmac(key, klen, msg, strlen(msg), d);
	hex(d, sizeof d, got);
	assert_string_equal(got, want);
}

static void test_hmac_rfc4231(void **state)
{
	(void)state;
	uint8_t k1[20], k6[131];
	memset(k1, 0x0b, sizeof k1);
	memset(k6, 0xaa, sizeof k6);
	assert_hmac(k1, sizeof k1, "Hi There",
	            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	assert_hmac("Jefe", 4, "what do ya want for nothing?",
	            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* A key longer than the block is hashed first. */
	assert_hmac(k6, sizeof k6, "Test Using Larger Than Block-Size Key - Hash Key First",
	            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void assert_pbkdf2(const char *pw, const char *salt, unsigned iter, size_t len,
                          const char *want)
{
	uint8_t d[64];
	char got[129];
	pwhash_pbkdf2(pw, strlen(pw), salt, strlen(salt), iter, d, len);
	hex(d, len, got);
	assert_string_equal(got, want);
}

static void test_pbkdf2_vectors(void **state)
{
	(void)state;
	/* RFC 7914 section 11: two output blocks. */
	assert_pbkdf2("passwd", "salt", 1, 64,
	              "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
	              "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
	assert_pbkdf2("Password", "NaCl", 80000, 64,
	              "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
	              "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d");
	assert_pbkdf2("password", "salt", 4096, 32,
	              "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a");
	/* A length that is not a whole block. */
	assert_pbkdf2("password", "salt", 4096, 20, "c5e478d59288c841aa530db6845c4c8d962893a0");
}

static void test_stored_text(void **state)
{
	(void)state;
	uint8_t salt[PWHASH_SALT_LEN];
	char text[PWHASH_TEXT_MAX];
	for (int i = 0; i < PWHASH_SALT_LEN; i++)
		salt[i] = (uint8_t)i;
	assert_int_equal(pwhash_make_salted("secret1001", salt, 1000, text, sizeof text), 0);
	assert_string_equal(text, "pbkdf2-sha256$1000$000102030405060708090a0b0c0d0e0f$"
	                          "61e528df1f1fc8f63d6c4894007b27c3a477b6802931e375df17fb34cf396847");
	assert_true(pwhash_verify("secret1001", text));
	assert_false(pwhash_verify("secret1002", text));
	assert_false(pwhash_verify("", text));
	assert_int_equal(pwhash_make_salted("x", salt, 1000, text, 40), -1);   /* too small */
	assert_int_equal(pwhash_make_salted("x", salt, 0, text, sizeof text), -1);
}

static void test_make_salts_and_iterates(void **state)
{
	(void)state;
	char a[PWHASH_TEXT_MAX], b[PWHASH_TEXT_MAX], want[32];
	assert_int_equal(pwhash_make("pw", a, sizeof a), 0);
	assert_int_equal(pwhash_make("pw", b, sizeof b), 0);
	assert_string_not_equal(a, b);   /* fresh salt each time */
	snprintf(want, sizeof want, "pbkdf2-sha256$%u$", PWHASH_ITER);
	assert_memory_equal(a, want, strlen(want));
	assert_true(PWHASH_ITER >= 50000);
	assert_true(pwhash_verify("pw", a));
	assert_true(pwhash_verify("pw", b));
	assert_false(pwhash_verify("pW", a));
}

static void test_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"pbkdf2-sha256$",
		"pbkdf2-sha1$1$00$61e528df1f1fc8f63d6c4894007b27c3a477b6802931e375df17fb34cf396847",
		"pbkdf2-sha256$0$00$61e528df1f1fc8f63d6c4894007b27c3a477b6802931e375df17fb34cf396847",
		"pbkdf2-sha256$x$00$61e528df1f1fc8f63d6c4894007b27c3a477b6802931e375df17fb34cf396847",
		"pbkdf2-sha256$99999999999$00$61e528df1f1fc8f63d6c4894007b27c3a477b6802931e375df17fb34cf396847",
		"pbkdf2-sha256$1$$61e528df1f1fc8f63d6c4894007b27c3a477b6802931e375df17fb34cf396847",
		"pbkdf2-sha256$1$0g$61e528df1f1fc8f63d6c4894007b27c3a477b6802931e375df17fb34cf396847",
		"pbkdf2-sha256$1$000$61e528df1f1fc8f63d6c4894007b27c3a477b6802931e375df17fb34cf396847",
		"pbkdf2-sha256$1$00$61e528df",
		"pbkdf2-sha256$1$00",
		"4ad6182b63c4eca8c0c5a57298ff429a",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(pwhash_verify("secret1001", bad[i]));
	assert_false(pwhash_verify(NULL, "pbkdf2-sha256$1$00$00"));
	assert_false(pwhash_verify("x", NULL));
}

static void test_equal(void **state)
{
	(void)state;
	assert_true(pwhash_equal("abcd", "abcd", 4));
	assert_false(pwhash_equal("abcd", "abce", 4));
	assert_false(pwhash_equal("xbcd", "abcd", 4));
	assert_true(pwhash_equal("a", "b", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_sha256_incremental),
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_pbkdf2_vectors),
		cmocka_unit_test(test_stored_text),
		cmocka_unit_test(test_make_salts_and_iterates),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
