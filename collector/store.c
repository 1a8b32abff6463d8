/* The collector's Redis side: one hiredis context per libmicrohttpd thread (thread-local,
 * freed at thread exit), reconnect with backoff that never blocks a request for long, and the
 * atomic ingest scripts (dedupe + backlog check + XADD in one step, SPEC section 4): one survey
 * a call, or n a call for the writer's group commit (writer.c). */
#include "col.h"

#include "hearken/err.h"
#include "hearken/log.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* KEYS[1] stream, KEYS[2] dedupe key (PREFIX "iid:" interaction_id)
 * ARGV[1] canonical survey JSON, ARGV[2] max backlog (0: none), ARGV[3] consumer group
 * Returns {"ok", new id} | {"dup", existing id} | {"busy", backlog}.
 * Backlog = the group's lag (entries never delivered) + pending (delivered, not acked); when
 * Redis cannot tell the lag (nil after deletions) or the group is missing, the stream length
 * stands in, which errs toward refusing. */
static const char ingest_lua[] =
    "local existing = redis.call('GET', KEYS[2])\n"
    "if existing then return {'dup', existing} end\n"
    "local limit = tonumber(ARGV[2])\n"
    "if limit and limit > 0 then\n"
    "  local backlog = 0\n"
    "  local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', KEYS[1])\n"
    "  if ok then\n"
    "    local found = false\n"
    "    for _, g in ipairs(groups) do\n"
    "      local f = {}\n"
    "      for i = 1, #g, 2 do f[g[i]] = g[i + 1] end\n"
    "      if f['name'] == ARGV[3] then\n"
    "        found = true\n"
    "        local lag = f['lag']\n"
    "        if type(lag) ~= 'number' then lag = redis.call('XLEN', KEYS[1]) end\n"
    "        backlog = lag + (tonumber(f['pending']) or 0)\n"
    "      end\n"
    "    end\n"
    "    if not found then backlog = redis.call('XLEN', KEYS[1]) end\n"
    "  end\n"
    "  if backlog >= limit then return {'busy', tostring(backlog)} end\n"
    "end\n"
    "local id = redis.call('XADD', KEYS[1], '*', 'survey', ARGV[1])\n"
    "redis.call('SET', KEYS[2], id)\n"
    "return {'ok', id}\n";

/* The same steps for n surveys in one call, so the writer's group commit costs one round trip
 * and, with appendfsync always, one fsync. KEYS[1] stream, KEYS[1 + i] survey i's dedupe key;
 * ARGV[1] max backlog, ARGV[2] group, ARGV[2 + i] survey i's JSON. Returns {status1, id1,
 * status2, id2, ...}. Each survey is deduped and appended in turn, so two of one interaction
 * in the same call give ok then dup; the backlog is read once, at the first survey that needs
 * it, and grows by one per append (no analyzer reads while a script runs). */
static const char ingest_many_lua[] =
    "local function backlog_now()\n"
    "  local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', KEYS[1])\n"
    "  if not ok then return 0 end\n"
    "  for _, g in ipairs(groups) do\n"
    "    local f = {}\n"
    "    for i = 1, #g, 2 do f[g[i]] = g[i + 1] end\n"
    "    if f['name'] == ARGV[2] then\n"
    "      local lag = f['lag']\n"
    "      if type(lag) ~= 'number' then lag = redis.call('XLEN', KEYS[1]) end\n"
    "      return lag + (tonumber(f['pending']) or 0)\n"
    "    end\n"
    "  end\n"
    "  return redis.call('XLEN', KEYS[1])\n"
    "end\n"
    "local limit = tonumber(ARGV[1])\n"
    "local check = limit and limit > 0\n"
    "local backlog = nil\n"
    "local out = {}\n"
    "for i = 2, #KEYS do\n"
    "  local existing = redis.call('GET', KEYS[i])\n"
    "  if existing then\n"
    "    out[#out + 1] = 'dup'\n"
    "    out[#out + 1] = existing\n"
    "  else\n"
    "    if check and backlog == nil then backlog = backlog_now() end\n"
    "    if check and backlog >= limit then\n"
    "      out[#out + 1] = 'busy'\n"
    "      out[#out + 1] = tostring(backlog)\n"
    "    else\n"
    "      local id = redis.call('XADD', KEYS[1], '*', 'survey', ARGV[i + 1])\n"
    "      redis.call('SET', KEYS[i], id)\n"
    "      out[#out + 1] = 'ok'\n"
    "      out[#out + 1] = id\n"
    "      if backlog then backlog = backlog + 1 end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return out\n";

