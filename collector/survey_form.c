/* GET and POST /s/{token}: the customer's survey form. The token (common/token.c) says which
 * interaction, agent, scenario and language the answers belong to; the customer only adds the
 * answers. A post is decoded strictly (common/form.c), checked field by field so the form can
 * come back with each error next to its question, then validated and stored through the same
 * ingest path as the API. Every error on these routes becomes a friendly page
 * (col_form_error_page); statuses still come from http.c. Tokens are never logged. */
#include "customer.h"

#include "hearken/err.h"
#include "hearken/form.h"
#include "hearken/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE_MAX (256 * 1024)
#define NFIELDS  (HK_ANS_COUNT + 1 + HK_BEH_COUNT)

static const struct col_lang *lang_of(const struct col_req *r)
{
    return r->lang ? r->lang : col_i18n_find(r->app->i18n, "en");
}

int col_form_error_page(const struct col_req *r, const char *code, struct hk_buf *out)
{
    static const struct {
        const char *code;
        enum col_text title, body;
        bool back;
    } pages[] = {
        {"invalid", COL_T_INVALID_TITLE, COL_T_INVALID_BODY, false},
        {"not_found", COL_T_UNKNOWN_TITLE, COL_T_UNKNOWN_BODY, false},
        {"expired", COL_T_EXPIRED_TITLE, COL_T_EXPIRED_BODY, false},
        {"duplicate", COL_T_ANSWERED_TITLE, COL_T_ANSWERED_BODY, false},
        {"rate_limited", COL_T_LIMITED_TITLE, COL_T_LIMITED_BODY, false},
        {"unavailable", COL_T_UNAVAILABLE_TITLE, COL_T_UNAVAILABLE_BODY, true},
        {"busy", COL_T_UNAVAILABLE_TITLE, COL_T_UNAVAILABLE_BODY, true},
        {"overloaded", COL_T_UNAVAILABLE_TITLE, COL_T_UNAVAILABLE_BODY, true},
        {"too_large", COL_T_TOO_LARGE_TITLE, COL_T_TOO_LARGE_BODY, true},
        {"invalid_encoding", COL_T_UNREADABLE_TITLE, COL_T_UNREADABLE_BODY, true},
        {"unknown_field", COL_T_UNREADABLE_TITLE, COL_T_UNREADABLE_BODY, true},
        {"duplicate_field", COL_T_UNREADABLE_TITLE, COL_T_UNREADABLE_BODY, true},
        {"unsupported_media_type", COL_T_UNREADABLE_TITLE, COL_T_UNREADABLE_BODY, true},
        {"bad_request", COL_T_UNREADABLE_TITLE, COL_T_UNREADABLE_BODY, true},
    };
    const struct col_lang *l = lang_of(r);
    if (!l)
        return HK_ERR_NOT_FOUND;
    for (size_t i = 0; i < sizeof pages / sizeof *pages; i++)
        if (strcmp(code, pages[i].code) == 0)
            return col_message_page(l, pages[i].title, pages[i].body, pages[i].back, out);
    return col_message_page(l, COL_T_ERROR_TITLE, COL_T_ERROR_BODY, false, out);
}

/* Reads the link; the language is known from here on (even for an expired link). */
static int read_link(struct col_req *r, struct hk_link *l)
{
    const char *tok = r->path_arg ? r->path_arg : "";
    int rc = hk_token_verify(&r->app->link_keys, tok, strlen(tok), (int64_t)time(NULL), l);
    if (rc == 0 || rc == HK_ERR_EXPIRED)
        r->lang = col_i18n_find(r->app->i18n, l->language);
    if (rc == HK_ERR_EXPIRED)
        hk_log(HK_LOG_INFO, "link_expired", "interaction_id=%s", l->interaction_id);
    else if (rc)
        hk_log(HK_LOG_INFO, "link_refused", "reason=%s", hk_err_name(rc));
    return rc;
}

/* 1 when a survey for iid is stored, 0 when not, HK_ERR_UNAVAILABLE when Redis cannot say. */
static int already_answered(const struct col_app *app, const char *iid)
{
    redisContext *c = col_store_context(app);
    if (!c)
        return HK_ERR_UNAVAILABLE;
    char key[COL_PREFIX_MAX + 8 + HK_ID_MAX + 1];
    int n = snprintf(key, sizeof key, "%siid:%s", app->prefix, iid);
    const char *argv[] = {"EXISTS", key};
    size_t lens[] = {6, (size_t)n};
    redisReply *reply = redisCommandArgv(c, 2, argv, lens);
    if (!reply) {
        col_store_check(c);
        return HK_ERR_UNAVAILABLE;
    }
    int rc = reply->type == REDIS_REPLY_INTEGER ? reply->integer > 0 : HK_ERR_UNAVAILABLE;
    freeReplyObject(reply);
    return rc;
}

