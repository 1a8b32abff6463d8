/* GET /v1/surveys?agent=&scenario=&limit=: the comment explorer's source. Walks the stream
 * newest first (a bounded number of entries), keeps surveys with a comment that match the
 * filters, and answers each as its scored record (the analyzer's scored:IID, with cues and
 * their spans) or as pending. The survey text is passed through as stored; the dashboard
 * renders it with textContent only. */
#include "col.h"

#include "hearken/err.h"
#include "hearken/log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LIMIT 20
#define MAX_LIMIT     200
#define PAGE          500
#define SCAN_MAX      20000 /* stream entries looked at, at most */
#define BODY_MAX      (32u << 20)

struct match {
    char id[64];                   /* stream id */
    char iid[HK_ID_MAX + 1];       /* interaction id */
    size_t survey_off, survey_len; /* the raw survey JSON, in the caller's arena */
};

static bool field_is(const json_t *o, const char *name, const char *want)
{
    const char *v = json_string_value(json_object_get(o, name));
    return !want || (v && strcmp(v, want) == 0);
}

/* One page of XREVRANGE from end (inclusive "+" or exclusive "(ID"); appends matches. */
static int scan_page(redisContext *c, const char *stream, const char *end, const char *agent,
                     const char *scenario, struct match *m, size_t *nm, size_t limit,
                     struct hk_buf *arena, char *last, size_t *seen)
{
    char count[16];
    snprintf(count, sizeof count, "%d", PAGE);
    const char *argv[] = {"XREVRANGE", stream, end, "-", "COUNT", count};
    size_t lens[] = {9, strlen(stream), strlen(end), 1, 5, strlen(count)};
    redisReply *rep = redisCommandArgv(c, 6, argv, lens);
    if (!rep)
        return HK_ERR_UNAVAILABLE;
    int rc = 0;
    if (rep->type != REDIS_REPLY_ARRAY) {
        rc = rep->type == REDIS_REPLY_NIL ? 0 : HK_ERR_UNAVAILABLE;
        goto out_free_reply;
    }
    *seen = rep->elements;
    for (size_t i = 0; i < rep->elements && *nm < limit && !rc; i++) {
        const redisReply *e = rep->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING || e->element[0]->len >= 64)
            continue;
        memcpy(last, e->element[0]->str, e->element[0]->len + 1);
        const redisReply *f = e->element[1];
        for (size_t j = 0; f->type == REDIS_REPLY_ARRAY && j + 1 < f->elements; j += 2) {
            const redisReply *k = f->element[j], *v = f->element[j + 1];
            if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
                strcmp(k->str, "survey") != 0)
                continue;
            json_t *s = json_loadb(v->str, v->len, 0, NULL);
            const char *comment = json_string_value(json_object_get(s, "comment"));
            const char *iid = json_string_value(json_object_get(s, "interaction_id"));
            if (s && comment && *comment && iid && strlen(iid) <= HK_ID_MAX &&
                field_is(s, "agent_id", agent) && field_is(s, "scenario", scenario)) {
                struct match *x = &m[(*nm)++];
                memcpy(x->id, e->element[0]->str, e->element[0]->len + 1);
                memcpy(x->iid, iid, strlen(iid) + 1);
                x->survey_off = arena->len;
                x->survey_len = v->len;
                rc = hk_buf_append(arena, v->str, v->len);
            }
            json_decref(s);
            break;
        }
    }
out_free_reply:
    freeReplyObject(rep);
    return rc;
}

