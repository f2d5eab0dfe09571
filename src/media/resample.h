/* resample.h — offline sample-rate conversion to the engine's 8 kHz.
 *
 * A Kaiser-windowed sinc, tabulated and linearly interpolated, with its cutoff
 * just under the lower Nyquist limit so tones above 4 kHz do not fold back into
 * the telephone band. Used at clip load and import only, never on the tick.
 * Pure: no I/O, no state, safe from any thread.
 */
#ifndef CALLQ_RESAMPLE_H
#define CALLQ_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#define RESAMPLE_RATE 8000

/* n samples at rate `from` (1000..384000) to RESAMPLE_RATE: a malloc'd buffer
 * and its length in *out_n, or NULL (out of memory, bad rate). */
int16_t *resample_to_8k(const int16_t *in, size_t n, unsigned from, size_t *out_n);

#endif
