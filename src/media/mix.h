/* mix.h — the N-party mixer of bridges, listen, whisper and barge: 16-bit
 * linear frames summed with saturation. Each leg hears the sum of the legs it
 * is routed to, never itself, so every listener gets its own mix.
 * Pure: no I/O, no allocation, safe from any thread.
 */
#ifndef CALLQ_MIX_H
#define CALLQ_MIX_H

#include <stddef.h>
#include <stdint.h>

#define MIX_MAX 4                /* sources one leg can hear */

/* out = saturated sum of the n frames in (n may be 0: silence). */
void mix_sum(int16_t *out, const int16_t *const *in, unsigned n, size_t len);

#endif
