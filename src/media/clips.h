/* clips.h — every .wav under media_dir, decoded into 8 kHz mono buffers.
 *
 * clips_load walks the folder recursively at start, reads each .wav with
 * libsndfile, mixes it down to mono, resamples it to 8 kHz if needed and keeps
 * three copies: linear, mu-law and A-law. Files that cannot be read are skipped
 * with one error naming them.
 *
 * One clip can be replaced at runtime (clips_reload) while legs still play the
 * old one: clips are reference counted. The table holds one reference; each
 * clips_get takes another, dropped with clips_put; the last drop frees it. The
 * table has its own lock, so any thread may get, put or reload; only
 * clips_reload touches the disk.
 */
#ifndef CALLQ_CLIPS_H
#define CALLQ_CLIPS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLIPS_RATE 8000

struct clip {
	char *name;          /* relative to media_dir: "music.wav", "en/5.wav" */
	size_t len;          /* samples */
	int16_t *lin;
	uint8_t *ulaw;
	uint8_t *alaw;
	atomic_uint refs;
};

struct clips;

/* NULL with a message if media_dir cannot be read; unreadable files only log. */
struct clips *clips_load(const char *dir, char *err, size_t errlen);
/* The clip named `name` with a reference taken, or NULL. */
struct clip *clips_get(struct clips *c, const char *name);
void clips_put(struct clip *k);
/* Reads media_dir/rel again and swaps it in; a file that is gone is removed.
 * -1 with a message if rel is not a valid clip name or the file is unreadable
 * (the old clip then stays). */
int clips_reload(struct clips *c, const char *rel, char *err, size_t errlen);
size_t clips_count(struct clips *c);
/* Drops the table's references; clips still held elsewhere live on. */
void clips_free(struct clips *c);

#endif
