/* The collector's HTTP layer on libmicrohttpd: daemon limits, routing, request smuggling and
 * auth checks, the streaming body cap, and the one mapping from HK_ERR_* to HTTP statuses.
 * It never looks inside a survey; routes in ingest.c and read_api.c do. */
#include "col.h"

#include "hearken/err.h"
#include "hearken/log.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RETRY_AFTER_UNAVAILABLE "2"
#define RETRY_AFTER_BUSY        "5"
#define RETRY_AFTER_LIMITED     "60"       /* col_respond_limited says exactly when */
#define DRAIN_MAX               (1u << 20) /* body bytes read and dropped past the cap before closing */

struct col_server {
    struct MHD_Daemon *d;
    const struct col_app *app;
    long long soft_limit;         /* above it the handler answers 503 itself */
    _Atomic long long open_conns; /* connections libmicrohttpd holds open */
    _Atomic long long inflight;   /* requests between first callback and completion */
};

/* ---- answers ---- */

static int queue(struct col_req *r, unsigned status, struct MHD_Response *resp)
{
    if (!resp)
        return HK_ERR_NOMEM;
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ok = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    if (ok != MHD_YES)
        return HK_ERR_IO;
    r->status = status;
    return 0;
}

static struct MHD_Response *make_response(const char *ctype, const char *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp && ctype)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    return resp;
}

int col_respond_text(struct col_req *r, unsigned status, const char *ctype, const char *body,
                     size_t len)
{
    return queue(r, status, make_response(ctype, body, len));
}

int col_respond_json(struct col_req *r, unsigned status, const char *body, size_t len)
{
    return queue(r, status, make_response("application/json", body, len));
}

/* Every HTML page: no script at all, styles only from our own files, never framed. */
#define PAGE_CSP                                                                                   \
    "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; "                  \
    "frame-ancestors 'none'"

/* The dashboard: our own script and same-origin API calls; still nothing inline. */
#define DASHBOARD_CSP                                                                              \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"

static struct MHD_Response *make_page_csp(const char *body, size_t len, const char *csp)
{
    struct MHD_Response *resp = make_response("text/html; charset=utf-8", body, len);
    if (resp) {
        MHD_add_response_header(resp, "Content-Security-Policy", csp);
        MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    }
    return resp;
}

static struct MHD_Response *make_page(const char *body, size_t len)
{
    return make_page_csp(body, len, PAGE_CSP);
}

/* On the survey form's routes an error is a page in the customer's language, not JSON. */
static int respond_page_error(struct col_req *r, unsigned status, const char *code,
                              const char *header, const char *value, bool close_conn)
{
    struct hk_buf b;
    hk_buf_init(&b, 64 * 1024);
    int rc = col_form_error_page(r, code, &b);
    struct MHD_Response *resp = rc ? NULL : make_page(b.data, b.len);
    hk_buf_free(&b);
    if (rc)
        return rc;
    if (resp && header)
        MHD_add_response_header(resp, header, value);
    if (resp && close_conn)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    return queue(r, status, resp);
}

/* An error answer; header/value add one header (Allow, Retry-After, ...) when not NULL.
 * close_conn: the request body was not (fully) read, so the connection cannot be reused. */
static int respond_error(struct col_req *r, unsigned status, const char *code, const char *field,
                         const char *message, const char *extra, const char *header,
                         const char *value, bool close_conn)
{
    struct hk_field_error fe;
    struct hk_buf b;
    if (r->route == COL_ROUTE_FORM)
        return respond_page_error(r, status, code, header, value, close_conn);
    snprintf(fe.code, sizeof fe.code, "%s", code);
    snprintf(fe.field, sizeof fe.field, "%s", field ? field : "");
    snprintf(fe.message, sizeof fe.message, "%s", message);
    hk_buf_init(&b, 4096);
    int rc = hk_field_error_to_json(&fe, &b);
    if (!rc && extra) { /* splice "extra" into the error object: {"error":{…,extra}} */
        b.len -= 2;
        b.data[b.len] = '\0';
        if (!(rc = hk_buf_append_char(&b, ',')) && !(rc = hk_buf_append_str(&b, extra)))
            rc = hk_buf_append_str(&b, "}}");
    }
    if (rc) {
        hk_buf_free(&b);
        return rc;
    }
    struct MHD_Response *resp = make_response("application/json", b.data, b.len);
    hk_buf_free(&b);
    if (resp && header)
        MHD_add_response_header(resp, header, value);
    if (resp && close_conn)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    return queue(r, status, resp);
}

