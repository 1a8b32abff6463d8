/* Read routes: /v1/rollups (sums from common/rollup*.c; CSV on request), /v1/surveys/{id}
 * (scored or pending survey), and the operational /healthz, /readyz and /metrics. Statuses
 * come from http.c; trends, impact, coaching and the survey list have their own files. */
#include "col.h"

#include "hearken/err.h"
#include "hearken/log.h"
#include "hearken/rollup.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define DAY                    86400LL
#define ROLLUP_WINDOW_MAX_DAYS 366
#define ROLLUP_DEFAULT_DAYS    30
#define READ_BODY_MAX          (16u << 20)

int col_healthz_or_respond(struct col_req *r)
{
    static const char ok[] = "{\"status\":\"ok\"}";
    return col_respond_json(r, MHD_HTTP_OK, ok, sizeof ok - 1);
}

int col_readyz_or_respond(struct col_req *r)
{
    static const char ok[] = "{\"status\":\"ready\"}";
    if (col_store_ping(r->app) == 0)
        return col_respond_json(r, MHD_HTTP_OK, ok, sizeof ok - 1);
    return col_respond_error(r, HK_ERR_UNAVAILABLE, NULL, NULL);
}

int col_metrics_or_respond(struct col_req *r)
{
    struct hk_buf b;
    hk_buf_init(&b, 1u << 20);
    int rc = col_metrics_render(r->app, &b);
    if (rc)
        rc = col_respond_error(r, rc, NULL, NULL);
    else
        rc = col_respond_text(r, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                              b.data ? b.data : "", b.len);
    hk_buf_free(&b);
    return rc;
}

/* YYYY-MM-DD → unix seconds at 00:00 UTC. */
static int parse_day(const char *s, int64_t *out)
{
    char full[32];
    if (strlen(s) != 10)
        return HK_ERR_INVALID;
    snprintf(full, sizeof full, "%sT00:00:00Z", s);
    return hk_rfc3339_parse(full, strlen(full), out);
}

int col_rollups_or_respond(struct col_req *r)
{
    const char *by_s = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "by");
    const char *from_s = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "from");
    const char *to_s = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "to");
    int64_t today = (int64_t)time(NULL) / DAY * DAY;
    int64_t from, to;

    if (!by_s || !*by_s)
        return col_respond_bad_param(r, "by",
                                     "is required: all, agent, team, scenario, agent_scenario, "
                                     "behavior_scenario or agent_team");
    int by = hk_rollup_by_parse(by_s);
    if (by < 0)
        return col_respond_bad_param(r, "by",
                                     "must be all, agent, team, scenario, agent_scenario, "
                                     "behavior_scenario or agent_team");
    to = today;
    if (to_s && parse_day(to_s, &to))
        return col_respond_bad_param(r, "to", "must be a date like 2026-11-25");
    from = to - ROLLUP_DEFAULT_DAYS * DAY; /* 30 days before "to" (today by default) */
    if (from_s && parse_day(from_s, &from))
        return col_respond_bad_param(r, "from", "must be a date like 2026-11-25");
    if (to < from)
        return col_respond_bad_param(r, "to", "must not be before from");
    if ((to - from) / DAY + 1 > ROLLUP_WINDOW_MAX_DAYS)
        return col_respond_bad_param(r, "from", "the window must be at most 366 days");

    redisContext *c = col_store_context(r->app);
    if (!c)
        return col_respond_error(r, HK_ERR_UNAVAILABLE, NULL, NULL);
    struct hk_buf b;
    hk_buf_init(&b, READ_BODY_MAX);
    int rc = hk_rollups_query(c, r->app->prefix, by, from, to, &b);
    if (rc) {
        col_store_check(c);
        hk_log(HK_LOG_WARN, "rollups_failed", "error=%s", hk_err_name(rc));
        rc = col_respond_error(r, rc, NULL, NULL);
    } else {
        rc = col_respond_table(r, &b, "groups", "rollups"); /* JSON, or CSV when asked */
    }
    hk_buf_free(&b);
    return rc;
}

/* GET key; 1 with the value copied into out, 0 when absent, HK_ERR_UNAVAILABLE. */
static int get_string(redisContext *c, const char *key, size_t klen, struct hk_buf *out)
{
    const char *argv[] = {"GET", key};
    size_t lens[] = {3, klen};
    redisReply *rep = redisCommandArgv(c, 2, argv, lens);
    if (!rep)
        return HK_ERR_UNAVAILABLE;
    int rc = 0;
    if (rep->type == REDIS_REPLY_STRING) {
        rc = hk_buf_append(out, rep->str, rep->len);
        if (!rc)
            rc = 1;
    } else if (rep->type != REDIS_REPLY_NIL)
        rc = HK_ERR_UNAVAILABLE;
    freeReplyObject(rep);
    return rc;
}