#define BACKOFF_BASE_MS        100
#define BACKOFF_MAX_MS         5000
#define CONNECT_TIMEOUT_MAX_MS 1000

struct store {
    redisContext *c;
    char sha[41];
    char sha_many[41];
    int attempt;          /* failed connects in a row */
    uint64_t next_try_ns; /* no connect before this, while Redis is down */
};

static pthread_key_t store_key;
static pthread_once_t store_once = PTHREAD_ONCE_INIT;

static void store_destroy(void *p)
{
    struct store *s = p;
    if (s && s->c)
        redisFree(s->c);
    free(s);
}

static void store_key_create(void)
{
    pthread_key_create(&store_key, store_destroy);
}

void col_store_global_init(void)
{
    pthread_once(&store_once, store_key_create);
}

static struct store *store_get(void)
{
    col_store_global_init();
    struct store *s = pthread_getspecific(store_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (s && pthread_setspecific(store_key, s)) {
            free(s);
            s = NULL;
        }
    }
    return s;
}

void col_store_thread_close(void)
{
    struct store *s = store_get();
    if (s && s->c) {
        redisFree(s->c);
        s->c = NULL;
    }
}

static void store_drop(struct store *s, const char *why)
{
    hk_log(HK_LOG_WARN, "redis_lost", "reason=\"%.100s\"", why);
    /* A read that timed out means a hung server (SIGSTOP, swap, a long script): trying again
     * at once would block this thread's requests for another timeout, so back off. Otherwise
     * the next request may try once at once: a restart is quick. */
    bool hung = s->c->err == REDIS_ERR_IO && strcmp(s->c->errstr, strerror(EAGAIN)) == 0;
    redisFree(s->c);
    s->c = NULL;
    s->attempt = hung ? 1 : 0;
    s->next_try_ns =
        hung ? col_now_ns() + (uint64_t)hk_backoff_ms(0, BACKOFF_BASE_MS, BACKOFF_MAX_MS) * 1000000u
             : 0;
    col_metrics_count(COL_CNT_REDIS_ERRORS);
}

/* Between requests the server should have sent nothing: a readable socket means it closed
 * (restart, idle timeout) — find out now, not after sending a survey into a dead socket. */
static bool store_stale(redisContext *c)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    return poll(&p, 1, 0) != 0;
}

int col_store_prepare(const struct col_app *app, redisContext *c, char sha[41])
{
    const char *argv[] = {"XGROUP", "CREATE", app->stream_key, COL_GROUP, "0", "MKSTREAM"};
    size_t lens[] = {6, 6, strlen(app->stream_key), strlen(COL_GROUP), 1, 8};
    redisReply *r = redisCommandArgv(c, 6, argv, lens);
    if (!r)
        return HK_ERR_UNAVAILABLE;
    int rc = 0;
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0) {
        hk_log(HK_LOG_ERROR, "redis_group", "stream=%s error=\"%.100s\"", app->stream_key, r->str);
        rc = HK_ERR_UNAVAILABLE;
    }
    freeReplyObject(r);
    if (rc)
        return rc;
    return hk_redis_script_load(c, ingest_lua, sha) ? HK_ERR_UNAVAILABLE : 0;
}

