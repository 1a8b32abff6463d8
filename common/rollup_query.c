/* Rollup read side: sums the per-day hashes of a window into one counter set per group and
 * writes the /v1/rollups JSON (SPEC section 9), and an agent's top negative cues. The
 * summation and the JSON are pure functions; only the *_query functions talk to Redis.
 * JSON conventions: groups sorted by key (bytewise, stable for diffs and paging); statistics
 * null where their n is 0, ci95 null below n = 2 and clamped to the scale (answers 1..5 or
 * 1..7, text -1..1); *_pct are percentages 0..100, recovery.rate a fraction 0..1. */
#include "hearken/err.h"
#include "hearken/rollup.h"

#include <stdlib.h>
#include <string.h>

/* Parses a decimal int64 of exactly len bytes. */
static bool parse_i64(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (len && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == len)
        return false;
    uint64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t dgt = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - dgt) / 10)
            return false;
        v = v * 10 + dgt;
    }
    if (v > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

int hk_rollup_counts_add_fields(struct hk_rollup_counts *c, size_t npairs,
                                const char *const *fields, const size_t *field_lens,
                                const char *const *values, const size_t *value_lens)
{
    int rc = 0;
    for (size_t i = 0; i < npairs; i++) {
        int f = hk_rollup_field_find(fields[i], field_lens[i]);
        if (f < 0)
            continue; /* written by a newer version: not ours to interpret */
        int64_t v;
        if (!parse_i64(values[i], value_lens[i], &v)) {
            rc = HK_ERR_INVALID;
            continue;
        }
        c->v[f] += v;
    }
    return rc;
}

/* ---- JSON ---- */

static int num(struct hk_buf *out, const char *name, double v)
{
    int rc = hk_buf_printf(out, ",\"%s\":", name);
    return rc ? rc : hk_buf_append_json_num(out, v);
}

static int mean_obj(struct hk_buf *out, const struct hk_rollup_counts *c, int f_n, double scale,
                    double lo_bound, double hi_bound)
{
    double mean = 0, lo = 0, hi = 0;
    int64_t n = c->v[f_n];
    int k = hk_stat_mean_ci(n, c->v[f_n + 1], c->v[f_n + 2], scale, lo_bound, hi_bound, &mean, &lo,
                            &hi);
    int rc = hk_buf_printf(out, "{\"n\":%lld", (long long)n);
    if (!rc)
        rc = k >= 1 ? num(out, "mean", mean) : hk_buf_append_str(out, ",\"mean\":null");
    if (!rc)
        rc = hk_buf_append_json_ci95(out, k == 2, lo, hi);
    return rc ? rc : hk_buf_append_char(out, '}');
}

static int pct(struct hk_buf *out, const char *name, int64_t part, int64_t n)
{
    if (n <= 0)
        return hk_buf_printf(out, ",\"%s\":null", name);
    return num(out, name, 100.0 * (double)part / (double)n);
}

int hk_rollup_group_json(const char *key, size_t key_len, const struct hk_rollup_counts *c,
                         struct hk_buf *out)
{
    const int64_t *v = c->v;
    int rc = hk_buf_append_str(out, "{\"key\":");
    if (!rc)
        rc = hk_buf_append_json_str(out, key, key_len);
    if (!rc)
        rc = hk_buf_printf(out, ",\"n\":%lld", (long long)v[HK_RF_N]);

    /* NPS */
    int64_t p = v[HK_RF_NPS_PRO], pa = v[HK_RF_NPS_PAS], d = v[HK_RF_NPS_DET];
    double score, se;
    if (!rc)
        rc = hk_buf_printf(out,
                           ",\"nps\":{\"n\":%lld,\"promoters\":%lld,\"passives\":%lld,"
                           "\"detractors\":%lld",
                           (long long)(p + pa + d), (long long)p, (long long)pa, (long long)d);
    if (!rc && hk_stat_nps(p, pa, d, &score, &se)) {
        rc = num(out, "score", score);
        if (!rc)
            rc = num(out, "se", se);
    } else if (!rc) {
        rc = hk_buf_append_str(out, ",\"score\":null,\"se\":null");
    }
    if (!rc)
        rc = hk_buf_append_char(out, '}');

    /* CSAT, CES */
    if (!rc)
        rc = hk_buf_printf(out, ",\"csat\":{\"n\":%lld,\"top2\":%lld", (long long)v[HK_RF_CSAT_N],
                           (long long)v[HK_RF_CSAT_TOP2]);
    if (!rc)
        rc = pct(out, "top2_pct", v[HK_RF_CSAT_TOP2], v[HK_RF_CSAT_N]);
    if (!rc)
        rc = hk_buf_append_str(out, "},\"ces\":");
    if (!rc)
        rc = mean_obj(out, c, HK_RF_CES_N, 1, 1, 7);

    /* felt heard / valued: stated answers 1..5 and text scores -1..1 kept apart */
    static const struct {
        const char *name;
        int stated, text;
    } fv[] = {{"felt_heard", HK_RF_FH_S_N, HK_RF_FH_T_N},
              {"felt_valued", HK_RF_FV_S_N, HK_RF_FV_T_N}};
    for (size_t i = 0; i < sizeof fv / sizeof fv[0] && !rc; i++) {
        rc = hk_buf_printf(out, ",\"%s\":{\"stated\":", fv[i].name);
        if (!rc)
            rc = mean_obj(out, c, fv[i].stated, 1, 1, 5);
        if (!rc)
            rc = hk_buf_append_str(out, ",\"text\":");
        if (!rc)
            rc = mean_obj(out, c, fv[i].text, 1000, -1, 1);
        if (!rc)
            rc = hk_buf_append_char(out, '}');
    }

    /* advocacy: rates of positive and negative intent, and the mean with its interval */
    if (!rc) {
        double mean = 0, lo = 0, hi = 0;
        int64_t n = v[HK_RF_ADV_N];
        int k = hk_stat_mean_ci(n, v[HK_RF_ADV_SUM], v[HK_RF_ADV_SQ], 1000, -1, 1, &mean, &lo, &hi);
        rc = hk_buf_printf(out, ",\"advocacy\":{\"n\":%lld,\"positive\":%lld,\"negative\":%lld",
                           (long long)n, (long long)v[HK_RF_ADV_POS], (long long)v[HK_RF_ADV_NEG]);
        if (!rc)
            rc = pct(out, "positive_pct", v[HK_RF_ADV_POS], n);
        if (!rc)
            rc = pct(out, "negative_pct", v[HK_RF_ADV_NEG], n);
        if (!rc)
            rc = k >= 1 ? num(out, "mean", mean) : hk_buf_append_str(out, ",\"mean\":null");
        if (!rc)
            rc = hk_buf_append_json_ci95(out, k == 2, lo, hi);
        if (!rc)
            rc = hk_buf_append_char(out, '}');
    }
    if (!rc)
        rc = hk_buf_append_str(out, ",\"ease\":");
    if (!rc)
        rc = mean_obj(out, c, HK_RF_EASE_N, 1000, -1, 1);
    if (!rc)
        rc = hk_buf_append_str(out, ",\"sentiment\":");
    if (!rc)
        rc = mean_obj(out, c, HK_RF_SENT_N, 1000, -1, 1);

    /* behaviours */
    if (!rc)
        rc = hk_buf_append_str(out, ",\"behaviors\":{");
    for (int b = 0; b < HK_BEH_COUNT && !rc; b++)
        rc = hk_buf_printf(
            out,
            "%s\"%s\":{\"stated_yes\":%lld,\"stated_no\":%lld,\"text_pos\":%lld,"
            "\"text_neg\":%lld}",
            b ? "," : "", hk_behavior_names[b], (long long)v[HK_RF_BEH(b, HK_RB_STATED_YES)],
            (long long)v[HK_RF_BEH(b, HK_RB_STATED_NO)], (long long)v[HK_RF_BEH(b, HK_RB_TEXT_POS)],
            (long long)v[HK_RF_BEH(b, HK_RB_TEXT_NEG)]);

    /* recovery: rate as a fraction 0..1 of problem-scenario surveys with an outcome */
    if (!rc)
        rc = hk_buf_printf(out, "},\"recovery\":{\"n\":%lld,\"promoters\":%lld",
                           (long long)v[HK_RF_REC_N], (long long)v[HK_RF_REC_PRO]);
    if (!rc)
        rc = v[HK_RF_REC_N] > 0
                 ? num(out, "rate", (double)v[HK_RF_REC_PRO] / (double)v[HK_RF_REC_N])
                 : hk_buf_append_str(out, ",\"rate\":null");
    if (!rc)
        rc = hk_buf_append_str(out, "}}");
    return rc;
}

/* ---- the Redis query ---- */

struct member {
    const char *s;   /* into names, set once names stops growing */
    size_t off, len; /* into names */
    size_t group;    /* index into groups after dedupe */
    uint32_t day;    /* offset from the first day */
};

struct group {
    size_t off, len;
    struct hk_rollup_counts c;
};

struct query {
    struct hk_buf names;
    struct member *m;
    size_t nm, capm;
};

static int member_cmp(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->s, y->s, n) : 0;
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
}

