/* GET /v1/impact: for each seed behaviour and scenario ("*": all scenarios), the outcomes of
 * the surveys where it was done against those where it was not — NPS, felt_heard (stated),
 * advocacy (text, positive share) — with n and 95% intervals on every number, and the
 * differences. Null wherever a side has n < 2. Sums: the behavior_scenario rollups. */
#include "col.h"

#include "hearken/coaching.h"
#include "hearken/err.h"
#include "hearken/log.h"
#include "hearken/rollup.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DAYS 30
#define BODY_MAX     (16u << 20)
#define Z95          1.96

struct side {
    int64_t n;
    int64_t nps_n;
    bool nps_ok;
    double nps, nps_se;
    int64_t fh_n;
    bool fh_ok;
    double fh_mean, fh_var;
    int64_t adv_n, adv_pos;
    bool adv_ok;
    double adv_pct;
};

static void side_from(const struct hk_rollup_counts *c, struct side *s)
{
    const int64_t *v = c->v;
    memset(s, 0, sizeof *s);
    s->n = v[HK_RF_N];
    s->nps_n = v[HK_RF_NPS_PRO] + v[HK_RF_NPS_PAS] + v[HK_RF_NPS_DET];
    s->nps_ok = s->nps_n >= 2 && hk_stat_nps(v[HK_RF_NPS_PRO], v[HK_RF_NPS_PAS], v[HK_RF_NPS_DET],
                                             &s->nps, &s->nps_se);
    s->fh_n = v[HK_RF_FH_S_N];
    if (s->fh_n >= 2) {
        double n = (double)s->fh_n, sum = (double)v[HK_RF_FH_S_SUM], sq = (double)v[HK_RF_FH_S_SQ];
        s->fh_ok = true;
        s->fh_mean = sum / n;
        s->fh_var = fmax(0, (n * sq - sum * sum) / (n * (n - 1)));
    }
    s->adv_n = v[HK_RF_ADV_N];
    s->adv_pos = v[HK_RF_ADV_POS];
    if (s->adv_n >= 2) {
        s->adv_ok = true;
        s->adv_pct = 100.0 * (double)s->adv_pos / (double)s->adv_n;
    }
}

static int interval(struct hk_buf *b, double lo, double hi)
{
    return hk_buf_append_json_ci95(b, true, lo, hi);
}

static int num(struct hk_buf *b, const char *name, double v)
{
    int rc = hk_buf_printf(b, ",\"%s\":", name);
    return rc ? rc : hk_buf_append_json_num(b, v);
}

static int side_json(struct hk_buf *b, const struct side *s)
{
    int rc =
        hk_buf_printf(b, "{\"n\":%lld,\"nps\":{\"n\":%lld", (long long)s->n, (long long)s->nps_n);
    if (!rc && s->nps_ok) {
        rc = num(b, "score", s->nps);
        if (!rc)
            rc = num(b, "se", s->nps_se);
        if (!rc)
            rc = interval(b, fmax(-100, s->nps - Z95 * s->nps_se),
                          fmin(100, s->nps + Z95 * s->nps_se));
    } else if (!rc) {
        rc = hk_buf_append_str(b, ",\"score\":null,\"se\":null,\"ci95\":null");
    }
    if (!rc)
        rc = hk_buf_printf(b, "},\"felt_heard\":{\"n\":%lld", (long long)s->fh_n);
    if (!rc && s->fh_ok) {
        double half = hk_stat_t95(s->fh_n) * sqrt(s->fh_var / (double)s->fh_n);
        rc = num(b, "mean", s->fh_mean);
        if (!rc)
            rc = interval(b, fmax(1, s->fh_mean - half), fmin(5, s->fh_mean + half));
    } else if (!rc) {
        rc = hk_buf_append_str(b, ",\"mean\":null,\"ci95\":null");
    }
    if (!rc)
        rc = hk_buf_printf(b, "},\"advocacy\":{\"n\":%lld", (long long)s->adv_n);
    if (!rc && s->adv_ok) {
        double lo, hi;
        rc = num(b, "positive_pct", s->adv_pct);
        if (!rc && hk_stat_wilson95(s->adv_pos, s->adv_n, &lo, &hi))
            rc = interval(b, 100 * lo, 100 * hi);
    } else if (!rc) {
        rc = hk_buf_append_str(b, ",\"positive_pct\":null,\"ci95\":null");
    }
    return rc ? rc : hk_buf_append_str(b, "}}");
}

