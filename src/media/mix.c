/* mix.c — see mix.h. */
#include "media/mix.h"

#include <string.h>

void mix_sum(int16_t *out, const int16_t *const *in, unsigned n, size_t len)
{
	if (n == 0) {
		memset(out, 0, len * sizeof *out);
		return;
	}
	if (n == 1) {
		memcpy(out, in[0], len * sizeof *out);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		int32_t acc = 0;
		for (unsigned k = 0; k < n; k++)
			acc += in[k][i];
		out[i] = (int16_t)(acc > 32767 ? 32767 : acc < -32768 ? -32768 : acc);
	}
}
