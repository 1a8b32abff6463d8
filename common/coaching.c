/* Coaching statistics (include/hearken/coaching.h): moments on a common 0..1 scale, the
 * normal-normal empirical-Bayes fit per team, behaviours missed beyond the team's habit, and
 * the ranked queue. Pure functions over rollup sums; no Redis, no JSON. */
#include "hearken/coaching.h"
#include "hearken/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const hk_coach_dim_names[HK_CD_COUNT] = {"felt_heard", "felt_valued", "advocacy",
                                                     "ease"};

bool hk_stat_wilson95(int64_t k, int64_t n, double *lo, double *hi)
{
    if (n <= 0)
        return false;
    const double z = 1.96, z2 = z * z;
    double nn = (double)n, p = (double)k / nn;
    double denom = 1 + z2 / nn;
    double center = (p + z2 / (2 * nn)) / denom;
    double half = z * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / denom;
    *lo = center - half < 0 ? 0 : center - half;
    *hi = center + half > 1 ? 1 : center + half;
    return true;
}

/* n, sum and sum of squares (in units of 1/scale, squares 1/scale^2) → moments, then the
 * linear map x → a x + b onto 0..1. */
static void moments_from(int64_t n, int64_t sum, int64_t sq, double scale, double a, double b,
                         struct hk_moments *m)
{
    m->n = n;
    m->mean = 0;
    m->var = 0;
    if (n <= 0)
        return;
    double mean = (double)sum / scale / (double)n;
    m->mean = a * mean + b;
    if (n >= 2) {
        __int128 num = (__int128)n * sq - (__int128)sum * sum;
        if (num < 0)
            num = 0;
        double var = (double)num / ((double)n * (double)(n - 1)) / (scale * scale);
        m->var = a * a * var;
    }
}

void hk_coach_moments(const struct hk_rollup_counts *c, int dim, bool stated, struct hk_moments *m)
{
    const int64_t *v = c->v;
    switch (dim) {
    case HK_CD_FELT_HEARD:
        if (stated)
            moments_from(v[HK_RF_FH_S_N], v[HK_RF_FH_S_SUM], v[HK_RF_FH_S_SQ], 1, 0.25, -0.25, m);
        else
            moments_from(v[HK_RF_FH_T_N], v[HK_RF_FH_T_SUM], v[HK_RF_FH_T_SQ], 1000, 0.5, 0.5, m);
        return;
    case HK_CD_FELT_VALUED:
        if (stated)
            moments_from(v[HK_RF_FV_S_N], v[HK_RF_FV_S_SUM], v[HK_RF_FV_S_SQ], 1, 0.25, -0.25, m);
        else
            moments_from(v[HK_RF_FV_T_N], v[HK_RF_FV_T_SUM], v[HK_RF_FV_T_SQ], 1000, 0.5, 0.5, m);
        return;
    case HK_CD_ADVOCACY:
        moments_from(v[HK_RF_ADV_N], v[HK_RF_ADV_SUM], v[HK_RF_ADV_SQ], 1000, 0.5, 0.5, m);
        return;
    case HK_CD_EASE:
        moments_from(v[HK_RF_EASE_N], v[HK_RF_EASE_SUM], v[HK_RF_EASE_SQ], 1000, 0.5, 0.5, m);
        return;
    default:
        memset(m, 0, sizeof *m);
    }
}

bool hk_eb_fit(const struct hk_moments *agents, size_t nagents, double tau2_floor, struct hk_eb *t)
{
    double sw = 0, swm = 0, within = 0, df = 0;
    for (size_t i = 0; i < nagents; i++) {
        const struct hk_moments *m = &agents[i];
        if (m->n < 1)
            continue;
        sw += (double)m->n;
        swm += (double)m->n * m->mean;
        if (m->n >= 2) {
            within += (double)(m->n - 1) * m->var;
            df += (double)(m->n - 1);
        }
    }
    if (sw <= 0)
        return false;
    t->level = swm / sw;
    t->sigma2 = df > 0 ? within / df : 0;

    /* between agents: V - S over the agents with n >= 2 */
    double mbar = 0, s = 0;
    size_t k = 0;
    for (size_t i = 0; i < nagents; i++)
        if (agents[i].n >= 2) {
            mbar += agents[i].mean;
            s += t->sigma2 / (double)agents[i].n;
            k++;
        }
    t->k = k;
    t->tau2 = tau2_floor;
    if (k < 2)
        return true;
    mbar /= (double)k;
    s /= (double)k;
    double v = 0;
    for (size_t i = 0; i < nagents; i++)
        if (agents[i].n >= 2)
            v += (agents[i].mean - mbar) * (agents[i].mean - mbar);
    v /= (double)(k - 1);
    if (v - s > tau2_floor)
        t->tau2 = v - s;
    return true;
}