static int member_add(struct query *q, uint32_t day, const char *s, size_t len)
{
    if (q->nm == q->capm) {
        size_t cap = q->capm ? q->capm * 2 : 256;
        struct member *m = realloc(q->m, cap * sizeof *m);
        if (!m)
            return HK_ERR_NOMEM;
        q->m = m;
        q->capm = cap;
    }
    size_t off = q->names.len;
    int rc = hk_buf_append(&q->names, s, len);
    if (rc)
        return rc;
    q->m[q->nm++] = (struct member){.off = off, .len = len, .day = day};
    return 0;
}

/* Builds PREFIX "r:" DAY ":" GROUPING (":" MEMBER) or PREFIX "ri:" DAY ":" GROUPING. */
static int key_build(struct hk_buf *k, const char *prefix, bool index, int64_t day_start, int by,
                     const char *member, size_t member_len)
{
    char day[11];
    hk_day_format(day_start, day);
    hk_buf_reset(k);
    int rc =
        hk_buf_printf(k, "%s%s:%s:%s", prefix, index ? "ri" : "r", day, hk_rollup_by_names[by]);
    if (!rc && member) {
        rc = hk_buf_append_char(k, ':');
        if (!rc)
            rc = hk_buf_append(k, member, member_len);
    }
    return rc;
}