struct err_answer {
    unsigned status;
    const char *code, *message, *header, *value;
};

static struct err_answer err_answer(int err)
{
    switch (err) {
    case HK_ERR_INVALID:
        return (struct err_answer){MHD_HTTP_BAD_REQUEST, "invalid", "the request is not valid",
                                   NULL, NULL};
    case HK_ERR_DUPLICATE:
        return (struct err_answer){MHD_HTTP_CONFLICT, "duplicate",
                                   "a survey for this interaction_id was already received", NULL,
                                   NULL};
    case HK_ERR_TOO_LARGE:
        return (struct err_answer){MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
                                   "the request body is larger than allowed", NULL, NULL};
    case HK_ERR_UNAVAILABLE:
        return (struct err_answer){MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                                   "storage is unreachable; retry later",
                                   MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER_UNAVAILABLE};
    case HK_ERR_BUSY:
        return (struct err_answer){MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
                                   "too many surveys wait for analysis; retry later",
                                   MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER_BUSY};
    case HK_ERR_NOT_FOUND:
        return (struct err_answer){MHD_HTTP_NOT_FOUND, "not_found", "not found", NULL, NULL};
    case HK_ERR_AUTH:
        return (struct err_answer){MHD_HTTP_FORBIDDEN, "forbidden", "this key may not do that",
                                   NULL, NULL};
    case HK_ERR_EXPIRED:
        return (struct err_answer){MHD_HTTP_GONE, "expired", "this link has expired", NULL, NULL};
    case HK_ERR_LIMITED:
        return (struct err_answer){MHD_HTTP_TOO_MANY_REQUESTS, "rate_limited",
                                   "too many requests from this address; retry later",
                                   MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER_LIMITED};
    default:
        return (struct err_answer){MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "internal error",
                                   NULL, NULL};
    }
}

unsigned col_err_status(int err)
{
    return err_answer(err).status;
}

int col_respond_error(struct col_req *r, int err, const struct hk_field_error *fe,
                      const char *extra)
{
    struct err_answer a = err_answer(err);
    const char *code = a.code, *field = NULL, *message = a.message;
    if (fe && fe->code[0]) {
        code = fe->code;
        field = fe->field;
        message = fe->message;
    }
    return respond_error(r, a.status, code, field, message, extra, a.header, a.value, false);
}

int col_respond_page(struct col_req *r, int err, const char *html, size_t len)
{
    struct err_answer a = {MHD_HTTP_OK, NULL, NULL, NULL, NULL};
    if (err)
        a = err_answer(err);
    struct MHD_Response *resp = make_page(html, len);
    if (resp && a.header)
        MHD_add_response_header(resp, a.header, a.value);
    return queue(r, a.status, resp);
}

int col_respond_dashboard(struct col_req *r, const char *html, size_t len)
{
    return queue(r, MHD_HTTP_OK, make_page_csp(html, len, DASHBOARD_CSP));
}

int col_respond_download(struct col_req *r, const char *ctype, const char *filename,
                         const char *body, size_t len)
{
    char cd[160];
    snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", filename);
    struct MHD_Response *resp = make_response(ctype, body, len);
    if (resp)
        MHD_add_response_header(resp, "Content-Disposition", cd);
    return queue(r, MHD_HTTP_OK, resp);
}

