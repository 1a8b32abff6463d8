/* Prometheus metrics for the collector: lock-free atomic counters shared by all HTTP threads
 * (requests by route and status, a latency histogram per route, ingest outcomes, Redis
 * connects), plus queue gauges and the analyzers' counters read from Redis (the analyzer has
 * no HTTP port; it publishes PREFIX stats:analyzer, see analyzer/worker.c), cached ~1 s so
 * scrapes stay cheap whatever their rate. */
#include "col.h"

#include "hearken/err.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Designated, so a route added to enum col_route cannot shift the others' names. */
static const char *const route_names[COL_ROUTE_COUNT] = {
    [COL_ROUTE_UNKNOWN] = "unknown",
    [COL_ROUTE_SURVEYS] = "surveys",
    [COL_ROUTE_SURVEY_GET] = "survey_get",
    [COL_ROUTE_ROLLUPS] = "rollups",
    [COL_ROUTE_HEALTHZ] = "healthz",
    [COL_ROUTE_READYZ] = "readyz",
    [COL_ROUTE_METRICS] = "metrics",
    [COL_ROUTE_BATCH] = "surveys_batch",
    [COL_ROUTE_LINKS] = "links",
    [COL_ROUTE_FORM] = "form",
    [COL_ROUTE_STATIC] = "static",
    [COL_ROUTE_TRENDS] = "trends",
    [COL_ROUTE_IMPACT] = "impact",
    [COL_ROUTE_COACHING] = "coaching",
    [COL_ROUTE_SURVEY_LIST] = "survey_list",
    [COL_ROUTE_DASHBOARD] = "dashboard",
    [COL_ROUTE_DASHBOARD_LIB] = "dashboard_lib",
};

static const char *route_name(size_t r)
{
    return route_names[r] ? route_names[r] : "other";
}

/* Statuses the collector answers; anything else is counted as "other". */
static const unsigned statuses[] = {200, 202, 400, 401, 403, 404, 405, 409,
                                    410, 413, 415, 429, 500, 501, 503, 0};
#define NSTATUS (sizeof statuses / sizeof statuses[0])

/* Upper bounds in seconds; the last bucket is +Inf. */
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define NBUCKET (sizeof buckets / sizeof buckets[0])

static const char *const counter_names[COL_CNT_COUNT] = {
    "hearken_surveys_accepted_total", "hearken_surveys_duplicate_total",
    "hearken_surveys_invalid_total",  "hearken_surveys_refused_busy_total",
    "hearken_redis_connects_total",   "hearken_redis_connect_failures_total",
    "hearken_redis_errors_total",     "hearken_links_minted_total",
    "hearken_rate_limited_total",     "hearken_comments_redacted_total",
};
static const char *const counter_help[COL_CNT_COUNT] = {
    "Surveys stored on the stream (202).",
    "Surveys refused as a second answer for the same interaction (409).",
    "Surveys refused by validation (400).",
    "Surveys refused because the analyzers' backlog is over --max-backlog (503).",
    "Successful Redis connects, including reconnects.",
    "Failed Redis connect attempts.",
    "Redis connections dropped after an error, and error replies.",
    "Signed survey links minted (POST /v1/links).",
    "Requests refused by the per-address rate limit (429).",
    "Stored comments in which an e-mail address, phone or card number was redacted.",
};

static _Atomic uint64_t req_count[COL_ROUTE_COUNT][NSTATUS];
static _Atomic uint64_t lat_bucket[COL_ROUTE_COUNT][NBUCKET + 1];
static _Atomic uint64_t lat_sum_ns[COL_ROUTE_COUNT];
static _Atomic uint64_t counters[COL_CNT_COUNT];