static redisContext *store_connect(const struct col_app *app, struct store *s)
{
    if (s->c) {
        if (!store_stale(s->c))
            return s->c;
        store_drop(s, "connection closed by server");
    }
    uint64_t now = col_now_ns();
    if (now < s->next_try_ns)
        return NULL;
    char err[160];
    int timeout = (int)app->cfg.redis_timeout_ms;
    /* connect and prepare quickly or not at all (a hung server accepts connections but never
     * answers: each attempt must cost little); requests get the full timeout */
    redisContext *c = hk_redis_connect(
        &app->redis, timeout < CONNECT_TIMEOUT_MAX_MS ? timeout : CONNECT_TIMEOUT_MAX_MS, err,
        sizeof err);
    if (c && (col_store_prepare(app, c, s->sha) ||
              hk_redis_script_load(c, ingest_many_lua, s->sha_many))) {
        snprintf(err, sizeof err, "prepare: %s", c->err ? c->errstr : "script or group failed");
        redisFree(c);
        c = NULL;
    }
    if (c && timeout > CONNECT_TIMEOUT_MAX_MS) {
        struct timeval tv = {.tv_sec = timeout / 1000, .tv_usec = (timeout % 1000) * 1000};
        redisSetTimeout(c, tv);
    }
    if (!c) {
        int wait = hk_backoff_ms(s->attempt, BACKOFF_BASE_MS, BACKOFF_MAX_MS);
        if (s->attempt < 30)
            s->attempt++;
        s->next_try_ns = now + (uint64_t)wait * 1000000u;
        col_metrics_count(COL_CNT_REDIS_CONNECT_FAILURES);
        /* the first failure is news; the retries that follow are debug noise */
        hk_log(s->attempt == 1 ? HK_LOG_WARN : HK_LOG_DEBUG, "redis_connect_failed",
               "host=%s port=%d retry_ms=%d reason=\"%.100s\"", app->redis.host, app->redis.port,
               wait, err);
        return NULL;
    }
    if (s->attempt > 0)
        hk_log(HK_LOG_INFO, "redis_connected", "host=%s port=%d after_attempts=%d", app->redis.host,
               app->redis.port, s->attempt);
    s->attempt = 0;
    s->c = c;
    col_metrics_count(COL_CNT_REDIS_CONNECTS);
    return c;
}

redisContext *col_store_context(const struct col_app *app)
{
    struct store *s = store_get();
    return s ? store_connect(app, s) : NULL;
}

void col_store_check(redisContext *c)
{
    struct store *s = store_get();
    if (s && s->c == c && c && c->err) {
        char why[128];
        snprintf(why, sizeof why, "%s", c->errstr);
        store_drop(s, why);
    }
}

/* Runs the ingest script, EVALSHA first, EVAL when the server lost its script cache. */
static redisReply *run_ingest(struct store *s, const struct col_app *app, const char *iid,
                              const char *json, size_t len)
{
    char key[COL_PREFIX_MAX + 8 + HK_ID_MAX + 1];
    int klen = snprintf(key, sizeof key, "%siid:%s", app->prefix, iid);
    char backlog[24];
    int blen = snprintf(backlog, sizeof backlog, "%lld", app->cfg.max_backlog);
    const char *argv[] = {"EVALSHA", s->sha, "2", app->stream_key, key, json, backlog, COL_GROUP};
    size_t lens[] = {
        7, 40, 1, strlen(app->stream_key), (size_t)klen, len, (size_t)blen, strlen(COL_GROUP)};
    redisReply *r = redisCommandArgv(s->c, 8, argv, lens);
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(r);
        argv[0] = "EVAL";
        lens[0] = 4;
        argv[1] = ingest_lua;
        lens[1] = sizeof ingest_lua - 1;
        r = redisCommandArgv(s->c, 8, argv, lens);
    }
    return r;
}

int col_store_ingest(const struct col_app *app, const char *iid, const char *json, size_t len,
                     struct col_ingest_result *out)
{
    struct store *s = store_get();
    if (!s || !store_connect(app, s))
        return HK_ERR_UNAVAILABLE;
    redisReply *r = run_ingest(s, app, iid, json, len);
    if (!r) {
        char why[128];
        snprintf(why, sizeof why, "%s", s->c->errstr);
        store_drop(s, why);
        return HK_ERR_UNAVAILABLE;
    }
    int rc = HK_ERR_UNAVAILABLE;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING) {
        const char *status = r->element[0]->str;
        snprintf(out->id, sizeof out->id, "%s", r->element[1]->str);
        if (strcmp(status, "ok") == 0)
            rc = 0;
        else if (strcmp(status, "dup") == 0)
            rc = HK_ERR_DUPLICATE;
        else if (strcmp(status, "busy") == 0)
            rc = HK_ERR_BUSY;
    } else {
        /* OOM under maxmemory noeviction, READONLY replica, ...: Redis refuses the work */
        hk_log(HK_LOG_ERROR, "redis_ingest_error", "reply_type=%d error=\"%.100s\"", r->type,
               r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        col_metrics_count(COL_CNT_REDIS_ERRORS);
    }
    freeReplyObject(r);
    return rc;
}

/* One survey's {status, id} pair of the batch script's reply → its rc. */
static int item_result(const redisReply *st, const redisReply *id, struct col_store_item *it)
{
    if (st->type != REDIS_REPLY_STRING || id->type != REDIS_REPLY_STRING)
        return HK_ERR_UNAVAILABLE;
    snprintf(it->res.id, sizeof it->res.id, "%s", id->str);
    if (strcmp(st->str, "ok") == 0)
        return 0;
    if (strcmp(st->str, "dup") == 0)
        return HK_ERR_DUPLICATE;
    if (strcmp(st->str, "busy") == 0)
        return HK_ERR_BUSY;
    return HK_ERR_UNAVAILABLE;
}