/* done - not with its standard error and 95% interval, or nulls. */
static int diff_json(struct hk_buf *b, const char *name, bool ok, double d, double se, double crit)
{
    int rc = hk_buf_printf(b, "\"%s\":{", name);
    if (!rc && ok) {
        rc = hk_buf_append_str(b, "\"value\":");
        if (!rc)
            rc = hk_buf_append_json_num(b, d);
        if (!rc)
            rc = num(b, "se", se);
        if (!rc)
            rc = interval(b, d - crit * se, d + crit * se);
    } else if (!rc) {
        rc = hk_buf_append_str(b, "\"value\":null,\"se\":null,\"ci95\":null");
    }
    return rc ? rc : hk_buf_append_char(b, '}');
}

static int row_json(struct hk_buf *b, int beh, const char *scen, size_t slen,
                    const struct side *done, const struct side * not, bool first)
{
    int rc = hk_buf_printf(b, "%s{\"behavior\":\"%s\",\"scenario\":", first ? "" : ",",
                           hk_behavior_names[beh]);
    if (!rc)
        rc = hk_buf_append_json_str(b, scen, slen);
    if (!rc)
        rc = hk_buf_append_str(b, ",\"done\":");
    if (!rc)
        rc = side_json(b, done);
    if (!rc)
        rc = hk_buf_append_str(b, ",\"not\":");
    if (!rc)
        rc = side_json(b, not );
    if (!rc)
        rc = hk_buf_append_str(b, ",\"diff\":{");
    /* NPS points; felt_heard answer points (Welch, conservative t with min(n)-1 df below 30);
     * advocacy percentage points */
    if (!rc)
        rc = diff_json(b, "nps", done->nps_ok && not ->nps_ok, done->nps - not ->nps,
                       sqrt(done->nps_se * done->nps_se + not ->nps_se * not ->nps_se), Z95);
    if (!rc)
        rc = hk_buf_append_char(b, ',');
    if (!rc) {
        int64_t nmin = done->fh_n < not ->fh_n ? done->fh_n : not ->fh_n;
        bool ok = done->fh_ok && not ->fh_ok;
        double se =
            ok ? sqrt(done->fh_var / (double)done->fh_n + not ->fh_var / (double)not ->fh_n) : 0;
        rc = diff_json(b, "felt_heard", ok, done->fh_mean - not ->fh_mean, se, hk_stat_t95(nmin));
    }
    if (!rc)
        rc = hk_buf_append_char(b, ',');
    if (!rc) {
        bool ok = done->adv_ok && not ->adv_ok;
        double p1 = done->adv_pct / 100, p2 = not ->adv_pct / 100;
        double se = ok ? 100 * sqrt(p1 * (1 - p1) / (double)done->adv_n +
                                    p2 * (1 - p2) / (double)not ->adv_n)
                       : 0;
        rc = diff_json(b, "advocacy", ok, done->adv_pct - not ->adv_pct, se, Z95);
    }
    return rc ? rc : hk_buf_append_str(b, "}}");
}

/* Distinct scenarios in the window's keys ("BEH|STATE|SCEN"), "*" first, then by name. */
static int scen_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    if (strcmp(x, y) == 0)
        return 0;
    if (strcmp(x, "*") == 0)
        return -1;
    if (strcmp(y, "*") == 0)
        return 1;
    return strcmp(x, y);
}

