/* GET /v1/coaching: the coaching queue (SPEC sections 6 and 9). Reads the window's agent,
 * agent_team, agent_scenario and scenario sums, ranks with common/coaching.c (empirical Bayes
 * toward the team, gain = (team - estimate) x surveys), and adds each agent's evidence: top
 * negative cues (hk_rollup_cues_query) and behaviours missed beyond the team's rate. */
#include "col.h"

#include "hearken/coaching.h"
#include "hearken/err.h"
#include "hearken/log.h"
#include "hearken/rollup.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DAYS  30
#define DEFAULT_MIN_N 20
#define TAU2_FLOOR    1e-4 /* a between-agent sd of 0.01 on the 0..1 scale */
#define CUES_SHOWN    5
#define CUES_READ     100 /* read this many, then show the most relevant CUES_SHOWN */
#define MISSES_SHOWN  3
#define BODY_MAX      (16u << 20)

static int num(struct hk_buf *b, const char *name, double v)
{
    int rc = hk_buf_printf(b, ",\"%s\":", name);
    return rc ? rc : hk_buf_append_json_num(b, v);
}

/* How close a cue is to the item: the focus behaviour's own cues, then the dimension's,
 * then other behaviours', then the rest (general sentiment). */
static int cue_priority(const char *dim, const struct hk_coach_item *it)
{
    const char *focus = hk_behavior_names[it->focus];
    if (strncmp(dim, "behaviors.", 10) == 0 && strcmp(dim + 10, focus) == 0)
        return 0;
    if (strcmp(dim, hk_coach_dim_names[it->dim]) == 0)
        return 1;
    return strncmp(dim, "behaviors.", 10) == 0 ? 2 : 3;
}

/* The agent's top negative cues as evidence objects {"type":"cue",…}, the most relevant to
 * the item first, most frequent first within each level. */
static int cue_evidence(redisContext *c, const char *prefix, const struct hk_coach_agent *a,
                        const struct hk_coach_item *it, int64_t from, int64_t to, struct hk_buf *b,
                        bool *first)
{
    struct hk_buf raw;
    hk_buf_init(&raw, 4u << 20);
    int rc = hk_rollup_cues_query(c, prefix, a->id, a->id_len, from, to, CUES_READ, &raw);
    json_t *root = rc ? NULL : json_loadb(raw.data, raw.len, 0, NULL);
    json_t *cues = root ? json_object_get(root, "cues") : NULL;
    if (!rc && !json_is_array(cues))
        rc = HK_ERR_IO;
    size_t shown = 0;
    const char *seen[CUES_SHOWN]; /* one phrase under two dimensions is one piece of evidence */
    for (int level = 0; level < 4 && shown < CUES_SHOWN; level++)
        for (size_t i = 0; !rc && i < json_array_size(cues) && shown < CUES_SHOWN; i++) {
            json_t *cue = json_array_get(cues, i);
            const char *dim = json_string_value(json_object_get(cue, "dimension"));
            const char *entry = json_string_value(json_object_get(cue, "entry"));
            json_int_t n = json_integer_value(json_object_get(cue, "surveys"));
            if (!dim || !entry || cue_priority(dim, it) != level)
                continue;
            bool dup = false;
            for (size_t k = 0; k < shown && !dup; k++)
                dup = strcmp(seen[k], entry) == 0;
            if (dup)
                continue;
            seen[shown++] = entry;
            rc = hk_buf_append_str(b, *first ? "{\"type\":\"cue\",\"dimension\":"
                                             : ",{\"type\":\"cue\",\"dimension\":");
            *first = false;
            if (!rc)
                rc = hk_buf_append_json_str(b, dim, strlen(dim));
            if (!rc)
                rc = hk_buf_append_str(b, ",\"entry\":");
            if (!rc)
                rc = hk_buf_append_json_str(b, entry, strlen(entry));
            if (!rc)
                rc = hk_buf_printf(b, ",\"surveys\":%lld}", (long long)n);
        }
    json_decref(root);
    hk_buf_free(&raw);
    return rc;
}

