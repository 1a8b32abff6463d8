/* One log line per event on stderr, built in a stack buffer and written with a single
 * write(2) so lines from different threads never interleave. Callers never pass keys,
 * tokens or comment text; this file does not try to guess what is secret. */
#include "hearken/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Set once by hk_log_init before threads start; read by every thread afterwards. */
static char log_prog[32] = "hearken";
static _Atomic int log_min_level = HK_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void hk_log_init(const char *prog, int min_level)
{
    if (prog)
        snprintf(log_prog, sizeof log_prog, "%s", prog);
    if (min_level < HK_LOG_DEBUG)
        min_level = HK_LOG_DEBUG;
    if (min_level > HK_LOG_ERROR)
        min_level = HK_LOG_ERROR;
    atomic_store(&log_min_level, min_level);
}

int hk_log_level_parse(const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return i;
    if (strcasecmp(s, "warning") == 0)
        return HK_LOG_WARN;
    return -1;
}

void hk_log(int level, const char *event, const char *fmt, ...)
{
    if (level < atomic_load(&log_min_level))
        return;
    if (level < HK_LOG_DEBUG || level > HK_LOG_ERROR)
        level = HK_LOG_ERROR;

    char line[1024];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line,
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s prog=%s event=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000L, level_names[level], log_prog, event ? event : "-");
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (fmt && *fmt && len < sizeof line - 2) {
        line[len++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + len, sizeof line - len, fmt, ap);
        va_end(ap);
        if (m > 0)
            len += (size_t)m < sizeof line - len ? (size_t)m : sizeof line - len - 1;
    }
    /* One event, one line: a newline inside a value would forge a second event. */
    for (size_t i = 0; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    if (len >= sizeof line - 1)
        len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