int col_impact_or_respond(struct col_req *r)
{
    bool bad = false;
    const char *only = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "scenario");
    if (only && !*only)
        only = NULL;
    if (only && strcmp(only, "*") != 0 && (col_id_param(r, "scenario", &bad), bad))
        return col_respond_bad_param(r, "scenario", "must be a scenario name or *");
    int64_t from, to;
    int rc = col_window_or_respond(r, DEFAULT_DAYS, &from, &to);
    if (rc)
        return rc < 0 ? rc : 0;
    redisContext *c = col_store_context(r->app);
    if (!c)
        return col_respond_error(r, HK_ERR_UNAVAILABLE, NULL, NULL);
    struct hk_rollup_window w;
    rc = hk_rollup_window_collect(c, r->app->prefix, HK_BY_BEHAVIOR_SCENARIO, from, to, &w);
    if (rc) {
        col_store_check(c);
        hk_log(HK_LOG_WARN, "impact_failed", "error=%s", hk_err_name(rc));
        hk_rollup_window_free(&w);
        return col_respond_error(r, rc, NULL, NULL);
    }

    /* scenario names: the part after the second '|' of each key (NUL-terminated copies) */
    char(*scen)[HK_ID_MAX + 1] = calloc(w.ngroups + 1, sizeof *scen);
    const char **order = calloc(w.ngroups + 1, sizeof *order);
    struct hk_buf b;
    hk_buf_init(&b, BODY_MAX);
    size_t ns = 0;
    if (!scen || !order) {
        rc = HK_ERR_NOMEM;
        goto out_free;
    }
    for (size_t i = 0; i < w.ngroups; i++) {
        const char *k = w.groups[i].key, *end = k + w.groups[i].key_len;
        const char *p1 = memchr(k, '|', (size_t)(end - k));
        const char *p2 = p1 ? memchr(p1 + 1, '|', (size_t)(end - p1 - 1)) : NULL;
        size_t slen = p2 ? (size_t)(end - p2 - 1) : 0;
        if (!p2 || slen == 0 || slen > HK_ID_MAX)
            continue;
        bool seen = false;
        for (size_t j = 0; j < ns && !seen; j++)
            seen = strlen(scen[j]) == slen && memcmp(scen[j], p2 + 1, slen) == 0;
        if (seen || (only && (strlen(only) != slen || memcmp(only, p2 + 1, slen) != 0)))
            continue;
        memcpy(scen[ns], p2 + 1, slen);
        scen[ns][slen] = '\0';
        order[ns] = scen[ns];
        ns++;
    }
    qsort(order, ns, sizeof *order, scen_cmp);

    char d0[11], d1[11];
    hk_day_format(from, d0);
    hk_day_format(to, d1);
    rc = hk_buf_printf(&b, "{\"from\":\"%s\",\"to\":\"%s\",\"scenario\":", d0, d1);
    if (!rc)
        rc = only ? hk_buf_append_json_str(&b, only, strlen(only)) : hk_buf_append_str(&b, "null");
    if (!rc)
        rc = hk_buf_append_str(&b, ",\"rows\":[");
    bool first = true;
    for (int beh = 0; beh < HK_BEH_COUNT && !rc; beh++)
        for (size_t j = 0; j < ns && !rc; j++) {
            char key[3 * HK_ID_MAX + 8];
            struct hk_rollup_counts zero = {{0}};
            const struct hk_rollup_group *gd, *gn;
            int kl = snprintf(key, sizeof key, "%s|done|%s", hk_behavior_names[beh], order[j]);
            gd = hk_rollup_window_find(&w, key, (size_t)kl);
            kl = snprintf(key, sizeof key, "%s|not|%s", hk_behavior_names[beh], order[j]);
            gn = hk_rollup_window_find(&w, key, (size_t)kl);
            if (!gd && !gn)
                continue;
            struct side done, not ;
            side_from(gd ? &gd->c : &zero, &done);
            side_from(gn ? &gn->c : &zero, &not );
            rc = row_json(&b, beh, order[j], strlen(order[j]), &done, &not, first);
            first = false;
        }
    if (!rc)
        rc = hk_buf_append_str(&b, "]}");
out_free:
    rc = rc ? col_respond_error(r, rc, NULL, NULL) : col_respond_table(r, &b, "rows", "impact");
    hk_buf_free(&b);
    free(scen);
    free(order);
    hk_rollup_window_free(&w);
    return rc;
}
