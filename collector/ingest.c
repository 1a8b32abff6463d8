/* POST /v1/surveys: validate one survey, store its canonical JSON with the atomic ingest
 * script, and answer 202 {"id":…} only after Redis replied. Statuses come from http.c.
 * Every survey — API, batch, form — is prepared here (redaction, canonical JSON) and stored by
 * the writer (writer.c): the API's connection is suspended meanwhile, the batch and the form
 * wait for it in col_ingest_store. */
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

/* Counts and logs what Redis said. */
static void outcome(const struct col_app *app, const char *iid, int rc,
                    const struct col_ingest_result *res)
{
    switch (rc) {
    case 0:
        col_metrics_count(COL_CNT_SURVEYS_ACCEPTED);
        break;
    case HK_ERR_DUPLICATE:
        col_metrics_count(COL_CNT_SURVEYS_DUPLICATE);
        hk_log(HK_LOG_INFO, "survey_duplicate", "interaction_id=%s", iid);
        break;
    case HK_ERR_BUSY:
        col_metrics_count(COL_CNT_SURVEYS_BUSY);
        hk_log(HK_LOG_WARN, "backlog_full", "backlog=%s max_backlog=%lld", res->id,
               app->cfg.max_backlog);
        break;
    default:
        break;
    }
}

/* Redacts the comment (unless --no-redact) and writes the canonical JSON into job. */
static int job_fill(const struct col_app *app, struct hk_survey *s, struct col_job *job)
{
    int rc;
    memset(job, 0, sizeof *job);
    snprintf(job->iid, sizeof job->iid, "%s", s->interaction_id);
    hk_buf_init(&job->json, CANONICAL_MAX);
    if (app->cfg.redact && s->comment && (rc = redact_comment(s)))
        return rc;
    return hk_survey_to_json(s, &job->json);
}

int col_ingest_store(const struct col_app *app, struct hk_survey *s, struct col_ingest_result *out)
{
    struct col_job job;
    int rc = job_fill(app, s, &job);
    if (rc)
        goto out_free_json;
    if (app->writer) /* shares the writer's round trips with the API's requests */
        rc = col_writer_submit_wait(app->writer, &job);
    else
        rc = col_store_ingest(app, job.iid, job.json.data, job.json.len, &job.res);
    *out = job.res;
    outcome(app, job.iid, rc, &job.res);

out_free_json:
    hk_buf_free(&job.json);
    return rc;
}

void col_ingest_job_free(struct col_job *job)
{
    if (!job)
        return;
    hk_buf_free(&job->json);
    free(job);
}

/* The answer once Redis replied (or could not be asked). */
static int answer_or_respond(struct col_req *r, int rc, const struct col_ingest_result *res)
{
    struct hk_field_error fe;
    char body[128];
    int n;
    switch (rc) {
    case 0:
        n = snprintf(body, sizeof body, "{\"id\":\"%s\"}", res->id);
        return col_respond_json(r, MHD_HTTP_ACCEPTED, body, (size_t)n);
    case HK_ERR_DUPLICATE:
        fe = (struct hk_field_error){.code = "duplicate",
                                     .field = "interaction_id",
                                     .message = "a survey for this interaction_id was already "
                                                "received; nothing was changed"};
        snprintf(body, sizeof body, "\"id\":\"%s\"", res->id);
        return col_respond_error(r, HK_ERR_DUPLICATE, &fe, body);
    default:
        return col_respond_error(r, rc, NULL, NULL);
    }
}

int col_ingest_or_respond(struct col_req *r)
{
    const struct col_app *app = r->app;
    struct hk_survey s;
    struct hk_field_error fe;
    int rc;

    if (r->job) { /* resumed: the writer has Redis's answer */
        outcome(app, r->job->iid, r->job->rc, &r->job->res);
        return answer_or_respond(r, r->job->rc, &r->job->res);
    }
    rc = hk_survey_parse(r->body.data ? r->body.data : "", r->body.len, &app->scenarios,
                         (int64_t)time(NULL), &s, &fe);
    if (rc) {
        if (rc == HK_ERR_INVALID)
            col_metrics_count(COL_CNT_SURVEYS_INVALID);
        hk_log(HK_LOG_DEBUG, "survey_invalid", "code=%s field=%s", fe.code, fe.field);
        return col_respond_error(r, rc, rc == HK_ERR_INVALID ? &fe : NULL, NULL);
    }
    if (!app->writer) {
        struct col_ingest_result res;
        rc = col_ingest_store(app, &s, &res);
        hk_survey_clear(&s);
        return answer_or_respond(r, rc, &res);
    }

    /* The connection waits suspended while the writer stores the survey with others: this
     * thread serves other connections meanwhile. The job is freed when the request ends. */
    struct col_job *job = malloc(sizeof *job);
    if (!job) {
        hk_survey_clear(&s);
        return col_respond_error(r, HK_ERR_NOMEM, NULL, NULL);
    }
    rc = job_fill(app, &s, job);
    hk_survey_clear(&s);
    if (rc) {
        col_ingest_job_free(job);
        return col_respond_error(r, rc, NULL, NULL);
    }
    job->conn = r->conn;
    r->job = job;
    rc = col_writer_submit_suspend(app->writer, job);
    if (rc) { /* stopping: not queued, not suspended */
        job->rc = rc;
        return answer_or_respond(r, rc, &job->res);
    }
    return 0;
}
