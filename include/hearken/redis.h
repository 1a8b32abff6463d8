/* Redis connection helpers shared by both programs (hiredis 0.14: one context per thread).
 * Every context gets a read/write timeout (redisSetTimeout), since the connect timeout does
 * not cover reads. A context is dead after any I/O or protocol error: destroy it and
 * reconnect with hk_backoff. Untrusted bytes go through redisCommandArgv only. */
#ifndef HEARKEN_REDIS_H
#define HEARKEN_REDIS_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

struct hk_redis_url {
    char host[256];
    int port;
    int db;
    char password[256]; /* empty: no AUTH */
};

/* redis://[:password@]host:port[/db]; returns 0 or HK_ERR_INVALID with a message. */
int hk_redis_url_parse(const char *url, struct hk_redis_url *out, char *err, size_t errlen);

/* Connects, sets timeouts, AUTH and SELECT. NULL on failure with the reason in err. */
redisContext *hk_redis_connect(const struct hk_redis_url *u, int timeout_ms, char *err,
                               size_t errlen);

/* Loads a Lua script with SCRIPT LOAD; writes its 40-hex sha (+NUL) into sha. */
int hk_redis_script_load(redisContext *c, const char *script, char sha[41]);

/* Exponential backoff with jitter: base*2^attempt capped at max_ms. */
int hk_backoff_ms(int attempt, int base_ms, int max_ms);

#endif
