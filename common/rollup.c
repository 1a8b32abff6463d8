/* Rollup write side: the Redis key and field layout, what one scored survey adds, the batch
 * accumulator (key -> counters, aggregated in C before one Redis call) and the Lua script
 * that counts a batch and acknowledges it in one atomic step. No I/O here.
 *
 * Layout (PREFIX is HEARKEN_PREFIX, DAY is the UTC day of submitted_at, "2026-11-25"):
 *   PREFIX r:DAY:GROUPING:KEY   hash of integer counters for one group on one day
 *   PREFIX ri:DAY:GROUPING      set of the KEYs that have a hash that day (the read side's index)
 *   PREFIX scored:IID           string {"id":stream id,"survey":{canonical},"score":{…}|null},
 *                               written just before the batch is counted (idempotent)
 *   PREFIX rc:DAY:AGENT         sorted set of the agent's negative cues that day (coaching
 *                               evidence): member "DIMENSION|ENTRY" as in the scorer's cues
 *                               ("felt_heard|cut me off", "behaviors.apologized|no apology"),
 *                               score = surveys whose comment had it with a negative weight
 *   PREFIX dead                 stream of dead letters: fields id, reason, survey
 * GROUPING/KEY: all/"all", agent/agent_id, team/team_id (surveys without a team are left out
 * of this grouping: "-" is a valid team id, so no placeholder could be unambiguous),
 * scenario/scenario, agent_scenario/"agent|scenario" ('|' is not an id character), and for
 * impact behavior_scenario/"BEHAVIOUR|done|SCENARIO" and "BEHAVIOUR|not|SCENARIO", plus the
 * same with SCENARIO "*" for all scenarios ('*' is not an id character either): the outcomes
 * of the surveys where the behaviour was done or not, and agent_team/"agent|team" (field n
 * only: which team an agent answered for that day, so coaching can compare an agent with their
 * team). The customer's tick decides; without
 * one, the comment's signal (+1 done, -1 not); without either the survey is in neither. Those
 * hashes carry every field below except the behaviour counts. KEY is last in the hash key,
 * so ':' inside ids cannot make it ambiguous.
 *
 * Hash fields (integers only, written with HINCRBY, so sums are exact and order-independent;
 * a field that would add 0 is not written):
 *   n                       surveys
 *   nps_pro nps_pas nps_det NPS 9-10 / 7-8 / 0-6 (their sum is the NPS n)
 *   csat_n csat_top2        CSAT answers, answers of 4 or 5
 *   ces_n ces_sum ces_sq    CES answers (1-7), their sum and sum of squares
 *   fh_s_n fh_s_sum fh_s_sq felt_heard stated answer (1-5); fv_s_* felt_valued likewise
 *   fh_t_n fh_t_sum fh_t_sq felt_heard text score: sum in milli-units (score*1000 rounded),
 *                           squares in micro-units; fv_t_*, ease_*, sent_* (sentiment) likewise
 *   adv_n adv_pos adv_neg adv_sum adv_sq   advocacy text score (> 0 positive, < 0 negative)
 *   rec_n rec_pro           recovery: surveys in a problem scenario (every one but "other")
 *                           with an outcome (NPS, or advocacy text when there is no NPS), and
 *                           how many ended as promoters (NPS 9-10, or advocacy text > 0)
 *   BEHAVIOUR:sy :sn        the customer ticked the behaviour yes / no
 *   BEHAVIOUR:tp :tn        the comment shows it done (+1) / missing or done badly (-1)
 * Text fields count only surveys with a comment, and a dimension only where the comment has
 * evidence for it (silence does not dilute means); sentiment counts every comment. */
#include "hearken/rollup.h"
#include "hearken/hash.h"
#include "hearken/err.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const hk_rollup_by_names[HK_BY_COUNT] = {
    "all", "agent", "team", "scenario", "agent_scenario", "behavior_scenario", "agent_team"};

int hk_rollup_by_parse(const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < HK_BY_COUNT; i++)
        if (strcmp(s, hk_rollup_by_names[i]) == 0)
            return i;
    return -1;
}

#define BEH_FIELDS(name) name ":sy", name ":sn", name ":tp", name ":tn"

const char *const hk_rollup_field_names[HK_RF_COUNT] = {
    "n",
    "nps_pro",
    "nps_pas",
    "nps_det",
    "csat_n",
    "csat_top2",
    "ces_n",
    "ces_sum",
    "ces_sq",
    "fh_s_n",
    "fh_s_sum",
    "fh_s_sq",
    "fh_t_n",
    "fh_t_sum",
    "fh_t_sq",
    "fv_s_n",
    "fv_s_sum",
    "fv_s_sq",
    "fv_t_n",
    "fv_t_sum",
    "fv_t_sq",
    "adv_n",
    "adv_pos",
    "adv_neg",
    "adv_sum",
    "adv_sq",
    "ease_n",
    "ease_sum",
    "ease_sq",
    "sent_n",
    "sent_sum",
    "sent_sq",
    "rec_n",
    "rec_pro",
    /* the order of enum hk_behavior (behavior.c) */
    BEH_FIELDS("apologized"),
    BEH_FIELDS("acknowledged_feelings"),
    BEH_FIELDS("showed_concern"),
    BEH_FIELDS("offered_goodwill"),
    BEH_FIELDS("calm_tone"),
    BEH_FIELDS("listened_actively"),
    BEH_FIELDS("used_my_name"),
    BEH_FIELDS("did_not_interrupt"),
    BEH_FIELDS("was_patient"),
    BEH_FIELDS("made_no_assumptions"),
};

/* Field names sorted once, for bsearch on the read side (tens of fields per hash). */
static int field_sorted[HK_RF_COUNT];
static pthread_once_t field_sorted_once = PTHREAD_ONCE_INIT;

