/* The collector's internal interfaces: its configuration, the read-only application state
 * every libmicrohttpd thread shares, and the seams between http.c (routing, limits, error →
 * status), ingest.c / read_api.c (routes), store.c (Redis) and metrics.c.
 *
 * Ownership: struct col_app is built once in main.c before the daemon starts and is read-only
 * while it runs; each request's state (struct col_req) belongs to libmicrohttpd's *req_cls
 * and is freed in the completed callback. */
#ifndef HEARKEN_COLLECTOR_COL_H
#define HEARKEN_COLLECTOR_COL_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hearken/buf.h"
#include "hearken/config.h"
#include "hearken/redis.h"
#include "hearken/survey.h"
#include "hearken/token.h"

#define COL_PREFIX_MAX 64
#define COL_GROUP      "analyzers"

/* Options as read from the table in options.c. */
struct col_config {
    char *listen;
    char *redis_url;
    char *ingest_keys;
    char *manager_keys;
    char *prefix;
    char *link_secret;
    char *scenarios;
    char *log_level;
    size_t max_body;
    size_t max_batch_body;
    size_t connection_memory;
    long long threads;
    long long connection_limit;
    long long per_ip_limit;
    long long timeout;
    long long max_backlog;
    long long redis_timeout_ms;
    long long drain_timeout;
    char *public_url;
    char *client_ip_header;
    bool redact;
    long long form_rate, form_burst; /* per client address, per minute; 0: no limit */
    long long links_rate, links_burst;
    char *dashboard_dir; /* holds node_modules/ with the chart library (dashboard.c) */
};

extern const struct hk_cfg_opt col_options[];
extern const size_t col_noptions;

/* Bearer keys, kept only as SHA-256 digests so comparison is constant-time whatever the
 * length of what a client sends. */
struct col_keys {
    size_t n;
    unsigned char (*digest)[32];
};
/* Comma-separated keys; empty entries are skipped. HK_ERR_NOMEM or 0. */
int col_keys_parse(struct col_keys *k, const char *csv);
void col_keys_free(struct col_keys *k);
/* True when key (len bytes) is one of k, checked against every key in constant time. */
bool col_keys_match(const struct col_keys *k, const char *key, size_t len);

struct col_ratelimit; /* ratelimit.c */
struct col_writer;    /* writer.c */
struct col_i18n;      /* i18n.c */
struct col_lang;

struct col_app {
    struct col_config cfg;
    struct hk_redis_url redis;
    struct hk_scenarios scenarios;
    struct col_keys ingest_keys, manager_keys;
    char prefix[COL_PREFIX_MAX + 1];
    char stream_key[COL_PREFIX_MAX + 16];
    struct hk_token_keys link_keys; /* HEARKEN_LINK_SECRET: the first signs, all verify */
    char public_url[512];           /* no trailing slash */
    struct col_ratelimit *form_limiter, *links_limiter; /* NULL: no limit */
    struct col_i18n *i18n;                              /* the form's texts per language */
    struct col_writer *writer; /* main.c; NULL: each thread writes to Redis itself */
};

/* Parses the options and builds app; returns 0, 1 for --help, or HK_ERR_INVALID with the
 * message in err. col_app_free releases what it holds. */
int col_app_init(struct col_app *app, int argc, char **argv, char *err, size_t errlen);
void col_app_free(struct col_app *app);

/* ---- http.c ---- */

enum col_route {
    COL_ROUTE_UNKNOWN,
    COL_ROUTE_SURVEYS,
    COL_ROUTE_SURVEY_GET,
    COL_ROUTE_ROLLUPS,
    COL_ROUTE_HEALTHZ,
    COL_ROUTE_READYZ,
    COL_ROUTE_METRICS,
    COL_ROUTE_BATCH,         /* POST /v1/surveys/batch */
    COL_ROUTE_LINKS,         /* POST /v1/links */
    COL_ROUTE_FORM,          /* GET, POST /s/{token}: the customer's survey form */
    COL_ROUTE_STATIC,        /* GET /static/{name}: form.css */
    COL_ROUTE_TRENDS,        /* GET /v1/trends */
    COL_ROUTE_IMPACT,        /* GET /v1/impact */
    COL_ROUTE_COACHING,      /* GET /v1/coaching */
    COL_ROUTE_SURVEY_LIST,   /* GET /v1/surveys: recent scored surveys (comment explorer) */
    COL_ROUTE_DASHBOARD,     /* GET /dashboard: the managers' page (no data in it) */
    COL_ROUTE_DASHBOARD_LIB, /* GET /dashboard/lib/{name}: the chart library, from disk */
    COL_ROUTE_COUNT
};