#define QUERY_PIPELINE 256

/* Reads and drops n pipelined replies, so an early exit leaves the context in step. */
static int drain(redisContext *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || !r)
            return HK_ERR_UNAVAILABLE;
        freeReplyObject(r);
    }
    return 0;
}

static int64_t floor_day(int64_t t)
{
    return (t >= 0 ? t / 86400 : -((-t + 86399) / 86400));
}

/* Which counters the i-th HGETALL of hgetall_sum adds to, and its key. */
struct hgetall_plan {
    size_t n;
    int (*key_of)(const void *ctx, size_t i, struct hk_buf *key);
    struct hk_rollup_counts *(*counts_of)(void *ctx, size_t i);
    void *ctx;
};

/* HGETALL of every planned key, pipelined in chunks, each hash's integer fields added to its
 * counters (a corrupt value is skipped; the rest of the hash still counts). Every path keeps the
 * connection in step: replies already asked for are read even after an error. */
static int hgetall_sum(redisContext *c, const struct hgetall_plan *p, struct hk_buf *key)
{
    int rc = 0;
    for (size_t start = 0; start < p->n && !rc; start += QUERY_PIPELINE) {
        size_t end = start + QUERY_PIPELINE < p->n ? start + QUERY_PIPELINE : p->n;
        for (size_t i = start; i < end; i++) {
            rc = p->key_of(p->ctx, i, key);
            if (rc) {
                int drc = drain(c, i - start);
                return drc ? drc : rc;
            }
            const char *argv[2] = {"HGETALL", key->data};
            size_t argvlen[2] = {7, key->len};
            if (redisAppendCommandArgv(c, 2, argv, argvlen) != REDIS_OK)
                return HK_ERR_UNAVAILABLE;
        }
        for (size_t i = start; i < end; i++) {
            redisReply *r = NULL;
            if (redisGetReply(c, (void **)&r) != REDIS_OK || !r)
                return HK_ERR_UNAVAILABLE;
            if (r->type == REDIS_REPLY_ARRAY && r->elements % 2 == 0) {
                struct hk_rollup_counts *gc = p->counts_of(p->ctx, i);
                for (size_t j = 0; j + 1 < r->elements; j += 2) {
                    redisReply *f = r->element[j], *v = r->element[j + 1];
                    if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
                        continue;
                    const char *fs = f->str, *vs = v->str;
                    size_t fl = f->len, vl = v->len;
                    (void)hk_rollup_counts_add_fields(gc, 1, &fs, &fl, &vs, &vl);
                }
            } else if (r->type == REDIS_REPLY_ERROR) {
                rc = HK_ERR_UNAVAILABLE; /* keep reading: the context stays in step */
            }
            freeReplyObject(r);
        }
    }
    return rc;
}

