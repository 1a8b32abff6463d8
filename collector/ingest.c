/* POST /v1/surveys: validate one survey, store its canonical JSON with the atomic ingest
 * script, and answer 202 {"id":…} only after Redis replied. Statuses come from http.c. */
#include "col.h"

#include "hearken/err.h"
#include "hearken/log.h"

#include <stdio.h>
#include <time.h>

/* Canonical JSON can be longer than what was sent (escapes): room for a full comment. */
#define CANONICAL_MAX (64 * 1024 + 8 * HK_COMMENT_MAX)

int col_ingest_or_respond(struct col_req *r)
{
    const struct col_app *app = r->app;
    struct hk_survey s;
    struct hk_field_error fe;
    struct hk_buf json;
    int rc;

    hk_buf_init(&json, CANONICAL_MAX);
    rc = hk_survey_parse(r->body.data ? r->body.data : "", r->body.len, &app->scenarios,
                         (int64_t)time(NULL), &s, &fe);
    if (rc) {
        if (rc == HK_ERR_INVALID)
            col_metrics_count(COL_CNT_SURVEYS_INVALID);
        hk_log(HK_LOG_DEBUG, "survey_invalid", "code=%s field=%s", fe.code, fe.field);
        return col_respond_error(r, rc, rc == HK_ERR_INVALID ? &fe : NULL, NULL);
    }
    rc = hk_survey_to_json(&s, &json);
    if (rc) {
        rc = col_respond_error(r, rc, NULL, NULL);
        goto out_free_survey;
    }

    struct col_ingest_result res;
    rc = col_store_ingest(app, s.interaction_id, json.data, json.len, &res);
    char body[128];
    int n;
    switch (rc) {
    case 0:
        col_metrics_count(COL_CNT_SURVEYS_ACCEPTED);
        n = snprintf(body, sizeof body, "{\"id\":\"%s\"}", res.id);
        rc = col_respond_json(r, MHD_HTTP_ACCEPTED, body, (size_t)n);
        break;
    case HK_ERR_DUPLICATE:
        col_metrics_count(COL_CNT_SURVEYS_DUPLICATE);
        hk_log(HK_LOG_INFO, "survey_duplicate", "interaction_id=%s", s.interaction_id);
        fe = (struct hk_field_error){.code = "duplicate",
                                     .field = "interaction_id",
                                     .message = "a survey for this interaction_id was already "
                                                "received; nothing was changed"};
        snprintf(body, sizeof body, "\"id\":\"%s\"", res.id);
        rc = col_respond_error(r, HK_ERR_DUPLICATE, &fe, body);
        break;
    case HK_ERR_BUSY:
        col_metrics_count(COL_CNT_SURVEYS_BUSY);
        hk_log(HK_LOG_WARN, "backlog_full", "backlog=%s max_backlog=%lld", res.id,
               app->cfg.max_backlog);
        rc = col_respond_error(r, HK_ERR_BUSY, NULL, NULL);
        break;
    default:
        rc = col_respond_error(r, rc, NULL, NULL);
        break;
    }

out_free_survey:
    hk_survey_clear(&s);
    hk_buf_free(&json);
    return rc;
}