/* One request's state, in *req_cls. */
struct col_req {
    const struct col_app *app;
    struct MHD_Connection *conn;
    enum col_route route;
    const char *path_arg;        /* the {id} in /v1/surveys/{id}; points into libmicrohttpd's url */
    const char *method;          /* libmicrohttpd's, valid for the request */
    const struct col_lang *lang; /* the form's language once a link was read; NULL: English */
    struct hk_buf body;
    bool too_large;   /* the body passed its cap while streaming in; the rest is dropped */
    size_t discarded; /* bytes dropped since */
    uint64_t start_ns;
    unsigned status;     /* 0 until a response is queued */
    struct col_job *job; /* POST /v1/surveys while its survey is with the writer (ingest.c) */
};

struct col_server;
struct col_server *col_server_start(const struct col_app *app, char *err, size_t errlen);
/* Stops accepting, waits up to drain_ms for in-flight requests, then stops the daemon. */
void col_server_stop(struct col_server *s, int drain_ms);

/* Answer helpers: each queues the response, destroys it and records the status. */
int col_respond_json(struct col_req *r, unsigned status, const char *body, size_t len);
int col_respond_text(struct col_req *r, unsigned status, const char *ctype, const char *body,
                     size_t len);
/* The one place HK_ERR_* becomes an HTTP status. fe may be NULL (a generic message is used);
 * extra, when not NULL, is a JSON member appended to the error object ("\"id\":\"…\""). */
int col_respond_error(struct col_req *r, int err, const struct hk_field_error *fe,
                      const char *extra);
/* The status col_respond_error answers for err (for per-item statuses, as in the batch). */
unsigned col_err_status(int err);
/* A 400 naming a query parameter. */
int col_respond_bad_param(struct col_req *r, const char *param, const char *message);
/* An HTML page with the security headers (CSP without inline script or style, nosniff,
 * no-referrer, no-store, DENY); the status is err's as in col_respond_error (0: 200), with its
 * Retry-After when there is one. */
int col_respond_page(struct col_req *r, int err, const char *html, size_t len);
/* The dashboard's page: like col_respond_page but its CSP allows our own script and
 * same-origin fetches (script-src 'self'; connect-src 'self'), still nothing inline. */
int col_respond_dashboard(struct col_req *r, const char *html, size_t len);
/* 200 with a Content-Disposition: attachment; filename="filename" (a plain name). */
int col_respond_download(struct col_req *r, const char *ctype, const char *filename,
                         const char *body, size_t len);
/* 429 with Retry-After: seconds (a page on the form's routes, JSON elsewhere). */
int col_respond_limited(struct col_req *r, unsigned retry_after_s);
/* The friendly page every error on COL_ROUTE_FORM becomes (survey_form.c); code is the
 * error code col_respond_error chose ("expired", "duplicate", "rate_limited", ...). */
int col_form_error_page(const struct col_req *r, const char *code, struct hk_buf *out);

/* ---- routes (ingest.c, read_api.c) ---- */

/* May return 0 with nothing queued: the survey is with the writer and the connection
 * suspended; libmicrohttpd calls the handler again once the writer resumes it (r->job). */
int col_ingest_or_respond(struct col_req *r);
int col_batch_or_respond(struct col_req *r);
int col_links_or_respond(struct col_req *r);
int col_form_or_respond(struct col_req *r);
int col_static_or_respond(struct col_req *r);
/* 0 when not limited; else the 429 is queued (1) or could not be (< 0). */
int col_ratelimit_or_respond(struct col_req *r, struct col_ratelimit *rl);
int col_survey_get_or_respond(struct col_req *r);
int col_rollups_or_respond(struct col_req *r);
int col_trends_or_respond(struct col_req *r);        /* read_trends.c */
int col_impact_or_respond(struct col_req *r);        /* read_impact.c */
int col_coaching_or_respond(struct col_req *r);      /* read_coaching.c */
int col_survey_list_or_respond(struct col_req *r);   /* read_comments.c */
int col_dashboard_or_respond(struct col_req *r);     /* dashboard.c */
int col_dashboard_lib_or_respond(struct col_req *r); /* dashboard.c */

/* ---- read_common.c: what the read routes share ---- */
/* from/to (YYYY-MM-DD, UTC) with to defaulting to today and from to default_days - 1 before
 * to; at most HK_ROLLUP_MAX_DAYS. 0: set; 1: the 400 is queued; < 0: it could not be. */
int col_window_or_respond(struct col_req *r, int default_days, int64_t *from, int64_t *to);
/* Query parameter name as an id ([A-Za-z0-9._:@-], 1..128), or NULL when absent or empty.
 * *bad is set when present but not an id. */
const char *col_id_param(struct col_req *r, const char *name, bool *bad);
/* True when the client asked for CSV: ?format=csv, or Accept: text/csv without ?format. */
bool col_wants_csv(struct col_req *r);
/* Sends json (a complete answer) as JSON, or as CSV of its rows_member array when the
 * client asked for it (name: the download's file name without .csv). */
