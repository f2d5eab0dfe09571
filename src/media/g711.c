/* g711.c — see g711.h. Encoding searches the segment by highest set bit (a
 * few shifts per sample); decoding whole buffers looks samples up in tables
 * built once from the same functions. */
#include "media/g711.h"

#include <pthread.h>

#define ULAW_BIAS 0x84
#define ULAW_CLIP 32635

static int g711_top_bit(unsigned v)
{
	return 31 - __builtin_clz(v);
}

uint8_t g711_lin2ulaw(int16_t x)
{
	int v = x;
	uint8_t sign = 0;
	if (v < 0) {
		v = -v;
		sign = 0x80;
	}
	if (v > ULAW_CLIP)
		v = ULAW_CLIP;
	v += ULAW_BIAS;
	int seg = g711_top_bit((unsigned)v) - 7;   /* bias puts the top bit at 7..14 */
	uint8_t mant = (uint8_t)((v >> (seg + 3)) & 0x0F);
	return (uint8_t)~(sign | (seg << 4) | mant);
}

int16_t g711_ulaw2lin(uint8_t u)
{
	u = (uint8_t)~u;
	int seg = (u >> 4) & 0x07;
	int mag = ((((u & 0x0F) << 3) + ULAW_BIAS) << seg) - ULAW_BIAS;
	return (int16_t)((u & 0x80) ? -mag : mag);
}

uint8_t g711_lin2alaw(int16_t x)
{
	int v = x;
	uint8_t mask = 0xD5;                       /* positive: sign bit set, even bits inverted */
	if (v < 0) {
		v = -v - 1;                            /* A-law is symmetric around -0.5 */
		mask = 0x55;
	}
	uint8_t code;
	if (v < 256) {
		code = (uint8_t)(v >> 4);
	} else {
		int seg = g711_top_bit((unsigned)v) - 7;
		code = (uint8_t)((seg << 4) | ((v >> (seg + 3)) & 0x0F));
	}
	return code ^ mask;
}

int16_t g711_alaw2lin(uint8_t a)
{
	a ^= 0x55;
	int seg = (a >> 4) & 0x07;
	int mant = a & 0x0F;
	int mag = seg ? ((mant << 4) + 0x108) << (seg - 1) : (mant << 4) + 8;
	return (int16_t)((a & 0x80) ? mag : -mag);
}

uint8_t g711_ulaw2alaw(uint8_t u)
{
	return g711_lin2alaw(g711_ulaw2lin(u));
}

uint8_t g711_alaw2ulaw(uint8_t a)
{
	return g711_lin2ulaw(g711_alaw2lin(a));
}

void g711_encode(int alaw, const int16_t *in, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = alaw ? g711_lin2alaw(in[i]) : g711_lin2ulaw(in[i]);
}

/* Decoding is a lookup: 256 entries per law, filled once from the functions
 * above (a relayed call that is recorded decodes every packet). */
static int16_t g711_lin_of[2][256];
static pthread_once_t g711_once = PTHREAD_ONCE_INIT;

static void g711_tables(void)
{
	for (unsigned i = 0; i < 256; i++) {
		g711_lin_of[0][i] = g711_ulaw2lin((uint8_t)i);
		g711_lin_of[1][i] = g711_alaw2lin((uint8_t)i);
	}
}

void g711_decode(int alaw, const uint8_t *in, int16_t *out, size_t n)
{
	pthread_once(&g711_once, g711_tables);
	const int16_t *t = g711_lin_of[alaw ? 1 : 0];
	for (size_t i = 0; i < n; i++)
		out[i] = t[in[i]];
}