int col_respond_limited(struct col_req *r, unsigned retry_after_s)
{
    struct err_answer a = err_answer(HK_ERR_LIMITED);
    char v[16];
    snprintf(v, sizeof v, "%u", retry_after_s);
    return respond_error(r, a.status, a.code, NULL, a.message, NULL, a.header, v, true);
}

int col_respond_bad_param(struct col_req *r, const char *param, const char *message)
{
    return respond_error(r, MHD_HTTP_BAD_REQUEST, "invalid_parameter", param, message, NULL, NULL,
                         NULL, false);
}

/* ---- request checks ---- */

/* rc of a respond call → "answered" (1) or the failure (< 0). */
static int answered(int rc)
{
    return rc < 0 ? rc : 1;
}

struct header_counts {
    int content_length, transfer_encoding;
    const char *te_value;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    struct header_counts *h = cls;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        h->content_length++;
    else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        h->transfer_encoding++;
        h->te_value = value;
    }
    return MHD_YES;
}

/* libmicrohttpd 0.9.75 lets these through; a proxy in front may frame the body differently
 * than we do (request smuggling), so refuse them outright. */
static bool framing_ambiguous(struct MHD_Connection *c)
{
    struct header_counts h = {0, 0, NULL};
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, &h);
    if (h.content_length > 1 || h.transfer_encoding > 1)
        return true;
    if (h.content_length && h.transfer_encoding)
        return true;
    return h.transfer_encoding && (!h.te_value || strcasecmp(h.te_value, "chunked") != 0);
}

/* Paths that name one route exactly; the rest (with an id or token in them) are matched below. */
static const struct {
    const char *path;
    enum col_route route;
} exact_routes[] = {
    {"/v1/surveys/batch", COL_ROUTE_BATCH}, {"/v1/links", COL_ROUTE_LINKS},
    {"/v1/rollups", COL_ROUTE_ROLLUPS},     {"/v1/trends", COL_ROUTE_TRENDS},
    {"/v1/impact", COL_ROUTE_IMPACT},       {"/v1/coaching", COL_ROUTE_COACHING},
    {"/dashboard", COL_ROUTE_DASHBOARD},    {"/dashboard/", COL_ROUTE_DASHBOARD},
    {"/healthz", COL_ROUTE_HEALTHZ},        {"/readyz", COL_ROUTE_READYZ},
    {"/metrics", COL_ROUTE_METRICS},
};

static enum col_route route_match(const char *url, const char *method, const char **arg)
{
    static const char surveys[] = "/v1/surveys";
    *arg = NULL;
    for (size_t i = 0; i < sizeof exact_routes / sizeof exact_routes[0]; i++)
        if (strcmp(url, exact_routes[i].path) == 0)
            return exact_routes[i].route;
    if (strcmp(url, surveys) == 0) /* POST sends one; GET lists recent ones */
        return strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0
                   ? COL_ROUTE_SURVEY_LIST
                   : COL_ROUTE_SURVEYS;
    if (strncmp(url, "/s/", 3) == 0 && url[3] && !strchr(url + 3, '/')) {
        *arg = url + 3; /* the token */
        return COL_ROUTE_FORM;
    }
    if (strncmp(url, "/static/", 8) == 0 && url[8] && !strstr(url + 8, "..")) {
        *arg = url + 8;
        return COL_ROUTE_STATIC;
    }
    if (strncmp(url, surveys, sizeof surveys - 1) == 0 && url[sizeof surveys - 1] == '/') {
        const char *id = url + sizeof surveys;
        if (!*id || strchr(id, '/') || strcmp(id, "batch") == 0)
            return COL_ROUTE_UNKNOWN;
        *arg = id;
        return COL_ROUTE_SURVEY_GET;
    }
    if (strncmp(url, "/dashboard/lib/", 15) == 0 && url[15] && !strchr(url + 15, '/')) {
        *arg = url + 15;
        return COL_ROUTE_DASHBOARD_LIB;
    }
    return COL_ROUTE_UNKNOWN;
}