static int page_or_respond(struct col_req *r, int err, const struct col_form_view *v,
                           enum col_text title, enum col_text body)
{
    struct hk_buf b;
    hk_buf_init(&b, PAGE_MAX);
    const struct col_lang *l = lang_of(r);
    int rc = !l  ? HK_ERR_NOT_FOUND
             : v ? col_form_page(l, v, &b)
                 : col_message_page(l, title, body, false, &b);
    rc = rc ? col_respond_error(r, rc, NULL, NULL) : col_respond_page(r, err, b.data, b.len);
    hk_buf_free(&b);
    return rc;
}

static int show_or_respond(struct col_req *r, const struct hk_link *l)
{
    /* an answered link says so at once; when Redis cannot tell, the form shows and the
     * post finds out */
    if (already_answered(r->app, l->interaction_id) == 1)
        return page_or_respond(r, 0, NULL, COL_T_ANSWERED_TITLE, COL_T_ANSWERED_BODY);
    struct col_form_view v;
    col_form_view_init(&v);
    return page_or_respond(r, 0, &v, COL_T_NONE, COL_T_NONE);
}

/* "0".."10" within the answer's range, or -1. */
static int answer_value(int i, const char *s, size_t n)
{
    if (n == 0 || n > 2)
        return -1;
    int v = 0;
    for (size_t k = 0; k < n; k++) {
        if (s[k] < '0' || s[k] > '9')
            return -1;
        v = v * 10 + (s[k] - '0');
    }
    return v >= hk_answer_min[i] && v <= hk_answer_max[i] ? v : -1;
}

/* Browsers send textarea line breaks as CRLF: store them as LF, as the API would get them. */
static size_t normalise_newlines(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r') {
            s[o++] = '\n';
            if (i + 1 < n && s[i + 1] == '\n')
                i++;
        } else {
            s[o++] = s[i];
        }
    }
    s[o] = '\0';
    return o;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n')
            return false;
    return true;
}

/* Fills the view from the decoded fields and marks each field's own error. */
static bool read_fields(struct hk_form_field *f, struct col_form_view *v)
{
    bool ok = true;
    for (int i = 0; i < HK_ANS_COUNT; i++) {
        if (!f[i].value || f[i].len == 0)
            continue;
        v->answers[i] = answer_value(i, f[i].value, f[i].len);
        if (v->answers[i] < 0) {
            v->error[i] = COL_T_ERR_CHOICE;
            ok = false;
        }
    }
    struct hk_form_field *c = &f[HK_ANS_COUNT];
    if (c->value) {
        c->len = normalise_newlines(c->value, c->len);
        v->comment = c->value;
        v->comment_len = c->len;
        if (c->len > HK_COMMENT_MAX) {
            v->error[COL_SLOT_COMMENT] = COL_T_ERR_COMMENT_LONG;
            ok = false;
        }
    }
    for (int b = 0; b < HK_BEH_COUNT; b++) {
        struct hk_form_field *x = &f[HK_ANS_COUNT + 1 + b];
        if (!x->value)
            continue; /* an unticked box is not sent: "not ticked", never "false" */
        if (x->len == 2 && memcmp(x->value, "on", 2) == 0)
            v->ticked[b] = true;
        else {
            v->error[COL_SLOT_BEHAVIORS] = COL_T_ERR_GENERAL;
            ok = false;
        }
    }
    return ok;
}

/* The survey from the link (who, which scenario, language) and the view (the answers). */
static int fill_survey(const struct hk_link *l, const struct col_form_view *v, struct hk_survey *s)
{
    hk_survey_init(s);
    snprintf(s->interaction_id, sizeof s->interaction_id, "%s", l->interaction_id);
    snprintf(s->agent_id, sizeof s->agent_id, "%s", l->agent_id);
    snprintf(s->team_id, sizeof s->team_id, "%s", l->team_id);
    snprintf(s->scenario, sizeof s->scenario, "%s", l->scenario);
    snprintf(s->channel, sizeof s->channel, "%s", l->channel);
    snprintf(s->language, sizeof s->language, "%s", l->language);
    s->submitted_at = (int64_t)time(NULL);
    for (int i = 0; i < HK_ANS_COUNT; i++)
        s->answers[i] = v->answers[i];
    for (int b = 0; b < HK_BEH_COUNT; b++)
        s->behaviors[b] = v->ticked[b] ? 1 : -1;
    if (v->comment && !blank(v->comment, v->comment_len)) {
        s->comment = malloc(v->comment_len + 1);
        if (!s->comment)
            return HK_ERR_NOMEM;
        memcpy(s->comment, v->comment, v->comment_len);
        s->comment[v->comment_len] = '\0';
        s->comment_len = v->comment_len;
    }
    return 0;
}