static int item_json(struct hk_buf *b, size_t rank, const struct hk_coach_item *it,
                     const struct hk_coach_agent *a)
{
    int rc = hk_buf_printf(b, "%s{\"rank\":%zu,\"agent\":", rank > 1 ? "," : "", rank);
    if (!rc)
        rc = hk_buf_append_json_str(b, a->id, a->id_len);
    if (!rc)
        rc = hk_buf_append_str(b, ",\"team_id\":");
    if (!rc)
        rc = a->team ? hk_buf_append_json_str(b, a->team, a->team_len)
                     : hk_buf_append_str(b, "\"all\"");
    if (!rc)
        rc = hk_buf_printf(b, ",\"dimension\":\"%s\",\"source\":\"%s\",\"scenario\":",
                           hk_coach_dim_names[it->dim], it->stated ? "stated" : "text");
    if (!rc)
        rc = it->scenario ? hk_buf_append_json_str(b, it->scenario, it->scenario_len)
                          : hk_buf_append_str(b, "null");
    if (!rc)
        rc =
            hk_buf_printf(b, ",\"focus\":\"%s\",\"focus_basis\":\"%s\"",
                          hk_behavior_names[it->focus], it->focus_from_data ? "data" : "dimension");
    if (!rc)
        rc = num(b, "gain", it->gain);
    if (!rc)
        rc = hk_buf_printf(b, ",\"n\":%lld,\"dimension_n\":%lld", (long long)it->n,
                           (long long)it->dim_n);
    if (!rc)
        rc = num(b, "estimate", it->estimate);
    if (!rc)
        rc = num(b, "team", it->level);
    if (!rc)
        rc = num(b, "raw", it->raw);
    if (!rc)
        rc = num(b, "shrinkage", it->shrink);
    return rc;
}

static int miss_evidence(struct hk_buf *b, const struct hk_coach_item *it, bool *first)
{
    int rc = 0;
    for (int i = 0, shown = 0; i < HK_BEH_COUNT && shown < MISSES_SHOWN && !rc; i++) {
        const struct hk_coach_miss *m = &it->misses[i];
        if (!(m->excess > 0))
            break; /* sorted by excess */
        rc = hk_buf_printf(b,
                           "%s{\"type\":\"behavior\",\"behavior\":\"%s\",\"missed\":%lld,"
                           "\"of\":%lld",
                           *first ? "" : ",", hk_behavior_names[m->behavior], (long long)m->missed,
                           (long long)m->evidence);
        *first = false;
        if (!rc)
            rc = num(b, "rate", m->rate);
        if (!rc)
            rc = num(b, "team_rate", m->team_rate);
        if (!rc)
            rc = hk_buf_append_char(b, '}');
        shown++;
    }
    return rc;
}