static const char *route_allow(enum col_route route)
{
    if (route == COL_ROUTE_FORM || route == COL_ROUTE_SURVEYS)
        return "GET, HEAD, POST";
    return route == COL_ROUTE_SURVEYS || route == COL_ROUTE_BATCH || route == COL_ROUTE_LINKS
               ? "POST"
               : "GET, HEAD";
}

static bool method_allowed(enum col_route route, const char *method)
{
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    bool get =
        strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    switch (route) {
    case COL_ROUTE_SURVEYS:
    case COL_ROUTE_BATCH:
    case COL_ROUTE_LINKS:
        return post;
    case COL_ROUTE_FORM:
        return get || post;
    default:
        return get;
    }
}

/* 0: key accepted; 1: the 401/403 is queued; < 0: it could not be queued. */
static int auth_or_respond(struct col_req *r, const struct col_keys *keys)
{
    const char *h =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    size_t n = 0;
    if (h && strncasecmp(h, "Bearer ", 7) == 0) {
        h += 7;
        while (*h == ' ')
            h++;
        n = strlen(h);
        while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
            n--;
    }
    if (!n)
        return answered(respond_error(
            r, MHD_HTTP_UNAUTHORIZED, "unauthorized", NULL, "send Authorization: Bearer KEY", NULL,
            MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"hearken\"", true));
    if (!col_keys_match(keys, h, n))
        return answered(respond_error(r, MHD_HTTP_FORBIDDEN, "forbidden", NULL,
                                      "this key is not accepted here", NULL, NULL, NULL, true));
    return 0;
}

/* The media type want, optionally with charset=utf-8. */
static bool media_type_is(const char *ct, const char *want)
{
    size_t wlen = strlen(want);
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    if (strncasecmp(ct, want, wlen) != 0)
        return false;
    const char *p = ct + wlen;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p)
        return true;
    if (*p != ';')
        return false;
    p++;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncasecmp(p, "charset=", 8) != 0)
        return false;
    p += 8;
    bool quoted = *p == '"';
    p += quoted;
    if (strncasecmp(p, "utf-8", 5) != 0)
        return false;
    p += 5;
    if (quoted && *p++ != '"')
        return false;
    while (*p == ' ' || *p == '\t')
        p++;
    return *p == '\0';
}

static bool content_type_json(const char *ct)
{
    return media_type_is(ct, "application/json");
}

/* NDJSON goes by several names; all mean one JSON value a line. */
static bool content_type_ndjson(const char *ct)
{
    return media_type_is(ct, "application/x-ndjson") || media_type_is(ct, "application/jsonl") ||
           media_type_is(ct, "application/json-lines") ||
           media_type_is(ct, "application/x-jsonlines");
}

/* Announced Content-Length, or -1 when absent; -2 when not a plain decimal number. */
static long long content_length(struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!v)
        return -1;
    long long n = 0;
    if (!*v)
        return -2;
    for (; *v; v++) {
        if (*v < '0' || *v > '9' || n > (1LL << 50))
            return -2;
        n = n * 10 + (*v - '0');
    }
    return n;
}

