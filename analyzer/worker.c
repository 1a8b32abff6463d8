/* hearken-analyzer's stream worker: reads surveys from the consumer group, scores comments,
 * and counts each survey in the rollups exactly once: increments, scored surveys, dead
 * letters and XACK of a whole batch go to Redis in one Lua call (common/rollup.c).
 * Threads are independent consumers; the main thread only handles signals and progress. */
#include "hearken/analyzer.h"
#include "hearken/config.h"
#include "hearken/err.h"
#include "hearken/log.h"
#include "hearken/redis.h"
#include "hearken/rollup.h"
#include "hearken/score.h"
#include "hearken/survey.h"
#include "worker_lex.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

_Static_assert((int)AN_DIM_SENTIMENT == (int)HK_TXT_SENTIMENT &&
                   (int)AN_DIM_FELT_HEARD == (int)HK_TXT_FELT_HEARD &&
                   (int)AN_DIM_FELT_VALUED == (int)HK_TXT_FELT_VALUED &&
                   (int)AN_DIM_ADVOCACY == (int)HK_TXT_ADVOCACY &&
                   (int)AN_DIM_EASE == (int)HK_TXT_EASE && (int)AN_DIM_COUNT == (int)HK_TXT_COUNT,
               "rollup text dimensions follow the scorer's order");

#define AN_GROUP       "analyzers"
#define AN_PROGRESS_MS 10000
#define AN_LANG_CACHE  8

struct an_cfg {
    char *redis_url, *prefix, *lexicons, *consumer, *scenarios, *log_level;
    long long batch, block_ms, claim_idle_ms, max_tries, timeout_ms, threads, retention_days;
};

#define OPT(field) offsetof(struct an_cfg, field)
static const struct hk_cfg_opt an_opts[] = {
    {"redis-url", "HEARKEN_REDIS_URL", HK_CFG_STR, "redis://127.0.0.1:6379", 0, 0, OPT(redis_url),
     "Redis to consume from: redis://[:password@]host:port[/db]"},
    {"prefix", "HEARKEN_PREFIX", HK_CFG_STR, "hearken:", 0, 0, OPT(prefix),
     "key prefix, so several deployments can share one Redis"},
    {"lexicons", "HEARKEN_LEXICONS", HK_CFG_STR, "./lexicons", 0, 0, OPT(lexicons),
     "lexicon folder (one subfolder per language; SIGHUP reloads)"},
    {"consumer", "HEARKEN_CONSUMER", HK_CFG_STR, NULL, 0, 0, OPT(consumer),
     "consumer name in the group (default hostname-pid); a worker restarted under the same "
     "name resumes its own pending entries first"},
    {"batch", "HEARKEN_BATCH", HK_CFG_INT, "4096", 1, 8192, OPT(batch),
     "entries per read; one atomic Redis call commits a batch (bigger batches aggregate more)"},
    {"block-ms", "HEARKEN_BLOCK_MS", HK_CFG_INT, "1000", 1, 60000, OPT(block_ms),
     "how long one read waits for new entries; must be shorter than --redis-timeout-ms"},
    {"claim-idle-ms", "HEARKEN_CLAIM_IDLE_MS", HK_CFG_INT, "30000", 100, 86400000,
     OPT(claim_idle_ms), "entries pending this long (a dead worker's) are claimed by this one"},
    {"max-tries", "HEARKEN_MAX_TRIES", HK_CFG_INT, "5", 1, 1000, OPT(max_tries),
     "an entry delivered more often than this goes to the dead-letter stream"},
    {"redis-timeout-ms", "HEARKEN_REDIS_TIMEOUT_MS", HK_CFG_INT, "5000", 100, 600000,
     OPT(timeout_ms), "connect and socket read/write timeout"},
    {"threads", "HEARKEN_ANALYZER_THREADS", HK_CFG_INT, "2", 1, 64, OPT(threads),
     "worker threads, each its own consumer (NAME-tN when more than one)"},
    {"scenarios", "HEARKEN_SCENARIOS", HK_CFG_STR, NULL, 0, 0, OPT(scenarios),
     "comma-separated scenario set (default: SPEC section 2's seven); match the collector's"},
    {"log-level", "HEARKEN_LOG_LEVEL", HK_CFG_STR, "info", 0, 0, OPT(log_level),
     "debug, info, warn or error"},
    {"retention-days", "HEARKEN_RETENTION_DAYS", HK_CFG_INT, "90", 0, 36500, OPT(retention_days),
     "stream entries older than this are trimmed, never one not yet acknowledged (0: keep all)"},
};
#define AN_NOPTS (sizeof an_opts / sizeof an_opts[0])

/* What the threads share. Counters are totals for the progress line. */
struct an_shared {
    const struct an_cfg *cfg;
    struct hk_redis_url url;
    struct hk_scenarios scenarios;
    char stream_key[HK_ID_MAX + 16], dead_key[HK_ID_MAX + 16];
    atomic_bool stop;
    atomic_int failed;
    pthread_mutex_t lex_mu; /* guards lex and lex_gen writes */
    struct an_lexset *lex;
    atomic_uint lex_gen;
    atomic_llong counted, dead, dropped;
};

/* One stream entry of the batch in hand. */
struct an_item {
    const char *id; /* into the reply */
    size_t id_len;
    const char *survey; /* into the reply; NULL when the entry has no survey field */
    size_t survey_len;
    bool dead; /* dead-letter it with reason */
    bool skip; /* done (applied, or counted elsewhere) or left pending for a later try */
    bool scored_written;
    char reason[200];
    long long deliveries;
    struct hk_survey s;
    struct hk_rollup_text t; /* the counters are recomputed from s and t when added */
    size_t key_off, key_len, scored_off, scored_len; /* PREFIX scored:IID and its record, in
                                                      * w->scored */
    size_t cue_off, ncues; /* negative cues "DIM|ENTRY", NUL-separated, in w->scored */
};

struct an_worker {
    struct an_shared *sh;
    int idx;
    char consumer[HK_ID_MAX + 64];
    redisContext *c;
    char sha[41];
    bool history;    /* re-reading our own pending list (start-up, after a reconnect) */
    char cursor[64]; /* history position */
    int64_t next_claim_ms;

    struct an_lexset *lex;
    unsigned lex_gen;
    struct an_scorer *scorer[AN_LANGS_MAX];
    struct {
        char tag[16];
        int slot;
    } lang_cache[AN_LANG_CACHE];
    size_t nlang_cache;

    struct an_item *items;
    size_t nitems, cap;
    struct hk_rollup_item *hitems;
    struct hk_buf scored;
    struct hk_rollup_batch *batch;
    struct hk_rollup_argv av;
};