int col_coaching_or_respond(struct col_req *r)
{
    const char *min_s = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "min_n");
    long long min_n = DEFAULT_MIN_N;
    if (min_s && *min_s) {
        char *end;
        min_n = strtoll(min_s, &end, 10);
        if (*end || min_n < 1 || min_n > 1000000)
            return col_respond_bad_param(r, "min_n", "must be an integer from 1 to 1000000");
    }
    int64_t from, to;
    int rc = col_window_or_respond(r, DEFAULT_DAYS, &from, &to);
    if (rc)
        return rc < 0 ? rc : 0;
    redisContext *c = col_store_context(r->app);
    if (!c)
        return col_respond_error(r, HK_ERR_UNAVAILABLE, NULL, NULL);

    const char *prefix = r->app->prefix;
    struct hk_rollup_window agents_w, teams_w, cells_w, scen_w;
    memset(&teams_w, 0, sizeof teams_w);
    memset(&cells_w, 0, sizeof cells_w);
    memset(&scen_w, 0, sizeof scen_w);
    struct hk_coach_agent *agents = NULL;
    struct hk_coach_item *items = NULL;
    size_t *few = NULL, nitems = 0, nfew = 0;
    struct hk_buf b;
    hk_buf_init(&b, BODY_MAX);
    rc = hk_rollup_window_collect(c, prefix, HK_BY_AGENT, from, to, &agents_w);
    if (!rc)
        rc = hk_rollup_window_collect(c, prefix, HK_BY_AGENT_TEAM, from, to, &teams_w);
    if (!rc)
        rc = hk_rollup_window_collect(c, prefix, HK_BY_AGENT_SCENARIO, from, to, &cells_w);
    if (!rc)
        rc = hk_rollup_window_collect(c, prefix, HK_BY_SCENARIO, from, to, &scen_w);
    if (rc)
        goto out_store_error;

    size_t na = agents_w.ngroups;
    agents = calloc(na + 1, sizeof *agents);
    items = calloc(na + 1, sizeof *items);
    few = calloc(na + 1, sizeof *few);
    if (!agents || !items || !few) {
        rc = HK_ERR_NOMEM;
        goto out_error;
    }
    for (size_t i = 0; i < na; i++) {
        const struct hk_rollup_group *g = &agents_w.groups[i];
        agents[i] = (struct hk_coach_agent){.id = g->key, .id_len = g->key_len, .c = g->c};
        /* the team the agent answered for most in the window (membership keys agent|team) */
        int64_t best = 0;
        for (size_t j = 0; j < teams_w.ngroups; j++) {
            const struct hk_rollup_group *t = &teams_w.groups[j];
            if (t->key_len > g->key_len + 1 && t->key[g->key_len] == '|' &&
                memcmp(t->key, g->key, g->key_len) == 0 && t->c.v[HK_RF_N] > best) {
                best = t->c.v[HK_RF_N];
                agents[i].team = t->key + g->key_len + 1;
                agents[i].team_len = t->key_len - g->key_len - 1;
            }
        }
    }
    struct hk_coach_opts opts = {.min_n = min_n, .tau2_floor = TAU2_FLOOR};
    rc = hk_coaching_rank(agents, na, &cells_w, &scen_w, &opts, items, &nitems, few, &nfew);
    if (rc)
        goto out_error;

    char d0[11], d1[11];
    hk_day_format(from, d0);
    hk_day_format(to, d1);
    rc = hk_buf_printf(&b,
                       "{\"from\":\"%s\",\"to\":\"%s\",\"min_n\":%lld,\"scale\":[0,1],"
                       "\"items\":[",
                       d0, d1, min_n);
    for (size_t i = 0; i < nitems && !rc; i++) {
        const struct hk_coach_agent *a = &agents[items[i].agent];
        bool first = true;
        rc = item_json(&b, i + 1, &items[i], a);
        if (!rc)
            rc = hk_buf_append_str(&b, ",\"evidence\":[");
        if (!rc)
            rc = cue_evidence(c, prefix, a, &items[i], from, to, &b, &first);
        if (rc == HK_ERR_UNAVAILABLE)
            goto out_store_error;
        if (!rc)
            rc = miss_evidence(&b, &items[i], &first);
        if (!rc)
            rc = hk_buf_append_str(&b, "]}");
    }
    if (!rc)
        rc = hk_buf_append_str(&b, "],\"not_enough_data\":[");
    for (size_t i = 0; i < nfew && !rc; i++) {
        rc = i ? hk_buf_append_char(&b, ',') : 0;
        if (!rc)
            rc = hk_buf_append_json_str(&b, agents[few[i]].id, agents[few[i]].id_len);
    }
    if (!rc)
        rc = hk_buf_append_str(&b, "]}");
    if (rc)
        goto out_error;
    rc = col_respond_table(r, &b, "items", "coaching");
    goto out_free;

out_store_error:
    col_store_check(c);
    hk_log(HK_LOG_WARN, "coaching_failed", "error=%s", hk_err_name(rc));
out_error:
    rc = col_respond_error(r, rc, NULL, NULL);
out_free:
    hk_buf_free(&b);
    free(agents);
    free(items);
    free(few);
    hk_rollup_window_free(&agents_w);
    hk_rollup_window_free(&teams_w);
    hk_rollup_window_free(&cells_w);
    hk_rollup_window_free(&scen_w);
    return rc;
}