/* A validation error as the form shows it. */
static void show_error(const struct hk_field_error *fe, struct col_form_view *v)
{
    if (strcmp(fe->field, "answers") == 0)
        v->top_error = COL_T_ERR_EMPTY;
    else if (strcmp(fe->field, "comment") == 0)
        v->error[COL_SLOT_COMMENT] =
            v->comment_len > HK_COMMENT_MAX ? COL_T_ERR_COMMENT_LONG : COL_T_ERR_COMMENT_TEXT;
    else
        v->top_error = COL_T_ERR_GENERAL;
}

static int submit_or_respond(struct col_req *r, const struct hk_link *l)
{
    const struct col_app *app = r->app;
    struct hk_form_field f[NFIELDS];
    struct hk_field_error fe;
    struct col_form_view v;
    struct hk_survey s;
    int rc;

    for (int i = 0; i < HK_ANS_COUNT; i++)
        f[i] = (struct hk_form_field){.name = hk_answer_names[i]};
    f[HK_ANS_COUNT] = (struct hk_form_field){.name = "comment"};
    for (int b = 0; b < HK_BEH_COUNT; b++)
        f[HK_ANS_COUNT + 1 + b] = (struct hk_form_field){.name = hk_behavior_names[b]};
    rc = hk_form_decode(r->body.data ? r->body.data : "", r->body.len, f, NFIELDS, &fe);
    if (rc) {
        hk_log(HK_LOG_INFO, "form_unreadable", "interaction_id=%s code=%s field=%s",
               l->interaction_id, fe.code, fe.field);
        return col_respond_error(r, rc, rc == HK_ERR_INVALID ? &fe : NULL, NULL);
    }

    col_form_view_init(&v);
    hk_survey_init(&s);
    if (!read_fields(f, &v)) {
        col_metrics_count(COL_CNT_SURVEYS_INVALID);
        rc = page_or_respond(r, HK_ERR_INVALID, &v, COL_T_NONE, COL_T_NONE);
        goto out_free;
    }
    if ((rc = fill_survey(l, &v, &s))) {
        rc = col_respond_error(r, rc, NULL, NULL);
        goto out_free;
    }
    if ((rc = hk_survey_validate(&s, &app->scenarios, &fe))) {
        col_metrics_count(COL_CNT_SURVEYS_INVALID);
        if (strcmp(fe.field, "answers") != 0 && strcmp(fe.field, "comment") != 0)
            /* the link's own context no longer passes (a scenario since removed, ...) */
            hk_log(HK_LOG_WARN, "form_context_invalid", "interaction_id=%s field=%s",
                   l->interaction_id, fe.field);
        show_error(&fe, &v);
        rc = page_or_respond(r, HK_ERR_INVALID, &v, COL_T_NONE, COL_T_NONE);
        goto out_free;
    }

    struct col_ingest_result res;
    rc = col_ingest_store(app, &s, &res);
    switch (rc) {
    case 0:
        hk_log(HK_LOG_DEBUG, "form_stored", "interaction_id=%s id=%s", l->interaction_id, res.id);
        rc = page_or_respond(r, 0, NULL, COL_T_THANKS_TITLE, COL_T_THANKS_BODY);
        break;
    case HK_ERR_UNAVAILABLE:
    case HK_ERR_BUSY: /* the answers stay filled in; the customer sends them again */
        v.top_error = COL_T_ERR_SAVE;
        rc = page_or_respond(r, rc, &v, COL_T_NONE, COL_T_NONE);
        break;
    default: /* HK_ERR_DUPLICATE: "already answered" */
        rc = col_respond_error(r, rc, NULL, NULL);
        break;
    }

out_free:
    hk_survey_clear(&s);
    hk_form_fields_free(f, NFIELDS);
    return rc;
}

int col_form_or_respond(struct col_req *r)
{
    struct hk_link l;
    int rc = read_link(r, &l);
    if (rc)
        return col_respond_error(r, rc, NULL, NULL);
    if (r->method && strcmp(r->method, MHD_HTTP_METHOD_POST) == 0)
        return submit_or_respond(r, &l);
    return show_or_respond(r, &l);
}