int col_respond_table(struct col_req *r, const struct hk_buf *json, const char *rows_member,
                      const char *name);
int col_healthz_or_respond(struct col_req *r);
int col_readyz_or_respond(struct col_req *r);
int col_metrics_or_respond(struct col_req *r);

/* ---- store.c: Redis, one context per libmicrohttpd thread ---- */

/* The ingest script's outcome. */
struct col_ingest_result {
    char id[64]; /* new stream id, or the existing one for a duplicate */
};
/* One survey for the batch ingest script (col_store_ingest_many): iid and json in, rc and
 * res out (rc as col_store_ingest's). */
struct col_store_item {
    const char *iid;
    const char *json;
    size_t len;
    int rc;
    struct col_ingest_result res;
};
/* The one ingest path of the API, the batch and the form (ingest.c): redacts the comment
 * (unless --no-redact), writes the canonical JSON and runs the atomic ingest script; counts
 * the outcome. 0, HK_ERR_DUPLICATE, HK_ERR_BUSY, HK_ERR_UNAVAILABLE, HK_ERR_NOMEM. */
int col_ingest_store(const struct col_app *app, struct hk_survey *s, struct col_ingest_result *out);
/* 0 (stored), HK_ERR_DUPLICATE, HK_ERR_BUSY, HK_ERR_UNAVAILABLE. */
int col_store_ingest(const struct col_app *app, const char *iid, const char *json, size_t len,
                     struct col_ingest_result *out);
/* Stores n surveys in one round trip: one script call that dedupes and appends each in turn
 * (each survey atomic, the backlog read once). Sets every item's rc; returns 0, or
 * HK_ERR_UNAVAILABLE when Redis could not be asked (then every item's rc says so too). */
int col_store_ingest_many(const struct col_app *app, struct col_store_item *items, size_t n);
int col_store_ping(const struct col_app *app);
/* This thread's live context, or NULL while Redis is unreachable (backoff in progress). */
redisContext *col_store_context(const struct col_app *app);
/* After a failed call on the context from col_store_context: drops it if it is dead. */
void col_store_check(redisContext *c);
/* Creates the consumer group (ignoring BUSYGROUP) and loads the script; called on connect. */
int col_store_prepare(const struct col_app *app, redisContext *c, char sha[41]);
/* Frees this thread's context (also done automatically at thread exit). */
void col_store_thread_close(void);
void col_store_global_init(void);

/* ---- writer.c: one thread per process that group-commits surveys to Redis ---- */

/* A survey on its way to Redis: the canonical JSON in, the script's outcome out. */
struct col_job {
    struct col_job *next;
    char iid[HK_ID_MAX + 1];
    struct hk_buf json;
    struct MHD_Connection *conn; /* suspended, resumed once rc is set; NULL: a waiter */
    int rc;                      /* as col_store_ingest's, set by the writer */
    bool done;
    struct col_ingest_result res;
};

/* Starts the thread; it connects to Redis (with backoff) on its own. NULL on failure. */
struct col_writer *col_writer_start(const struct col_app *app, char *err, size_t errlen);
/* Suspends job->conn and queues job; the writer resumes the connection once job->rc is set.
 * Must be called from libmicrohttpd's handler. HK_ERR_UNAVAILABLE (nothing suspended) once
 * the writer is stopping. */
int col_writer_submit_suspend(struct col_writer *w, struct col_job *job);
/* Queues job and waits for its outcome (the batch and the form); returns job->rc. */
int col_writer_submit_wait(struct col_writer *w, struct col_job *job);
/* Refuses new jobs, writes and answers every queued one, joins the thread. */
void col_writer_stop(struct col_writer *w);
void col_writer_destroy(struct col_writer *w);
/* Frees a job of col_ingest_or_respond (http.c, when its request ends). NULL is fine. */
void col_ingest_job_free(struct col_job *job);

/* ---- metrics.c ---- */

enum col_counter {
    COL_CNT_SURVEYS_ACCEPTED,
    COL_CNT_SURVEYS_DUPLICATE,
    COL_CNT_SURVEYS_INVALID,
    COL_CNT_SURVEYS_BUSY,
    COL_CNT_REDIS_CONNECTS,
    COL_CNT_REDIS_CONNECT_FAILURES,
    COL_CNT_REDIS_ERRORS,
    COL_CNT_LINKS_MINTED,
    COL_CNT_RATE_LIMITED,
    COL_CNT_COMMENTS_REDACTED,
    COL_CNT_COUNT
};
void col_metrics_observe(enum col_route route, unsigned status, uint64_t ns);
void col_metrics_count(enum col_counter c);
int col_metrics_render(const struct col_app *app, struct hk_buf *out);
uint64_t col_now_ns(void);

#endif
