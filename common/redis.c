/* Redis connection helpers (include/hearken/redis.h): URL parsing, connecting with connect AND
 * read/write timeouts, AUTH/SELECT, script loading and reconnect backoff. Holds no state;
 * each thread owns its own redisContext. */
#include "hearken/redis.h"
#include "hearken/err.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Digits only, value within lo..hi. */
static int parse_num(const char *s, size_t n, long lo, long hi, long *out)
{
    if (n == 0 || n > 9)
        return HK_ERR_INVALID;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return HK_ERR_INVALID;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi)
        return HK_ERR_INVALID;
    *out = v;
    return 0;
}

int hk_redis_url_parse(const char *url, struct hk_redis_url *out, char *err, size_t errlen)
{
    static const char scheme[] = "redis://";
    memset(out, 0, sizeof *out);
    out->port = 6379;
    if (!url || strncmp(url, scheme, sizeof scheme - 1) != 0) {
        set_err(err, errlen, "must start with redis://");
        return HK_ERR_INVALID;
    }
    const char *p = url + sizeof scheme - 1;
    const char *end = p + strlen(p);

    const char *at = memchr(p, '@', (size_t)(end - p));
    if (at) {
        /* userinfo: ":password" or "default:password" (ACL users other than default are not
         * supported by hiredis 0.14's AUTH with one argument) */
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon) {
            set_err(err, errlen, "credentials must be written :password@");
            return HK_ERR_INVALID;
        }
        size_t ulen = (size_t)(colon - p);
        if (ulen && !(ulen == 7 && memcmp(p, "default", 7) == 0)) {
            set_err(err, errlen, "only the default user is supported (write :password@)");
            return HK_ERR_INVALID;
        }
        size_t plen = (size_t)(at - colon - 1);
        if (plen == 0 || plen >= sizeof out->password) {
            set_err(err, errlen, "password must be 1 to %zu bytes", sizeof out->password - 1);
            return HK_ERR_INVALID;
        }
        memcpy(out->password, colon + 1, plen);
        p = at + 1;
    }

    const char *slash = memchr(p, '/', (size_t)(end - p));
    const char *hostport_end = slash ? slash : end;
    const char *host = p, *host_end, *port = NULL;
    if (*p == '[') { /* [::1]:6379 */
        const char *rb = memchr(p, ']', (size_t)(hostport_end - p));
        if (!rb) {
            set_err(err, errlen, "unclosed [ in host");
            return HK_ERR_INVALID;
        }
        host = p + 1;
        host_end = rb;
        if (rb + 1 < hostport_end) {
            if (rb[1] != ':') {
                set_err(err, errlen, "expected :port after ]");
                return HK_ERR_INVALID;
            }
            port = rb + 2;
        }
    } else {
        const char *colon = memchr(p, ':', (size_t)(hostport_end - p));
        host_end = colon ? colon : hostport_end;
        if (colon)
            port = colon + 1;
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0 || hlen >= sizeof out->host) {
        set_err(err, errlen, "host must be 1 to %zu characters", sizeof out->host - 1);
        return HK_ERR_INVALID;
    }
    memcpy(out->host, host, hlen);
    if (port) {
        long v;
        if (parse_num(port, (size_t)(hostport_end - port), 1, 65535, &v)) {
            set_err(err, errlen, "port must be from 1 to 65535");
            return HK_ERR_INVALID;
        }
        out->port = (int)v;
    }
    if (slash && slash + 1 < end) {
        long v;
        if (parse_num(slash + 1, (size_t)(end - slash - 1), 0, 100000, &v)) {
            set_err(err, errlen, "database must be a number from 0 to 100000");
            return HK_ERR_INVALID;
        }
        out->db = (int)v;
    }
    return 0;
}

/* Runs a command whose reply must be +OK; sets err from the reply otherwise. */
static int command_ok(redisContext *c, int argc, const char **argv, const size_t *lens,
                      const char *what, char *err, size_t errlen)
{
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    if (!r) {
        set_err(err, errlen, "%s: %s", what, c->errstr[0] ? c->errstr : "connection lost");
        return HK_ERR_UNAVAILABLE;
    }
    int rc = 0;
    if (r->type == REDIS_REPLY_ERROR) {
        set_err(err, errlen, "%s: %.100s", what, r->str);
        rc = HK_ERR_AUTH;
    }
    freeReplyObject(r);
    return rc;
}

redisContext *hk_redis_connect(const struct hk_redis_url *u, int timeout_ms, char *err,
                               size_t errlen)
{
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(u->host, u->port, tv);
    if (!c) {
        set_err(err, errlen, "connect %s:%d: out of memory", u->host, u->port);
        return NULL;
    }
    if (c->err) {
        set_err(err, errlen, "connect %s:%d: %s", u->host, u->port, c->errstr);
        goto out_free_ctx;
    }
    /* The connect timeout does not cover reads: without this a hung server blocks forever. */
    if (redisSetTimeout(c, tv) != REDIS_OK) {
        set_err(err, errlen, "set timeout: %s", c->errstr);
        goto out_free_ctx;
    }
    redisEnableKeepAlive(c);
    if (u->password[0]) {
        const char *argv[] = {"AUTH", u->password};
        size_t lens[] = {4, strlen(u->password)};
        if (command_ok(c, 2, argv, lens, "AUTH", err, errlen))
            goto out_free_ctx;
    }
    if (u->db) {
        char db[16];
        int n = snprintf(db, sizeof db, "%d", u->db);
        const char *argv[] = {"SELECT", db};
        size_t lens[] = {6, (size_t)n};
        if (command_ok(c, 2, argv, lens, "SELECT", err, errlen))
            goto out_free_ctx;
    }
    return c;

out_free_ctx:
    redisFree(c);
    return NULL;
}

int hk_redis_script_load(redisContext *c, const char *script, char sha[41])
{
    const char *argv[] = {"SCRIPT", "LOAD", script};
    size_t lens[] = {6, 4, strlen(script)};
    redisReply *r = redisCommandArgv(c, 3, argv, lens);
    if (!r)
        return HK_ERR_UNAVAILABLE;
    int rc = 0;
    if (r->type == REDIS_REPLY_STRING && r->len == 40) {
        memcpy(sha, r->str, 40);
        sha[40] = '\0';
    } else {
        rc = r->type == REDIS_REPLY_ERROR ? HK_ERR_INVALID : HK_ERR_UNAVAILABLE;
    }
    freeReplyObject(r);
    return rc;
}

/* Per-thread xorshift: jitter needs no quality, only that threads do not share state. */
static uint32_t jitter_next(void)
{
    static _Thread_local uint32_t state;
    if (!state) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        state = (uint32_t)ts.tv_nsec ^ (uint32_t)(uintptr_t)&state ^ 0x9e3779b9u;
        if (!state)
            state = 1;
    }
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

int hk_backoff_ms(int attempt, int base_ms, int max_ms)
{
    if (base_ms < 1)
        base_ms = 1;
    if (max_ms < base_ms)
        max_ms = base_ms;
    if (attempt < 0)
        attempt = 0;
    long long d = base_ms;
    for (int i = 0; i < attempt && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    /* "equal jitter": half fixed, half random, so retries spread without collapsing to 0 */
    long long half = d / 2;
    return (int)(half + (half > 0 ? (long long)(jitter_next() % (uint32_t)(half + 1)) : 0));
}
