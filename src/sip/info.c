/* info.c — see info.h. */
#include "sip/info.h"

#include <string.h>
#include <strings.h>

char info_dtmf_digit(const char *content_type, const char *body, size_t len)
{
	char text[INFO_BODY_MAX];
	if (!content_type || !body || len >= sizeof text)
		return 0;
	memcpy(text, body, len);
	text[len] = 0;
	const char *p = text;
	if (!strcasecmp(content_type, "application/dtmf-relay")) {
		p = strcasestr(text, "signal=");
		if (!p)
			return 0;
		p += 7;
	} else if (strcasecmp(content_type, "application/dtmf")) {
		return 0;
	}
	while (*p == ' ')
		p++;
	return *p && strchr("0123456789*#ABCD", *p) ? *p : 0;
}
