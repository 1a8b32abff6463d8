/* One line per event on stderr: `2026-11-25T10:04:00.123Z level=info prog=collector event=listen addr=...`.
 * Thread-safe (one write(2) per line). Never log tokens, keys or comment text. */
#ifndef HEARKEN_LOG_H
#define HEARKEN_LOG_H

enum hk_log_level { HK_LOG_DEBUG, HK_LOG_INFO, HK_LOG_WARN, HK_LOG_ERROR };

void hk_log_init(const char *prog, int min_level);
/* Parses "debug|info|warn|error"; -1 if unknown. */
int hk_log_level_parse(const char *s);
/* fmt continues the line with key=value pairs, e.g. hk_log(HK_LOG_INFO, "listen", "addr=%s", a). */
void hk_log(int level, const char *event, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
