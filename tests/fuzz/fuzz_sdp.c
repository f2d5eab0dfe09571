/* fuzz_sdp.c — sdpneg_parse (Sofia's SDP parser plus our selection) on any
 * body, then the answer we would build from what it kept. Checks the output
 * contract: ncodecs in 0..2 and only 0/8, ip NUL-terminated, dtmf_pt a
 * payload type, err filled on failure; sdpneg_build never overflows. */
#include "sip/sdpneg.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/su_log.h>

static void die(const char *what)
{
	fprintf(stderr, "fuzz_sdp: %s\n", what);
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
	/* The SIP stack hands us exactly the body bytes, not NUL-terminated:
	 * copy into an exact-size heap buffer so ASan sees any over-read. */
	char *body = malloc(size ? size : 1);
	memcpy(body, data, size);
	struct sdpneg s;
	char err[128];
	err[0] = '\0';
	int rc = sdpneg_parse(body, size, &s, err, sizeof err);
	if (rc != 0) {
		if (rc != -1 || !err[0])
			die("failure without a reason");
		free(body);
		return 0;
	}
	if (s.ncodecs < 0 || s.ncodecs > SDPNEG_CODECS)
		die("ncodecs out of range");
	for (int i = 0; i < s.ncodecs; i++)
		if (s.codecs[i] != 0 && s.codecs[i] != 8)
			die("codec other than PCMU/PCMA");
	if (s.ncodecs == 2 && s.codecs[0] == s.codecs[1])
		die("codec listed twice");
	if (memchr(s.ip, '\0', sizeof s.ip) == NULL)
		die("ip not terminated");
	if (s.dtmf_pt < 0 || s.dtmf_pt > 127)
		die("dtmf_pt out of range");
	char ans[1024];
	size_t n = sdpneg_build(ans, sizeof ans, s.ip, s.port, s.codecs, s.ncodecs, s.dtmf_pt, 1,
	                        s.reply_dir);
	if (n >= sizeof ans)
		die("answer overflow");
	free(body);
	return 0;
}
