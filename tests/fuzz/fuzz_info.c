/* fuzz_info.c — info_dtmf_digit on any SIP INFO body. The input is
 * "CONTENT-TYPE\nBODY" (no newline: the whole input is an application/
 * dtmf-relay body). The body is copied to an exact-size heap buffer, as
 * Sofia hands it over (not NUL-terminated), so ASan sees any over-read.
 * Checks: the digit is 0 or one of 0-9 * # A-D, and it is 0 for bodies of
 * INFO_BODY_MAX bytes or more. */
#include "sip/info.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what)
{
	fprintf(stderr, "fuzz_info: %s\n", what);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	char ctype[128] = "application/dtmf-relay";
	const uint8_t *body = data;
	size_t len = size;
	if (nl) {
		size_t n = (size_t)(nl - data);
		if (n >= sizeof ctype)
			n = sizeof ctype - 1;
		memcpy(ctype, data, n);
		ctype[n] = 0;
		body = nl + 1;
		len = size - (size_t)(nl + 1 - data);
	}
	char *copy = malloc(len ? len : 1);
	memcpy(copy, body, len);
	char digit = info_dtmf_digit(ctype, copy, len);
	if (digit && !strchr("0123456789*#ABCD", digit))
		die("not a DTMF digit");
	if (digit && len >= INFO_BODY_MAX)
		die("digit from an over-long body");
	free(copy);
	return 0;
}
