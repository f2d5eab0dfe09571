/* g711.h — ITU-T G.711 mu-law and A-law, written from the recommendation.
 *
 * Contract: pure functions, no state, safe from any thread. Linear samples
 * are signed 16-bit; mu-law uses the 14-bit range (clipped at ±32635),
 * A-law the 13-bit range. Silence is 0xFF (mu-law) and 0xD5 (A-law).
 */
#ifndef CALLQ_G711_H
#define CALLQ_G711_H

#include <stddef.h>
#include <stdint.h>

#define G711_ULAW_SILENCE 0xFF
#define G711_ALAW_SILENCE 0xD5

uint8_t g711_lin2ulaw(int16_t x);
int16_t g711_ulaw2lin(uint8_t u);
uint8_t g711_lin2alaw(int16_t x);
int16_t g711_alaw2lin(uint8_t a);
uint8_t g711_ulaw2alaw(uint8_t u);
uint8_t g711_alaw2ulaw(uint8_t a);

/* Whole buffers; `alaw` selects A-law, else mu-law. */
void g711_encode(int alaw, const int16_t *in, uint8_t *out, size_t n);
void g711_decode(int alaw, const uint8_t *in, int16_t *out, size_t n);

#endif