/* Everything that can be decided from the headers alone. 0: go on reading the body. */
static int begin_or_respond(struct col_server *srv, struct col_req *r, const char *method)
{
    const struct col_app *app = srv->app;
    int rc;
    if (framing_ambiguous(r->conn))
        return answered(
            respond_error(r, MHD_HTTP_BAD_REQUEST, "bad_request", NULL,
                          "ambiguous framing: repeated Content-Length, Content-Length with "
                          "Transfer-Encoding, or a Transfer-Encoding other than chunked",
                          NULL, NULL, NULL, true));
    if (atomic_load(&srv->open_conns) > srv->soft_limit)
        return answered(respond_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "overloaded", NULL,
                                      "too many open connections; retry later", NULL,
                                      MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER_UNAVAILABLE, true));
    if (r->route == COL_ROUTE_UNKNOWN)
        return answered(respond_error(r, MHD_HTTP_NOT_FOUND, "not_found", NULL, "no such path",
                                      NULL, NULL, NULL, true));
    if (!method_allowed(r->route, method))
        return answered(respond_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", NULL,
                                      "this path does not take that method", NULL,
                                      MHD_HTTP_HEADER_ALLOW, route_allow(r->route), true));

    size_t cap = app->cfg.max_body;
    switch (r->route) {
    case COL_ROUTE_SURVEYS:
        if ((rc = auth_or_respond(r, &app->ingest_keys)))
            return rc;
        if (!content_type_json(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                           MHD_HTTP_HEADER_CONTENT_TYPE)))
            return answered(
                respond_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", NULL,
                              "send Content-Type: application/json", NULL, NULL, NULL, true));
        break;
    case COL_ROUTE_SURVEY_GET:
    case COL_ROUTE_ROLLUPS:
    case COL_ROUTE_TRENDS:
    case COL_ROUTE_IMPACT:
    case COL_ROUTE_COACHING:
    case COL_ROUTE_SURVEY_LIST:
        if ((rc = auth_or_respond(r, &app->manager_keys)))
            return rc;
        break;
    case COL_ROUTE_BATCH:
        if ((rc = auth_or_respond(r, &app->ingest_keys)))
            return rc;
        if (!content_type_ndjson(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                             MHD_HTTP_HEADER_CONTENT_TYPE)))
            return answered(
                respond_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", NULL,
                              "send Content-Type: application/x-ndjson", NULL, NULL, NULL, true));
        cap = app->cfg.max_batch_body;
        break;
    case COL_ROUTE_LINKS: /* limited before auth: guessing keys costs a bucket too */
        if ((rc = col_ratelimit_or_respond(r, app->links_limiter)) ||
            (rc = auth_or_respond(r, &app->ingest_keys)))
            return rc;
        if (!content_type_json(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                           MHD_HTTP_HEADER_CONTENT_TYPE)))
            return answered(
                respond_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", NULL,
                              "send Content-Type: application/json", NULL, NULL, NULL, true));
        break;
    case COL_ROUTE_FORM:
        if ((rc = col_ratelimit_or_respond(r, app->form_limiter)))
            return rc;
        if (strcmp(method, MHD_HTTP_METHOD_POST) == 0 &&
            !media_type_is(
                MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
                "application/x-www-form-urlencoded"))
            return answered(respond_error(
                r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", NULL,
                "send Content-Type: application/x-www-form-urlencoded", NULL, NULL, NULL, true));
        break;
    default:
        break;
    }
    long long cl = content_length(r->conn);
    if (cl == -2)
        return answered(respond_error(r, MHD_HTTP_BAD_REQUEST, "bad_request", NULL,
                                      "Content-Length must be a decimal number", NULL, NULL, NULL,
                                      true));
    if (cl > (long long)cap) /* refuse before reading a byte of it */
        return answered(col_respond_error(r, HK_ERR_TOO_LARGE, NULL, NULL));
    hk_buf_init(&r->body, cap);
    return 0;
}