/* The window query's plan: the i-th key is member i on its day, summed into its group. */
struct window_ctx {
    const struct query *q;
    struct group *groups;
    const char *prefix;
    int by;
    int64_t d0;
};

static int window_key(const void *ctx, size_t i, struct hk_buf *key)
{
    const struct window_ctx *w = ctx;
    const struct member *m = &w->q->m[i];
    return key_build(key, w->prefix, false, (w->d0 + m->day) * 86400, w->by,
                     w->q->names.data + m->off, m->len);
}

static struct hk_rollup_counts *window_counts(void *ctx, size_t i)
{
    struct window_ctx *w = ctx;
    return &w->groups[w->q->m[i].group].c;
}

int hk_rollup_window_collect(redisContext *c, const char *prefix, int by, int64_t from_day,
                             int64_t to_day, struct hk_rollup_window *w)
{
    memset(w, 0, sizeof *w);
    hk_buf_init(&w->names, 0);
    if (by < 0 || by >= HK_BY_COUNT)
        return HK_ERR_INVALID;
    int64_t d0 = floor_day(from_day), d1 = floor_day(to_day);
    if (d1 < d0 || d1 - d0 + 1 > HK_ROLLUP_MAX_DAYS)
        return HK_ERR_INVALID;
    uint32_t ndays = (uint32_t)(d1 - d0 + 1);

    struct query q = {0};
    hk_buf_init(&q.names, (size_t)256 << 20);
    struct hk_buf key;
    hk_buf_init(&key, (size_t)1 << 20);
    struct group *groups = NULL;
    size_t ngroups = 0;
    int rc = 0;

    /* 1. the index set of each day */
    uint32_t sent = 0;
    for (; sent < ndays && !rc; sent++) {
        rc = key_build(&key, prefix, true, (d0 + sent) * 86400, by, NULL, 0);
        const char *argv[2] = {"SMEMBERS", key.data};
        size_t argvlen[2] = {8, key.len};
        if (rc)
            break;
        if (redisAppendCommandArgv(c, 2, argv, argvlen) != REDIS_OK) {
            rc = HK_ERR_UNAVAILABLE; /* out of memory in hiredis: c->err is set */
            goto out_free_query;
        }
    }
    if (rc) {
        int drc = drain(c, sent);
        rc = drc ? drc : rc;
        goto out_free_query;
    }
    for (uint32_t i = 0; i < ndays; i++) {
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || !r) {
            rc = HK_ERR_UNAVAILABLE;
            goto out_free_query;
        }
        if (r->type == REDIS_REPLY_ARRAY) {
            for (size_t j = 0; j < r->elements && !rc; j++)
                if (r->element[j]->type == REDIS_REPLY_STRING)
                    rc = member_add(&q, i, r->element[j]->str, r->element[j]->len);
        } else if (r->type == REDIS_REPLY_ERROR && !rc) {
            rc = HK_ERR_UNAVAILABLE; /* keep reading: the context stays in step */
        }
        freeReplyObject(r);
    }
    if (rc)
        goto out_free_query;

    /* 2. one group per distinct member, in byte order */
    for (size_t i = 0; i < q.nm; i++)
        q.m[i].s = q.names.data + q.m[i].off;
    if (q.nm)
        qsort(q.m, q.nm, sizeof q.m[0], member_cmp);
    groups = calloc(q.nm ? q.nm : 1, sizeof *groups);
    if (!groups) {
        rc = HK_ERR_NOMEM;
        goto out_free_query;
    }
    for (size_t i = 0; i < q.nm; i++) {
        if (i == 0 || member_cmp(&q.m[i - 1], &q.m[i]) != 0) {
            groups[ngroups].off = q.m[i].off;
            groups[ngroups].len = q.m[i].len;
            ngroups++;
        }
        q.m[i].group = ngroups - 1;
    }

    /* 3. HGETALL every (day, member) */
    struct window_ctx wc = {.q = &q, .groups = groups, .prefix = prefix, .by = by, .d0 = d0};
    struct hgetall_plan plan = {q.nm, window_key, window_counts, &wc};
    rc = hgetall_sum(c, &plan, &key);
    if (rc)
        goto out_free_groups;

    /* 4. keep the groups with surveys; the window takes the names and the groups */
    size_t k = 0;
    for (size_t i = 0; i < ngroups; i++)
        if (groups[i].c.v[HK_RF_N] != 0) /* listed in an index but its hash is gone or empty */
            groups[k++] = groups[i];
    w->groups = calloc(k ? k : 1, sizeof *w->groups);
    if (!w->groups) {
        rc = HK_ERR_NOMEM;
        goto out_free_groups;
    }
    w->names = q.names;
    hk_buf_init(&q.names, 0);
    for (size_t i = 0; i < k; i++)
        w->groups[i] = (struct hk_rollup_group){
            .key = w->names.data + groups[i].off, .key_len = groups[i].len, .c = groups[i].c};
    w->ngroups = k;

