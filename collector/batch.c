/* POST /v1/surveys/batch: NDJSON, one survey a line, at most 1,000 (blank lines are skipped
 * and not counted). Every line is validated first; the valid ones are then stored one by one
 * through the API's ingest path, each deduped atomically. The answer is 200 with a result per
 * line. Redis trouble: when nothing of this batch was stored yet, the whole batch is refused
 * (503, nothing stored); once a line was stored, the failing line and every valid line after
 * it answer 503 and were not stored (the one in flight may have been: sending the batch again
 * is safe, its stored lines then answer 409). */
#include "col.h"

#include "hearken/err.h"
#include "hearken/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_LINES_MAX 1000
#define RESULTS_MAX     (4u << 20)

struct line_result {
    size_t line;      /* 1-based, counting blank lines too */
    const char *text; /* into the request body */
    size_t len;
    int rc;         /* 0 stored, HK_ERR_* */
    bool attempted; /* valid: sent to Redis (or meant to be) */
    char iid[HK_ID_MAX + 1];
    char id[64]; /* the stream id (stored, or the first one for a duplicate) */
    struct hk_field_error fe;
};

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

static void set_fe(struct hk_field_error *fe, const char *code, const char *field,
                   const char *message)
{
    snprintf(fe->code, sizeof fe->code, "%s", code);
    snprintf(fe->field, sizeof fe->field, "%s", field);
    snprintf(fe->message, sizeof fe->message, "%s", message);
}

/* Splits the body into non-blank lines; *n may exceed max (then the lines past it are not
 * kept). */
static void split(const char *body, size_t len, struct line_result *out, size_t max, size_t *n)
{
    size_t lineno = 0;
    *n = 0;
    for (const char *p = body, *end = body + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        lineno++;
        size_t l = (size_t)(stop - p);
        if (l && p[l - 1] == '\r')
            l--;
        if (!blank(p, l)) {
            if (*n < max)
                out[*n] = (struct line_result){.line = lineno, .text = p, .len = l};
            (*n)++;
        }
        p = nl ? nl + 1 : end;
    }
}

static int validate(const struct col_app *app, struct line_result *lr, int64_t now)
{
    struct hk_survey s;
    if (lr->len > app->cfg.max_body) {
        lr->rc = HK_ERR_TOO_LARGE;
        set_fe(&lr->fe, "too_large", "", "the line is longer than --max-body");
        return 0;
    }
    lr->rc = hk_survey_parse(lr->text, lr->len, &app->scenarios, now, &s, &lr->fe);
    if (lr->rc == HK_ERR_NOMEM)
        return HK_ERR_NOMEM;
    if (lr->rc)
        col_metrics_count(COL_CNT_SURVEYS_INVALID);
    if (lr->rc == 0) {
        snprintf(lr->iid, sizeof lr->iid, "%s", s.interaction_id);
        lr->attempted = true;
    }
    hk_survey_clear(&s);
    return 0;
}

/* Stores one validated line again parsed (nothing of it was kept between the passes). */
static int store(const struct col_app *app, struct line_result *lr, int64_t now)
{
    struct hk_survey s;
    struct col_ingest_result res = {{0}};
    int rc = hk_survey_parse(lr->text, lr->len, &app->scenarios, now, &s, &lr->fe);
    if (rc)
        return rc;
    rc = col_ingest_store(app, &s, &res);
    snprintf(lr->id, sizeof lr->id, "%s", rc == 0 || rc == HK_ERR_DUPLICATE ? res.id : "");
    hk_survey_clear(&s);
    return rc;
}

static int put_result(struct hk_buf *b, const struct line_result *lr, bool first)
{
    int rc = hk_buf_printf(b, "%s{\"line\":%zu,\"status\":%u", first ? "" : ",", lr->line,
                           lr->rc == 0 ? (unsigned)MHD_HTTP_ACCEPTED : col_err_status(lr->rc));
    if (!rc && lr->iid[0]) {
        rc = hk_buf_append_str(b, ",\"interaction_id\":");
        if (!rc)
            rc = hk_buf_append_json_str(b, lr->iid, strlen(lr->iid));
    }
    if (!rc && lr->id[0])
        rc = hk_buf_printf(b, ",\"id\":\"%s\"", lr->id);
    if (!rc && lr->rc) {
        size_t flen = strlen(lr->fe.field);
        rc = hk_buf_append_str(b, ",\"error\":{\"code\":");
        if (!rc)
            rc = hk_buf_append_json_str(b, lr->fe.code, strlen(lr->fe.code));
        if (!rc)
            rc = hk_buf_append_str(b, ",\"field\":");
        if (!rc)
            rc =
                flen ? hk_buf_append_json_str(b, lr->fe.field, flen) : hk_buf_append_str(b, "null");
        if (!rc)
            rc = hk_buf_append_str(b, ",\"message\":");
        if (!rc)
            rc = hk_buf_append_json_str(b, lr->fe.message, strlen(lr->fe.message));
        if (!rc)
            rc = hk_buf_append_char(b, '}');
    }
    if (!rc)
        rc = hk_buf_append_char(b, '}');
    return rc;
}