uint64_t col_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void col_metrics_observe(enum col_route route, unsigned status, uint64_t ns)
{
    if ((unsigned)route >= COL_ROUTE_COUNT)
        route = COL_ROUTE_UNKNOWN;
    size_t si = NSTATUS - 1;
    for (size_t i = 0; i + 1 < NSTATUS; i++)
        if (statuses[i] == status)
            si = i;
    atomic_fetch_add_explicit(&req_count[route][si], 1, memory_order_relaxed);
    double secs = (double)ns / 1e9;
    size_t b = 0;
    while (b < NBUCKET && secs > buckets[b])
        b++;
    atomic_fetch_add_explicit(&lat_bucket[route][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&lat_sum_ns[route], ns, memory_order_relaxed);
}

void col_metrics_count(enum col_counter c)
{
    if ((unsigned)c < COL_CNT_COUNT)
        atomic_fetch_add_explicit(&counters[c], 1, memory_order_relaxed);
}

/* ---- what Redis knows: the queue and the analyzers' counters ---- */

#define QUEUE_CACHE_NS 1000000000ull
#define LAT_MAX        24

struct queue_view {
    bool up;
    long long length, lag, pending, backlog, dead;
    long long scored, dead_total, batches, apply_us_sum;
    size_t nlat;
    struct {
        double le; /* +Inf as HUGE_VAL */
        long long n;
    } lat[LAT_MAX];
};

/* Shared by the request threads, hence the mutex: one refresh per second, not per scrape. */
static pthread_mutex_t queue_mu = PTHREAD_MUTEX_INITIALIZER;
static struct queue_view queue_cached;
static uint64_t queue_at_ns;

static long long reply_ll(const redisReply *r)
{
    if (r && r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r && r->type == REDIS_REPLY_STRING)
        return strtoll(r->str, NULL, 10);
    return -1;
}

static void group_fields(const redisReply *groups, struct queue_view *q)
{
    for (size_t i = 0; groups->type == REDIS_REPLY_ARRAY && i < groups->elements; i++) {
        const redisReply *g = groups->element[i];
        long long lag = -1, pending = 0;
        bool ours = false;
        for (size_t k = 0; g->type == REDIS_REPLY_ARRAY && k + 1 < g->elements; k += 2) {
            const redisReply *f = g->element[k], *v = g->element[k + 1];
            if (f->type != REDIS_REPLY_STRING)
                continue;
            if (strcmp(f->str, "name") == 0)
                ours = v->type == REDIS_REPLY_STRING && strcmp(v->str, COL_GROUP) == 0;
            else if (strcmp(f->str, "lag") == 0)
                lag = reply_ll(v);
            else if (strcmp(f->str, "pending") == 0)
                pending = reply_ll(v);
        }
        if (ours) {
            q->lag = lag >= 0 ? lag : q->length; /* nil after deletions: err high */
            q->pending = pending;
            q->backlog = q->lag + pending;
        }
    }
}

static void analyzer_fields(const redisReply *h, struct queue_view *q)
{
    for (size_t k = 0; h->type == REDIS_REPLY_ARRAY && k + 1 < h->elements; k += 2) {
        const redisReply *f = h->element[k], *v = h->element[k + 1];
        if (f->type != REDIS_REPLY_STRING)
            continue;
        long long n = reply_ll(v);
        if (strcmp(f->str, "scored") == 0)
            q->scored = n;
        else if (strcmp(f->str, "dead") == 0)
            q->dead_total = n;
        else if (strcmp(f->str, "batches") == 0)
            q->batches = n;
        else if (strcmp(f->str, "apply_us_sum") == 0)
            q->apply_us_sum = n;
        else if (strncmp(f->str, "apply_le:", 9) == 0 && q->nlat < LAT_MAX) {
            char *end;
            double le = strcmp(f->str + 9, "+Inf") == 0 ? HUGE_VAL : strtod(f->str + 9, &end);
            if (le != HUGE_VAL && (end == f->str + 9 || *end))
                continue;
            q->lat[q->nlat].le = le;
            q->lat[q->nlat++].n = n;
        }
    }
}

/* XLEN stream, XINFO GROUPS, XLEN dead, HGETALL stats:analyzer: one pipelined round trip. */
static void queue_read(const struct col_app *app, struct queue_view *q)
{
    memset(q, 0, sizeof *q);
    q->backlog = -1;
    redisContext *c = col_store_context(app);
    if (!c)
        return;
    char dead[COL_PREFIX_MAX + 8], stats[COL_PREFIX_MAX + 32];
    int dl = snprintf(dead, sizeof dead, "%sdead", app->prefix);
    int sl = snprintf(stats, sizeof stats, "%sstats:analyzer", app->prefix);
    size_t klen = strlen(app->stream_key);
    const char *a1[] = {"XLEN", app->stream_key};
    size_t l1[] = {4, klen};
    const char *a2[] = {"XINFO", "GROUPS", app->stream_key};
    size_t l2[] = {5, 6, klen};
    const char *a3[] = {"XLEN", dead};
    size_t l3[] = {4, (size_t)dl};
    const char *a4[] = {"HGETALL", stats};
    size_t l4[] = {7, (size_t)sl};
    if (redisAppendCommandArgv(c, 2, a1, l1) != REDIS_OK ||
        redisAppendCommandArgv(c, 3, a2, l2) != REDIS_OK ||
        redisAppendCommandArgv(c, 2, a3, l3) != REDIS_OK ||
        redisAppendCommandArgv(c, 2, a4, l4) != REDIS_OK) {
        col_store_check(c);
        return;
    }
    redisReply *r[4] = {NULL, NULL, NULL, NULL};
    bool ok = true;
    for (int i = 0; i < 4 && ok; i++)
        ok = redisGetReply(c, (void **)&r[i]) == REDIS_OK && r[i];
    if (ok) {
        q->up = true;
        q->length = r[0]->type == REDIS_REPLY_INTEGER ? r[0]->integer : 0;
        group_fields(r[1], q);
        q->dead = r[2]->type == REDIS_REPLY_INTEGER ? r[2]->integer : 0;
        analyzer_fields(r[3], q);
    } else {
        col_store_check(c);
    }
    for (int i = 0; i < 4; i++)
        if (r[i])
            freeReplyObject(r[i]);
}

static void queue_view_get(const struct col_app *app, struct queue_view *q)
{
    pthread_mutex_lock(&queue_mu);
    uint64_t now = col_now_ns();
    if (!queue_at_ns || now - queue_at_ns >= QUEUE_CACHE_NS) {
        queue_read(app, &queue_cached);
        queue_at_ns = now;
    }
    *q = queue_cached;
    pthread_mutex_unlock(&queue_mu);
}

static int render_analyzer(const struct queue_view *q, struct hk_buf *out)
{
    int rc = hk_buf_printf(
        out,
        "# HELP hearken_analyzer_surveys_scored_total Surveys counted in the rollups by all "
        "analyzers.\n# TYPE hearken_analyzer_surveys_scored_total counter\n"
        "hearken_analyzer_surveys_scored_total %lld\n"
        "# HELP hearken_analyzer_dead_letters_total Entries the analyzers sent to the "
        "dead-letter stream.\n# TYPE hearken_analyzer_dead_letters_total counter\n"
        "hearken_analyzer_dead_letters_total %lld\n"
        "# HELP hearken_analyzer_batches_total Batches committed (rollups + XACK in one step).\n"
        "# TYPE hearken_analyzer_batches_total counter\nhearken_analyzer_batches_total %lld\n"
        "# HELP hearken_analyzer_rollup_write_seconds Time to write one batch's scored records "
        "and rollups.\n# TYPE hearken_analyzer_rollup_write_seconds histogram\n",
        q->scored, q->dead_total, q->batches);
    /* The same buckets on every scrape (analyzer/worker.c writes these bounds; one it wrote
     * that is not here lands in the next larger bucket: coarser, never wrong). */
    static const double an_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                       0.1,   0.25,   0.5,   1,    2.5};
    enum { N_AN_BOUNDS = sizeof an_bounds / sizeof an_bounds[0] };
    long long per[N_AN_BOUNDS + 1] = {0}, cum = 0;
    for (size_t i = 0; i < q->nlat; i++) {
        size_t b = 0;
        while (b < N_AN_BOUNDS && q->lat[i].le > an_bounds[b])
            b++;
        per[b] += q->lat[i].n;
    }
    for (size_t b = 0; b < N_AN_BOUNDS && !rc; b++) {
        cum += per[b];
        rc = hk_buf_printf(out, "hearken_analyzer_rollup_write_seconds_bucket{le=\"%g\"} %lld\n",
                           an_bounds[b], cum);
    }
    cum += per[N_AN_BOUNDS];
    if (!rc)
        rc = hk_buf_printf(out,
                           "hearken_analyzer_rollup_write_seconds_bucket{le=\"+Inf\"} %lld\n"
                           "hearken_analyzer_rollup_write_seconds_sum %.6f\n"
                           "hearken_analyzer_rollup_write_seconds_count %lld\n",
                           cum, (double)q->apply_us_sum / 1e6, cum);
    return rc;
}