out_free_groups:
    free(groups);
out_free_query:
    free(q.m);
    hk_buf_free(&q.names);
    hk_buf_free(&key);
    return rc;
}

void hk_rollup_window_free(struct hk_rollup_window *w)
{
    if (!w)
        return;
    free(w->groups);
    hk_buf_free(&w->names);
    w->groups = NULL;
    w->ngroups = 0;
}

const struct hk_rollup_group *hk_rollup_window_find(const struct hk_rollup_window *w,
                                                    const char *key, size_t key_len)
{
    size_t lo = 0, hi = w->ngroups;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct hk_rollup_group *g = &w->groups[mid];
        size_t n = g->key_len < key_len ? g->key_len : key_len;
        int cmp = n ? memcmp(g->key, key, n) : 0;
        if (!cmp)
            cmp = g->key_len < key_len ? -1 : g->key_len > key_len ? 1 : 0;
        if (!cmp)
            return g;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int hk_rollups_query(redisContext *c, const char *prefix, int by, int64_t from_day, int64_t to_day,
                     struct hk_buf *out)
{
    struct hk_rollup_window w;
    int rc = hk_rollup_window_collect(c, prefix, by, from_day, to_day, &w);
    if (rc)
        return rc;
    char from[11], to[11];
    hk_day_format(floor_day(from_day) * 86400, from);
    hk_day_format(floor_day(to_day) * 86400, to);
    rc = hk_buf_printf(out, "{\"by\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"groups\":[",
                       hk_rollup_by_names[by], from, to);
    for (size_t i = 0; i < w.ngroups && !rc; i++) {
        if (i)
            rc = hk_buf_append_char(out, ',');
        if (!rc)
            rc = hk_rollup_group_json(w.groups[i].key, w.groups[i].key_len, &w.groups[i].c, out);
    }
    if (!rc)
        rc = hk_buf_append_str(out, "]}");
    hk_rollup_window_free(&w);
    return rc;
}

/* The daily series' plan: the i-th key is the member on day d0 + i. */
struct days_ctx {
    struct hk_rollup_counts *days;
    const char *prefix;
    int by;
    const char *member;
    size_t member_len;
    int64_t d0;
};

static int days_key(const void *ctx, size_t i, struct hk_buf *key)
{
    const struct days_ctx *d = ctx;
    return key_build(key, d->prefix, false, (d->d0 + (int64_t)i) * 86400, d->by, d->member,
                     d->member_len);
}

static struct hk_rollup_counts *days_counts(void *ctx, size_t i)
{
    struct days_ctx *d = ctx;
    return &d->days[i];
}

int hk_rollup_days_query(redisContext *c, const char *prefix, int by, const char *member,
                         size_t member_len, int64_t from_day, int64_t to_day,
                         struct hk_rollup_counts *days)
{
    if (by < 0 || by >= HK_BY_COUNT)
        return HK_ERR_INVALID;
    int64_t d0 = floor_day(from_day), d1 = floor_day(to_day);
    if (d1 < d0 || d1 - d0 + 1 > HK_ROLLUP_MAX_DAYS)
        return HK_ERR_INVALID;
    size_t ndays = (size_t)(d1 - d0 + 1);
    memset(days, 0, ndays * sizeof *days);
    struct hk_buf key;
    hk_buf_init(&key, (size_t)1 << 20);
    struct days_ctx dc = {days, prefix, by, member, member_len, d0};
    struct hgetall_plan plan = {ndays, days_key, days_counts, &dc};
    int rc = hgetall_sum(c, &plan, &key);
    hk_buf_free(&key);
    return rc;
}

/* ---- coaching evidence: an agent's negative cues over a window ---- */

struct cue_sum {
    const char *m;
    size_t len;
    int64_t n;
};

static int cue_by_member(const void *a, const void *b)
{
    const struct cue_sum *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->m, y->m, n) : 0;
    return c ? c : (x->len < y->len ? -1 : x->len > y->len);
}

