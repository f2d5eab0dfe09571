/* holdloop.h — the hold program: parse a queue's hold spec, walk it, and
 * expand each item into the clips and silences it plays.
 *
 * Spec: comma-separated items, at least one:
 *   position        "you are caller number" + N
 *   wait            "your estimated wait time is" + less than a minute | about N minute(s)
 *   pause:SECONDS   silence, 1..600 s
 *   file:NAME       a .wav under media_dir ([A-Za-z0-9_./-], relative, no "..")
 *   callback        "press K to be called back, you keep your place", only while
 *                   the adapter says a callback may be offered (vars.callback_key)
 *   repeat          last item only: start over. Without it the program ends by
 *                   playing its last file item over and over (silence if none).
 *
 * Pure: no I/O, no allocation, no clips — names come out as strings
 * ("en/5.wav") for the caller to look up.
 */
#ifndef CALLQ_HOLDLOOP_H
#define CALLQ_HOLDLOOP_H

#include <stdbool.h>
#include <stddef.h>

#define HOLDLOOP_MAX_ITEMS 32
#define HOLDLOOP_NAME_MAX  96    /* bytes, with the NUL */
#define HOLDLOOP_MAX_STEPS 10    /* enough for the longest sentence ("wait") */
#define HOLDLOOP_GAP_MS    200   /* silence after a spoken sentence */

enum holdloop_kind { HOLDLOOP_POSITION, HOLDLOOP_WAIT, HOLDLOOP_PAUSE, HOLDLOOP_FILE,
                     HOLDLOOP_CALLBACK };

struct holdloop_item {
	enum holdloop_kind kind;
	unsigned pause_s;
	char file[HOLDLOOP_NAME_MAX];
};

struct holdloop {
	unsigned n;
	bool repeat;
	struct holdloop_item item[HOLDLOOP_MAX_ITEMS];
};

/* Values spoken by `position` and `wait`; until `known`, both say nothing. */
struct holdloop_vars {
	bool known;
	unsigned position;
	unsigned wait_s;
	char callback_key;          /* the key offering a callback now, or 0: say nothing */
};

/* One thing to play: a clip by name, or silence when name is empty. */
struct holdloop_step {
	char name[HOLDLOOP_NAME_MAX];
	unsigned silence_ms;
};

/* 0 and *out filled, or -1 with a message naming the offending item. */
int holdloop_parse(const char *spec, struct holdloop *out, char *err, size_t errlen);

/* The item after item i (-1 = before the start), or -1 for silence forever.
 * *tail is set once the program ran out without `repeat`; from then on the
 * last file item is returned again and again. */
int holdloop_next(const struct holdloop *p, int i, bool *tail);

/* The steps of one item, in `lang`; returns how many were written (<= max). */
size_t holdloop_expand(const struct holdloop_item *it, const char *lang,
                       const struct holdloop_vars *v, struct holdloop_step *out, size_t max);

/* Clip names that speak n (0..999, larger says 999): 345 -> 3, hundred, 40, 5. */
size_t holdloop_number(unsigned n, const char *lang, struct holdloop_step *out, size_t max);

#endif