double hk_eb_estimate(const struct hk_eb *t, const struct hk_moments *m, double *shrink)
{
    double se2 = m->n > 0 ? t->sigma2 / (double)m->n : 0;
    double b = se2 + t->tau2 > 0 ? se2 / (se2 + t->tau2) : 0;
    if (shrink)
        *shrink = b;
    return b * t->level + (1 - b) * m->mean;
}

static int miss_cmp(const void *a, const void *b)
{
    const struct hk_coach_miss *x = a, *y = b;
    if (x->excess != y->excess)
        return x->excess > y->excess ? -1 : 1;
    return x->behavior - y->behavior;
}

void hk_coach_misses(const struct hk_rollup_counts *agent, const struct hk_rollup_counts *team,
                     struct hk_coach_miss out[HK_BEH_COUNT])
{
    for (int b = 0; b < HK_BEH_COUNT; b++) {
        const int64_t *a = agent->v, *t = team->v;
        int64_t am = a[HK_RF_BEH(b, HK_RB_STATED_NO)] + a[HK_RF_BEH(b, HK_RB_TEXT_NEG)];
        int64_t ae = am + a[HK_RF_BEH(b, HK_RB_STATED_YES)] + a[HK_RF_BEH(b, HK_RB_TEXT_POS)];
        int64_t tm = t[HK_RF_BEH(b, HK_RB_STATED_NO)] + t[HK_RF_BEH(b, HK_RB_TEXT_NEG)];
        int64_t te = tm + t[HK_RF_BEH(b, HK_RB_STATED_YES)] + t[HK_RF_BEH(b, HK_RB_TEXT_POS)];
        struct hk_coach_miss *o = &out[b];
        o->behavior = b;
        o->missed = am;
        o->evidence = ae;
        o->rate = ae > 0 ? (double)am / (double)ae : 0;
        o->team_rate = te > 0 ? (double)tm / (double)te : 0;
        o->excess = (double)am - o->team_rate * (double)ae;
        double sd = sqrt((double)ae * o->team_rate * (1 - o->team_rate));
        o->z = sd > 0 ? o->excess / sd : 0;
    }
    qsort(out, HK_BEH_COUNT, sizeof out[0], miss_cmp);
}

/* The seed behaviours that move each dimension, most direct first. */
static const int dim_behaviors[HK_CD_COUNT][4] = {
    [HK_CD_FELT_HEARD] = {HK_BEH_LISTENED_ACTIVELY, HK_BEH_DID_NOT_INTERRUPT, HK_BEH_WAS_PATIENT,
                          -1},
    [HK_CD_FELT_VALUED] = {HK_BEH_APOLOGIZED, HK_BEH_SHOWED_CONCERN, HK_BEH_ACKNOWLEDGED_FEELINGS,
                           HK_BEH_OFFERED_GOODWILL},
    [HK_CD_ADVOCACY] = {HK_BEH_OFFERED_GOODWILL, HK_BEH_SHOWED_CONCERN, HK_BEH_APOLOGIZED, -1},
    [HK_CD_EASE] = {HK_BEH_MADE_NO_ASSUMPTIONS, HK_BEH_LISTENED_ACTIVELY, HK_BEH_WAS_PATIENT, -1},
};

int hk_coach_focus(int dim, const struct hk_coach_miss misses[HK_BEH_COUNT], bool *from_data)
{
    *from_data = true;
    if (misses[0].excess > 0 && misses[0].z >= 2.0)
        return misses[0].behavior;
    if (dim < 0 || dim >= HK_CD_COUNT)
        dim = HK_CD_FELT_HEARD;
    for (int i = 0; i < HK_BEH_COUNT; i++) /* sorted: the first mapped one is the largest */
        for (int j = 0; j < 4 && dim_behaviors[dim][j] >= 0; j++)
            if (misses[i].behavior == dim_behaviors[dim][j] && misses[i].excess > 0)
                return misses[i].behavior;
    *from_data = false;
    return dim_behaviors[dim][0];
}

/* ---- the queue ---- */