static int cue_by_count(const void *a, const void *b)
{
    const struct cue_sum *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return cue_by_member(a, b);
}

int hk_rollup_cues_json(const char *const *members, const size_t *lens, const int64_t *counts,
                        size_t n, size_t limit, struct hk_buf *out)
{
    struct cue_sum *all = malloc((n ? n : 1) * sizeof *all);
    if (!all)
        return HK_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        all[i] = (struct cue_sum){members[i], lens[i], counts[i]};
    qsort(all, n, sizeof *all, cue_by_member);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && cue_by_member(&all[k - 1], &all[i]) == 0)
            all[k - 1].n += all[i].n;
        else
            all[k++] = all[i];
    }
    qsort(all, k, sizeof *all, cue_by_count);
    int rc = hk_buf_append_char(out, '[');
    size_t shown = 0;
    for (size_t i = 0; i < k && shown < limit && !rc; i++) {
        if (all[i].n <= 0)
            continue;
        const char *bar = memchr(all[i].m, '|', all[i].len);
        size_t dlen = bar ? (size_t)(bar - all[i].m) : 0;
        const char *entry = bar ? bar + 1 : all[i].m;
        size_t elen = all[i].len - (bar ? dlen + 1 : 0);
        rc = hk_buf_append_str(out, shown ? ",{\"dimension\":" : "{\"dimension\":");
        if (!rc)
            rc = hk_buf_append_json_str(out, all[i].m, dlen);
        if (!rc)
            rc = hk_buf_append_str(out, ",\"entry\":");
        if (!rc)
            rc = hk_buf_append_json_str(out, entry, elen);
        if (!rc)
            rc = hk_buf_printf(out, ",\"surveys\":%lld}", (long long)all[i].n);
        shown++;
    }
    if (!rc)
        rc = hk_buf_append_char(out, ']');
    free(all);
    return rc;
}

