/* fuzz_holdloop.c — the hold program: media_hold_valid (what queue.set hold=
 * calls) and holdloop_parse agree; a parsed program is walked with
 * holdloop_next/holdloop_expand (vars and the step budget from the input) and
 * every step is bounded and terminated; file names stay relative, .wav, no "..".
 *
 * Input: 8 bytes of vars/limits, then the spec (NUL-terminated copy). */
#include "media/holdloop.h"
#include "media/media.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what)
{
	fprintf(stderr, "fuzz_holdloop: %s\n", what);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 8 || size > 4096)
		return 0;
	struct holdloop_vars vars = {
		.known = data[0] & 1,
		.position = (unsigned)data[1] | (unsigned)data[2] << 8,
		.wait_s = (unsigned)data[3] | (unsigned)data[4] << 8 | (unsigned)data[5] << 16,
	};
	size_t max = data[6] % (HOLDLOOP_MAX_STEPS + 1);
	unsigned walk = data[7] % 80;
	char *spec = malloc(size - 8 + 1);
	memcpy(spec, data + 8, size - 8);
	spec[size - 8] = '\0';

	static struct holdloop p;
	char err[160], err2[160];
	err[0] = err2[0] = '\0';
	int rc = holdloop_parse(spec, &p, err, sizeof err);
	bool valid = media_hold_valid(spec, err2, sizeof err2);
	if (valid != (rc == 0) && !strstr(spec, "://"))
		die("media_hold_valid and holdloop_parse disagree");
	if (rc != 0) {
		if (!err[0] || !memchr(err, '\0', sizeof err))
			die("refusal without a reason");
		free(spec);
		return 0;
	}
	if (p.n == 0 || p.n > HOLDLOOP_MAX_ITEMS)
		die("item count out of range");
	for (unsigned i = 0; i < p.n; i++) {
		const struct holdloop_item *it = &p.item[i];
		if (it->kind == HOLDLOOP_PAUSE && (it->pause_s < 1 || it->pause_s > 600))
			die("pause out of range");
		if (it->kind == HOLDLOOP_FILE) {
			size_t l = strnlen(it->file, sizeof it->file);
			if (l == sizeof it->file || it->file[0] == '/' || strstr(it->file, "..") ||
			    l < 5 || strcmp(it->file + l - 4, ".wav"))
				die("unsafe or malformed file name accepted");
		}
	}
	bool tail = false;
	int item = -1;
	struct holdloop_step steps[HOLDLOOP_MAX_STEPS + 1];
	for (unsigned k = 0; k < walk; k++) {
		item = holdloop_next(&p, item, &tail);
		if (item < 0)
			break;
		if (item >= (int)p.n)
			die("holdloop_next out of range");
		memset(steps, 0x5a, sizeof steps);
		size_t n = holdloop_expand(&p.item[item], "en", &vars, steps, max);
		if (n > max)
			die("expand wrote more steps than allowed");
		if (steps[max].name[0] != 0x5a)
			die("expand wrote past max");
		for (size_t s = 0; s < n; s++)
			if (!memchr(steps[s].name, '\0', sizeof steps[s].name))
				die("step name not terminated");
	}
	struct holdloop_step num[HOLDLOOP_MAX_STEPS];
	if (holdloop_number(vars.position, "en", num, max) > max)
		die("number wrote more steps than allowed");
	free(spec);
	return 0;
}
