/* GET /v1/trends: one metric as a daily series over a window, for everyone or one agent,
 * team, scenario or agent x scenario; one point per day, value null where n = 0, ci95 null
 * below n = 2. Sums come from common/rollup_query.c, intervals from common/rollup_stats.c and
 * common/coaching.c. */
#include "col.h"

#include "hearken/coaching.h"
#include "hearken/err.h"
#include "hearken/log.h"
#include "hearken/rollup.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY          86400LL
#define DEFAULT_DAYS 30
#define BODY_MAX     (4u << 20)

enum metric {
    M_NPS,
    M_CSAT,
    M_CES,
    M_FELT_HEARD,
    M_FELT_VALUED,
    M_ADVOCACY,
    M_EASE,
    M_SENTIMENT,
    M_VOLUME,
    M_RECOVERY,
    M_COUNT
};

static const struct {
    const char *name, *unit;
    double lo, hi; /* the value's range */
} metrics[M_COUNT] = {
    [M_NPS] = {"nps", "nps", -100, 100},
    [M_CSAT] = {"csat", "percent_top2", 0, 100},
    [M_CES] = {"ces", "mean_1_7", 1, 7},
    [M_FELT_HEARD] = {"felt_heard", "mean_1_5", 1, 5},
    [M_FELT_VALUED] = {"felt_valued", "mean_1_5", 1, 5},
    [M_ADVOCACY] = {"advocacy", "percent_positive", 0, 100},
    [M_EASE] = {"ease", "mean_text", -1, 1},
    [M_SENTIMENT] = {"sentiment", "mean_text", -1, 1},
    [M_VOLUME] = {"volume", "surveys", 0, INFINITY},
    [M_RECOVERY] = {"recovery", "fraction", 0, 1},
};

struct point {
    int64_t n;
    int k; /* 0: no value, 1: value only, 2: value and interval */
    double value, lo, hi;
};

/* A mean triple starting at field f_n. */
static void mean_point(const struct hk_rollup_counts *c, int f_n, double scale, double lo,
                       double hi, struct point *p)
{
    p->n = c->v[f_n];
    p->k = hk_stat_mean_ci(p->n, c->v[f_n + 1], c->v[f_n + 2], scale, lo, hi, &p->value, &p->lo,
                           &p->hi);
}

/* A proportion k/n as value * scale with its Wilson interval. */
static void rate_point(int64_t k, int64_t n, double scale, struct point *p)
{
    p->n = n;
    p->k = 0;
    if (n <= 0)
        return;
    p->value = scale * (double)k / (double)n;
    p->k = 1;
    if (n >= 2 && hk_stat_wilson95(k, n, &p->lo, &p->hi)) {
        p->lo *= scale;
        p->hi *= scale;
        p->k = 2;
    }
}

static void compute(int m, bool text, const struct hk_rollup_counts *c, struct point *p)
{
    const int64_t *v = c->v;
    memset(p, 0, sizeof *p);
    switch (m) {
    case M_NPS: {
        double score, se;
        p->n = v[HK_RF_NPS_PRO] + v[HK_RF_NPS_PAS] + v[HK_RF_NPS_DET];
        if (hk_stat_nps(v[HK_RF_NPS_PRO], v[HK_RF_NPS_PAS], v[HK_RF_NPS_DET], &score, &se)) {
            p->value = score;
            p->k = 1;
            if (p->n >= 2) {
                p->lo = fmax(-100, score - 1.96 * se);
                p->hi = fmin(100, score + 1.96 * se);
                p->k = 2;
            }
        }
        return;
    }
    case M_CSAT:
        rate_point(v[HK_RF_CSAT_TOP2], v[HK_RF_CSAT_N], 100, p);
        return;
    case M_CES:
        mean_point(c, HK_RF_CES_N, 1, 1, 7, p);
        return;
    case M_FELT_HEARD:
        if (text)
            mean_point(c, HK_RF_FH_T_N, 1000, -1, 1, p);
        else
            mean_point(c, HK_RF_FH_S_N, 1, 1, 5, p);
        return;
    case M_FELT_VALUED:
        if (text)
            mean_point(c, HK_RF_FV_T_N, 1000, -1, 1, p);
        else
            mean_point(c, HK_RF_FV_S_N, 1, 1, 5, p);
        return;
    case M_ADVOCACY:
        rate_point(v[HK_RF_ADV_POS], v[HK_RF_ADV_N], 100, p);
        return;
    case M_EASE:
        mean_point(c, HK_RF_EASE_N, 1000, -1, 1, p);
        return;
    case M_SENTIMENT:
        mean_point(c, HK_RF_SENT_N, 1000, -1, 1, p);
        return;
    case M_VOLUME:
        p->n = v[HK_RF_N];
        p->value = (double)p->n; /* a count is known even when it is 0 */
        p->k = 1;
        return;
    case M_RECOVERY:
        rate_point(v[HK_RF_REC_PRO], v[HK_RF_REC_N], 1, p);
        return;
    default:
        return;
    }
}

static int filter_json(struct hk_buf *b, const char *name, const char *v, bool first)
{
    int rc = hk_buf_printf(b, "%s\"%s\":", first ? "" : ",", name);
    if (!rc)
        rc = v ? hk_buf_append_json_str(b, v, strlen(v)) : hk_buf_append_str(b, "null");
    return rc;
}

