/* clock.h — the two clocks callq reads.
 *
 * clock_mono_ms is the engine's clock: monotonic milliseconds, never stepped
 * by NTP or an operator, so timers and waits stay right across a clock change.
 * Every adapter that hands `now` to the engine reads this one. clock_wall_ms
 * is Unix time in milliseconds, for the journal and for what people read.
 */
#ifndef CALLQ_CLOCK_H
#define CALLQ_CLOCK_H

#include <stdint.h>

int64_t clock_mono_ms(void);
int64_t clock_wall_ms(void);

#endif