int col_batch_or_respond(struct col_req *r)
{
    const struct col_app *app = r->app;
    struct hk_field_error fe;
    struct hk_buf out;
    size_t n = 0;
    int rc = 0;
    int64_t now = (int64_t)time(NULL);
    const char *body = r->body.data ? r->body.data : "";

    struct line_result *lines = calloc(BATCH_LINES_MAX, sizeof *lines);
    if (!lines)
        return col_respond_error(r, HK_ERR_NOMEM, NULL, NULL);
    hk_buf_init(&out, RESULTS_MAX);
    split(body, r->body.len, lines, BATCH_LINES_MAX, &n);
    if (n > BATCH_LINES_MAX) {
        set_fe(&fe, "too_many_lines", "", "a batch holds at most 1000 surveys; nothing was stored");
        rc = col_respond_error(r, HK_ERR_TOO_LARGE, &fe, NULL);
        goto out_free;
    }
    if (n == 0) {
        set_fe(&fe, "empty_batch", "", "send one survey JSON object a line");
        rc = col_respond_error(r, HK_ERR_INVALID, &fe, NULL);
        goto out_free;
    }

    size_t valid = 0;
    for (size_t i = 0; i < n; i++) {
        if ((rc = validate(app, &lines[i], now))) {
            rc = col_respond_error(r, rc, NULL, NULL);
            goto out_free;
        }
        valid += lines[i].attempted;
    }
    /* Redis must be there before the first line goes: a batch refused whole stores nothing */
    if (valid && (rc = col_store_ping(app))) {
        rc = col_respond_error(r, rc, NULL, NULL);
        goto out_free;
    }

    size_t accepted = 0, duplicates = 0, invalid = n - valid, unavailable = 0;
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        struct line_result *lr = &lines[i];
        if (!lr->attempted)
            continue;
        lr->rc = failed ? failed : store(app, lr, now);
        switch (lr->rc) {
        case 0:
            accepted++;
            break;
        case HK_ERR_DUPLICATE:
            duplicates++;
            set_fe(&lr->fe, "duplicate", "interaction_id",
                   "a survey for this interaction_id was already received; nothing was changed");
            break;
        case HK_ERR_UNAVAILABLE:
        case HK_ERR_BUSY:
            if (!accepted) { /* nothing of this batch is stored: refuse it whole */
                rc = col_respond_error(r, lr->rc, NULL, NULL);
                goto out_free;
            }
            if (!failed)
                hk_log(HK_LOG_WARN, "batch_cut", "line=%zu reason=%s stored=%zu", lr->line,
                       hk_err_name(lr->rc), accepted);
            failed = lr->rc;
            unavailable++;
            set_fe(&lr->fe, lr->rc == HK_ERR_BUSY ? "busy" : "unavailable", "",
                   "not stored: storage refused or failed; send this line again");
            break;
        default:
            rc = col_respond_error(r, lr->rc, NULL, NULL);
            goto out_free;
        }
    }

    rc = hk_buf_printf(&out,
                       "{\"accepted\":%zu,\"duplicates\":%zu,\"invalid\":%zu,\"unavailable\":%zu,"
                       "\"results\":[",
                       accepted, duplicates, invalid, unavailable);
    for (size_t i = 0; i < n && !rc; i++)
        rc = put_result(&out, &lines[i], i == 0);
    if (!rc)
        rc = hk_buf_append_str(&out, "]}");
    if (rc) {
        rc = col_respond_error(r, rc, NULL, NULL);
        goto out_free;
    }
    hk_log(HK_LOG_INFO, "batch",
           "lines=%zu accepted=%zu duplicates=%zu invalid=%zu unavailable=%zu", n, accepted,
           duplicates, invalid, unavailable);
    rc = col_respond_json(r, MHD_HTTP_OK, out.data, out.len);

out_free:
    free(lines);
    hk_buf_free(&out);
    return rc;
}
