/* jitter.c — see jitter.h. */
#include "media/jitter.h"

#include <string.h>

#define JITTER_MASK  (JITTER_SAMPLES - 1)
#define JITTER_SLACK 2           /* frames above target before audio is dropped */

void jitter_reset(struct jitter *j)
{
	memset(j, 0, sizeof *j);
	j->target = JITTER_MIN;
}

static void jitter_restart(struct jitter *j, uint32_t ts)
{
	memset(j->have, 0, sizeof j->have);
	j->started = true;
	j->playing = false;
	j->waited = 0;
	j->read_ts = j->end_ts = ts;
	j->restarts++;
}

/* RFC 3550 A.8, in samples; the target covers about twice the jitter. */
static void jitter_estimate(struct jitter *j, uint32_t ts, uint32_t arrival_ts)
{
	int64_t transit = (int32_t)(arrival_ts - ts);
	if (j->have_transit) {
		int64_t d = transit - j->last_transit;
		if (d < 0)
			d = -d;
		j->jitter_q4 += d - (j->jitter_q4 + 8) / 16;
	}
	j->last_transit = transit;
	j->have_transit = true;
	unsigned t = 1 + (unsigned)((2 * j->jitter_q4 / 16 + JITTER_FRAME - 1) / JITTER_FRAME);
	j->target = t < JITTER_MIN ? JITTER_MIN : t > JITTER_MAX ? JITTER_MAX : t;
}

void jitter_put(struct jitter *j, uint32_t ts, const int16_t *pcm, unsigned n, uint32_t arrival_ts)
{
	if (!n || n > JITTER_SAMPLES / 2)
		return;
	int32_t off = (int32_t)(ts - j->read_ts);
	/* Idle and drained: the next talk spurt starts where it starts. */
	bool idle = j->started && !j->playing && j->end_ts == j->read_ts && off >= 0;
	if (!j->started || idle) {
		jitter_restart(j, ts);
		off = 0;
	}
	if (off < -(int32_t)JITTER_SAMPLES || off > JITTER_SAMPLES - (int32_t)n) {
		jitter_restart(j, ts);       /* a new stream, or back after a long gap */
		off = 0;
	}
	if (off + (int32_t)n <= 0) {
		j->late++;
		return;
	}
	jitter_estimate(j, ts, arrival_ts);
	unsigned skip = off < 0 ? (unsigned)-off : 0;
	for (unsigned i = skip; i < n; i++) {
		unsigned k = (ts + i) & JITTER_MASK;
		j->buf[k] = pcm[i];
		j->have[k] = 1;
	}
	if ((int32_t)(ts + n - j->end_ts) > 0)
		j->end_ts = ts + n;
}

static uint32_t jitter_depth(const struct jitter *j)
{
	int32_t d = (int32_t)(j->end_ts - j->read_ts);
	return d > 0 ? (uint32_t)d : 0;
}

bool jitter_get(struct jitter *j, int16_t *out)
{
	memset(out, 0, JITTER_FRAME * sizeof *out);
	/* Less than a frame is an underrun too: playing it would move the read
	 * position past the newest sample, and a stream that continues from there
	 * would come out half a frame late into every frame, half silent. */
	if (!j->started || jitter_depth(j) < JITTER_FRAME) {
		j->playing = false;
		return false;
	}
	if (!j->playing) {
		if (jitter_depth(j) < j->target * JITTER_FRAME && ++j->waited < j->target)
			return false;
		j->playing = true;
	}
	while (jitter_depth(j) > (j->target + JITTER_SLACK) * JITTER_FRAME) {
		for (unsigned i = 0; i < JITTER_FRAME; i++)
			j->have[(j->read_ts + i) & JITTER_MASK] = 0;
		j->read_ts += JITTER_FRAME;
	}
	for (unsigned i = 0; i < JITTER_FRAME; i++) {
		unsigned k = (j->read_ts + i) & JITTER_MASK;
		if (j->have[k])
			out[i] = j->buf[k];
		else
			j->lost_samples++;
		j->have[k] = 0;
	}
	j->read_ts += JITTER_FRAME;
	return true;
}