static int dispatch_or_respond(struct col_req *r)
{
    switch (r->route) {
    case COL_ROUTE_SURVEYS:
        return col_ingest_or_respond(r);
    case COL_ROUTE_SURVEY_GET:
        return col_survey_get_or_respond(r);
    case COL_ROUTE_ROLLUPS:
        return col_rollups_or_respond(r);
    case COL_ROUTE_HEALTHZ:
        return col_healthz_or_respond(r);
    case COL_ROUTE_READYZ:
        return col_readyz_or_respond(r);
    case COL_ROUTE_METRICS:
        return col_metrics_or_respond(r);
    case COL_ROUTE_BATCH:
        return col_batch_or_respond(r);
    case COL_ROUTE_LINKS:
        return col_links_or_respond(r);
    case COL_ROUTE_FORM:
        return col_form_or_respond(r);
    case COL_ROUTE_STATIC:
        return col_static_or_respond(r);
    case COL_ROUTE_TRENDS:
        return col_trends_or_respond(r);
    case COL_ROUTE_IMPACT:
        return col_impact_or_respond(r);
    case COL_ROUTE_COACHING:
        return col_coaching_or_respond(r);
    case COL_ROUTE_SURVEY_LIST:
        return col_survey_list_or_respond(r);
    case COL_ROUTE_DASHBOARD:
        return col_dashboard_or_respond(r);
    case COL_ROUTE_DASHBOARD_LIB:
        return col_dashboard_lib_or_respond(r);
    default:
        return col_respond_error(r, HK_ERR_NOT_FOUND, NULL, NULL);
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    (void)version;
    struct col_server *srv = cls;
    struct col_req *r = *req_cls;

    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        *req_cls = r;
        atomic_fetch_add(&srv->inflight, 1);
        r->app = srv->app;
        r->conn = conn;
        r->method = method;
        r->start_ns = col_now_ns();
        r->route = route_match(url, method, &r->path_arg);
        hk_buf_init(&r->body, 0);
        int rc = begin_or_respond(srv, r, method);
        return rc < 0 ? MHD_NO : MHD_YES;
    }

    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->status) /* already answered: drop the rest */
            return MHD_YES;
        if (!r->too_large) {
            int rc = hk_buf_append(&r->body, upload_data, n);
            if (rc != HK_ERR_TOO_LARGE)
                return rc ? MHD_NO : MHD_YES;
            /* Past the cap (a chunked body; Content-Length was checked up front). 0.9.75
             * cannot queue an answer mid-body, so nothing more is kept, a bounded tail is
             * drained to answer 413 at its end, and a longer one gets the connection closed. */
            r->too_large = true;
            hk_buf_free(&r->body);
        }
        r->discarded += n;
        return r->discarded > DRAIN_MAX ? MHD_NO : MHD_YES;
    }

    if (r->too_large)
        return respond_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", NULL,
                             "the request body is larger than allowed", NULL, NULL, NULL, true)
                   ? MHD_NO
                   : MHD_YES;
    if (r->status)
        return MHD_YES;
    return dispatch_or_respond(r) < 0 && !r->status ? MHD_NO : MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    struct col_server *srv = cls;
    struct col_req *r = *req_cls;
    if (!r)
        return;
    uint64_t ns = col_now_ns() - r->start_ns;
    col_metrics_observe(r->route, r->status, ns);
    hk_log(HK_LOG_DEBUG, "request", "route=%d status=%u us=%llu term=%d", (int)r->route, r->status,
           (unsigned long long)(ns / 1000), (int)toe);
    hk_buf_free(&r->body);
    col_ingest_job_free(r->job);
    free(r);
    *req_cls = NULL;
    atomic_fetch_sub(&srv->inflight, 1);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)conn;
    (void)socket_context;
    struct col_server *srv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add(&srv->open_conns, 1);
    else
        atomic_fetch_sub(&srv->open_conns, 1);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (msg[i] == '"')
            msg[i] = '\'';
    /* 0.9.75 says this even when the logger is the first option */
    bool noise = strstr(msg, "MHD_OPTION_EXTERNAL_LOGGER is not the first") != NULL;
    hk_log(noise ? HK_LOG_DEBUG : HK_LOG_WARN, "http_library", "message=\"%s\"", msg);
}

