/* info.h — DTMF by SIP INFO, for phones that do not send RFC 4733.
 *
 * Bodies: application/dtmf-relay ("Signal=5\r\nDuration=160") or
 * application/dtmf ("5"). The body is the peer's bytes, any length, not
 * NUL-terminated; anything else (other types, bodies of INFO_BODY_MAX bytes
 * or more, no digit) yields no digit.
 */
#ifndef CALLQ_INFO_H
#define CALLQ_INFO_H

#include <stddef.h>

#define INFO_BODY_MAX 128

/* The digit ('0'-'9', '*', '#', 'A'-'D') an INFO body carries, or 0. */
char info_dtmf_digit(const char *content_type, const char *body, size_t len);

#endif