/* The raw survey of one stream entry, or nothing when the entry is gone. */
static int stream_entry(redisContext *c, const char *stream, const char *id, size_t idlen,
                        struct hk_buf *out)
{
    const char *argv[] = {"XRANGE", stream, id, id};
    size_t lens[] = {6, strlen(stream), idlen, idlen};
    redisReply *rep = redisCommandArgv(c, 4, argv, lens);
    if (!rep)
        return HK_ERR_UNAVAILABLE;
    int rc = 0;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1) {
        const redisReply *e = rep->element[0];
        const redisReply *fields =
            e->type == REDIS_REPLY_ARRAY && e->elements == 2 ? e->element[1] : NULL;
        for (size_t i = 0;
             fields && fields->type == REDIS_REPLY_ARRAY && i + 1 < fields->elements && !rc; i += 2)
            if (fields->element[i]->type == REDIS_REPLY_STRING &&
                strcmp(fields->element[i]->str, "survey") == 0 &&
                fields->element[i + 1]->type == REDIS_REPLY_STRING) {
                rc = hk_buf_append(out, fields->element[i + 1]->str, fields->element[i + 1]->len);
                if (!rc)
                    rc = 1;
            }
    } else if (rep->type == REDIS_REPLY_ERROR) {
        rc = HK_ERR_UNAVAILABLE;
    }
    freeReplyObject(rep);
    return rc;
}

int col_survey_get_or_respond(struct col_req *r)
{
    const struct col_app *app = r->app;
    const char *id = r->path_arg;
    size_t idlen = strlen(id);
    struct hk_field_error fe = {.code = "invalid_field", .field = "id"};
    if (idlen < 1 || idlen > HK_ID_MAX ||
        strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:@-") !=
            idlen) {
        snprintf(fe.message, sizeof fe.message, "must be an interaction_id");
        return col_respond_error(r, HK_ERR_INVALID, &fe, NULL);
    }

    redisContext *c = col_store_context(app);
    if (!c)
        return col_respond_error(r, HK_ERR_UNAVAILABLE, NULL, NULL);

    char key[COL_PREFIX_MAX + 8 + HK_ID_MAX + 1];
    struct hk_buf out, sid, scored;
    hk_buf_init(&out, READ_BODY_MAX);
    hk_buf_init(&sid, 64);
    hk_buf_init(&scored, READ_BODY_MAX);
    int n = snprintf(key, sizeof key, "%sscored:%s", app->prefix, id);
    int rc = get_string(c, key, (size_t)n, &scored);
    if (rc == 1 && scored.len > 1 && scored.data[0] == '{') {
        /* the analyzer's {"id":…,"survey":{…},"score":{…}}, marked as scored */
        rc = hk_buf_append_str(&out, "{\"status\":\"scored\",");
        if (!rc)
            rc = hk_buf_append(&out, scored.data + 1, scored.len - 1);
        if (rc)
            goto out_error;
        rc = col_respond_json(r, MHD_HTTP_OK, out.data, out.len);
        goto out_free_bufs;
    }
    if (rc < 0)
        goto out_error;

    n = snprintf(key, sizeof key, "%siid:%s", app->prefix, id);
    rc = get_string(c, key, (size_t)n, &sid);
    if (rc == 0) {
        rc = col_respond_error(r, HK_ERR_NOT_FOUND, NULL, NULL);
        goto out_free_bufs;
    }
    if (rc < 0)
        goto out_error;

    /* accepted, not analysed yet: the same shape, without a score */
    rc = hk_buf_append_str(&out, "{\"status\":\"pending\",\"id\":");
    if (!rc)
        rc = hk_buf_append_json_str(&out, sid.data, sid.len);
    if (!rc)
        rc = hk_buf_append_str(&out, ",\"survey\":");
    if (rc)
        goto out_error;
    rc = stream_entry(c, app->stream_key, sid.data, sid.len, &out);
    if (rc == 0) /* entry trimmed away before it was scored */
        rc = hk_buf_append_str(&out, "null");
    else if (rc == 1)
        rc = 0;
    if (!rc)
        rc = hk_buf_append_str(&out, ",\"score\":null}");
    if (rc)
        goto out_error;
    rc = col_respond_json(r, MHD_HTTP_OK, out.data, out.len);
    goto out_free_bufs;

out_error:
    col_store_check(c);
    rc = col_respond_error(r, rc, NULL, NULL);
out_free_bufs:
    hk_buf_free(&out);
    hk_buf_free(&sid);
    hk_buf_free(&scored);
    return rc;
}