/* "host:port" or "[v6]:port" → a socket address. */
static int listen_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen, bool *ipv6,
                       char *err, size_t errlen)
{
    char host[256];
    const char *port;
    if (spec[0] == '[') {
        const char *rb = strchr(spec, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - spec - 1) >= sizeof host) {
            snprintf(err, errlen, "--listen: expected [address]:port");
            return HK_ERR_INVALID;
        }
        snprintf(host, sizeof host, "%.*s", (int)(rb - spec - 1), spec + 1);
        port = rb + 2;
    } else {
        const char *colon = strrchr(spec, ':');
        if (!colon || (size_t)(colon - spec) >= sizeof host) {
            snprintf(err, errlen, "--listen: expected host:port");
            return HK_ERR_INVALID;
        }
        snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
        port = colon + 1;
    }
    char *end;
    long p = strtol(port, &end, 10);
    if (!*port || *end || p < 0 || p > 65535) {
        snprintf(err, errlen, "--listen: port must be from 0 to 65535");
        return HK_ERR_INVALID;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *res = NULL;
    int g = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (g || !res) {
        snprintf(err, errlen, "--listen: cannot resolve %s: %s", host, gai_strerror(g));
        return HK_ERR_INVALID;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sslen = res->ai_addrlen;
    *ipv6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return 0;
}

struct col_server *col_server_start(const struct col_app *app, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    bool ipv6;
    if (listen_addr(app->cfg.listen, &ss, &sslen, &ipv6, err, errlen))
        return NULL;
    (void)sslen;

    struct col_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    srv->app = app;
    long long threads = app->cfg.threads;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (n > 64 ? 64 : n) : 2;
    }
    /* libmicrohttpd closes sockets silently at its hard limit; keep headroom above ours so
     * the handler answers 503 first (SPEC section 3). */
    srv->soft_limit = app->cfg.connection_limit;
    long long hard = app->cfg.connection_limit +
                     (app->cfg.connection_limit / 8 > 16 ? app->cfg.connection_limit / 8 : 16);
    if (hard < threads)
        hard = threads;

    /* poll(), not epoll: 0.9.75's epoll loop calls epoll_wait again, blocking, whenever one
     * call returned exactly its 128-event maximum, before handling those 128 edge-triggered
     * events; with 128 connections a thread (256 on 2 threads) every socket then holds a
     * request nobody reads (bench/README.md). Suspend/resume: the writer (writer.c). */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
    srv->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)threads, MHD_OPTION_CONNECTION_LIMIT, (unsigned)hard,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)app->cfg.per_ip_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)app->cfg.timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, app->cfg.connection_memory,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_STRICT_FOR_CLIENT, 1,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_END);
    if (!srv->d) {
        snprintf(err, errlen, "cannot listen on %s (address in use, or limits refused)",
                 app->cfg.listen);
        free(srv);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
    hk_log(HK_LOG_INFO, "listen", "addr=%s port=%u threads=%lld connection_limit=%lld",
           app->cfg.listen, info ? (unsigned)info->port : 0u, threads, app->cfg.connection_limit);
    return srv;
}

void col_server_stop(struct col_server *s, int drain_ms)
{
    if (!s)
        return;
    MHD_socket fd = MHD_quiesce_daemon(s->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    /* in-flight requests finish (the writer stores what is queued meanwhile); idle keep-alive
     * connections are closed by the stop */
    struct timespec step = {0, 10 * 1000 * 1000};
    for (int waited = 0; waited < drain_ms && atomic_load(&s->inflight) > 0; waited += 10)
        nanosleep(&step, NULL);
    /* libmicrohttpd aborts when stopped with a connection still suspended: the writer answers
     * and resumes every queued survey before it exits, then those answers go out */
    col_writer_stop(s->app->writer);
    for (int waited = 0; waited < 1000 && atomic_load(&s->inflight) > 0; waited += 10)
        nanosleep(&step, NULL);
    long long left = atomic_load(&s->inflight);
    MHD_stop_daemon(s->d);
    hk_log(HK_LOG_INFO, "stopped", "unfinished_requests=%lld", left);
    free(s);
}