static bool same(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* Agents j that are i's comparison group: the same team, or everyone when i has none. */
static bool peer(const struct hk_coach_agent *ag, size_t i, size_t j)
{
    if (!ag[i].team)
        return true;
    return ag[j].team && same(ag[i].team, ag[i].team_len, ag[j].team, ag[j].team_len);
}

static void pick_scenario(const struct hk_coach_agent *a, const struct hk_rollup_window *cells,
                          const struct hk_rollup_window *scenarios, int dim, bool stated,
                          double level, struct hk_coach_item *it)
{
    double best = 0;
    it->scenario = NULL;
    it->scenario_len = 0;
    if (!cells)
        return;
    for (size_t g = 0; g < cells->ngroups; g++) {
        const struct hk_rollup_group *cell = &cells->groups[g];
        if (cell->key_len <= a->id_len + 1 || memcmp(cell->key, a->id, a->id_len) != 0 ||
            cell->key[a->id_len] != '|')
            continue;
        const char *scen = cell->key + a->id_len + 1;
        size_t slen = cell->key_len - a->id_len - 1;
        struct hk_moments m, base;
        hk_coach_moments(&cell->c, dim, stated, &m);
        if (m.n < 3)
            continue;
        double baseline = level;
        const struct hk_rollup_group *sg =
            scenarios ? hk_rollup_window_find(scenarios, scen, slen) : NULL;
        if (sg) {
            hk_coach_moments(&sg->c, dim, stated, &base);
            if (base.n > 0)
                baseline = base.mean;
        }
        double score = (baseline - m.mean) * (double)cell->c.v[HK_RF_N];
        if (score > best) {
            best = score;
            it->scenario = scen;
            it->scenario_len = slen;
        }
    }
}

static int item_cmp(const void *a, const void *b)
{
    const struct hk_coach_item *x = a, *y = b;
    if (x->gain != y->gain)
        return x->gain > y->gain ? -1 : 1;
    size_t n = x->id_len < y->id_len ? x->id_len : y->id_len;
    int c = n ? memcmp(x->id, y->id, n) : 0;
    return c ? c : (x->id_len < y->id_len ? -1 : x->id_len > y->id_len);
}

int hk_coaching_rank(const struct hk_coach_agent *agents, size_t nagents,
                     const struct hk_rollup_window *cells, const struct hk_rollup_window *scenarios,
                     const struct hk_coach_opts *opts, struct hk_coach_item *items, size_t *nitems,
                     size_t *too_few, size_t *ntoo_few)
{
    *nitems = 0;
    *ntoo_few = 0;
    struct hk_moments *peers = calloc(nagents ? nagents : 1, sizeof *peers);
    if (!peers)
        return HK_ERR_NOMEM;

    /* stated answers for felt_heard / felt_valued when there are enough of them overall */
    bool stated[HK_CD_COUNT] = {false, false, false, false};
    int64_t fh = 0, fv = 0;
    for (size_t i = 0; i < nagents; i++) {
        fh += agents[i].c.v[HK_RF_FH_S_N];
        fv += agents[i].c.v[HK_RF_FV_S_N];
    }
    stated[HK_CD_FELT_HEARD] = fh >= opts->min_n && fh > 0;
    stated[HK_CD_FELT_VALUED] = fv >= opts->min_n && fv > 0;

    for (size_t i = 0; i < nagents; i++) {
        const struct hk_coach_agent *a = &agents[i];
        int64_t n = a->c.v[HK_RF_N];
        if (n < opts->min_n || n <= 0) {
            too_few[(*ntoo_few)++] = i;
            continue;
        }
        struct hk_coach_item best = {.agent = i, .id = a->id, .id_len = a->id_len, .dim = -1};
        for (int d = 0; d < HK_CD_COUNT; d++) {
            struct hk_moments m;
            hk_coach_moments(&a->c, d, stated[d], &m);
            if (m.n < 1)
                continue;
            size_t np = 0;
            for (size_t j = 0; j < nagents; j++)
                if (peer(agents, i, j))
                    hk_coach_moments(&agents[j].c, d, stated[d], &peers[np++]);
            struct hk_eb eb;
            if (!hk_eb_fit(peers, np, opts->tau2_floor, &eb))
                continue;
            double shrink;
            double est = hk_eb_estimate(&eb, &m, &shrink);
            double gain = (eb.level - est) * (double)n;
            if (best.dim < 0 || gain > best.gain) {
                best.dim = d;
                best.stated = stated[d];
                best.gain = gain;
                best.dim_n = m.n;
                best.raw = m.mean;
                best.estimate = est;
                best.level = eb.level;
                best.shrink = shrink;
            }
        }
        if (best.dim < 0 || !(best.gain > 0))
            continue;
        best.n = n;
        struct hk_rollup_counts team = {{0}};
        for (size_t j = 0; j < nagents; j++)
            if (peer(agents, i, j))
                for (int f = 0; f < HK_RF_COUNT; f++)
                    team.v[f] += agents[j].c.v[f];
        hk_coach_misses(&a->c, &team, best.misses);
        best.focus = hk_coach_focus(best.dim, best.misses, &best.focus_from_data);
        pick_scenario(a, cells, scenarios, best.dim, best.stated, best.level, &best);
        items[(*nitems)++] = best;
    }
    free(peers);
    qsort(items, *nitems, sizeof *items, item_cmp);
    return 0;
}
