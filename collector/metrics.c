/* Prometheus metrics for the collector: lock-free atomic counters shared by all HTTP threads
 * (requests by route and status, a latency histogram per route, ingest outcomes, Redis
 * connects), plus stream length and backlog read from Redis at scrape time. */
#include "col.h"

#include "hearken/err.h"

#include <stdatomic.h>
#include <time.h>

/* Designated, so a route added to enum col_route cannot shift the others' names. */
static const char *const route_names[COL_ROUTE_COUNT] = {
    [COL_ROUTE_UNKNOWN] = "unknown",       [COL_ROUTE_SURVEYS] = "surveys",
    [COL_ROUTE_SURVEY_GET] = "survey_get", [COL_ROUTE_ROLLUPS] = "rollups",
    [COL_ROUTE_HEALTHZ] = "healthz",       [COL_ROUTE_READYZ] = "readyz",
    [COL_ROUTE_METRICS] = "metrics",       [COL_ROUTE_BATCH] = "surveys_batch",
    [COL_ROUTE_LINKS] = "links",           [COL_ROUTE_FORM] = "form",
    [COL_ROUTE_STATIC] = "static",
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

    long long length = -1, backlog = -1;
    int up = col_store_stream_stats(app, &length, &backlog) == 0;
    PUT("# HELP hearken_redis_up Whether this scrape could reach Redis.\n"
        "# TYPE hearken_redis_up gauge\nhearken_redis_up %d\n",
        up);
    if (up && length >= 0)
        PUT("# HELP hearken_stream_length Entries in the survey stream.\n"
            "# TYPE hearken_stream_length gauge\nhearken_stream_length %lld\n",
            length);
    if (up && backlog >= 0)
        PUT("# HELP hearken_stream_backlog Entries not yet acknowledged by the analyzers "
            "(lag + pending).\n"
            "# TYPE hearken_stream_backlog gauge\nhearken_stream_backlog %lld\n",
            backlog);
    PUT("# HELP hearken_max_backlog The configured --max-backlog (0: no limit).\n"
        "# TYPE hearken_max_backlog gauge\nhearken_max_backlog %lld\n",
        app->cfg.max_backlog);
#undef PUT
    return rc;
}
