/* POST /v1/links: mint a signed survey link for an interaction. The body carries the survey's
 * context (validated by the survey rules) and an optional ttl_seconds; the answer is
 * {"url":…,"token":…,"expires_at":…}. Stateless: Redis is not needed to mint. */
#include "col.h"

#include "hearken/err.h"
#include "hearken/log.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define TTL_MIN     3600LL         /* an hour */
#define TTL_MAX     (30 * 86400LL) /* 30 days */
#define TTL_DEFAULT (7 * 86400LL)

static const char *const link_fields[] = {"interaction_id", "agent_id", "scenario",   "team_id",
                                          "channel",        "language", "ttl_seconds"};

static int invalid(struct hk_field_error *fe, const char *code, const char *field,
                   const char *message)
{
    snprintf(fe->code, sizeof fe->code, "%s", code);
    snprintf(fe->field, sizeof fe->field, "%s", field);
    snprintf(fe->message, sizeof fe->message, "%s", message);
    return HK_ERR_INVALID;
}

/* A string member into dst; absent or null leaves dst as it is. */
static int get_str(json_t *root, const char *field, char *dst, size_t size,
                   struct hk_field_error *fe)
{
    json_t *v = json_object_get(root, field);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return invalid(fe, "invalid_field", field, "must be a string");
    size_t n = json_string_length(v);
    if (n == 0)
        return invalid(fe, "invalid_field", field, "must not be empty");
    if (n >= size)
        return invalid(fe, "invalid_field", field, "is too long");
    memcpy(dst, json_string_value(v), n);
    dst[n] = '\0'; /* an embedded NUL (refused by jansson without JSON_ALLOW_NUL) cannot occur */
    return 0;
}

/* Parses the body into s (context fields) and ttl. */
static int parse_body(const struct col_app *app, const char *body, size_t len, struct hk_survey *s,
                      long long *ttl, struct hk_field_error *fe)
{
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    int rc = 0;
    if (!root || !json_is_object(root)) {
        rc = invalid(fe, "invalid_json", "", "the body must be a JSON object");
        goto out_decref;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        bool known = false;
        for (size_t i = 0; i < sizeof link_fields / sizeof *link_fields; i++)
            known |= strcmp(key, link_fields[i]) == 0;
        if (!known) {
            char field[64];
            snprintf(field, sizeof field, "%.40s", key);
            for (char *p = field; *p; p++)
                if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
                    *p = '?';
            rc = invalid(fe, "unknown_field", field, "is not a field of a link");
            goto out_decref;
        }
    }
    if ((rc = get_str(root, "interaction_id", s->interaction_id, sizeof s->interaction_id, fe)) ||
        (rc = get_str(root, "agent_id", s->agent_id, sizeof s->agent_id, fe)) ||
        (rc = get_str(root, "scenario", s->scenario, sizeof s->scenario, fe)) ||
        (rc = get_str(root, "team_id", s->team_id, sizeof s->team_id, fe)) ||
        (rc = get_str(root, "channel", s->channel, sizeof s->channel, fe)) ||
        (rc = get_str(root, "language", s->language, sizeof s->language, fe)))
        goto out_decref;
    if ((rc = hk_survey_validate_context(s, &app->scenarios, fe)))
        goto out_decref;
    *ttl = TTL_DEFAULT;
    v = json_object_get(root, "ttl_seconds");
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < TTL_MIN ||
            json_integer_value(v) > TTL_MAX) {
            rc = invalid(fe, "invalid_field", "ttl_seconds",
                         "must be an integer from 3600 (an hour) to 2592000 (30 days)");
            goto out_decref;
        }
        *ttl = json_integer_value(v);
    }

out_decref:
    json_decref(root);
    return rc;
}

int col_links_or_respond(struct col_req *r)
{
    const struct col_app *app = r->app;
    struct hk_survey s;
    struct hk_field_error fe;
    long long ttl = TTL_DEFAULT;
    int rc;

    if (app->link_keys.n == 0) {
        fe = (struct hk_field_error){.code = "not_configured",
                                     .field = "",
                                     .message = "link signing is not configured: set "
                                                "HEARKEN_LINK_SECRET"};
        return col_respond_error(r, HK_ERR_UNAVAILABLE, &fe, NULL);
    }
    hk_survey_init(&s);
    rc = parse_body(app, r->body.data ? r->body.data : "", r->body.len, &s, &ttl, &fe);
    if (rc)
        return col_respond_error(r, rc, rc == HK_ERR_INVALID ? &fe : NULL, NULL);

    struct hk_link l;
    memset(&l, 0, sizeof l);
    snprintf(l.interaction_id, sizeof l.interaction_id, "%s", s.interaction_id);
    snprintf(l.agent_id, sizeof l.agent_id, "%s", s.agent_id);
    snprintf(l.team_id, sizeof l.team_id, "%s", s.team_id);
    snprintf(l.scenario, sizeof l.scenario, "%s", s.scenario);
    snprintf(l.channel, sizeof l.channel, "%s", s.channel);
    snprintf(l.language, sizeof l.language, "%s", s.language);
    l.expires_at = (int64_t)time(NULL) + ttl;

    struct hk_buf tok, out;
    hk_buf_init(&tok, HK_TOKEN_MAX);
    hk_buf_init(&out, 2 * HK_TOKEN_MAX + sizeof app->public_url + 256);
    char expires[21];
    hk_rfc3339_format(l.expires_at, expires);
    if ((rc = hk_token_sign(&app->link_keys, &l, &tok)) ||
        (rc = hk_buf_printf(&out, "{\"url\":\"%s/s/%s\",\"token\":\"%s\",\"expires_at\":\"%s\"}",
                            app->public_url, tok.data, tok.data, expires))) {
        rc = col_respond_error(r, rc, NULL, NULL);
        goto out_free;
    }
    col_metrics_count(COL_CNT_LINKS_MINTED);
    /* the token is a password for one survey: logs name the interaction only */
    hk_log(HK_LOG_DEBUG, "link_minted", "interaction_id=%s kid=%s ttl_s=%lld", s.interaction_id,
           app->link_keys.key[0].kid, ttl);
    rc = col_respond_json(r, MHD_HTTP_OK, out.data, out.len);

out_free:
    hk_buf_free(&tok);
    hk_buf_free(&out);
    return rc;
}
