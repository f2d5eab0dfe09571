/* clips.h — every .wav under media_dir, decoded once into 8 kHz mono buffers.
 *
 * clips_load walks the folder recursively at start, reads each .wav with
 * libsndfile, mixes it down to mono, resamples it to 8 kHz if needed and keeps
 * three copies: linear, mu-law and A-law. Files that cannot be read are skipped
 * with one error naming them. Afterwards the set is immutable: lookups are
 * safe from any thread and never touch the disk.
 */
#ifndef CALLQ_CLIPS_H
#define CALLQ_CLIPS_H

#include <stddef.h>
#include <stdint.h>

#define CLIPS_RATE 8000

struct clip {
	char *name;          /* relative to media_dir: "music.wav", "en/5.wav" */
	size_t len;          /* samples */
	int16_t *lin;
	uint8_t *ulaw;
	uint8_t *alaw;
};

struct clips;

/* NULL with a message if media_dir cannot be read; unreadable files only log. */
struct clips *clips_load(const char *dir, char *err, size_t errlen);
const struct clip *clips_find(const struct clips *c, const char *name);
size_t clips_count(const struct clips *c);
void clips_free(struct clips *c);

/* Windowed-sinc resampling of n samples at rate `from` to CLIPS_RATE; returns
 * a malloc'd buffer and its length in *out_n, or NULL. */
int16_t *clips_resample(const int16_t *in, size_t n, unsigned from, size_t *out_n);

#endif