#define DEDUPE_KEY_MAX (COL_PREFIX_MAX + 8 + HK_ID_MAX + 1)

int col_store_ingest_many(const struct col_app *app, struct col_store_item *items, size_t n)
{
    struct store *s = store_get();
    int rc = HK_ERR_UNAVAILABLE;
    size_t argc = 2 * n + 6; /* EVALSHA sha numkeys stream keys… backlog group jsons… */
    const char **argv = malloc(argc * sizeof *argv);
    size_t *lens = malloc(argc * sizeof *lens);
    char(*keys)[DEDUPE_KEY_MAX] = malloc(n * sizeof *keys);
    redisReply *r = NULL;
    for (size_t i = 0; i < n; i++)
        items[i].rc = HK_ERR_UNAVAILABLE;
    if (!argv || !lens || !keys) {
        rc = HK_ERR_NOMEM;
        goto out_free;
    }
    if (n == 0 || !s || !store_connect(app, s))
        goto out_free;

    char count[24], backlog[24];
    int clen = snprintf(count, sizeof count, "%zu", n + 1);
    int blen = snprintf(backlog, sizeof backlog, "%lld", app->cfg.max_backlog);
    size_t plen = strlen(app->prefix);
    argv[0] = "EVALSHA";
    lens[0] = 7;
    argv[1] = s->sha_many;
    lens[1] = 40;
    argv[2] = count;
    lens[2] = (size_t)clen;
    argv[3] = app->stream_key;
    lens[3] = strlen(app->stream_key);
    argv[4 + n] = backlog;
    lens[4 + n] = (size_t)blen;
    argv[5 + n] = COL_GROUP;
    lens[5 + n] = sizeof COL_GROUP - 1;
    for (size_t i = 0; i < n; i++) {
        /* prefix + "iid:" + id, built by hand: this runs for every survey */
        size_t ilen = strlen(items[i].iid);
        memcpy(keys[i], app->prefix, plen);
        memcpy(keys[i] + plen, "iid:", 4);
        memcpy(keys[i] + plen + 4, items[i].iid, ilen + 1);
        argv[4 + i] = keys[i];
        lens[4 + i] = plen + 4 + ilen;
        argv[6 + n + i] = items[i].json;
        lens[6 + n + i] = items[i].len;
    }
    r = redisCommandArgv(s->c, (int)argc, argv, lens);
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(r);
        argv[0] = "EVAL";
        lens[0] = 4;
        argv[1] = ingest_many_lua;
        lens[1] = sizeof ingest_many_lua - 1;
        r = redisCommandArgv(s->c, (int)argc, argv, lens);
    }
    if (!r) {
        char why[128];
        snprintf(why, sizeof why, "%s", s->c->errstr);
        store_drop(s, why);
        goto out_free;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 * n) {
        /* OOM under maxmemory noeviction, READONLY replica, ...: Redis refuses the work */
        hk_log(HK_LOG_ERROR, "redis_ingest_error", "reply_type=%d surveys=%zu error=\"%.100s\"",
               r->type, n, r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        col_metrics_count(COL_CNT_REDIS_ERRORS);
        goto out_free;
    }
    for (size_t i = 0; i < n; i++)
        items[i].rc = item_result(r->element[2 * i], r->element[2 * i + 1], &items[i]);
    rc = 0;

out_free:
    if (r)
        freeReplyObject(r);
    free(keys);
    free(lens);
    free(argv);
    return rc;
}

int col_store_ping(const struct col_app *app)
{
    struct store *s = store_get();
    if (!s || !store_connect(app, s))
        return HK_ERR_UNAVAILABLE;
    const char *argv[] = {"PING"};
    size_t lens[] = {4};
    redisReply *r = redisCommandArgv(s->c, 1, argv, lens);
    if (!r) {
        char why[128];
        snprintf(why, sizeof why, "%s", s->c->errstr);
        store_drop(s, why);
        return HK_ERR_UNAVAILABLE;
    }
    int rc = r->type == REDIS_REPLY_STATUS ? 0 : HK_ERR_UNAVAILABLE;
    freeReplyObject(r);
    return rc;
}

