/* log.h — one line per message on stderr: time, level, subsystem, text.
 *
 * Safe from any thread (one write(2) per line). Not for hot paths: the media
 * tick and per-packet code never log per packet; they count and report.
 */
#ifndef CALLQ_LOG_H
#define CALLQ_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level lvl);
int log_level_parse(const char *s, enum log_level *out);   /* "error".."debug"; 0 or -1 */
void log_msg(enum log_level lvl, const char *sub, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(sub, ...) log_msg(LOG_ERROR, sub, __VA_ARGS__)
#define log_warn(sub, ...)  log_msg(LOG_WARN, sub, __VA_ARGS__)
#define log_info(sub, ...)  log_msg(LOG_INFO, sub, __VA_ARGS__)
#define log_debug(sub, ...) log_msg(LOG_DEBUG, sub, __VA_ARGS__)

#endif