/* ---- small helpers ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool stopping(const struct an_worker *w)
{
    return atomic_load(&w->sh->stop);
}

/* Sleeps ms, waking early when asked to stop. */
static void nap(const struct an_worker *w, int ms)
{
    while (ms > 0 && !stopping(w)) {
        int step = ms < 50 ? ms : 50;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

static bool reply_is(const redisReply *r, int type)
{
    return r && r->type == type;
}

static bool error_starts(const redisReply *r, const char *code)
{
    return reply_is(r, REDIS_REPLY_ERROR) && strncmp(r->str, code, strlen(code)) == 0;
}

static void drop_connection(struct an_worker *w, const char *why)
{
    if (!w->c)
        return;
    hk_log(HK_LOG_WARN, "redis_lost", "consumer=%s during=%s reason=\"%s\"", w->consumer, why,
           w->c->errstr[0] ? w->c->errstr : "connection lost");
    redisFree(w->c);
    w->c = NULL;
}

/* ---- connection ---- */

/* Creates the group (ignoring BUSYGROUP) and loads the apply script. */
static int setup(struct an_worker *w)
{
    const char *argv[] = {"XGROUP", "CREATE", w->sh->stream_key, AN_GROUP, "0", "MKSTREAM"};
    size_t argvlen[] = {6, 6, strlen(w->sh->stream_key), strlen(AN_GROUP), 1, 8};
    redisReply *r = redisCommandArgv(w->c, 6, argv, argvlen);
    if (!r)
        return HK_ERR_UNAVAILABLE;
    int rc = 0;
    if (reply_is(r, REDIS_REPLY_ERROR) && !error_starts(r, "BUSYGROUP")) {
        hk_log(error_starts(r, "LOADING") ? HK_LOG_WARN : HK_LOG_ERROR, "group_create_failed",
               "stream=%s reason=\"%s\"", w->sh->stream_key, r->str);
        rc = HK_ERR_UNAVAILABLE;
    }
    freeReplyObject(r);
    if (!rc && hk_redis_script_load(w->c, hk_rollup_apply_lua, w->sha) != 0) {
        hk_log(HK_LOG_ERROR, "script_load_failed", "consumer=%s", w->consumer);
        rc = HK_ERR_UNAVAILABLE;
    }
    return rc;
}

/* Connects (with backoff) until it works or we are asked to stop. Afterwards the worker
 * re-reads its own pending list: a read whose reply was lost left entries there. */
static int connect_redis(struct an_worker *w)
{
    for (int attempt = 0; !stopping(w); attempt++) {
        char err[256] = "";
        w->c = hk_redis_connect(&w->sh->url, (int)w->sh->cfg->timeout_ms, err, sizeof err);
        if (w->c && setup(w) == 0) {
            if (attempt)
                hk_log(HK_LOG_INFO, "redis_reconnected", "consumer=%s attempts=%d", w->consumer,
                       attempt + 1);
            w->history = true;
            memcpy(w->cursor, "0", 2);
            return 0;
        }
        if (w->c) {
            snprintf(err, sizeof err, "%s", w->c->errstr[0] ? w->c->errstr : "set-up failed");
            redisFree(w->c);
            w->c = NULL;
        }
        int ms = hk_backoff_ms(attempt, 100, 5000);
        hk_log(attempt ? HK_LOG_DEBUG : HK_LOG_WARN, "redis_connect_failed",
               "consumer=%s reason=\"%s\" retry_ms=%d", w->consumer, err, ms);
        nap(w, ms);
    }
    return HK_ERR_UNAVAILABLE;
}

/* ---- lexicons ---- */

/* Between batches: move to the newest lexicon set if SIGHUP swapped one in. */
static void lex_refresh(struct an_worker *w)
{
    struct an_shared *sh = w->sh;
    if (w->lex && atomic_load(&sh->lex_gen) == w->lex_gen)
        return;
    pthread_mutex_lock(&sh->lex_mu);
    struct an_lexset *set = sh->lex;
    an_lexset_ref(set);
    unsigned gen = atomic_load(&sh->lex_gen);
    pthread_mutex_unlock(&sh->lex_mu);
    for (size_t i = 0; i < AN_LANGS_MAX; i++) {
        an_scorer_destroy(w->scorer[i]);
        w->scorer[i] = NULL;
    }
    w->nlang_cache = 0;
    an_lexset_unref(w->lex);
    w->lex = set;
    w->lex_gen = gen;
}

static struct an_scorer *scorer_for(struct an_worker *w, const char *lang)
{
    int slot = -1;
    for (size_t i = 0; i < w->nlang_cache; i++)
        if (strcmp(w->lang_cache[i].tag, lang) == 0)
            slot = w->lang_cache[i].slot;
    if (slot < 0) {
        slot = an_lexset_slot(w->lex, lang);
        if (w->nlang_cache < AN_LANG_CACHE && strlen(lang) < sizeof w->lang_cache[0].tag) {
            memcpy(w->lang_cache[w->nlang_cache].tag, lang, strlen(lang) + 1);
            w->lang_cache[w->nlang_cache++].slot = slot;
        }
    }
    if (!w->scorer[slot])
        w->scorer[slot] = an_scorer_create(an_lexset_lexicon(w->lex, slot));
    return w->scorer[slot];
}

/* ---- one batch: read entries -> items ---- */

static int items_reserve(struct an_worker *w, size_t n)
{
    if (n <= w->cap)
        return 0;
    struct an_item *items = realloc(w->items, n * sizeof *items);
    if (!items)
        return HK_ERR_NOMEM;
    w->items = items;
    struct hk_rollup_item *h = realloc(w->hitems, n * sizeof *h);
    if (!h)
        return HK_ERR_NOMEM;
    w->hitems = h;
    w->cap = n;
    return 0;
}

static void items_clear(struct an_worker *w)
{
    for (size_t i = 0; i < w->nitems; i++)
        hk_survey_clear(&w->items[i].s);
    w->nitems = 0;
    hk_buf_reset(&w->scored);
}

static void set_dead(struct an_item *it, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_dead(struct an_item *it, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->reason, sizeof it->reason, fmt, ap);
    va_end(ap);
    it->dead = true;
}

/* Keeps the comment's negative cues, once each, for the agent's coaching evidence. */
static int keep_negative_cues(struct an_worker *w, struct an_item *it, const struct an_score *sc)
{
    struct hk_buf *b = &w->scored;
    it->cue_off = b->len;
    it->ncues = 0;
    for (size_t i = 0; i < sc->ncues; i++) {
        const struct an_cue *cue = &sc->cues[i];
        if (!(cue->weight < 0) || !cue->entry)
            continue;
        size_t at = b->len;
        int rc = cue->dim < AN_DIM_COUNT ? hk_buf_append_str(b, an_dim_names[cue->dim])
                                         : hk_buf_append_str(b, "behaviors.");
        if (!rc && cue->dim >= AN_DIM_COUNT)
            rc = hk_buf_append_str(b, hk_behavior_names[(cue->dim - AN_DIM_COUNT) % HK_BEH_COUNT]);
        if (!rc)
            rc = hk_buf_append_char(b, '|');
        /* "never apologised" is evidence as "not apologized", not as the entry alone */
        if (!rc && cue->negated)
            rc = hk_buf_append_str(b, "not ");
        if (!rc)
            rc = hk_buf_append_str(b, cue->entry);
        if (!rc)
            rc = hk_buf_append_char(b, '\0');
        if (rc)
            return rc;
        /* once per survey: drop it if an earlier cue of this comment was the same */
        const char *p = b->data + it->cue_off;
        for (size_t k = 0; k < it->ncues; k++, p += strlen(p) + 1)
            if (strcmp(p, b->data + at) == 0) {
                b->len = at;
                b->data[at] = '\0';
                break;
            }
        if (b->len > at)
            it->ncues++;
    }
    return 0;
}

/* Scores the comment and builds the scored-survey record and the counters. 0, or
 * HK_ERR_NOMEM (the entry is then left pending for a later try). */
static int score_item(struct an_worker *w, struct an_item *it)
{
    struct hk_rollup_text t = {0};
    struct an_score sc;
    bool scored = false;
    it->cue_off = 0;
    it->ncues = 0;
    if (it->s.comment && it->s.comment_len) {
        struct an_scorer *scorer = scorer_for(w, it->s.language);
        if (!scorer)
            return HK_ERR_NOMEM;
        int rc = an_scorer_score(scorer, it->s.comment, it->s.comment_len, &sc);
        if (rc == HK_ERR_INVALID) {
            set_dead(it, "comment could not be scored: %s", hk_err_name(rc));
            return 0;
        }
        if (rc)
            return rc;
        scored = true;
        t.scored = true;
        for (int d = 0; d < HK_TXT_COUNT; d++) {
            t.has[d] = d == HK_TXT_SENTIMENT || sc.has[d];
            t.milli[d] = t.has[d] ? hk_rollup_milli(sc.dim[d]) : 0;
        }
        memcpy(t.behavior, sc.behavior, sizeof t.behavior);
        rc = keep_negative_cues(w, it, &sc);
        if (rc)
            return rc;
    }
    it->t = t;

    /* {"id":stream id,"survey":{canonical},"score":{...}|null}. The entry's survey field is
     * the collector's canonical JSON and just passed hk_survey_parse, so it goes in as is
     * (re-serialising it cost a tenth of the worker's time). */
    struct hk_buf *b = &w->scored;
    size_t start = b->len;
    int rc = hk_buf_append_str(b, w->sh->cfg->prefix);
    if (!rc)
        rc = hk_buf_append_str(b, "scored:");
    if (!rc)
        rc = hk_buf_append_str(b, it->s.interaction_id);
    size_t rec = b->len;
    if (!rc)
        rc = hk_buf_append_str(b, "{\"id\":");
    if (!rc)
        rc = hk_buf_append_json_str(b, it->id, it->id_len);
    if (!rc)
        rc = hk_buf_append_str(b, ",\"survey\":");
    if (!rc)
        rc = hk_buf_append(b, it->survey, it->survey_len);
    if (!rc)
        rc = hk_buf_append_str(b, ",\"score\":");
    if (!rc)
        rc = scored ? an_score_to_json(&sc, it->s.comment, it->s.comment_len, it->s.interaction_id,
                                       strlen(it->s.interaction_id), b)
                    : hk_buf_append_str(b, "null");
    if (!rc)
        rc = hk_buf_append_char(b, '}');
    if (rc) {
        b->len = start;
        if (b->data)
            b->data[start] = '\0';
        return rc;
    }
    it->key_off = start;
    it->key_len = rec - start;
    it->scored_off = rec;
    it->scored_len = b->len - rec;
    return 0;
}

/* Delivery counts of entries that were claimed or re-read (a fresh read is delivery 1):
 * one XPENDING per id, pipelined. */
static int fetch_deliveries(struct an_worker *w)
{
    const char *key = w->sh->stream_key;
    for (size_t i = 0; i < w->nitems; i++) {
        const char *argv[] = {"XPENDING", key, AN_GROUP, w->items[i].id, w->items[i].id, "1"};
        size_t argvlen[] = {
            8, strlen(key), strlen(AN_GROUP), w->items[i].id_len, w->items[i].id_len, 1};
        if (redisAppendCommandArgv(w->c, 6, argv, argvlen) != REDIS_OK)
            return HK_ERR_NOMEM;
    }
    for (size_t i = 0; i < w->nitems; i++) {
        redisReply *r = NULL;
        if (redisGetReply(w->c, (void **)&r) != REDIS_OK || !r)
            return HK_ERR_UNAVAILABLE;
        w->items[i].deliveries = 0; /* not pending any more: the apply will find out */
        if (reply_is(r, REDIS_REPLY_ARRAY) && r->elements == 1 &&
            reply_is(r->element[0], REDIS_REPLY_ARRAY) && r->element[0]->elements >= 4 &&
            reply_is(r->element[0]->element[3], REDIS_REPLY_INTEGER))
            w->items[i].deliveries = r->element[0]->element[3]->integer;
        freeReplyObject(r);
    }
    return 0;
}

/* Turns a reply's entries ([id, [field, value, ...] | nil], ...) into items: parsed, scored
 * and counted, or marked for the dead-letter stream. */
static int take_entries(struct an_worker *w, const redisReply *entries, bool check_tries)
{
    items_clear(w);
    int rc = items_reserve(w, entries->elements);
    if (rc)
        return rc;
    for (size_t i = 0; i < entries->elements; i++) {
        const redisReply *e = entries->element[i];
        if (!reply_is(e, REDIS_REPLY_ARRAY) || e->elements < 2 ||
            !reply_is(e->element[0], REDIS_REPLY_STRING))
            continue;
        struct an_item *it = &w->items[w->nitems++];
        memset(it, 0, offsetof(struct an_item, s));
        hk_survey_init(&it->s);
        it->id = e->element[0]->str;
        it->id_len = e->element[0]->len;
        it->deliveries = 1;
        const redisReply *f = e->element[1];
        if (reply_is(f, REDIS_REPLY_ARRAY)) {
            for (size_t j = 0; j + 1 < f->elements; j += 2)
                if (reply_is(f->element[j], REDIS_REPLY_STRING) &&
                    reply_is(f->element[j + 1], REDIS_REPLY_STRING) && f->element[j]->len == 6 &&
                    memcmp(f->element[j]->str, "survey", 6) == 0) {
                    it->survey = f->element[j + 1]->str;
                    it->survey_len = f->element[j + 1]->len;
                }
            if (!it->survey)
                set_dead(it, "entry has no survey field");
        } else {
            set_dead(it, "entry was deleted from the stream before it was counted");
        }
    }
    if (check_tries && w->nitems && (rc = fetch_deliveries(w)))
        return rc;

    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < w->nitems; i++) {
        struct an_item *it = &w->items[i];
        if (it->dead)
            continue;
        if (it->deliveries > w->sh->cfg->max_tries) {
            set_dead(it, "delivered %lld times without being counted (max-tries %lld)",
                     it->deliveries, w->sh->cfg->max_tries);
            continue;
        }
        struct hk_field_error fe;
        rc = hk_survey_parse(it->survey, it->survey_len, &w->sh->scenarios, now, &it->s, &fe);
        if (rc == HK_ERR_INVALID) {
            set_dead(it, "%s%s%s: %s", fe.code, fe.field[0] ? " " : "", fe.field, fe.message);
            continue;
        }
        if (!rc)
            rc = score_item(w, it);
        if (rc) {
            /* out of memory: leave it pending; a claim retries it later */
            hk_log(HK_LOG_WARN, "entry_deferred", "consumer=%s id=%.*s reason=%s", w->consumer,
                   (int)it->id_len, it->id, hk_err_name(rc));
            it->skip = true;
        }
    }
    return 0;
}

/* ---- one batch: the atomic apply ---- */

static struct an_item *item_find(struct an_worker *w, size_t from, size_t to, const char *id,
                                 size_t len)
{
    for (size_t i = from; i < to; i++)
        if (w->items[i].id_len == len && memcmp(w->items[i].id, id, len) == 0)
            return &w->items[i];
    return NULL;
}

#define AN_MSET_PAIRS 256

/* SETs the scored-survey records of items[from, to) not written yet, one MSET of up to
 * AN_MSET_PAIRS at a time (a round trip each keeps hiredis's output buffer small), and waits
 * for them, so a survey is never counted without its record. Writing one twice (a retry, or
 * a race with another worker) stores the same bytes: idempotent. */
static int write_scored(struct an_worker *w, size_t from, size_t to)
{
    const char *argv[1 + 2 * AN_MSET_PAIRS];
    size_t argvlen[1 + 2 * AN_MSET_PAIRS];
    size_t i = from;
    while (i < to) {
        size_t chunk_from = i;
        int argc = 0;
        argv[argc] = "MSET";
        argvlen[argc++] = 4;
        for (; i < to && argc < 1 + 2 * AN_MSET_PAIRS; i++) {
            struct an_item *it = &w->items[i];
            if (it->skip || it->dead || it->scored_written)
                continue;
            argv[argc] = w->scored.data + it->key_off;
            argvlen[argc++] = it->key_len;
            argv[argc] = w->scored.data + it->scored_off;
            argvlen[argc++] = it->scored_len;
        }
        if (argc == 1)
            break;
        redisReply *r = redisCommandArgv(w->c, argc, argv, argvlen);
        if (!r)
            return HK_ERR_UNAVAILABLE;
        if (reply_is(r, REDIS_REPLY_ERROR)) {
            hk_log(HK_LOG_WARN, "scored_write_refused", "consumer=%s reason=\"%s\"", w->consumer,
                   r->str);
            freeReplyObject(r);
            return HK_ERR_BUSY; /* OOM and the like: retry the batch later */
        }
        freeReplyObject(r);
        for (size_t j = chunk_from; j < i; j++)
            if (!w->items[j].skip && !w->items[j].dead)
                w->items[j].scored_written = true;
    }
    return 0;
}

/* The analyzer's counters for the collector's /metrics (the analyzer has no HTTP port):
 * PREFIX stats:analyzer, a hash of totals over all analyzers, HINCRBY after each committed
 * batch in one pipelined round trip. Fields: scored, dead, batches, apply_us_sum and
 * apply_le:BOUND (non-cumulative counts of batches whose rollup write took at most BOUND
 * seconds; BOUND "+Inf" for the rest). Best effort: a kill between the commit and this call
 * loses one batch's figures, never a survey. */
static const char *const an_stats_bounds[] = {"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
                                              "0.1",   "0.25",   "0.5",   "1",    "2.5",   "+Inf"};
static const long long an_stats_bound_us[] = {1000,   2500,   5000,   10000,   25000,  50000,
                                              100000, 250000, 500000, 1000000, 2500000};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void stats_publish(struct an_worker *w, size_t nok, size_t ndead, int64_t us)
{
    char key[HK_ID_MAX + 32], field[32], num[4][24];
    int klen = snprintf(key, sizeof key, "%sstats:analyzer", w->sh->cfg->prefix);
    size_t b = 0;
    while (b < sizeof an_stats_bound_us / sizeof an_stats_bound_us[0] && us > an_stats_bound_us[b])
        b++;
    int flen = snprintf(field, sizeof field, "apply_le:%s", an_stats_bounds[b]);
    const char *names[] = {"scored", "dead", "batches", "apply_us_sum", field};
    size_t nlens[] = {6, 4, 7, 12, (size_t)flen};
    int vl[4] = {snprintf(num[0], sizeof num[0], "%zu", nok),
                 snprintf(num[1], sizeof num[1], "%zu", ndead), 1,
                 snprintf(num[3], sizeof num[3], "%lld", (long long)us)};
    memcpy(num[2], "1", 2);
    for (int i = 0; i < 5; i++) {
        const char *argv[] = {"HINCRBY", key, names[i], i < 4 ? num[i] : "1"};
        size_t argvlen[] = {7, (size_t)klen, nlens[i], i < 4 ? (size_t)vl[i] : 1};
        if (redisAppendCommandArgv(w->c, 4, argv, argvlen) != REDIS_OK)
            return;
    }
    for (int i = 0; i < 5; i++) {
        redisReply *r = NULL;
        if (redisGetReply(w->c, (void **)&r) != REDIS_OK || !r)
            return; /* the context is dead: the next read finds out and reconnects */
        freeReplyObject(r);
    }
}

/* Applies items[from, to) in one script call, again without the ids another worker already
 * counted. 0 (every item applied or dropped), HK_ERR_UNAVAILABLE (context dead: reconnect
 * and call again; the pending check makes the repeat safe), HK_ERR_BUSY (Redis refused for
 * now: back off and call again), HK_ERR_NOMEM. */
static int apply_range(struct an_worker *w, size_t from, size_t to)
{
    struct an_shared *sh = w->sh;
    for (int noscript = 0;;) {
        size_t n = 0, nok = 0, ndead = 0;
        hk_rollup_batch_reset(w->batch);
        for (size_t i = from; i < to; i++) {
            struct an_item *it = &w->items[i];
            if (it->skip)
                continue;
            struct hk_rollup_item *h = &w->hitems[n++];
            memset(h, 0, sizeof *h);
            h->id = it->id;
            h->id_len = it->id_len;
            h->dead = it->dead;
            if (it->dead) {
                ndead++;
                h->reason = it->reason;
                h->reason_len = strlen(it->reason);
                h->survey = it->survey;
                h->survey_len = it->survey ? it->survey_len : 0;
                continue;
            }
            nok++;
            struct hk_rollup_counts c;
            hk_rollup_survey_counts(&it->s, &it->t, &c);
            int rc = hk_rollup_batch_add(w->batch, &it->s, &c);
            const char *cue = it->ncues ? w->scored.data + it->cue_off : NULL;
            for (size_t k = 0; k < it->ncues && !rc; k++) {
                size_t len = strlen(cue);
                rc = hk_rollup_batch_add_cue(w->batch, &it->s, cue, len);
                cue += len + 1;
            }
            if (rc)
                return rc;
        }
        if (n == 0)
            return 0;
        int64_t t0 = now_us();
        int rc = write_scored(w, from, to);
        if (rc)
            return rc;
        rc = hk_rollup_apply_argv(&w->av, w->sha, sh->stream_key, sh->dead_key, AN_GROUP, w->hitems,
                                  n, w->batch);
        if (rc)
            return rc;
        redisReply *r = redisCommandArgv(w->c, (int)w->av.argc, w->av.argv, w->av.argvlen);
        if (!r)
            return HK_ERR_UNAVAILABLE;

        if (reply_is(r, REDIS_REPLY_STATUS)) {
            freeReplyObject(r);
            for (size_t i = from; i < to; i++)
                if (!w->items[i].skip && w->items[i].dead)
                    hk_log(HK_LOG_WARN, "dead_letter", "id=%.*s reason=\"%s\"",
                           (int)w->items[i].id_len, w->items[i].id, w->items[i].reason);
            for (size_t i = from; i < to; i++)
                w->items[i].skip = true;
            atomic_fetch_add(&sh->counted, (long long)nok);
            atomic_fetch_add(&sh->dead, (long long)ndead);
            stats_publish(w, nok, ndead, now_us() - t0);
            return 0;
        }
        if (reply_is(r, REDIS_REPLY_ARRAY)) {
            /* another worker counted these after reclaiming them: drop, apply the rest */
            for (size_t j = 0; j < r->elements; j++) {
                const redisReply *id = r->element[j];
                struct an_item *it = reply_is(id, REDIS_REPLY_STRING)
                                         ? item_find(w, from, to, id->str, id->len)
                                         : NULL;
                if (it)
                    it->skip = true;
            }
            hk_log(HK_LOG_INFO, "batch_overlap", "consumer=%s dropped=%zu", w->consumer,
                   r->elements);
            atomic_fetch_add(&sh->dropped, (long long)r->elements);
            freeReplyObject(r);
            continue;
        }
        if (error_starts(r, "NOSCRIPT") && noscript++ < 3) {
            freeReplyObject(r); /* Redis restarted or SCRIPT FLUSH */
            if (hk_redis_script_load(w->c, hk_rollup_apply_lua, w->sha) != 0)
                return HK_ERR_UNAVAILABLE;
            continue;
        }
        char err[160];
        snprintf(err, sizeof err, "%s", reply_is(r, REDIS_REPLY_ERROR) ? r->str : "bad reply");
        freeReplyObject(r);
        if (strncmp(err, "WRONGTYPE", 9) != 0) {
            /* OOM, LOADING, BUSY, READONLY...: transient, the same batch is retried */
            hk_log(HK_LOG_WARN, "apply_refused", "consumer=%s entries=%zu reason=\"%s\"",
                   w->consumer, n, err);
            return HK_ERR_BUSY;
        }
        /* A key of the wrong type blocks only the surveys that write it: find them by
         * applying one at a time, and dead-letter those (they would fail forever). */
        if (n > 1) {
            for (size_t i = from; i < to; i++) {
                if (w->items[i].skip)
                    continue;
                rc = apply_range(w, i, i + 1);
                if (rc)
                    return rc;
            }
            return 0;
        }
        struct an_item *it = NULL;
        for (size_t i = from; i < to && !it; i++)
            if (!w->items[i].skip)
                it = &w->items[i];
        if (it->dead) {
            hk_log(HK_LOG_ERROR, "dead_letter_failed", "id=%.*s reason=\"%s\"", (int)it->id_len,
                   it->id, err);
            it->skip = true; /* stays pending; max-tries will retry it */
            return 0;
        }
        set_dead(it, "redis refused the rollup write: %s", err);
    }
}

/* Commits the items in hand, retrying through reconnects, until done or told to stop (then
 * the rest stays pending, to be re-read or claimed: nothing is lost). */
static int commit(struct an_worker *w)
{
    for (int attempt = 0;; attempt++) {
        int rc = apply_range(w, 0, w->nitems);
        if (!rc || rc == HK_ERR_NOMEM)
            return rc;
        if (stopping(w)) {
            hk_log(HK_LOG_WARN, "batch_left_pending", "consumer=%s entries=%zu", w->consumer,
                   w->nitems);
            return 0;
        }
        if (rc == HK_ERR_UNAVAILABLE) {
            drop_connection(w, "apply");
            if (connect_redis(w))
                return 0;
        } else {
            nap(w, hk_backoff_ms(attempt, 100, 5000));
        }
    }
}

/* ---- reading ---- */

/* The entries array of an XREADGROUP reply, or NULL when it has none. */
static const redisReply *xread_entries(const redisReply *r)
{
    if (!reply_is(r, REDIS_REPLY_ARRAY) || r->elements < 1)
        return NULL;
    const redisReply *s = r->element[0];
    if (!reply_is(s, REDIS_REPLY_ARRAY) || s->elements < 2 ||
        !reply_is(s->element[1], REDIS_REPLY_ARRAY) || s->element[1]->elements == 0)
        return NULL;
    return s->element[1];
}

/* One XREADGROUP: new entries (blocking) or, in history mode, our own pending ones after
 * the cursor. Returns the reply (caller frees) or NULL when the connection failed. */
static redisReply *xreadgroup(struct an_worker *w)
{
    char count[24], block[24];
    int nc = snprintf(count, sizeof count, "%lld", w->sh->cfg->batch);
    int nb = snprintf(block, sizeof block, "%lld", w->sh->cfg->block_ms);
    const char *key = w->sh->stream_key;
    const char *argv[11] = {"XREADGROUP", "GROUP", AN_GROUP, w->consumer, "COUNT", count};
    size_t argvlen[11] = {10, 5, strlen(AN_GROUP), strlen(w->consumer), 5, (size_t)nc};
    int argc = 6;
    if (!w->history) {
        argv[argc] = "BLOCK";
        argvlen[argc++] = 5;
        argv[argc] = block;
        argvlen[argc++] = (size_t)nb;
    }
    argv[argc] = "STREAMS";
    argvlen[argc++] = 7;
    argv[argc] = key;
    argvlen[argc++] = strlen(key);
    argv[argc] = w->history ? w->cursor : ">";
    argvlen[argc] = strlen(argv[argc]);
    argc++;
    return redisCommandArgv(w->c, argc, argv, argvlen);
}

/* Processes one reply's entries: score, count, commit. */
static int process(struct an_worker *w, const redisReply *entries, bool check_tries)
{
    int rc = take_entries(w, entries, check_tries);
    if (rc == HK_ERR_UNAVAILABLE) {
        drop_connection(w, "delivery counts");
        items_clear(w);
        return connect_redis(w) ? HK_ERR_UNAVAILABLE : 0;
    }
    if (!rc)
        rc = commit(w);
    items_clear(w);
    return rc;
}

/* XAUTOCLAIM entries idle longer than claim-idle-ms (a dead or stuck worker's, ours
 * included) page by page, and count them like fresh ones. */
static int claim(struct an_worker *w)
{
    char cursor[64] = "0-0", idle[24], count[24];
    int ni = snprintf(idle, sizeof idle, "%lld", w->sh->cfg->claim_idle_ms);
    int nc = snprintf(count, sizeof count, "%lld", w->sh->cfg->batch);
    const char *key = w->sh->stream_key;
    do {
        const char *argv[] = {"XAUTOCLAIM", key,    AN_GROUP, w->consumer,
                              idle,         cursor, "COUNT",  count};
        size_t argvlen[] = {
            10, strlen(key), strlen(AN_GROUP), strlen(w->consumer), (size_t)ni, strlen(cursor),
            5,  (size_t)nc};
        redisReply *r = redisCommandArgv(w->c, 8, argv, argvlen);
        if (!r) {
            drop_connection(w, "claim");
            return connect_redis(w);
        }
        if (!reply_is(r, REDIS_REPLY_ARRAY) || r->elements < 2 ||
            !reply_is(r->element[0], REDIS_REPLY_STRING) ||
            !reply_is(r->element[1], REDIS_REPLY_ARRAY)) {
            hk_log(HK_LOG_WARN, "claim_failed", "consumer=%s reason=\"%s\"", w->consumer,
                   reply_is(r, REDIS_REPLY_ERROR) ? r->str : "unexpected reply");
            freeReplyObject(r);
            return 0;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        if (r->elements >= 3 && reply_is(r->element[2], REDIS_REPLY_ARRAY) &&
            r->element[2]->elements)
            hk_log(HK_LOG_WARN, "claim_deleted",
                   "consumer=%s entries=%zu reason=\"deleted from the stream while pending\"",
                   w->consumer, r->element[2]->elements);
        int rc = 0;
        if (r->element[1]->elements) {
            hk_log(HK_LOG_INFO, "claimed", "consumer=%s entries=%zu", w->consumer,
                   r->element[1]->elements);
            rc = process(w, r->element[1], true);
        }
        freeReplyObject(r);
        if (rc)
            return rc;
    } while (strcmp(cursor, "0-0") != 0 && !stopping(w) && w->c);
    return 0;
}

/* Deletes consumers that hold no entries and were idle longer than ARGV[2] ms (workers that
 * restarted under a new hostname-pid name leave one each). Check and delete are one atomic
 * step: deleting a consumer drops its pending entries, which would then never be counted. */
static const char an_reap_lua[] =
    "local n = 0\n"
    "for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do\n"
    "  local f = {}\n"
    "  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end\n"
    "  if f['pending'] == 0 and f['idle'] > tonumber(ARGV[2]) then\n"
    "    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])\n"
    "    n = n + 1\n"
    "  end\n"
    "end\n"
    "return n\n";

#define AN_REAP_EVERY_MS (10 * 60 * 1000)

/* Trims stream entries older than the retention cut-off, but never past what a group still
 * needs: the trim point is the oldest of the cut-off, each group's oldest pending entry and each
 * group's last delivered entry (everything after it is undelivered). No group: no trim, since
 * nothing says what has been read. Returns {entries trimmed, trim point}. */
static const char an_trim_lua[] =
    "local function older(a, b)\n"
    "  local am, as = string.match(a, '^(%d+)%-(%d+)$')\n"
    "  local bm, bs = string.match(b, '^(%d+)%-(%d+)$')\n"
    "  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)\n"
    "  return am < bm or (am == bm and as < bs)\n"
    "end\n"
    "if redis.call('EXISTS', KEYS[1]) == 0 then return {0, ''} end\n"
    "local groups = redis.call('XINFO', 'GROUPS', KEYS[1])\n"
    "if #groups == 0 then return {0, ''} end\n"
    "local minid = ARGV[1] .. '-0'\n"
    "for _, g in ipairs(groups) do\n"
    "  local f = {}\n"
    "  for i = 1, #g, 2 do f[g[i]] = g[i + 1] end\n"
    "  if older(f['last-delivered-id'], minid) then minid = f['last-delivered-id'] end\n"
    "  if f['pending'] > 0 then\n"
    "    local p = redis.call('XPENDING', KEYS[1], f['name'])\n"
    "    if p[2] and older(p[2], minid) then minid = p[2] end\n"
    "  end\n"
    "end\n"
    "return {redis.call('XTRIM', KEYS[1], 'MINID', minid), minid}\n";

static void trim_stream(struct an_worker *w)
{
    long long days = w->sh->cfg->retention_days;
    if (days <= 0)
        return;
    /* stream ids are wall-clock milliseconds (now_ms is monotonic) */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long wall_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (wall_ms <= days * 86400000LL)
        return;
    char cutoff[24];
    int n = snprintf(cutoff, sizeof cutoff, "%lld", wall_ms - days * 86400000LL);
    const char *key = w->sh->stream_key;
    const char *argv[] = {"EVAL", an_trim_lua, "1", key, cutoff};
    size_t argvlen[] = {4, strlen(an_trim_lua), 1, strlen(key), (size_t)n};
    redisReply *r = redisCommandArgv(w->c, 5, argv, argvlen);
    if (!r) {
        drop_connection(w, "stream trim");
        return;
    }
    if (reply_is(r, REDIS_REPLY_ARRAY) && r->elements == 2 &&
        reply_is(r->element[0], REDIS_REPLY_INTEGER) && r->element[0]->integer > 0)
        hk_log(HK_LOG_INFO, "stream_trimmed", "entries=%lld retention_days=%lld",
               r->element[0]->integer, days);
    else if (reply_is(r, REDIS_REPLY_ERROR))
        hk_log(HK_LOG_WARN, "stream_trim_failed", "reason=\"%s\"", r->str);
    freeReplyObject(r);
}

static void reap_consumers(struct an_worker *w)
{
    long long idle = w->sh->cfg->claim_idle_ms * 10;
    if (idle < 3600 * 1000)
        idle = 3600 * 1000;
    char idle_s[24];
    int n = snprintf(idle_s, sizeof idle_s, "%lld", idle);
    const char *key = w->sh->stream_key;
    const char *argv[] = {"EVAL", an_reap_lua, "1", key, AN_GROUP, idle_s};
    size_t argvlen[] = {4, strlen(an_reap_lua), 1, strlen(key), strlen(AN_GROUP), (size_t)n};
    redisReply *r = redisCommandArgv(w->c, 6, argv, argvlen);
    if (!r) {
        drop_connection(w, "consumer reaping");
        return;
    }
    if (reply_is(r, REDIS_REPLY_INTEGER) && r->integer > 0)
        hk_log(HK_LOG_INFO, "consumers_reaped", "count=%lld idle_ms_over=%lld", r->integer, idle);
    else if (reply_is(r, REDIS_REPLY_ERROR))
        hk_log(HK_LOG_WARN, "consumer_reap_failed", "reason=\"%s\"", r->str);
    freeReplyObject(r);
}

static void worker_loop(struct an_worker *w)
{
    const struct an_cfg *cfg = w->sh->cfg;
    int64_t claim_every = cfg->claim_idle_ms / 2;
    if (claim_every < 100)
        claim_every = 100;
    if (claim_every > 10000)
        claim_every = 10000;
    if (connect_redis(w))
        return;
    hk_log(HK_LOG_INFO, "consumer_start", "consumer=%s stream=%s group=%s", w->consumer,
           w->sh->stream_key, AN_GROUP);

    int errors = 0;
    int64_t next_reap = 0;
    while (!stopping(w)) {
        lex_refresh(w);
        if (!w->c && connect_redis(w))
            break;
        if (w->idx == 0 && !w->history && now_ms() >= w->next_claim_ms) {
            if (claim(w) == HK_ERR_NOMEM)
                break;
            if (w->c)
                trim_stream(w);
            if (w->c && now_ms() >= next_reap) {
                reap_consumers(w);
                next_reap = now_ms() + AN_REAP_EVERY_MS;
            }
            w->next_claim_ms = now_ms() + claim_every;
            continue;
        }
        redisReply *r = xreadgroup(w);
        if (!r) {
            drop_connection(w, "read");
            continue;
        }
        if (reply_is(r, REDIS_REPLY_ERROR)) {
            bool nogroup = error_starts(r, "NOGROUP");
            hk_log(HK_LOG_WARN, "read_failed", "consumer=%s reason=\"%s\"", w->consumer, r->str);
            freeReplyObject(r);
            if (nogroup && setup(w) != 0)
                drop_connection(w, "group set-up");
            nap(w, hk_backoff_ms(errors++, 100, 5000));
            continue;
        }
        errors = 0;
        const redisReply *entries = xread_entries(r);
        if (!entries) {
            if (w->history)
                hk_log(HK_LOG_DEBUG, "history_done", "consumer=%s", w->consumer);
            w->history = false;
            freeReplyObject(r);
            continue;
        }
        bool history = w->history;
        if (history) {
            const redisReply *last = entries->element[entries->elements - 1];
            if (reply_is(last, REDIS_REPLY_ARRAY) && last->elements &&
                reply_is(last->element[0], REDIS_REPLY_STRING))
                snprintf(w->cursor, sizeof w->cursor, "%s", last->element[0]->str);
        }
        int rc = process(w, entries, history);
        freeReplyObject(r);
        if (rc == HK_ERR_NOMEM) {
            hk_log(HK_LOG_ERROR, "out_of_memory", "consumer=%s", w->consumer);
            atomic_store(&w->sh->failed, 1);
            break;
        }
    }
}

static void *worker_thread(void *arg)
{
    struct an_worker *w = arg;
    worker_loop(w);
    hk_log(HK_LOG_INFO, "consumer_stop", "consumer=%s", w->consumer);
    return NULL;
}

static int worker_init(struct an_worker *w, struct an_shared *sh, int idx, const char *base,
                       long long nthreads)
{
    memset(w, 0, sizeof *w);
    w->sh = sh;
    w->idx = idx;
    if (nthreads > 1)
        snprintf(w->consumer, sizeof w->consumer, "%s-t%d", base, idx);
    else
        snprintf(w->consumer, sizeof w->consumer, "%s", base);
    hk_buf_init(&w->scored, (size_t)512 << 20);
    hk_rollup_argv_init(&w->av);
    w->batch = hk_rollup_batch_create(sh->cfg->prefix);
    if (!w->batch || items_reserve(w, (size_t)sh->cfg->batch))
        return HK_ERR_NOMEM;
    return 0;
}

static void worker_free(struct an_worker *w)
{
    items_clear(w);
    free(w->items);
    free(w->hitems);
    hk_buf_free(&w->scored);
    hk_rollup_argv_free(&w->av);
    hk_rollup_batch_destroy(w->batch);
    for (size_t i = 0; i < AN_LANGS_MAX; i++)
        an_scorer_destroy(w->scorer[i]);
    an_lexset_unref(w->lex);
    if (w->c)
        redisFree(w->c);
}

/* ---- main thread: signals, reload, progress ---- */

/* SIGHUP: load a new set with the same languages; keep the old one if anything fails. */
static void reload_lexicons(struct an_shared *sh)
{
    char langs[AN_LANGS_MAX][8];
    const char *ptrs[AN_LANGS_MAX];
    size_t n = an_lexset_langs(sh->lex, langs, AN_LANGS_MAX);
    for (size_t i = 0; i < n; i++)
        ptrs[i] = langs[i];
    char err[256] = "";
    struct an_lexset *set = an_lexset_create(sh->cfg->lexicons, ptrs, n, err, sizeof err);
    if (!set) {
        hk_log(HK_LOG_ERROR, "lexicon_reload_failed", "dir=%s reason=\"%s\" keeping=old",
               sh->cfg->lexicons, err);
        return;
    }
    pthread_mutex_lock(&sh->lex_mu);
    struct an_lexset *old = sh->lex;
    sh->lex = set;
    atomic_fetch_add(&sh->lex_gen, 1);
    pthread_mutex_unlock(&sh->lex_mu);
    an_lexset_unref(old);
    hk_log(HK_LOG_INFO, "lexicon_reloaded", "dir=%s languages=%zu", sh->cfg->lexicons, n);
}

static int check_config(const struct an_cfg *cfg, struct an_shared *sh, char *err, size_t errlen)
{
    if (cfg->block_ms + 1000 > cfg->timeout_ms) {
        snprintf(err, errlen,
                 "--block-ms: must be at least 1000 below --redis-timeout-ms (%lld), or a "
                 "blocked read would look like a dead server (got %lld)",
                 cfg->timeout_ms, cfg->block_ms);
        return HK_ERR_INVALID;
    }
    if (!cfg->prefix || strlen(cfg->prefix) > HK_ID_MAX) {
        snprintf(err, errlen, "--prefix: must be at most %d bytes", HK_ID_MAX);
        return HK_ERR_INVALID;
    }
    if (cfg->consumer && (!cfg->consumer[0] || strlen(cfg->consumer) > HK_ID_MAX)) {
        snprintf(err, errlen, "--consumer: must be 1 to %d bytes", HK_ID_MAX);
        return HK_ERR_INVALID;
    }
    char why[192];
    if (hk_redis_url_parse(cfg->redis_url, &sh->url, why, sizeof why)) {
        snprintf(err, errlen, "--redis-url: %s", why);
        return HK_ERR_INVALID;
    }
    hk_scenarios_default(&sh->scenarios);
    if (cfg->scenarios && hk_scenarios_parse(&sh->scenarios, cfg->scenarios, why, sizeof why)) {
        snprintf(err, errlen, "--scenarios: %s", why);
        return HK_ERR_INVALID;
    }
    if (hk_log_level_parse(cfg->log_level) < 0) {
        snprintf(err, errlen, "--log-level: must be debug, info, warn or error (got %s)",
                 cfg->log_level);
        return HK_ERR_INVALID;
    }
    snprintf(sh->stream_key, sizeof sh->stream_key, "%ssurveys", cfg->prefix);
    snprintf(sh->dead_key, sizeof sh->dead_key, "%sdead", cfg->prefix);
    return 0;
}

int an_worker_main(int argc, char **argv)
{
    /* Signals go to the main thread only (sigtimedwait below); the workers never see them.
     * Blocked before anything else, so a SIGTERM during start-up (loading lexicons takes a
     * moment) waits for the loop and still ends in a clean exit 0. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct an_cfg cfg;
    struct an_shared sh;
    memset(&sh, 0, sizeof sh);
    char err[320] = "";
    int npos = 0, status = 1;
    int rc = hk_config_parse(an_opts, AN_NOPTS, &cfg, argc, argv, &npos, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc == 0 && (npos > 1 || (npos == 1 && strcmp(argv[1], "worker") != 0))) {
        snprintf(err, sizeof err, "unknown command \"%.60s\" (commands: worker, score, lint)",
                 argv[1]);
        rc = HK_ERR_INVALID;
    }
    if (rc == 0)
        rc = check_config(&cfg, &sh, err, sizeof err);
    if (rc) {
        fprintf(stderr, "hearken-analyzer: %s\n", err);
        hk_config_free(an_opts, AN_NOPTS, &cfg);
        return 2;
    }
    hk_log_init("analyzer", hk_log_level_parse(cfg.log_level));
    sh.cfg = &cfg;

    char base[HK_ID_MAX + 1];
    if (cfg.consumer) {
        snprintf(base, sizeof base, "%s", cfg.consumer);
    } else {
        char host[64] = "host";
        gethostname(host, sizeof host);
        host[sizeof host - 1] = '\0';
        snprintf(base, sizeof base, "%s-%ld", host, (long)getpid());
    }

    sh.lex = an_lexset_create(cfg.lexicons, NULL, 0, err, sizeof err);
    if (!sh.lex) {
        hk_log(HK_LOG_ERROR, "lexicon_load_failed", "dir=%s reason=\"%s\"", cfg.lexicons, err);
        hk_config_free(an_opts, AN_NOPTS, &cfg);
        return 1;
    }
    pthread_mutex_init(&sh.lex_mu, NULL);

    size_t nthreads = (size_t)cfg.threads;
    struct an_worker *workers = calloc(nthreads, sizeof *workers);
    pthread_t *tids = calloc(nthreads, sizeof *tids);
    size_t started = 0;
    if (!workers || !tids)
        goto out_free_workers;
    for (size_t i = 0; i < nthreads; i++) {
        if (worker_init(&workers[i], &sh, (int)i, base, cfg.threads)) {
            hk_log(HK_LOG_ERROR, "out_of_memory", "during=start");
            goto out_free_workers;
        }
    }
    hk_log(HK_LOG_INFO, "start",
           "consumer=%s threads=%zu stream=%s batch=%lld block_ms=%lld claim_idle_ms=%lld "
           "max_tries=%lld",
           base, nthreads, sh.stream_key, cfg.batch, cfg.block_ms, cfg.claim_idle_ms,
           cfg.max_tries);
    for (; started < nthreads; started++)
        if (pthread_create(&tids[started], NULL, worker_thread, &workers[started]) != 0) {
            hk_log(HK_LOG_ERROR, "thread_create_failed", "index=%zu", started);
            atomic_store(&sh.stop, true);
            atomic_store(&sh.failed, 1);
            break;
        }

    int64_t last_progress = now_ms();
    long long last_counted = 0;
    while (!atomic_load(&sh.stop) && !atomic_load(&sh.failed)) {
        struct timespec ts = {0, 200 * 1000000L};
        int sig = sigtimedwait(&sigs, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT) {
            hk_log(HK_LOG_INFO, "stopping", "signal=%s", sig == SIGTERM ? "TERM" : "INT");
            atomic_store(&sh.stop, true);
        } else if (sig == SIGHUP) {
            reload_lexicons(&sh);
        }
        int64_t t = now_ms();
        if (t - last_progress >= AN_PROGRESS_MS) {
            long long counted = atomic_load(&sh.counted);
            if (counted != last_counted)
                hk_log(HK_LOG_INFO, "progress", "counted=%lld dead=%lld dropped=%lld rate=%.0f/s",
                       counted, (long long)atomic_load(&sh.dead),
                       (long long)atomic_load(&sh.dropped),
                       (double)(counted - last_counted) * 1000.0 / (double)(t - last_progress));
            last_progress = t;
            last_counted = counted;
        }
    }
    atomic_store(&sh.stop, true);
    for (size_t i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    status = atomic_load(&sh.failed) ? 1 : 0;
    hk_log(HK_LOG_INFO, "exit", "counted=%lld dead=%lld dropped=%lld status=%d",
           (long long)atomic_load(&sh.counted), (long long)atomic_load(&sh.dead),
           (long long)atomic_load(&sh.dropped), status);

out_free_workers:
    if (workers)
        for (size_t i = 0; i < nthreads; i++)
            worker_free(&workers[i]);
    free(workers);
    free(tids);
    an_lexset_unref(sh.lex);
    pthread_mutex_destroy(&sh.lex_mu);
    hk_config_free(an_opts, AN_NOPTS, &cfg);
    return status;
}