int col_metrics_render(const struct col_app *app, struct hk_buf *out)
{
    int rc = 0;
#define PUT(...)                                                                                   \
    do {                                                                                           \
        if (!rc)                                                                                   \
            rc = hk_buf_printf(out, __VA_ARGS__);                                                  \
    } while (0)

    PUT("# HELP hearken_http_requests_total HTTP requests answered, by route and status.\n"
        "# TYPE hearken_http_requests_total counter\n");
    for (size_t r = 0; r < COL_ROUTE_COUNT; r++)
        for (size_t i = 0; i < NSTATUS; i++) {
            uint64_t n = atomic_load_explicit(&req_count[r][i], memory_order_relaxed);
            if (!n)
                continue;
            if (statuses[i])
                PUT("hearken_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n", route_name(r),
                    statuses[i], (unsigned long long)n);
            else
                PUT("hearken_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                    route_name(r), (unsigned long long)n);
        }

    PUT("# HELP hearken_http_request_duration_seconds Time from request headers to answer.\n"
        "# TYPE hearken_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r < COL_ROUTE_COUNT; r++) {
        uint64_t cum = 0, seen = 0;
        for (size_t b = 0; b <= NBUCKET; b++)
            seen += atomic_load_explicit(&lat_bucket[r][b], memory_order_relaxed);
        if (!seen)
            continue;
        for (size_t b = 0; b <= NBUCKET; b++) {
            cum += atomic_load_explicit(&lat_bucket[r][b], memory_order_relaxed);
            if (b < NBUCKET)
                PUT("hearken_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                    route_name(r), buckets[b], (unsigned long long)cum);
            else
                PUT("hearken_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
                    "%llu\n",
                    route_name(r), (unsigned long long)cum);
        }
        PUT("hearken_http_request_duration_seconds_sum{route=\"%s\"} %.9f\n", route_name(r),
            (double)atomic_load_explicit(&lat_sum_ns[r], memory_order_relaxed) / 1e9);
        PUT("hearken_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route_name(r),
            (unsigned long long)cum);
    }

    for (size_t c = 0; c < COL_CNT_COUNT; c++)
        PUT("# HELP %s %s\n# TYPE %s counter\n%s %llu\n", counter_names[c], counter_help[c],
            counter_names[c], counter_names[c],
            (unsigned long long)atomic_load_explicit(&counters[c], memory_order_relaxed));

    struct queue_view q;
    queue_view_get(app, &q);
    PUT("# HELP hearken_redis_up Whether Redis answered the last queue read (cached ~1 s).\n"
        "# TYPE hearken_redis_up gauge\nhearken_redis_up %d\n",
        q.up);
    if (q.up) {
        PUT("# HELP hearken_stream_length Entries in the survey stream.\n"
            "# TYPE hearken_stream_length gauge\nhearken_stream_length %lld\n",
            q.length);
        if (q.backlog >= 0)
            PUT("# HELP hearken_stream_backlog Entries not yet acknowledged by the analyzers "
                "(lag + pending).\n"
                "# TYPE hearken_stream_backlog gauge\nhearken_stream_backlog %lld\n"
                "# HELP hearken_stream_lag Entries never delivered to an analyzer.\n"
                "# TYPE hearken_stream_lag gauge\nhearken_stream_lag %lld\n"
                "# HELP hearken_stream_pending Entries delivered to an analyzer and not yet "
                "acknowledged (XINFO GROUPS pending).\n"
                "# TYPE hearken_stream_pending gauge\nhearken_stream_pending %lld\n",
                q.backlog, q.lag, q.pending);
        PUT("# HELP hearken_dead_letters Entries in the dead-letter stream (XLEN).\n"
            "# TYPE hearken_dead_letters gauge\nhearken_dead_letters %lld\n",
            q.dead);
        rc = rc ? rc : render_analyzer(&q, out);
    }
    PUT("# HELP hearken_max_backlog The configured --max-backlog (0: no limit).\n"
        "# TYPE hearken_max_backlog gauge\nhearken_max_backlog %lld\n",
        app->cfg.max_backlog);
#undef PUT
    return rc;
}