int col_survey_list_or_respond(struct col_req *r)
{
    const struct col_app *app = r->app;
    bool bad = false;
    const char *agent = col_id_param(r, "agent", &bad);
    if (bad)
        return col_respond_bad_param(r, "agent", "must be an agent id");
    const char *scenario = col_id_param(r, "scenario", &bad);
    if (bad)
        return col_respond_bad_param(r, "scenario", "must be a scenario name");
    const char *limit_s = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "limit");
    long limit = DEFAULT_LIMIT;
    if (limit_s && *limit_s) {
        char *end;
        limit = strtol(limit_s, &end, 10);
        if (*end || limit < 1 || limit > MAX_LIMIT)
            return col_respond_bad_param(r, "limit", "must be an integer from 1 to 200");
    }
    redisContext *c = col_store_context(app);
    if (!c)
        return col_respond_error(r, HK_ERR_UNAVAILABLE, NULL, NULL);

    struct match *m = calloc((size_t)limit, sizeof *m);
    struct hk_buf arena, b, key;
    hk_buf_init(&arena, BODY_MAX);
    hk_buf_init(&b, BODY_MAX);
    hk_buf_init(&key, 4096);
    size_t nm = 0, scanned = 0;
    int rc = m ? 0 : HK_ERR_NOMEM;
    char end[70] = "+", last[64] = "";
    while (!rc && nm < (size_t)limit && scanned < SCAN_MAX) {
        size_t seen = 0;
        rc = scan_page(c, app->stream_key, end, agent, scenario, m, &nm, (size_t)limit, &arena,
                       last, &seen);
        scanned += seen;
        if (rc || seen < PAGE)
            break;
        snprintf(end, sizeof end, "(%s", last);
    }
    if (rc)
        goto out_error;

    rc = hk_buf_append_str(&b, "{\"filter\":{\"agent\":");
    if (!rc)
        rc = agent ? hk_buf_append_json_str(&b, agent, strlen(agent))
                   : hk_buf_append_str(&b, "null");
    if (!rc)
        rc = hk_buf_append_str(&b, ",\"scenario\":");
    if (!rc)
        rc = scenario ? hk_buf_append_json_str(&b, scenario, strlen(scenario))
                      : hk_buf_append_str(&b, "null");
    if (!rc)
        rc = hk_buf_printf(&b, "},\"limit\":%ld,\"scanned\":%zu,\"surveys\":[", limit, scanned);
    for (size_t i = 0; i < nm && !rc; i++) {
        hk_buf_reset(&key);
        rc = hk_buf_printf(&key, "%sscored:%s", app->prefix, m[i].iid);
        if (rc)
            break;
        const char *argv[] = {"GET", key.data};
        size_t lens[] = {3, key.len};
        redisReply *rep = redisCommandArgv(c, 2, argv, lens);
        if (!rep) {
            rc = HK_ERR_UNAVAILABLE;
            break;
        }
        if (i)
            rc = hk_buf_append_char(&b, ',');
        if (!rc && rep->type == REDIS_REPLY_STRING && rep->len > 1 && rep->str[0] == '{') {
            rc = hk_buf_append_str(&b, "{\"status\":\"scored\",");
            if (!rc)
                rc = hk_buf_append(&b, rep->str + 1, rep->len - 1);
        } else if (!rc) { /* not analysed yet: the survey as queued, no score */
            rc = hk_buf_append_str(&b, "{\"status\":\"pending\",\"id\":");
            if (!rc)
                rc = hk_buf_append_json_str(&b, m[i].id, strlen(m[i].id));
            if (!rc)
                rc = hk_buf_append_str(&b, ",\"survey\":");
            if (!rc)
                rc = hk_buf_append(&b, arena.data + m[i].survey_off, m[i].survey_len);
            if (!rc)
                rc = hk_buf_append_str(&b, ",\"score\":null}");
        }
        freeReplyObject(rep);
    }
    if (!rc)
        rc = hk_buf_append_str(&b, "]}");
    if (rc)
        goto out_error;
    rc = col_respond_table(r, &b, "surveys", "surveys");
    goto out_free;

out_error:
    if (rc == HK_ERR_UNAVAILABLE) {
        col_store_check(c);
        hk_log(HK_LOG_WARN, "survey_list_failed", "error=%s", hk_err_name(rc));
    }
    rc = col_respond_error(r, rc, NULL, NULL);
out_free:
    free(m);
    hk_buf_free(&arena);
    hk_buf_free(&b);
    hk_buf_free(&key);
    return rc;
}