int hk_rollup_cues_query(redisContext *c, const char *prefix, const char *agent, size_t agent_len,
                         int64_t from_day, int64_t to_day, size_t limit, struct hk_buf *out)
{
    int64_t d0 = floor_day(from_day), d1 = floor_day(to_day);
    if (d1 < d0 || d1 - d0 + 1 > HK_ROLLUP_MAX_DAYS)
        return HK_ERR_INVALID;
    uint32_t ndays = (uint32_t)(d1 - d0 + 1);
    struct hk_buf key;
    hk_buf_init(&key, (size_t)1 << 20);
    redisReply **replies = calloc(ndays, sizeof *replies);
    const char **m = NULL;
    size_t *lens = NULL;
    int64_t *counts = NULL;
    int rc = replies ? 0 : HK_ERR_NOMEM;
    uint32_t sent = 0;
    for (; sent < ndays && !rc; sent++) {
        char day[11];
        hk_day_format((d0 + sent) * 86400, day);
        hk_buf_reset(&key);
        rc = hk_buf_printf(&key, "%src:%s:", prefix, day);
        if (!rc)
            rc = hk_buf_append(&key, agent, agent_len);
        if (rc)
            break;
        const char *argv[] = {"ZRANGE", key.data, "0", "-1", "WITHSCORES"};
        size_t argvlen[] = {6, key.len, 1, 2, 10};
        if (redisAppendCommandArgv(c, 5, argv, argvlen) != REDIS_OK) {
            rc = HK_ERR_UNAVAILABLE;
            goto out_free_replies;
        }
    }
    /* every reply is read, even after an error, so the context stays in step */
    size_t total = 0;
    for (uint32_t i = 0; i < sent; i++) {
        if (redisGetReply(c, (void **)&replies[i]) != REDIS_OK || !replies[i]) {
            rc = HK_ERR_UNAVAILABLE;
            goto out_free_replies;
        }
        if (replies[i]->type == REDIS_REPLY_ARRAY)
            total += replies[i]->elements / 2;
        else if (replies[i]->type == REDIS_REPLY_ERROR && !rc)
            rc = HK_ERR_UNAVAILABLE;
    }
    if (rc)
        goto out_free_replies;
    m = malloc((total ? total : 1) * sizeof *m);
    lens = malloc((total ? total : 1) * sizeof *lens);
    counts = malloc((total ? total : 1) * sizeof *counts);
    if (!m || !lens || !counts) {
        rc = HK_ERR_NOMEM;
        goto out_free_replies;
    }
    size_t k = 0;
    for (uint32_t i = 0; i < sent; i++) {
        const redisReply *r = replies[i];
        if (r->type != REDIS_REPLY_ARRAY)
            continue;
        for (size_t j = 0; j + 1 < r->elements; j += 2) {
            if (r->element[j]->type != REDIS_REPLY_STRING ||
                r->element[j + 1]->type != REDIS_REPLY_STRING)
                continue;
            m[k] = r->element[j]->str;
            lens[k] = r->element[j]->len;
            /* scores are whole numbers written by ZINCRBY; "%.17g" text */
            counts[k++] = (int64_t)strtod(r->element[j + 1]->str, NULL);
        }
    }
    char from[11], to[11];
    hk_day_format(d0 * 86400, from);
    hk_day_format(d1 * 86400, to);
    rc = hk_buf_append_str(out, "{\"agent\":");
    if (!rc)
        rc = hk_buf_append_json_str(out, agent, agent_len);
    if (!rc)
        rc = hk_buf_printf(out, ",\"from\":\"%s\",\"to\":\"%s\",\"cues\":", from, to);
    if (!rc)
        rc = hk_rollup_cues_json(m, lens, counts, k, limit, out);
    if (!rc)
        rc = hk_buf_append_char(out, '}');

out_free_replies:
    if (replies)
        for (uint32_t i = 0; i < ndays; i++)
            if (replies[i])
                freeReplyObject(replies[i]);
    free(replies);
    free(m);
    free(lens);
    free(counts);
    hk_buf_free(&key);
    return rc;
}
