/* jitter.h — a small adaptive jitter buffer for legs whose audio is mixed or
 * recorded (a plain hold leg never needs one).
 *
 * Packets are placed by RTP timestamp into a ring of decoded samples, so
 * reordered packets land in order and duplicates overwrite themselves; a packet
 * older than what was already played is dropped as late. One 20 ms frame comes
 * out per tick once the buffer holds its target depth (or the first packet has
 * waited that long); missing samples come out as silence, and less than a
 * whole frame held is an underrun (silence; the part frame waits for the rest,
 * so the read position never passes the newest sample). The target depth
 * follows the RFC 3550 interarrival jitter estimate between JITTER_MIN and
 * JITTER_MAX frames; when more than two frames above it the oldest audio is
 * dropped to bring the delay back down. A timestamp far outside the window (a
 * new stream, a long silence) restarts the buffer.
 *
 * Pure: no I/O, no allocation; the caller owns the struct (about 6 KiB).
 */
#ifndef CALLQ_JITTER_H
#define CALLQ_JITTER_H

#include <stdbool.h>
#include <stdint.h>

#define JITTER_FRAME   160       /* samples per frame (20 ms at 8 kHz) */
#define JITTER_MIN     2         /* frames */
#define JITTER_MAX     6
#define JITTER_SAMPLES 2048      /* ring size, a power of two above JITTER_MAX + slack */

struct jitter {
	bool started, playing;
	uint32_t read_ts;            /* timestamp of the next sample to play */
	uint32_t end_ts;             /* one past the newest sample held */
	unsigned waited;             /* ticks spent buffering */
	unsigned target;             /* frames */
	int64_t jitter_q4;           /* RFC 3550 J, in samples, times 16 */
	int64_t last_transit;
	bool have_transit;
	uint64_t late, restarts, lost_samples;
	int16_t buf[JITTER_SAMPLES];
	uint8_t have[JITTER_SAMPLES];
};

void jitter_reset(struct jitter *j);
/* One packet of n decoded samples with RTP timestamp ts, arrived at arrival_ts
 * (local clock in 8 kHz units). */
void jitter_put(struct jitter *j, uint32_t ts, const int16_t *pcm, unsigned n, uint32_t arrival_ts);
/* Next JITTER_FRAME samples into out; false (and silence) while there is
 * nothing to play. */
bool jitter_get(struct jitter *j, int16_t *out);

#endif