int col_trends_or_respond(struct col_req *r)
{
    const char *metric_s = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "metric");
    const char *source_s = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "source");
    int m = -1;
    for (int i = 0; i < M_COUNT && metric_s; i++)
        if (strcmp(metric_s, metrics[i].name) == 0)
            m = i;
    if (m < 0)
        return col_respond_bad_param(r, "metric",
                                     "must be nps, csat, ces, felt_heard, felt_valued, advocacy, "
                                     "ease, sentiment, volume or recovery");
    bool text = false;
    if (source_s && *source_s) {
        if (strcmp(source_s, "text") == 0)
            text = true;
        else if (strcmp(source_s, "stated") != 0)
            return col_respond_bad_param(r, "source", "must be stated or text");
        if (m != M_FELT_HEARD && m != M_FELT_VALUED)
            return col_respond_bad_param(r, "source", "applies to felt_heard and felt_valued");
    }
    bool bad = false;
    const char *agent = col_id_param(r, "agent", &bad);
    if (bad)
        return col_respond_bad_param(r, "agent", "must be an agent id");
    const char *team = col_id_param(r, "team", &bad);
    if (bad)
        return col_respond_bad_param(r, "team", "must be a team id");
    const char *scenario = col_id_param(r, "scenario", &bad);
    if (bad)
        return col_respond_bad_param(r, "scenario", "must be a scenario name");
    if (team && (agent || scenario))
        return col_respond_bad_param(r, "team",
                                     "combines with no other filter (agent and scenario do)");
    int64_t from, to;
    int rc = col_window_or_respond(r, DEFAULT_DAYS, &from, &to);
    if (rc)
        return rc < 0 ? rc : 0;

    int by = HK_BY_ALL;
    char key[2 * HK_ID_MAX + 2] = "all";
    if (agent && scenario) {
        by = HK_BY_AGENT_SCENARIO;
        snprintf(key, sizeof key, "%s|%s", agent, scenario);
    } else if (agent || team || scenario) {
        by = agent ? HK_BY_AGENT : team ? HK_BY_TEAM : HK_BY_SCENARIO;
        snprintf(key, sizeof key, "%s", agent ? agent : team ? team : scenario);
    }

    size_t ndays = (size_t)((to - from) / DAY + 1);
    struct hk_rollup_counts *days = calloc(ndays, sizeof *days);
    if (!days)
        return col_respond_error(r, HK_ERR_NOMEM, NULL, NULL);
    struct hk_buf b;
    hk_buf_init(&b, BODY_MAX);
    redisContext *c = col_store_context(r->app);
    if (!c) {
        rc = col_respond_error(r, HK_ERR_UNAVAILABLE, NULL, NULL);
        goto out_free_days;
    }
    rc = hk_rollup_days_query(c, r->app->prefix, by, key, strlen(key), from, to, days);
    if (rc) {
        col_store_check(c);
        hk_log(HK_LOG_WARN, "trends_failed", "error=%s", hk_err_name(rc));
        rc = col_respond_error(r, rc, NULL, NULL);
        goto out_free_days;
    }

    char d0[11], d1[11];
    hk_day_format(from, d0);
    hk_day_format(to, d1);
    rc = hk_buf_printf(&b, "{\"metric\":\"%s\",\"unit\":\"%s\",\"source\":", metrics[m].name,
                       metrics[m].unit);
    if (!rc)
        rc = hk_buf_append_str(&b, m == M_FELT_HEARD || m == M_FELT_VALUED
                                       ? (text ? "\"text\"" : "\"stated\"")
                                       : "null");
    if (!rc && text) /* text scores are -1..1 whatever the metric's answer scale */
        rc = hk_buf_append_str(&b, ",\"scale\":[-1,1]");
    else if (!rc && isinf(metrics[m].hi))
        rc = hk_buf_printf(&b, ",\"scale\":[%g,null]", metrics[m].lo);
    else if (!rc)
        rc = hk_buf_printf(&b, ",\"scale\":[%g,%g]", metrics[m].lo, metrics[m].hi);
    if (!rc)
        rc = hk_buf_append_str(&b, ",\"filter\":{");
    if (!rc)
        rc = filter_json(&b, "agent", agent, true);
    if (!rc)
        rc = filter_json(&b, "team", team, false);
    if (!rc)
        rc = filter_json(&b, "scenario", scenario, false);
    if (!rc)
        rc = hk_buf_printf(&b, "},\"from\":\"%s\",\"to\":\"%s\",\"points\":[", d0, d1);
    for (size_t i = 0; i < ndays && !rc; i++) {
        struct point p;
        char day[11];
        compute(m, text, &days[i], &p);
        hk_day_format(from + (int64_t)i * DAY, day);
        rc = hk_buf_printf(&b, "%s{\"day\":\"%s\",\"n\":%lld,\"value\":", i ? "," : "", day,
                           (long long)p.n);
        if (!rc)
            rc = p.k >= 1 ? hk_buf_append_json_num(&b, p.value) : hk_buf_append_str(&b, "null");
        if (!rc)
            rc = hk_buf_append_json_ci95(&b, p.k == 2, p.lo, p.hi);
        if (!rc)
            rc = hk_buf_append_char(&b, '}');
    }
    if (!rc)
        rc = hk_buf_append_str(&b, "]}");
    rc = rc ? col_respond_error(r, rc, NULL, NULL) : col_respond_table(r, &b, "points", "trends");
out_free_days:
    hk_buf_free(&b);
    free(days);
    return rc;
}
