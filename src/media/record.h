/* record.h — call recording off the media thread.
 *
 * The media threads push one 20 ms frame per recording per tick into a single
 * bounded ring (producers take turns on a mutex, the one consumer takes no
 * lock); a writer thread drains it
 * into WAV files (8 kHz PCM16, mono or stereo) with libsndfile, header updated
 * after every write so a file stays readable if the process dies. When the ring
 * is full the frame is dropped and counted: the tick never waits for the disk.
 *
 * Life of a recording: rec_new on any thread; frames from the media thread with
 * rec_push; then exactly one of rec_finish (the writer closes the file, raises
 * MEV_RECORD_DONE and frees it) or rec_abort (never started: raises
 * MEV_RECORD_FAILED and frees it). A file that cannot be opened or written is
 * closed at once with MEV_RECORD_FAILED; rec_failed() then tells the media
 * thread to stop feeding it, and rec_finish frees it without a second event.
 */
#ifndef CALLQ_RECORD_H
#define CALLQ_RECORD_H

#include "media/media.h"

#include <stdbool.h>
#include <stdint.h>

#define RECORD_FRAME    160      /* samples per channel per frame */
#define RECORD_RING     4096     /* frames: about 80 ms for 1,000 recordings */
#define RECORD_MAX_S    3600     /* default and upper limit */

struct rec;
struct recorder;

typedef void record_emit_fn(void *arg, const struct media_event *ev);

/* Starts the writer thread; NULL if it cannot. */
struct recorder *recorder_new(record_emit_fn *emit, void *arg);
/* Waits for every finished recording to be closed; recordings still running
 * must have been finished before. */
void recorder_free(struct recorder *w);

/* channels 1 or 2; max_s 0 = RECORD_MAX_S. leg names the recording in events. */
struct rec *rec_new(struct recorder *w, uint32_t id, media_leg leg, const char *path,
                    unsigned channels, unsigned max_s);
uint32_t rec_id(const struct rec *r);
/* Media thread: one frame of RECORD_FRAME samples per channel, interleaved. */
void rec_push(struct recorder *w, struct rec *r, const int16_t *frame);
bool rec_full(const struct rec *r);         /* reached max_s */
bool rec_failed(const struct rec *r);
void rec_finish(struct recorder *w, struct rec *r);
void rec_abort(struct recorder *w, struct rec *r, const char *why);

#endif