static int field_cmp_idx(const void *a, const void *b)
{
    return strcmp(hk_rollup_field_names[*(const int *)a], hk_rollup_field_names[*(const int *)b]);
}

static void field_sort(void)
{
    for (int i = 0; i < HK_RF_COUNT; i++)
        field_sorted[i] = i;
    qsort(field_sorted, HK_RF_COUNT, sizeof field_sorted[0], field_cmp_idx);
}

int hk_rollup_field_find(const char *name, size_t len)
{
    pthread_once(&field_sorted_once, field_sort);
    size_t lo = 0, hi = HK_RF_COUNT;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *f = hk_rollup_field_names[field_sorted[mid]];
        size_t flen = strlen(f);
        int cmp = memcmp(name, f, len < flen ? len : flen);
        if (cmp == 0)
            cmp = len < flen ? -1 : len > flen ? 1 : 0;
        if (cmp == 0)
            return field_sorted[mid];
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

int32_t hk_rollup_milli(double score)
{
    if (isnan(score))
        return 0;
    if (score <= -1.0)
        return -1000;
    if (score >= 1.0)
        return 1000;
    return (int32_t)lround(score * 1000.0);
}

/* Adds one value to an n/sum/sumsq triple. */
static void add_moment(struct hk_rollup_counts *c, int f_n, int64_t x)
{
    c->v[f_n] += 1;
    c->v[f_n + 1] += x;
    c->v[f_n + 2] += x * x;
}

void hk_rollup_survey_counts(const struct hk_survey *s, const struct hk_rollup_text *t,
                             struct hk_rollup_counts *c)
{
    memset(c, 0, sizeof *c);
    c->v[HK_RF_N] = 1;

    int nps = s->answers[HK_ANS_NPS];
    if (nps >= 9)
        c->v[HK_RF_NPS_PRO] = 1;
    else if (nps >= 7)
        c->v[HK_RF_NPS_PAS] = 1;
    else if (nps >= 0)
        c->v[HK_RF_NPS_DET] = 1;
    int csat = s->answers[HK_ANS_CSAT];
    if (csat >= 0) {
        c->v[HK_RF_CSAT_N] = 1;
        c->v[HK_RF_CSAT_TOP2] = csat >= 4;
    }
    if (s->answers[HK_ANS_CES] >= 0)
        add_moment(c, HK_RF_CES_N, s->answers[HK_ANS_CES]);
    if (s->answers[HK_ANS_FELT_HEARD] >= 0)
        add_moment(c, HK_RF_FH_S_N, s->answers[HK_ANS_FELT_HEARD]);
    if (s->answers[HK_ANS_FELT_VALUED] >= 0)
        add_moment(c, HK_RF_FV_S_N, s->answers[HK_ANS_FELT_VALUED]);

    for (int b = 0; b < HK_BEH_COUNT; b++) {
        if (s->behaviors[b] == 1)
            c->v[HK_RF_BEH(b, HK_RB_STATED_YES)] = 1;
        else if (s->behaviors[b] == 0)
            c->v[HK_RF_BEH(b, HK_RB_STATED_NO)] = 1;
    }

    bool adv_known = false;
    int32_t adv = 0;
    if (t && t->scored) {
        static const int first[HK_TXT_COUNT] = {[HK_TXT_SENTIMENT] = HK_RF_SENT_N,
                                                [HK_TXT_FELT_HEARD] = HK_RF_FH_T_N,
                                                [HK_TXT_FELT_VALUED] = HK_RF_FV_T_N,
                                                [HK_TXT_ADVOCACY] = HK_RF_ADV_N,
                                                [HK_TXT_EASE] = HK_RF_EASE_N};
        for (int d = 0; d < HK_TXT_COUNT; d++) {
            if (!t->has[d] && d != HK_TXT_SENTIMENT)
                continue;
            int32_t m = t->has[d] ? t->milli[d] : 0;
            if (d == HK_TXT_ADVOCACY) {
                /* advocacy keeps pos/neg counts between n and sum */
                c->v[HK_RF_ADV_N] += 1;
                c->v[HK_RF_ADV_POS] += m > 0;
                c->v[HK_RF_ADV_NEG] += m < 0;
                c->v[HK_RF_ADV_SUM] += m;
                c->v[HK_RF_ADV_SQ] += (int64_t)m * m;
                adv_known = true;
                adv = m;
                continue;
            }
            add_moment(c, first[d], m);
        }
        for (int b = 0; b < HK_BEH_COUNT; b++) {
            if (t->behavior[b] > 0)
                c->v[HK_RF_BEH(b, HK_RB_TEXT_POS)] = 1;
            else if (t->behavior[b] < 0)
                c->v[HK_RF_BEH(b, HK_RB_TEXT_NEG)] = 1;
        }
    }

    if (hk_scenario_is_problem(s->scenario)) {
        if (nps >= 0) {
            c->v[HK_RF_REC_N] = 1;
            c->v[HK_RF_REC_PRO] = nps >= 9;
        } else if (adv_known) {
            c->v[HK_RF_REC_N] = 1;
            c->v[HK_RF_REC_PRO] = adv > 0;
        }
    }
}

/* ---- batch accumulator ---- */

/* Strings live in fixed chunks, so pointers handed out stay valid until reset. */
struct chunk {
    struct chunk *next;
    size_t len, cap;
    char data[];
};

#define CHUNK_SIZE (64 * 1024)

struct hk_rollup_batch {
    char prefix[HK_ID_MAX + 1];
    struct chunk *chunks; /* newest first; reset keeps only the oldest */
    struct hk_rollup_entry *e;
    uint64_t *hashes;
    size_t n, cap;
    uint32_t *slots;           /* open addressing: entry index + 1, 0 empty */
    size_t nslots;             /* power of two, at least 2 * cap */
    struct hk_rollup_cue *cue; /* the same for cue counts, keyed by (key, member) */
    uint64_t *cue_hashes;
    size_t ncue, cue_cap;
    uint32_t *cue_slots;
    size_t cue_nslots;
    int64_t day_of; /* submitted_at's day number that day[] spells (INT64_MIN: none yet) */
    char day[11];
};

/* "2026-11-25" of t, formatted once per day rather than per survey and group. */
static const char *batch_day(struct hk_rollup_batch *b, int64_t t)
{
    int64_t d = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    if (d != b->day_of) {
        hk_day_format(t, b->day);
        b->day_of = d;
    }
    return b->day;
}

static char *arena_copy(struct hk_rollup_batch *b, const char *s, size_t len)
{
    struct chunk *c = b->chunks;
    if (!c || c->cap - c->len < len + 1) {
        size_t cap = len + 1 > CHUNK_SIZE ? len + 1 : CHUNK_SIZE;
        struct chunk *nc = malloc(sizeof *nc + cap);
        if (!nc)
            return NULL;
        nc->next = c;
        nc->len = 0;
        nc->cap = cap;
        b->chunks = c = nc;
    }
    char *p = c->data + c->len;
    memcpy(p, s, len);
    p[len] = '\0';
    c->len += len + 1;
    return p;
}

struct hk_rollup_batch *hk_rollup_batch_create(const char *prefix)
{
    if (strlen(prefix) > HK_ID_MAX)
        return NULL;
    struct hk_rollup_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    memcpy(b->prefix, prefix, strlen(prefix) + 1);
    b->day_of = INT64_MIN;
    return b;
}

void hk_rollup_batch_reset(struct hk_rollup_batch *b)
{
    struct chunk *c = b->chunks;
    while (c && c->next) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
    if (c)
        c->len = 0;
    b->chunks = c;
    b->n = 0;
    if (b->slots)
        memset(b->slots, 0, b->nslots * sizeof b->slots[0]);
    b->ncue = 0;
    if (b->cue_slots)
        memset(b->cue_slots, 0, b->cue_nslots * sizeof b->cue_slots[0]);
}

void hk_rollup_batch_destroy(struct hk_rollup_batch *b)
{
    if (!b)
        return;
    hk_rollup_batch_reset(b);
    free(b->chunks);
    free(b->e);
    free(b->hashes);
    free(b->slots);
    free(b->cue);
    free(b->cue_hashes);
    free(b->cue_slots);
    free(b);
}

size_t hk_rollup_batch_count(const struct hk_rollup_batch *b)
{
    return b->n;
}

const struct hk_rollup_entry *hk_rollup_batch_entry(const struct hk_rollup_batch *b, size_t i)
{
    return i < b->n ? &b->e[i] : NULL;
}

/* One survey's counters as (field, value) pairs of the non-zero ones: a survey sets about 20
 * of the HK_RF_COUNT fields, and it is added to two dozen groups. */
struct sparse {
    int n;
    uint8_t f[HK_RF_COUNT];
    int64_t v[HK_RF_COUNT];
};

static void sparse_from(struct sparse *sp, const struct hk_rollup_counts *c)
{
    sp->n = 0;
    for (int f = 0; f < HK_RF_COUNT; f++)
        if (c->v[f]) {
            sp->f[sp->n] = (uint8_t)f;
            sp->v[sp->n++] = c->v[f];
        }
}

static int batch_grow(struct hk_rollup_batch *b)
{
    size_t cap = b->cap ? b->cap * 2 : 64;
    struct hk_rollup_entry *e = realloc(b->e, cap * sizeof *e);
    if (!e)
        return HK_ERR_NOMEM;
    b->e = e;
    uint64_t *h = realloc(b->hashes, cap * sizeof *h);
    if (!h)
        return HK_ERR_NOMEM;
    b->hashes = h;
    size_t nslots = cap * 2;
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return HK_ERR_NOMEM;
    for (size_t i = 0; i < b->n; i++) {
        size_t j = (size_t)b->hashes[i] & (nslots - 1);
        while (slots[j])
            j = (j + 1) & (nslots - 1);
        slots[j] = (uint32_t)(i + 1);
    }
    free(b->slots);
    b->slots = slots;
    b->nslots = nslots;
    b->cap = cap;
    return 0;
}

/* Adds c to the group (grouping, member) of day. key/index are built here. */
static int batch_add_group(struct hk_rollup_batch *b, const char *day, int by, const char *m1,
                           const char *m2, const char *m3, const struct hk_rollup_counts *c,
                           const struct sparse *sp)
{
    char key[2 * HK_ID_MAX + 3 * HK_ID_MAX];
    size_t plen = strlen(b->prefix), m1len = strlen(m1), m2len = m2 ? strlen(m2) : 0;
    size_t m3len = m3 ? strlen(m3) : 0;
    const char *gname = hk_rollup_by_names[by];
    size_t glen = strlen(gname);
    /* PREFIX "ri:" DAY ":" GROUPING, then for the hash "r:" and ":" MEMBER */
    size_t pos = 0;
    memcpy(key + pos, b->prefix, plen);
    pos += plen;
    memcpy(key + pos, "r:", 2);
    pos += 2;
    memcpy(key + pos, day, 10);
    pos += 10;
    key[pos++] = ':';
    memcpy(key + pos, gname, glen);
    pos += glen;
    size_t idx_tail = pos; /* key[0..idx_tail) with "ri:" is the index key */
    key[pos++] = ':';
    size_t mem_at = pos;
    memcpy(key + pos, m1, m1len);
    pos += m1len;
    if (m2) {
        key[pos++] = '|';
        memcpy(key + pos, m2, m2len);
        pos += m2len;
    }
    if (m3) {
        key[pos++] = '|';
        memcpy(key + pos, m3, m3len);
        pos += m3len;
    }
    uint64_t h = hk_hash_bytes(key, pos);

    if (b->nslots) {
        size_t j = (size_t)h & (b->nslots - 1);
        while (b->slots[j]) {
            struct hk_rollup_entry *e = &b->e[b->slots[j] - 1];
            if (b->hashes[b->slots[j] - 1] == h && e->key_len == pos &&
                memcmp(e->key, key, pos) == 0) {
                for (int k = 0; k < sp->n; k++)
                    e->c.v[sp->f[k]] += sp->v[k];
                return 0;
            }
            j = (j + 1) & (b->nslots - 1);
        }
    }
    if (b->n == b->cap && batch_grow(b))
        return HK_ERR_NOMEM;

    struct hk_rollup_entry *e = &b->e[b->n];
    char *k = arena_copy(b, key, pos);
    if (!k)
        return HK_ERR_NOMEM;
    char idx[HK_ID_MAX + 64];
    size_t ilen = 0;
    memcpy(idx, b->prefix, plen);
    ilen += plen;
    memcpy(idx + ilen, "ri:", 3);
    ilen += 3;
    memcpy(idx + ilen, key + plen + 2, idx_tail - plen - 2);
    ilen += idx_tail - plen - 2;
    char *ik = arena_copy(b, idx, ilen);
    if (!ik)
        return HK_ERR_NOMEM;
    e->key = k;
    e->key_len = pos;
    e->index_key = ik;
    e->index_key_len = ilen;
    e->member = k + mem_at;
    e->member_len = pos - mem_at;
    e->c = *c;
    b->hashes[b->n] = h;
    size_t j = (size_t)h & (b->nslots - 1);
    while (b->slots[j])
        j = (j + 1) & (b->nslots - 1);
    b->slots[j] = (uint32_t)(b->n + 1);
    b->n++;
    return 0;
}

int hk_rollup_batch_add(struct hk_rollup_batch *b, const struct hk_survey *s,
                        const struct hk_rollup_counts *c)
{
    char day[11];
    memcpy(day, batch_day(b, s->submitted_at), sizeof day);
    struct sparse sp;
    sparse_from(&sp, c);
    int rc = batch_add_group(b, day, HK_BY_ALL, "all", NULL, NULL, c, &sp);
    if (!rc)
        rc = batch_add_group(b, day, HK_BY_AGENT, s->agent_id, NULL, NULL, c, &sp);
    if (!rc && s->team_id[0])
        rc = batch_add_group(b, day, HK_BY_TEAM, s->team_id, NULL, NULL, c, &sp);
    if (!rc)
        rc = batch_add_group(b, day, HK_BY_SCENARIO, s->scenario, NULL, NULL, c, &sp);
    if (!rc)
        rc = batch_add_group(b, day, HK_BY_AGENT_SCENARIO, s->agent_id, s->scenario, NULL, c, &sp);
    if (!rc && s->team_id[0]) {
        struct hk_rollup_counts member = {.v = {[HK_RF_N] = c->v[HK_RF_N]}};
        struct sparse msp;
        sparse_from(&msp, &member);
        rc =
            batch_add_group(b, day, HK_BY_AGENT_TEAM, s->agent_id, s->team_id, NULL, &member, &msp);
    }
    if (rc)
        return rc;

    /* impact: the survey's outcomes under "done" or "not" for each behaviour with evidence,
     * per scenario and across scenarios ("*"); behaviour counts themselves are left out */
    struct hk_rollup_counts out = *c;
    memset(&out.v[HK_RF_BEH_BASE], 0, sizeof out.v[0] * 4 * HK_BEH_COUNT);
    struct sparse osp;
    sparse_from(&osp, &out);
    for (int beh = 0; beh < HK_BEH_COUNT && !rc; beh++) {
        const char *state = hk_rollup_behavior_state(c, beh);
        if (!state)
            continue;
        rc = batch_add_group(b, day, HK_BY_BEHAVIOR_SCENARIO, hk_behavior_names[beh], state,
                             s->scenario, &out, &osp);
        if (!rc)
            rc = batch_add_group(b, day, HK_BY_BEHAVIOR_SCENARIO, hk_behavior_names[beh], state,
                                 "*", &out, &osp);
    }
    return rc;
}

size_t hk_rollup_batch_cue_count(const struct hk_rollup_batch *b)
{
    return b->ncue;
}

const struct hk_rollup_cue *hk_rollup_batch_cue(const struct hk_rollup_batch *b, size_t i)
{
    return i < b->ncue ? &b->cue[i] : NULL;
}

static int cue_grow(struct hk_rollup_batch *b)
{
    size_t cap = b->cue_cap ? b->cue_cap * 2 : 64;
    struct hk_rollup_cue *e = realloc(b->cue, cap * sizeof *e);
    if (!e)
        return HK_ERR_NOMEM;
    b->cue = e;
    uint64_t *h = realloc(b->cue_hashes, cap * sizeof *h);
    if (!h)
        return HK_ERR_NOMEM;
    b->cue_hashes = h;
    size_t nslots = cap * 2;
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return HK_ERR_NOMEM;
    for (size_t i = 0; i < b->ncue; i++) {
        size_t j = (size_t)b->cue_hashes[i] & (nslots - 1);
        while (slots[j])
            j = (j + 1) & (nslots - 1);
        slots[j] = (uint32_t)(i + 1);
    }
    free(b->cue_slots);
    b->cue_slots = slots;
    b->cue_nslots = nslots;
    b->cue_cap = cap;
    return 0;
}

int hk_rollup_batch_add_cue(struct hk_rollup_batch *b, const struct hk_survey *s,
                            const char *member, size_t member_len)
{
    const char *day = batch_day(b, s->submitted_at);
    char key[2 * HK_ID_MAX + 32];
    size_t plen = strlen(b->prefix), alen = strlen(s->agent_id);
    if (plen + 3 + 10 + 1 + alen >= sizeof key)
        return HK_ERR_INVALID;
    size_t klen = 0;
    memcpy(key, b->prefix, plen);
    klen += plen;
    memcpy(key + klen, "rc:", 3);
    klen += 3;
    memcpy(key + klen, day, 10);
    klen += 10;
    key[klen++] = ':';
    memcpy(key + klen, s->agent_id, alen + 1);
    klen += alen;
    uint64_t h = hk_hash_bytes(key, (size_t)klen) ^ (hk_hash_bytes(member, member_len) * 31);
    if (b->cue_nslots) {
        size_t j = (size_t)h & (b->cue_nslots - 1);
        while (b->cue_slots[j]) {
            struct hk_rollup_cue *e = &b->cue[b->cue_slots[j] - 1];
            if (b->cue_hashes[b->cue_slots[j] - 1] == h && e->key_len == (size_t)klen &&
                e->member_len == member_len && memcmp(e->key, key, e->key_len) == 0 &&
                memcmp(e->member, member, member_len) == 0) {
                e->n++;
                return 0;
            }
            j = (j + 1) & (b->cue_nslots - 1);
        }
    }
    if (b->ncue == b->cue_cap && cue_grow(b))
        return HK_ERR_NOMEM;
    struct hk_rollup_cue *e = &b->cue[b->ncue];
    char *k = arena_copy(b, key, (size_t)klen);
    char *m = k ? arena_copy(b, member, member_len) : NULL;
    if (!m)
        return HK_ERR_NOMEM;
    *e = (struct hk_rollup_cue){
        .key = k, .key_len = (size_t)klen, .member = m, .member_len = member_len, .n = 1};
    b->cue_hashes[b->ncue] = h;
    size_t j = (size_t)h & (b->cue_nslots - 1);
    while (b->cue_slots[j])
        j = (j + 1) & (b->cue_nslots - 1);
    b->cue_slots[j] = (uint32_t)(b->ncue + 1);
    b->ncue++;
    return 0;
}

const char *hk_rollup_behavior_state(const struct hk_rollup_counts *c, int beh)
{
    if (c->v[HK_RF_BEH(beh, HK_RB_STATED_YES)])
        return "done";
    if (c->v[HK_RF_BEH(beh, HK_RB_STATED_NO)])
        return "not";
    if (c->v[HK_RF_BEH(beh, HK_RB_TEXT_POS)])
        return "done";
    if (c->v[HK_RF_BEH(beh, HK_RB_TEXT_NEG)])
        return "not";
    return NULL;
}

/* ---- the apply script ----
 * Contract (all keys declared, so it is cluster-shaped even though the keys span slots):
 *   KEYS[1] stream, KEYS[2] dead-letter stream,
 *   KEYS[3 .. 2+nh]          rollup hashes
 *   KEYS[3+nh .. 2+2nh]      their index sets, in the same order
 *   KEYS[3+2nh .. 2+2nh+nz]  cue sorted sets, each once
 *   ARGV[1] group, ARGV[2] nok, ARGV[3] ndead, ARGV[4] nh, ARGV[5] nz, ARGV[6] lowest id,
 *   ARGV[7] highest, ARGV[8] the field names (MessagePack array of strings),
 *   ARGV[9] the increments (MessagePack array of nh arrays [index member, field number,
 *   increment, field number, increment, ...], field numbers 1-based into ARGV[8]),
 *   ARGV[10] the cue counts (MessagePack array of nz arrays [member, increment, ...], one
 *   per cue set in KEYS order),
 *   then nok ids to count, ndead x (id, reason, survey).
 * One packed argument per kind instead of one ARGV string per field name and increment:
 * cmsgpack decodes in C, where ~70,000 ARGV strings per batch cost Redis more than the
 * commands. Increments at or beyond 1e14 are packed as decimal strings (doubles lose digits).
 * Every id must still be pending in the group. If one is not (another worker counted it
 * after reclaiming it), nothing changes and the reply is the array of those ids: the caller
 * drops them and calls again with the rest. Otherwise it XACKs all ids first (the commit
 * marker), writes the dead letters, the increments and the cue counts, and replies OK.
 * Everything that could fail is checked before anything is written (redis.call errors do not
 * roll back): key types, and that every counter it adds to holds an integer; "#!lua" makes
 * Redis refuse the whole script up front when over maxmemory. The new values are computed
 * during that check, so the write pass only issues commands.
 * Counters are read with one HMGET per hash and written with one HSET instead of one HINCRBY
 * per field; each index set gets one SADD of all its members (members already there change
 * nothing and are not propagated); each cue set one ZMSCORE and one ZADD of the new scores
 * instead of one ZINCRBY per member (counts are integers, exact as doubles). A batch touches
 * thousands of fields, and each redis.call costs Redis far more than the addition. Lua numbers are
 * doubles and Redis turns them into strings with %.14g, so a field whose old value, increment or
 * sum reaches 1e14 falls back to HINCRBY (exact in 64 bits); below that the sum is exact and is
 * written as a plain integer.
 * The scored-survey records are not written here: they are idempotent (the same survey
 * scores the same), so the worker SETs them with plain commands just before this call, which
 * costs Redis a quarter of what a SET of a 1 KB value costs inside Lua. */
const char hk_rollup_apply_lua[] =
    "#!lua\n"
    "local s, g = KEYS[1], ARGV[1]\n"
    "local nok, ndead, nh = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "local nz = tonumber(ARGV[5])\n"
    "local ids, a = {}, 11\n"
    "for i = 1, nok do ids[#ids + 1] = ARGV[a]; a = a + 1 end\n"
    "for i = 1, ndead do ids[#ids + 1] = ARGV[a]; a = a + 3 end\n"
    "local gone = {}\n"
    "local lim = 2 * #ids + 16\n"
    "local p = redis.call('XPENDING', s, g, ARGV[6], ARGV[7], lim)\n"
    "if #p < lim then\n"
    "  local pend = {}\n"
    "  for i = 1, #p do pend[p[i][1]] = true end\n"
    "  for i = 1, #ids do if not pend[ids[i]] then gone[#gone + 1] = ids[i] end end\n"
    "else\n"
    "  for i = 1, #ids do\n"
    "    if #redis.call('XPENDING', s, g, ids[i], ids[i], 1) == 0 then gone[#gone + 1] = ids[i] "
    "end\n"
    "  end\n"
    "end\n"
    "if #gone > 0 then return gone end\n"
    "local function wrong(what, k)\n"
    "  return redis.error_reply('WRONGTYPE hearken ' .. what .. ' ' .. k .. ' holds the wrong "
    "type')\n"
    "end\n"
    "local function bad(k, want)\n"
    "  local t = redis.call('TYPE', k)['ok']\n"
    "  return t ~= 'none' and t ~= want\n"
    "end\n"
    "if ndead > 0 and bad(KEYS[2], 'stream') then return wrong('dead-letter stream', KEYS[2]) end\n"
    "local names = cmsgpack.unpack(ARGV[8])\n"
    "local hs = cmsgpack.unpack(ARGV[9])\n"
    "local zs = cmsgpack.unpack(ARGV[10])\n"
    "if #hs ~= nh or #zs ~= nz then return redis.error_reply('ERR hearken bad apply "
    "arguments') end\n"
    "local sets, bigs, ix, ixk = {}, {}, {}, {}\n"
    "local match, abs, str, dec = string.match, math.abs, tostring, {}\n"
    "for i = 1, nh do\n"
    "  local t, k = hs[i], KEYS[2 + i]\n"
    "  local nf = (#t - 1) / 2\n"
    "  local f = {}\n"
    "  for j = 1, nf do f[j] = names[t[2 * j]] end\n"
    "  local v = nf > 0 and redis.pcall('HMGET', k, unpack(f)) or {}\n"
    "  if v['err'] then return wrong('rollup key', k) end\n"
    "  local set, n, big = {}, 0, false\n"
    "  for j = 1, nf do\n"
    "    local inc = t[2 * j + 1]\n"
    "    local y, x = tonumber(inc), 0\n"
    "    local old = v[j]\n"
    "    if old then\n"
    "      x = tonumber(old)\n"
    "      if x and (x >= 1e14 or x <= -1e14) and (not match(old, '^%-?%d+$') or\n"
    "          abs(x + y) >= 9e18) then x = nil end\n"
    "      if not x or x % 1 ~= 0 then\n"
    "        return wrong('rollup key', k .. ' field ' .. f[j] .. ' (not an integer)')\n"
    "      end\n"
    "    end\n"
    "    local z = x + y\n"
    "    if x < 1e14 and x > -1e14 and y < 1e14 and y > -1e14 and z < 1e14 and z > -1e14 then\n"
    "      set[n + 1] = f[j]\n"
    "      local d = dec[z]\n"
    "      if not d then d = str(z); dec[z] = d end\n"
    "      set[n + 2] = d\n"
    "      n = n + 2\n"
    "    else\n"
    "      big = big or {}\n"
    "      big[#big + 1] = f[j]\n"
    "      big[#big + 1] = tostring(inc)\n"
    "    end\n"
    "  end\n"
    "  sets[i], bigs[i] = set, big\n"
    "  local ik = KEYS[i + 2 + nh]\n"
    "  local im = ix[ik]\n"
    "  if not im then\n"
    "    if bad(ik, 'set') then return wrong('rollup index', ik) end\n"
    "    im = {}\n"
    "    ix[ik] = im\n"
    "    ixk[#ixk + 1] = ik\n"
    "  end\n"
    "  im[#im + 1] = t[1]\n"
    "end\n"
    "local zw = {}\n"
    "for i = 1, nz do\n"
    "  local k, t = KEYS[2 + 2 * nh + i], zs[i]\n"
    "  local m, add = {}, {}\n"
    "  for j = 1, #t / 2 do m[j] = t[2 * j - 1] end\n"
    "  for c = 1, #m, 1000 do\n"
    "    local sc = redis.pcall('ZMSCORE', k, unpack(m, c, math.min(c + 999, #m)))\n"
    "    if sc['err'] then return wrong('cue key', k) end\n"
    "    for j = 1, #sc do\n"
    "      local q = c + j - 1\n"
    "      add[2 * q - 1] = (tonumber(sc[j]) or 0) + t[2 * q]\n"
    "      add[2 * q] = m[q]\n"
    "    end\n"
    "  end\n"
    "  zw[i] = add\n"
    "end\n"
    "for i = 1, #ids, 1000 do\n"
    "  redis.call('XACK', s, g, unpack(ids, i, math.min(i + 999, #ids)))\n"
    "end\n"
    "a = 11 + nok\n"
    "for i = 1, ndead do\n"
    "  redis.call('XADD', KEYS[2], '*', 'id', ARGV[a], 'reason', ARGV[a + 1], 'survey', ARGV[a + "
    "2])\n"
    "  a = a + 3\n"
    "end\n"
    "for i = 1, nh do\n"
    "  local h, set, big = KEYS[2 + i], sets[i], bigs[i]\n"
    "  if #set > 0 then redis.call('HSET', h, unpack(set)) end\n"
    "  if big then\n"
    "    for j = 1, #big, 2 do redis.call('HINCRBY', h, big[j], big[j + 1]) end\n"
    "  end\n"
    "end\n"
    "for i = 1, #ixk do\n"
    "  local im = ix[ixk[i]]\n"
    "  for c = 1, #im, 1000 do\n"
    "    redis.call('SADD', ixk[i], unpack(im, c, math.min(c + 999, #im)))\n"
    "  end\n"
    "end\n"
    "for i = 1, nz do\n"
    "  local add = zw[i]\n"
    "  for c = 1, #add, 2000 do\n"
    "    redis.call('ZADD', KEYS[2 + 2 * nh + i], unpack(add, c, math.min(c + 1999, #add)))\n"
    "  end\n"
    "end\n"
    "return redis.status_reply('OK')\n";

void hk_rollup_argv_init(struct hk_rollup_argv *av)
{
    memset(av, 0, sizeof *av);
    hk_buf_init(&av->nums, (size_t)1 << 30);
    hk_buf_init(&av->pack, (size_t)1 << 30);
}

void hk_rollup_argv_free(struct hk_rollup_argv *av)
{
    free(av->argv);
    free(av->argvlen);
    hk_buf_free(&av->nums);
    hk_buf_free(&av->pack);
    free(av->cues);
    memset(av, 0, sizeof *av);
}

static void push(struct hk_rollup_argv *av, const char *p, size_t len)
{
    av->argv[av->argc] = p;
    av->argvlen[av->argc] = len;
    av->argc++;
}

/* Writes the decimal form of v at p (room for 21 bytes) and returns its length. */
static size_t fmt_num(char *p, int64_t v)
{
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t len = 0;
    if (v < 0)
        p[len++] = '-';
    while (n)
        p[len++] = tmp[--n];
    return len;
}

/* Appends the decimal form of v to nums (space reserved by the caller, so it never moves)
 * and pushes it. */
static void push_num(struct hk_rollup_argv *av, int64_t v)
{
    char *p = av->nums.data + av->nums.len;
    size_t len = fmt_num(p, v);
    p[len] = '\0';
    av->nums.len += len + 1;
    push(av, p, len);
}

/* ---- MessagePack, the subset the script's cmsgpack.unpack reads. The caller reserves
 * room first (at most MP_HDR bytes per header or number plus the string bytes), so these
 * write without checks. */
#define MP_HDR 24
static void mp_put(struct hk_buf *o, uint8_t tag, uint64_t v, int nbytes)
{
    unsigned char *p = (unsigned char *)o->data + o->len;
    size_t n = 0;
    if (tag)
        p[n++] = tag;
    for (int i = nbytes - 1; i >= 0; i--)
        p[n++] = (unsigned char)(v >> (8 * i));
    o->len += n;
    o->data[o->len] = '\0';
}

static void mp_array(struct hk_buf *o, size_t n)
{
    if (n < 16)
        mp_put(o, 0, 0x90 | n, 1);
    else if (n <= 0xffff)
        mp_put(o, 0xdc, n, 2);
    else
        mp_put(o, 0xdd, n, 4);
}

static void mp_str(struct hk_buf *o, const char *s, size_t len)
{
    if (len < 32)
        mp_put(o, 0, 0xa0 | len, 1);
    else if (len <= 0xff)
        mp_put(o, 0xd9, len, 1);
    else if (len <= 0xffff)
        mp_put(o, 0xda, len, 2);
    else
        mp_put(o, 0xdb, len, 4);
    memcpy(o->data + o->len, s, len);
    o->len += len;
    o->data[o->len] = '\0';
}

/* Integers the script adds: exact as Lua doubles below 1e14, decimal strings beyond. */
static void mp_int(struct hk_buf *o, int64_t v)
{
    if (v >= 0 && v < 128)
        mp_put(o, 0, (uint64_t)v, 1);
    else if (v < 0 && v >= -32)
        mp_put(o, 0, (uint64_t)v & 0xff, 1);
    else if (v > 0 && v <= 0xffff)
        mp_put(o, 0xcd, (uint64_t)v, 2);
    else if (v >= INT32_MIN && v <= INT32_MAX)
        mp_put(o, 0xd2, (uint64_t)(uint32_t)(int32_t)v, 4);
    else if (v > -100000000000000LL && v < 100000000000000LL)
        mp_put(o, 0xd3, (uint64_t)v, 8);
    else {
        char d[24];
        mp_str(o, d, fmt_num(d, v));
    }
}

static int cue_key_cmp(const void *pa, const void *pb)
{
    const struct hk_rollup_cue *x = *(const struct hk_rollup_cue *const *)pa;
    const struct hk_rollup_cue *y = *(const struct hk_rollup_cue *const *)pb;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int r = memcmp(x->key, y->key, n);
    if (r)
        return r;
    return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

static bool cue_same_key(const struct hk_rollup_cue *x, const struct hk_rollup_cue *y)
{
    return x->key_len == y->key_len && memcmp(x->key, y->key, x->key_len) == 0;
}

/* Stream ids "ms-seq" compare numerically. */
static void id_parse(const char *id, size_t len, uint64_t *ms, uint64_t *seq)
{
    *ms = 0;
    *seq = 0;
    size_t i = 0;
    for (; i < len && id[i] != '-'; i++)
        *ms = *ms * 10 + (uint64_t)(id[i] - '0');
    for (i++; i < len; i++)
        *seq = *seq * 10 + (uint64_t)(id[i] - '0');
}

int hk_rollup_apply_argv(struct hk_rollup_argv *av, const char *sha, const char *stream_key,
                         const char *dead_key, const char *group,
                         const struct hk_rollup_item *items, size_t nitems,
                         const struct hk_rollup_batch *b)
{
    if (nitems == 0)
        return HK_ERR_INVALID;
    size_t nok = 0, ndead = 0, nfields = 0;
    const struct hk_rollup_item *lo = &items[0], *hi = &items[0];
    uint64_t lo_ms, lo_seq, hi_ms, hi_seq;
    id_parse(items[0].id, items[0].id_len, &lo_ms, &lo_seq);
    hi_ms = lo_ms;
    hi_seq = lo_seq;
    for (size_t i = 0; i < nitems; i++) {
        if (items[i].dead)
            ndead++;
        else
            nok++;
        uint64_t ms, seq;
        id_parse(items[i].id, items[i].id_len, &ms, &seq);
        if (ms < lo_ms || (ms == lo_ms && seq < lo_seq)) {
            lo = &items[i];
            lo_ms = ms;
            lo_seq = seq;
        }
        if (ms > hi_ms || (ms == hi_ms && seq > hi_seq)) {
            hi = &items[i];
            hi_ms = ms;
            hi_seq = seq;
        }
    }
    size_t packed = 3 * MP_HDR;
    for (size_t i = 0; i < b->n; i++) {
        for (int f = 0; f < HK_RF_COUNT; f++)
            nfields += b->e[i].c.v[f] != 0;
        packed += 2 * MP_HDR + b->e[i].member_len;
    }
    for (size_t i = 0; i < b->ncue; i++)
        packed += 2 * MP_HDR + b->cue[i].member_len;
    for (int f = 0; f < HK_RF_COUNT; f++)
        packed += MP_HDR + strlen(hk_rollup_field_names[f]);
    packed += 2 * MP_HDR * nfields;

    /* cue counts grouped by sorted set: one ZMSCORE and one ZADD per set in the script */
    if (b->ncue > av->cues_cap) {
        const struct hk_rollup_cue **cues = realloc(av->cues, b->ncue * sizeof *cues);
        if (!cues)
            return HK_ERR_NOMEM;
        av->cues = cues;
        av->cues_cap = b->ncue;
    }
    for (size_t i = 0; i < b->ncue; i++)
        av->cues[i] = &b->cue[i];
    if (b->ncue > 1)
        qsort(av->cues, b->ncue, sizeof *av->cues, cue_key_cmp);
    size_t nz = 0;
    for (size_t i = 0; i < b->ncue; i++)
        nz += i == 0 || !cue_same_key(av->cues[i - 1], av->cues[i]);
    packed += MP_HDR * nz;

    size_t nkeys = 2 + 2 * b->n + nz;
    size_t need = 3 + nkeys + 10 + nok + 3 * ndead;
    if (need > av->cap) {
        const char **argv = realloc(av->argv, need * sizeof *argv);
        if (!argv)
            return HK_ERR_NOMEM;
        av->argv = argv;
        size_t *argvlen = realloc(av->argvlen, need * sizeof *argvlen);
        if (!argvlen)
            return HK_ERR_NOMEM;
        av->argvlen = argvlen;
        av->cap = need;
    }
    hk_buf_reset(&av->nums);
    int rc = hk_buf_reserve(&av->nums, 5 * 22);
    if (rc)
        return rc;
    hk_buf_reset(&av->pack);
    rc = hk_buf_reserve(&av->pack, packed);
    if (rc)
        return rc;
    av->argc = 0;

    /* the three packed arguments, built before any pointer into pack is taken */
    struct hk_buf *o = &av->pack;
    mp_array(o, HK_RF_COUNT);
    for (int f = 0; f < HK_RF_COUNT; f++)
        mp_str(o, hk_rollup_field_names[f], strlen(hk_rollup_field_names[f]));
    size_t names_len = o->len;
    mp_array(o, b->n);
    for (size_t i = 0; i < b->n; i++) {
        const struct hk_rollup_entry *e = &b->e[i];
        size_t nf = 0;
        for (int f = 0; f < HK_RF_COUNT; f++)
            nf += e->c.v[f] != 0;
        mp_array(o, 1 + 2 * nf);
        mp_str(o, e->member, e->member_len);
        for (int f = 0; f < HK_RF_COUNT; f++) {
            if (!e->c.v[f])
                continue;
            mp_int(o, f + 1);
            mp_int(o, e->c.v[f]);
        }
    }
    size_t incs_end = o->len;
    mp_array(o, nz);
    for (size_t i = 0; i < b->ncue;) {
        size_t j = i + 1;
        while (j < b->ncue && cue_same_key(av->cues[i], av->cues[j]))
            j++;
        mp_array(o, 2 * (j - i));
        for (; i < j; i++) {
            mp_str(o, av->cues[i]->member, av->cues[i]->member_len);
            mp_int(o, av->cues[i]->n);
        }
    }

    push(av, "EVALSHA", 7);
    push(av, sha, strlen(sha));
    push_num(av, (int64_t)nkeys);
    push(av, stream_key, strlen(stream_key));
    push(av, dead_key, strlen(dead_key));
    for (size_t i = 0; i < b->n; i++)
        push(av, b->e[i].key, b->e[i].key_len);
    for (size_t i = 0; i < b->n; i++)
        push(av, b->e[i].index_key, b->e[i].index_key_len);
    for (size_t i = 0; i < b->ncue; i++)
        if (i == 0 || !cue_same_key(av->cues[i - 1], av->cues[i]))
            push(av, av->cues[i]->key, av->cues[i]->key_len);

    push(av, group, strlen(group));
    push_num(av, (int64_t)nok);
    push_num(av, (int64_t)ndead);
    push_num(av, (int64_t)b->n);
    push_num(av, (int64_t)nz);
    push(av, lo->id, lo->id_len);
    push(av, hi->id, hi->id_len);
    push(av, o->data, names_len);
    push(av, o->data + names_len, incs_end - names_len);
    push(av, o->data + incs_end, o->len - incs_end);
    for (size_t i = 0; i < nitems; i++) {
        if (items[i].dead)
            continue;
        push(av, items[i].id, items[i].id_len);
    }
    for (size_t i = 0; i < nitems; i++) {
        if (!items[i].dead)
            continue;
        push(av, items[i].id, items[i].id_len);
        push(av, items[i].reason, items[i].reason_len);
        push(av, items[i].survey ? items[i].survey : "", items[i].survey_len);
    }
    return 0;
}
