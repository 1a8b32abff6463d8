/* POST /v1/surveys: validate one survey, store its canonical JSON with the atomic ingest
 * script, and answer 202 {"id":…} only after Redis replied. Statuses come from http.c.
 * col_ingest_store is the one way into Redis for the API, the batch and the form alike. */
#include "col.h"

#include "hearken/err.h"
#include "hearken/log.h"
#include "hearken/redact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Canonical JSON can be longer than what was sent (escapes): room for a full comment. */
#define CANONICAL_MAX (64 * 1024 + 8 * HK_COMMENT_MAX)

/* Replaces the comment by its redacted copy (never longer than HK_COMMENT_MAX). */
static int redact_comment(struct hk_survey *s)
{
    struct hk_buf b;
    struct hk_redact_counts c;
    hk_buf_init(&b, HK_COMMENT_MAX);
    int rc = hk_redact(s->comment, s->comment_len, &b, &c);
    if (rc) {
        hk_buf_free(&b);
        return rc;
    }
    if (c.email + c.phone + c.card == 0) {
        hk_buf_free(&b);
        return 0;
    }
    col_metrics_count(COL_CNT_COMMENTS_REDACTED);
    free(s->comment);
    s->comment = b.data; /* the buffer's bytes are NUL-terminated and now the survey's */
    s->comment_len = b.len;
    return 0;
}

int col_ingest_store(const struct col_app *app, struct hk_survey *s, struct col_ingest_result *out)
{
    struct hk_buf json;
    int rc = 0;
    if (app->cfg.redact && s->comment && (rc = redact_comment(s)))
        return rc;
    hk_buf_init(&json, CANONICAL_MAX);
    if ((rc = hk_survey_to_json(s, &json)))
        goto out_free_json;
    rc = col_store_ingest(app, s->interaction_id, json.data, json.len, out);
    switch (rc) {
    case 0:
        col_metrics_count(COL_CNT_SURVEYS_ACCEPTED);
        break;
    case HK_ERR_DUPLICATE:
        col_metrics_count(COL_CNT_SURVEYS_DUPLICATE);
        hk_log(HK_LOG_INFO, "survey_duplicate", "interaction_id=%s", s->interaction_id);
        break;
    case HK_ERR_BUSY:
        col_metrics_count(COL_CNT_SURVEYS_BUSY);
        hk_log(HK_LOG_WARN, "backlog_full", "backlog=%s max_backlog=%lld", out->id,
               app->cfg.max_backlog);
        break;
    default:
        break;
    }

out_free_json:
    hk_buf_free(&json);
    return rc;
}

int col_ingest_or_respond(struct col_req *r)
{
    const struct col_app *app = r->app;
    struct hk_survey s;
    struct hk_field_error fe;
    int rc;

    rc = hk_survey_parse(r->body.data ? r->body.data : "", r->body.len, &app->scenarios,
                         (int64_t)time(NULL), &s, &fe);
    if (rc) {
        if (rc == HK_ERR_INVALID)
            col_metrics_count(COL_CNT_SURVEYS_INVALID);
        hk_log(HK_LOG_DEBUG, "survey_invalid", "code=%s field=%s", fe.code, fe.field);
        return col_respond_error(r, rc, rc == HK_ERR_INVALID ? &fe : NULL, NULL);
    }
    struct col_ingest_result res;
    rc = col_ingest_store(app, &s, &res);
    char body[128];
    int n;
    switch (rc) {
    case 0:
        n = snprintf(body, sizeof body, "{\"id\":\"%s\"}", res.id);
        rc = col_respond_json(r, MHD_HTTP_ACCEPTED, body, (size_t)n);
        break;
    case HK_ERR_DUPLICATE:
        fe = (struct hk_field_error){.code = "duplicate",
                                     .field = "interaction_id",
                                     .message = "a survey for this interaction_id was already "
                                                "received; nothing was changed"};
        snprintf(body, sizeof body, "\"id\":\"%s\"", res.id);
        rc = col_respond_error(r, HK_ERR_DUPLICATE, &fe, body);
        break;
    default:
        rc = col_respond_error(r, rc, NULL, NULL);
        break;
    }
    hk_survey_clear(&s);
    return rc;
}
