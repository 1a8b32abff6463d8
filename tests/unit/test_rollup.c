/* Rollups without Redis: the exact counters one survey adds, aggregation of a batch into
 * keys, the apply script's argv layout, the statistics against hand computations, and the
 * window summation and JSON from fake hash contents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hearken/err.h"
#include "hearken/rollup.h"

/* cmocka's assert_float_equal compares in float precision; these are doubles */
#define assert_near(got, want, eps) near_(got, want, eps, __FILE__, __LINE__)

static void near_(double got, double want, double eps, const char *file, int line)
{
    if (!(fabs(got - want) <= eps) && !(got == want))
        fail_msg("%s:%d: got %.12g, want %.12g (+/- %g)", file, line, got, want, eps);
}

static int64_t day_start(int y, int m, int d)
{
    /* days_from_civil, good enough for test dates */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (era * 146097 + doe - 719468) * 86400;
}

static void make_survey(struct hk_survey *s, const char *iid, const char *agent, const char *team,
                        const char *scenario, int64_t at)
{
    hk_survey_init(s);
    snprintf(s->interaction_id, sizeof s->interaction_id, "%s", iid);
    snprintf(s->agent_id, sizeof s->agent_id, "%s", agent);
    snprintf(s->team_id, sizeof s->team_id, "%s", team);
    snprintf(s->scenario, sizeof s->scenario, "%s", scenario);
    s->submitted_at = at;
    for (int i = 0; i < HK_ANS_COUNT; i++)
        s->answers[i] = -1;
    for (int b = 0; b < HK_BEH_COUNT; b++)
        s->behaviors[b] = -1;
}

static int64_t field(const struct hk_rollup_counts *c, const char *name)
{
    int f = hk_rollup_field_find(name, strlen(name));
    assert_true(f >= 0);
    return c->v[f];
}

/* Every field not listed in want must be zero. */
static void assert_counts(const struct hk_rollup_counts *c, const char *const *names,
                          const int64_t *want, size_t n)
{
    for (int f = 0; f < HK_RF_COUNT; f++) {
        int64_t expect = 0;
        for (size_t i = 0; i < n; i++)
            if (strcmp(names[i], hk_rollup_field_names[f]) == 0)
                expect = want[i];
        if (c->v[f] != expect)
            fail_msg("field %s: got %lld, want %lld", hk_rollup_field_names[f], (long long)c->v[f],
                     (long long)expect);
    }
}

static void test_field_names_unique_and_found(void **state)
{
    (void)state;
    for (int f = 0; f < HK_RF_COUNT; f++) {
        assert_non_null(hk_rollup_field_names[f]);
        assert_int_equal(
            hk_rollup_field_find(hk_rollup_field_names[f], strlen(hk_rollup_field_names[f])), f);
    }
    assert_int_equal(hk_rollup_field_find("nps", 3), -1);
    assert_int_equal(hk_rollup_field_find("n_", 2), -1);
    assert_int_equal(hk_rollup_field_find("", 0), -1);
    assert_string_equal(hk_rollup_field_names[HK_RF_BEH(HK_BEH_WAS_PATIENT, HK_RB_TEXT_NEG)],
                        "was_patient:tn");
    assert_int_equal(hk_rollup_by_parse("agent_scenario"), HK_BY_AGENT_SCENARIO);
    assert_int_equal(hk_rollup_by_parse("planet"), -1);
    assert_int_equal(hk_rollup_by_parse(NULL), -1);
}

static void test_milli(void **state)
{
    (void)state;
    assert_int_equal(hk_rollup_milli(0.5), 500);
    assert_int_equal(hk_rollup_milli(-0.2504), -250);
    assert_int_equal(hk_rollup_milli(0.0015), 2); /* rounds half away from zero */
    assert_int_equal(hk_rollup_milli(1.7), 1000);
    assert_int_equal(hk_rollup_milli(-3), -1000);
    assert_int_equal(hk_rollup_milli(NAN), 0);
}

static void test_one_survey_counts(void **state)
{
    (void)state;
    struct hk_survey s;
    make_survey(&s, "call-1", "agent-17", "team-b", "billing_error", day_start(2026, 11, 25));
    s.answers[HK_ANS_NPS] = 9;
    s.answers[HK_ANS_CSAT] = 4;
    s.answers[HK_ANS_CES] = 6;
    s.answers[HK_ANS_FELT_HEARD] = 4;
    s.answers[HK_ANS_FELT_VALUED] = 5;
    s.behaviors[HK_BEH_APOLOGIZED] = 1;
    s.behaviors[HK_BEH_CALM_TONE] = 0;
    struct hk_rollup_text t = {.scored = true};
    t.has[HK_TXT_SENTIMENT] = true;
    t.milli[HK_TXT_SENTIMENT] = 500;
    t.has[HK_TXT_FELT_HEARD] = true;
    t.milli[HK_TXT_FELT_HEARD] = 800;
    t.has[HK_TXT_ADVOCACY] = true;
    t.milli[HK_TXT_ADVOCACY] = 600;
    t.has[HK_TXT_EASE] = true;
    t.milli[HK_TXT_EASE] = -200;
    t.milli[HK_TXT_FELT_VALUED] = 999; /* no evidence: must not count */
    t.behavior[HK_BEH_LISTENED_ACTIVELY] = 1;
    t.behavior[HK_BEH_DID_NOT_INTERRUPT] = -1;

    struct hk_rollup_counts c;
    hk_rollup_survey_counts(&s, &t, &c);
    static const char *const names[] = {"n",
                                        "nps_pro",
                                        "csat_n",
                                        "csat_top2",
                                        "ces_n",
                                        "ces_sum",
                                        "ces_sq",
                                        "fh_s_n",
                                        "fh_s_sum",
                                        "fh_s_sq",
                                        "fv_s_n",
                                        "fv_s_sum",
                                        "fv_s_sq",
                                        "fh_t_n",
                                        "fh_t_sum",
                                        "fh_t_sq",
                                        "adv_n",
                                        "adv_pos",
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
                                        "apologized:sy",
                                        "calm_tone:sn",
                                        "listened_actively:tp",
                                        "did_not_interrupt:tn"};
    static const int64_t want[] = {1,     1,  1,   1,      1,      6, 36, 1,   4,      16, 1,
                                   5,     25, 1,   800,    640000, 1, 1,  600, 360000, 1,  -200,
                                   40000, 1,  500, 250000, 1,      1, 1,  1,   1,      1};
    assert_int_equal(sizeof names / sizeof names[0], sizeof want / sizeof want[0]);
    assert_counts(&c, names, want, sizeof want / sizeof want[0]);
    hk_survey_clear(&s);
}

static void test_survey_without_comment_or_nps(void **state)
{
    (void)state;
    struct hk_survey s;
    make_survey(&s, "call-2", "agent-1", "", "other", day_start(2026, 11, 25));
    s.answers[HK_ANS_NPS] = 6;
    s.answers[HK_ANS_CSAT] = 3;
    struct hk_rollup_counts c;
    hk_rollup_survey_counts(&s, NULL, &c);
    /* "other" is not a problem scenario: no recovery fields; csat 3 is not top-2 */
    static const char *const names[] = {"n", "nps_det", "csat_n"};
    static const int64_t want[] = {1, 1, 1};
    assert_counts(&c, names, want, 3);

    /* a problem scenario without NPS: the advocacy text decides recovery */
    make_survey(&s, "call-3", "agent-1", "", "tech_support", day_start(2026, 11, 25));
    struct hk_rollup_text t = {.scored = true};
    t.has[HK_TXT_SENTIMENT] = true; /* sentiment 0 still counts: the comment exists */
    t.has[HK_TXT_ADVOCACY] = true;
    t.milli[HK_TXT_ADVOCACY] = -400;
    hk_rollup_survey_counts(&s, &t, &c);
    static const char *const names2[] = {"n",       "sent_n", "adv_n", "adv_neg",
                                         "adv_sum", "adv_sq", "rec_n"};
    static const int64_t want2[] = {1, 1, 1, 1, -400, 160000, 1};
    assert_counts(&c, names2, want2, 7);

    /* no NPS and no advocacy evidence: no outcome, so not in the recovery denominator */
    t.has[HK_TXT_ADVOCACY] = false;
    hk_rollup_survey_counts(&s, &t, &c);
    assert_int_equal(field(&c, "rec_n"), 0);
    hk_survey_clear(&s);
}

static const struct hk_rollup_entry *find_entry(const struct hk_rollup_batch *b, const char *key)
{
    for (size_t i = 0; i < hk_rollup_batch_count(b); i++) {
        const struct hk_rollup_entry *e = hk_rollup_batch_entry(b, i);
        if (e->key_len == strlen(key) && memcmp(e->key, key, e->key_len) == 0)
            return e;
    }
    fail_msg("no entry %s", key);
    return NULL;
}

static void test_batch_aggregates(void **state)
{
    (void)state;
    struct hk_rollup_batch *b = hk_rollup_batch_create("hk:");
    assert_non_null(b);
    int64_t d25 = day_start(2026, 11, 25) + 3600, d26 = day_start(2026, 11, 26) + 86399;
    struct hk_survey s1, s2, s3, s4;
    make_survey(&s1, "c1", "agent-17", "team-b", "billing_error", d25);
    make_survey(&s2, "c2", "agent-17", "team-b", "billing_error", d25 + 60);
    make_survey(&s3, "c3", "agent:9", "", "other", d25 + 120); /* no team, ':' in the id */
    make_survey(&s4, "c4", "agent-17", "team-b", "billing_error", d26);
    s1.answers[HK_ANS_NPS] = 10;
    s2.answers[HK_ANS_NPS] = 0;
    s3.answers[HK_ANS_NPS] = 8;
    s4.answers[HK_ANS_NPS] = 9;
    struct hk_survey *all[] = {&s1, &s2, &s3, &s4};
    for (size_t i = 0; i < 4; i++) {
        struct hk_rollup_counts c;
        hk_rollup_survey_counts(all[i], NULL, &c);
        assert_int_equal(hk_rollup_batch_add(b, all[i], &c), 0);
    }
    /* day 25: all, agent x2, team (s3 has none), scenario x2, agent_scenario x2, agent_team
     * (s3 has none) = 9; day 26: 6 */
    assert_int_equal(hk_rollup_batch_count(b), 15);
    const struct hk_rollup_entry *e = find_entry(b, "hk:r:2026-11-25:all:all");
    assert_int_equal(e->c.v[HK_RF_N], 3);
    assert_int_equal(e->c.v[HK_RF_NPS_PRO], 1);
    assert_int_equal(e->c.v[HK_RF_NPS_PAS], 1);
    assert_int_equal(e->c.v[HK_RF_NPS_DET], 1);
    assert_int_equal(e->c.v[HK_RF_REC_N], 2);
    assert_int_equal(e->c.v[HK_RF_REC_PRO], 1);
    assert_int_equal(e->index_key_len, strlen("hk:ri:2026-11-25:all"));
    assert_memory_equal(e->index_key, "hk:ri:2026-11-25:all", e->index_key_len);
    assert_int_equal(e->member_len, 3);
    assert_memory_equal(e->member, "all", 3);

    e = find_entry(b, "hk:r:2026-11-25:agent_scenario:agent-17|billing_error");
    assert_int_equal(e->c.v[HK_RF_N], 2);
    assert_memory_equal(e->member, "agent-17|billing_error", e->member_len);
    assert_memory_equal(e->index_key, "hk:ri:2026-11-25:agent_scenario", e->index_key_len);
    e = find_entry(b, "hk:r:2026-11-25:team:team-b");
    assert_int_equal(e->c.v[HK_RF_N], 2);
    e = find_entry(b, "hk:r:2026-11-25:agent:agent:9");
    assert_int_equal(e->c.v[HK_RF_N], 1);
    assert_memory_equal(e->member, "agent:9", e->member_len);
    e = find_entry(b, "hk:r:2026-11-26:scenario:billing_error");
    assert_int_equal(e->c.v[HK_RF_NPS_PRO], 1);
    e = find_entry(b, "hk:r:2026-11-25:agent_team:agent-17|team-b"); /* membership: n only */
    assert_int_equal(e->c.v[HK_RF_N], 2);
    assert_int_equal(e->c.v[HK_RF_NPS_PRO], 0);

    /* reset forgets everything; many distinct keys grow the table without losing counts */
    hk_rollup_batch_reset(b);
    assert_int_equal(hk_rollup_batch_count(b), 0);
    for (int i = 0; i < 3000; i++) {
        struct hk_survey s;
        char agent[32];
        snprintf(agent, sizeof agent, "agent-%d", i % 500);
        make_survey(&s, "x", agent, "t", "other", d25);
        struct hk_rollup_counts c;
        hk_rollup_survey_counts(&s, NULL, &c);
        assert_int_equal(hk_rollup_batch_add(b, &s, &c), 0);
    }
    /* all + 500 agents + team + scenario + 500 agent_scenario + 500 agent_team */
    assert_int_equal(hk_rollup_batch_count(b), 1503);
    assert_int_equal(find_entry(b, "hk:r:2026-11-25:all:all")->c.v[HK_RF_N], 3000);
    assert_int_equal(find_entry(b, "hk:r:2026-11-25:agent:agent-499")->c.v[HK_RF_N], 6);
    hk_rollup_batch_destroy(b);
    hk_rollup_batch_destroy(NULL);
}

static void test_batch_impact_groups(void **state)
{
    (void)state;
    struct hk_rollup_batch *b = hk_rollup_batch_create("hk:");
    struct hk_survey s;
    make_survey(&s, "c1", "agent-1", "", "billing_error", day_start(2026, 11, 25));
    s.answers[HK_ANS_NPS] = 10;
    s.behaviors[HK_BEH_APOLOGIZED] = 1; /* ticked yes */
    s.behaviors[HK_BEH_CALM_TONE] = 0;  /* ticked no: the tick wins over the comment */
    struct hk_rollup_text t = {.scored = true};
    t.has[HK_TXT_SENTIMENT] = true;
    t.behavior[HK_BEH_CALM_TONE] = 1;
    t.behavior[HK_BEH_DID_NOT_INTERRUPT] = -1; /* no tick: the comment decides */
    struct hk_rollup_counts c;
    hk_rollup_survey_counts(&s, &t, &c);
    assert_string_equal(hk_rollup_behavior_state(&c, HK_BEH_APOLOGIZED), "done");
    assert_string_equal(hk_rollup_behavior_state(&c, HK_BEH_CALM_TONE), "not");
    assert_string_equal(hk_rollup_behavior_state(&c, HK_BEH_DID_NOT_INTERRUPT), "not");
    assert_null(hk_rollup_behavior_state(&c, HK_BEH_WAS_PATIENT));
    assert_int_equal(hk_rollup_batch_add(b, &s, &c), 0);
    /* all, agent, scenario, agent_scenario (no team) + 3 behaviours x (scenario, "*") */
    assert_int_equal(hk_rollup_batch_count(b), 4 + 6);
    const struct hk_rollup_entry *e =
        find_entry(b, "hk:r:2026-11-25:behavior_scenario:apologized|done|billing_error");
    assert_int_equal(e->c.v[HK_RF_N], 1);
    assert_int_equal(e->c.v[HK_RF_NPS_PRO], 1);
    assert_int_equal(e->c.v[HK_RF_REC_PRO], 1);
    assert_int_equal(e->c.v[HK_RF_BEH(HK_BEH_APOLOGIZED, HK_RB_STATED_YES)], 0);
    assert_memory_equal(e->index_key, "hk:ri:2026-11-25:behavior_scenario", e->index_key_len);
    assert_memory_equal(e->member, "apologized|done|billing_error", e->member_len);
    find_entry(b, "hk:r:2026-11-25:behavior_scenario:apologized|done|*");
    find_entry(b, "hk:r:2026-11-25:behavior_scenario:calm_tone|not|*");
    e = find_entry(b, "hk:r:2026-11-25:behavior_scenario:did_not_interrupt|not|billing_error");
    assert_int_equal(e->c.v[HK_RF_SENT_N], 1);
    /* the other groupings keep the behaviour counts */
    e = find_entry(b, "hk:r:2026-11-25:agent:agent-1");
    assert_int_equal(e->c.v[HK_RF_BEH(HK_BEH_CALM_TONE, HK_RB_STATED_NO)], 1);
    assert_int_equal(e->c.v[HK_RF_BEH(HK_BEH_CALM_TONE, HK_RB_TEXT_POS)], 1);
    assert_int_equal(hk_rollup_by_parse("behavior_scenario"), HK_BY_BEHAVIOR_SCENARIO);
    hk_rollup_batch_destroy(b);
}

static bool arg_is(const struct hk_rollup_argv *av, size_t i, const char *s)
{
    return i < av->argc && av->argvlen[i] == strlen(s) &&
           memcmp(av->argv[i], s, av->argvlen[i]) == 0;
}

/* A reader of the MessagePack subset the script gets (what cmsgpack.unpack would see). */
struct mp {
    const unsigned char *p, *end;
};

static uint64_t mp_be(struct mp *m, int n)
{
    uint64_t v = 0;
    assert_true(m->end - m->p >= n);
    for (int i = 0; i < n; i++)
        v = v << 8 | *m->p++;
    return v;
}

static size_t mp_array_len(struct mp *m)
{
    unsigned t = (unsigned)mp_be(m, 1);
    if ((t & 0xf0) == 0x90)
        return t & 0x0f;
    if (t == 0xdc)
        return (size_t)mp_be(m, 2);
    assert_int_equal(t, 0xdd);
    return (size_t)mp_be(m, 4);
}

/* A string's bytes (copied into out, NUL-terminated). */
static void mp_string(struct mp *m, char *out, size_t cap)
{
    unsigned t = (unsigned)mp_be(m, 1);
    size_t len;
    if ((t & 0xe0) == 0xa0)
        len = t & 0x1f;
    else if (t == 0xd9)
        len = (size_t)mp_be(m, 1);
    else if (t == 0xda)
        len = (size_t)mp_be(m, 2);
    else {
        assert_int_equal(t, 0xdb);
        len = (size_t)mp_be(m, 4);
    }
    assert_true(len < cap && m->end - m->p >= (ptrdiff_t)len);
    memcpy(out, m->p, len);
    out[len] = '\0';
    m->p += len;
}

/* An integer; one packed as a decimal string (at or beyond 1e14) is parsed back. */
static int64_t mp_integer(struct mp *m)
{
    unsigned t = *m->p;
    if ((t & 0xe0) == 0xa0 || t == 0xd9) {
        char d[32];
        mp_string(m, d, sizeof d);
        return strtoll(d, NULL, 10);
    }
    m->p++;
    if (t < 0x80)
        return (int64_t)t;
    if (t >= 0xe0)
        return (int64_t)t - 256;
    if (t == 0xcd)
        return (int64_t)mp_be(m, 2);
    if (t == 0xd2)
        return (int32_t)(uint32_t)mp_be(m, 4);
    assert_int_equal(t, 0xd3);
    return (int64_t)mp_be(m, 8);
}

static struct mp mp_of(const struct hk_rollup_argv *av, size_t i)
{
    assert_true(i < av->argc);
    return (struct mp){(const unsigned char *)av->argv[i],
                       (const unsigned char *)av->argv[i] + av->argvlen[i]};
}

static void test_apply_argv_layout(void **state)
{
    (void)state;
    struct hk_rollup_batch *b = hk_rollup_batch_create("p:");
    struct hk_survey s;
    make_survey(&s, "c1", "a", "", "other", day_start(2026, 1, 2));
    s.answers[HK_ANS_CES] = 3;
    struct hk_rollup_counts c;
    hk_rollup_survey_counts(&s, NULL, &c);
    assert_int_equal(hk_rollup_batch_add(b, &s, &c), 0);
    assert_int_equal(hk_rollup_batch_count(b), 4); /* all, agent, scenario, agent_scenario */

    struct hk_rollup_item items[2] = {
        {.id = "1700000000000-10", .id_len = 16},
        {.id = "1700000000000-9",
         .id_len = 15,
         .dead = true,
         .reason = "bad",
         .reason_len = 3,
         .survey = "{x",
         .survey_len = 2},
    };
    struct hk_rollup_argv av;
    hk_rollup_argv_init(&av);
    assert_int_equal(
        hk_rollup_apply_argv(&av, "abc", "p:surveys", "p:dead", "analyzers", items, 2, b), 0);
    /* EVALSHA sha numkeys, then 2 + 4 hashes + 4 index keys */
    assert_true(arg_is(&av, 0, "EVALSHA"));
    assert_true(arg_is(&av, 1, "abc"));
    assert_true(arg_is(&av, 2, "10"));
    assert_true(arg_is(&av, 3, "p:surveys"));
    assert_true(arg_is(&av, 4, "p:dead"));
    assert_true(arg_is(&av, 5, "p:r:2026-01-02:all:all"));
    assert_true(arg_is(&av, 9, "p:ri:2026-01-02:all"));
    size_t a = 13; /* ARGV[1] */
    assert_true(arg_is(&av, a, "analyzers"));
    assert_true(arg_is(&av, a + 1, "1"));                 /* nok */
    assert_true(arg_is(&av, a + 2, "1"));                 /* ndead */
    assert_true(arg_is(&av, a + 3, "4"));                 /* nh */
    assert_true(arg_is(&av, a + 4, "0"));                 /* nz */
    assert_true(arg_is(&av, a + 5, "1700000000000-9"));   /* lowest id, numerically */
    assert_true(arg_is(&av, a + 6, "1700000000000-10"));  /* highest */
    assert_true(arg_is(&av, a + 10, "1700000000000-10")); /* ids to count */
    assert_true(arg_is(&av, a + 11, "1700000000000-9"));  /* dead: id, reason, survey */
    assert_true(arg_is(&av, a + 12, "bad"));
    assert_true(arg_is(&av, a + 13, "{x"));
    assert_int_equal(av.argc, a + 14);

    /* ARGV[8]: every field name, in enum order (the script's field numbers index it) */
    struct mp m = mp_of(&av, a + 7);
    char name[64];
    assert_int_equal(mp_array_len(&m), HK_RF_COUNT);
    for (int f = 0; f < HK_RF_COUNT; f++) {
        mp_string(&m, name, sizeof name);
        assert_string_equal(name, hk_rollup_field_names[f]);
    }
    assert_true(m.p == m.end);

    /* ARGV[9]: per hash [member, field number, increment, ...], only non-zero fields */
    m = mp_of(&av, a + 8);
    assert_int_equal(mp_array_len(&m), 4);
    const char *members[4] = {"all", "a", "other", "a|other"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(mp_array_len(&m), 1 + 2 * 4); /* n, ces_n, ces_sum, ces_sq */
        mp_string(&m, name, sizeof name);
        assert_string_equal(name, members[i]);
        const int want_f[4] = {HK_RF_N, HK_RF_CES_N, HK_RF_CES_SUM, HK_RF_CES_SQ};
        const int64_t want_v[4] = {1, 1, 3, 9};
        for (int j = 0; j < 4; j++) {
            assert_int_equal(mp_integer(&m), want_f[j] + 1);
            assert_int_equal(mp_integer(&m), want_v[j]);
        }
    }
    assert_true(m.p == m.end);
    m = mp_of(&av, a + 9); /* ARGV[10]: no cue counts */
    assert_int_equal(mp_array_len(&m), 0);
    assert_true(m.p == m.end);

    /* cue counts: one key per sorted set after the index sets, its (member, count) pairs
     * packed together in ARGV[10] */
    struct hk_survey s2;
    make_survey(&s2, "c2", "b", "", "other", day_start(2026, 1, 2));
    assert_int_equal(hk_rollup_batch_add_cue(b, &s2, "ease|on hold", 12), 0);
    assert_int_equal(hk_rollup_batch_add_cue(b, &s, "felt_heard|cut me off", 21), 0);
    assert_int_equal(hk_rollup_batch_add_cue(b, &s, "felt_heard|cut me off", 21), 0);
    assert_int_equal(hk_rollup_batch_add_cue(b, &s, "ease|on hold", 12), 0);
    assert_int_equal(hk_rollup_batch_cue_count(b), 3);
    assert_int_equal(hk_rollup_batch_cue(b, 1)->n, 2);
    assert_int_equal(
        hk_rollup_apply_argv(&av, "abc", "p:surveys", "p:dead", "analyzers", items, 2, b), 0);
    assert_true(arg_is(&av, 2, "12"));
    assert_true(arg_is(&av, 13, "p:rc:2026-01-02:a")); /* sorted, each once */
    assert_true(arg_is(&av, 14, "p:rc:2026-01-02:b"));
    assert_true(arg_is(&av, 15 + 4, "2")); /* nz: sorted sets */
    m = mp_of(&av, 15 + 9);
    assert_int_equal(mp_array_len(&m), 2);
    assert_int_equal(mp_array_len(&m), 4); /* agent a: two members, any order */
    int64_t got[2] = {0, 0};
    for (int j = 0; j < 2; j++) {
        mp_string(&m, name, sizeof name);
        int64_t n = mp_integer(&m);
        if (strcmp(name, "felt_heard|cut me off") == 0)
            got[0] = n;
        else if (strcmp(name, "ease|on hold") == 0)
            got[1] = n;
        else
            fail_msg("unexpected cue member %s", name);
    }
    assert_int_equal(got[0], 2);
    assert_int_equal(got[1], 1);
    assert_int_equal(mp_array_len(&m), 2); /* agent b */
    mp_string(&m, name, sizeof name);
    assert_string_equal(name, "ease|on hold");
    assert_int_equal(mp_integer(&m), 1);
    assert_true(m.p == m.end);
    assert_int_equal(av.argc, 15 + 14);
    hk_survey_clear(&s2);

    /* every integer width keeps its value and sign; 1e14 and beyond go as decimal strings */
    const int64_t wide[] = {-1234567890123LL,
                            -5,
                            -33,
                            200,
                            70000,
                            -70000,
                            5000000000LL,
                            99999999999999LL,
                            100000000000000LL,
                            -9223372036854775807LL - 1};
    for (size_t k = 0; k < sizeof wide / sizeof wide[0]; k++) {
        hk_rollup_batch_reset(b);
        c.v[HK_RF_CES_SUM] = wide[k];
        assert_int_equal(hk_rollup_batch_add(b, &s, &c), 0);
        assert_int_equal(
            hk_rollup_apply_argv(&av, "abc", "p:surveys", "p:dead", "analyzers", items, 1, b), 0);
        m = mp_of(&av, a + 8);
        assert_int_equal(mp_array_len(&m), 4);
        assert_int_equal(mp_array_len(&m), 9);
        mp_string(&m, name, sizeof name);
        bool seen = false;
        for (int j = 0; j < 4; j++) {
            int64_t f = mp_integer(&m);
            bool str = (*m.p & 0xe0) == 0xa0;
            int64_t v = mp_integer(&m);
            if (f != HK_RF_CES_SUM + 1)
                continue;
            seen = true;
            assert_int_equal(v, wide[k]);
            assert_int_equal(str, wide[k] >= 100000000000000LL || wide[k] <= -100000000000000LL);
        }
        assert_true(seen);
    }
    hk_rollup_argv_free(&av);
    hk_rollup_batch_destroy(b);
    hk_survey_clear(&s);
}

static void test_stats_nps(void **state)
{
    (void)state;
    double score = -1, se = -1;
    /* 5 promoters, 3 passives, 2 detractors: n = 10, p = .5, d = .2
     * NPS = 100 (.5 - .2) = 30
     * var = .5 + .2 - (.5 - .2)^2 = .7 - .09 = .61; SE = 100 sqrt(.61 / 10) = 24.6981781... */
    assert_true(hk_stat_nps(5, 3, 2, &score, &se));
    assert_near(score, 30.0, 1e-9);
    assert_near(se, 24.698178070456937, 1e-9);
    /* all promoters: NPS 100 with no spread */
    assert_true(hk_stat_nps(4, 0, 0, &score, &se));
    assert_near(score, 100.0, 1e-12);
    assert_near(se, 0.0, 1e-12);
    /* 1 promoter, 1 detractor: NPS 0, var = .5 + .5 - 0 = 1, SE = 100 sqrt(1/2) = 70.71... */
    assert_true(hk_stat_nps(1, 0, 1, &score, &se));
    assert_near(score, 0.0, 1e-12);
    assert_near(se, 70.71067811865476, 1e-9);
    score = 7;
    assert_false(hk_stat_nps(0, 0, 0, &score, &se));
    assert_near(score, 7, 0); /* untouched */
}

static void test_stats_mean_ci(void **state)
{
    (void)state;
    double mean, lo, hi;
    /* {2, 4, 4, 5}: n 4, sum 15, sumsq 4+16+16+25 = 61; mean 3.75
     * s^2 = (61 - 15^2/4) / 3 = 4.75 / 3 = 1.583333; s/sqrt(n) = sqrt(1.583333/4) = 0.6291529
     * t(.975, 3 df) = 3.182: half = 2.0019644; interval [1.7480356, 5.7519644] */
    assert_int_equal(hk_stat_mean_ci(4, 15, 61, 1, -100, 100, &mean, &lo, &hi), 2);
    assert_near(mean, 3.75, 1e-12);
    assert_near(lo, 1.7480356, 1e-6);
    assert_near(hi, 5.7519644, 1e-6);
    /* on the 1..5 answer scale the upper end is clamped */
    assert_int_equal(hk_stat_mean_ci(4, 15, 61, 1, 1, 5, &mean, &lo, &hi), 2);
    assert_near(lo, 1.7480356, 1e-6);
    assert_near(hi, 5.0, 0);

    /* text scores {0.5, -0.25, 1.0} in milli-units: sum 1250, sumsq 250000 + 62500 + 1000000
     * = 1312500 (micro-units); mean 1250/1000/3 = 0.4166667
     * s^2 = (3 * 1312500 - 1250^2) / (3 * 2) / 1e6 = 2375000 / 6 / 1e6 = 0.3958333
     * s/sqrt(n) = sqrt(0.3958333 / 3) = 0.3632416; t(2 df) = 4.303: half = 1.5630285 */
    assert_int_equal(hk_stat_mean_ci(3, 1250, 1312500, 1000, -10, 10, &mean, &lo, &hi), 2);
    assert_near(mean, 0.41666667, 1e-7);
    assert_near(lo, 0.41666667 - 1.5630285, 1e-6);
    assert_near(hi, 0.41666667 + 1.5630285, 1e-6);

    /* n >= 30 uses 1.96: 30 values, 15 of 1 and 15 of 3: mean 2, sum 60, sumsq 150
     * s^2 = (150 - 3600/30) / 29 = 30/29; half = 1.96 sqrt(30/29/30) = 1.96/sqrt(29) = 0.363963 */
    assert_int_equal(hk_stat_mean_ci(30, 60, 150, 1, 1, 5, &mean, &lo, &hi), 2);
    assert_near(mean, 2.0, 1e-12);
    assert_near(hi - mean, 1.96 / sqrt(29.0), 1e-9);

    /* n = 1: a mean, no interval; n = 0: nothing */
    lo = hi = 42;
    assert_int_equal(hk_stat_mean_ci(1, 4, 16, 1, 1, 5, &mean, &lo, &hi), 1);
    assert_near(mean, 4, 0);
    assert_near(lo, 42, 0);
    assert_int_equal(hk_stat_mean_ci(0, 0, 0, 1, 1, 5, &mean, &lo, &hi), 0);

    assert_near(hk_stat_t95(2), 12.706, 0);
    assert_near(hk_stat_t95(29), 2.048, 0);
    assert_near(hk_stat_t95(30), 1.96, 0);
    assert_near(hk_stat_t95(1), 0, 0);
}

/* Adds one fake HGETALL reply given as "field=value" strings. */
static int add_hash(struct hk_rollup_counts *c, const char *const *pairs, size_t n)
{
    const char *f[64], *v[64];
    size_t fl[64], vl[64];
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(pairs[i], '=');
        f[i] = pairs[i];
        fl[i] = (size_t)(eq - pairs[i]);
        v[i] = eq + 1;
        vl[i] = strlen(eq + 1);
    }
    return hk_rollup_counts_add_fields(c, n, f, fl, v, vl);
}

static void test_window_sum_and_json(void **state)
{
    (void)state;
    /* two days of one agent: day 1 has 3 surveys, day 2 has 7 */
    static const char *const day1[] = {
        "n=3",       "nps_pro=2",     "nps_det=1",     "csat_n=3",        "csat_top2=2",
        "fh_s_n=2",  "fh_s_sum=6",    "fh_s_sq=18",    "adv_n=2",         "adv_pos=1",
        "adv_neg=1", "adv_sum=200",   "adv_sq=260000", "apologized:sy=2", "rec_n=1",
        "rec_pro=1", "future_field=9"};
    static const char *const day2[] = {
        "n=7",       "nps_pro=3",     "nps_pas=3",      "nps_det=1",
        "csat_n=1",  "fh_s_n=2",      "fh_s_sum=9",     "fh_s_sq=41",
        "ces_n=1",   "ces_sum=7",     "ces_sq=49",      "adv_n=1",
        "adv_pos=1", "adv_sum=-1000", "adv_sq=1000000", "apologized:tn=1",
        "rec_n=3",   "sent_n=1",      "sent_sum=250",   "sent_sq=62500"};
    struct hk_rollup_counts c = {0};
    assert_int_equal(add_hash(&c, day1, sizeof day1 / sizeof day1[0]), 0);
    assert_int_equal(add_hash(&c, day2, sizeof day2 / sizeof day2[0]), 0);
    assert_int_equal(c.v[HK_RF_N], 10);
    assert_int_equal(c.v[HK_RF_NPS_PRO], 5);
    assert_int_equal(c.v[HK_RF_FH_S_SQ], 59);
    assert_int_equal(c.v[HK_RF_ADV_SUM], -800);

    /* a corrupt value is refused, the rest of the hash still adds */
    static const char *const bad[] = {"n=x1", "csat_n=1", "nps_pro=99999999999999999999"};
    assert_int_equal(add_hash(&c, bad, 3), HK_ERR_INVALID);
    assert_int_equal(c.v[HK_RF_N], 10);
    assert_int_equal(c.v[HK_RF_CSAT_N], 5);
    c.v[HK_RF_CSAT_N] = 4;

    struct hk_buf out;
    hk_buf_init(&out, 1 << 20);
    assert_int_equal(hk_rollup_group_json("agent-17", 8, &c, &out), 0);
    json_error_t jerr;
    json_t *j = json_loads(out.data, 0, &jerr);
    if (!j)
        fail_msg("invalid JSON: %s in %s", jerr.text, out.data);
    assert_string_equal(json_string_value(json_object_get(j, "key")), "agent-17");
    assert_int_equal(json_integer_value(json_object_get(j, "n")), 10);
    json_t *nps = json_object_get(j, "nps");
    assert_int_equal(json_integer_value(json_object_get(nps, "promoters")), 5);
    assert_int_equal(json_integer_value(json_object_get(nps, "passives")), 3);
    assert_int_equal(json_integer_value(json_object_get(nps, "detractors")), 2);
    assert_int_equal(json_integer_value(json_object_get(nps, "n")), 10);
    assert_near(json_number_value(json_object_get(nps, "score")), 30.0, 1e-9);
    assert_near(json_number_value(json_object_get(nps, "se")), 24.698178070456937, 1e-9);
    json_t *csat = json_object_get(j, "csat");
    assert_int_equal(json_integer_value(json_object_get(csat, "n")), 4);
    assert_near(json_number_value(json_object_get(csat, "top2_pct")), 50.0, 1e-9);
    /* felt_heard stated {3, 3, 4, 5} (sum 15, sumsq 59): mean 3.75, s^2 = (59 - 56.25)/3,
     * half = 3.182 * sqrt(0.916667/4) = 1.5232665 */
    json_t *fh = json_object_get(json_object_get(j, "felt_heard"), "stated");
    assert_near(json_number_value(json_object_get(fh, "mean")), 3.75, 1e-12);
    json_t *ci = json_object_get(fh, "ci95");
    assert_near(json_number_value(json_array_get(ci, 0)), 3.75 - 1.5232665, 1e-6);
    assert_near(json_number_value(json_array_get(ci, 1)), 5.0, 0); /* clamped */
    /* no text evidence: n 0, mean null, ci95 null */
    json_t *fht = json_object_get(json_object_get(j, "felt_heard"), "text");
    assert_int_equal(json_integer_value(json_object_get(fht, "n")), 0);
    assert_true(json_is_null(json_object_get(fht, "mean")));
    assert_true(json_is_null(json_object_get(fht, "ci95")));
    /* one CES answer: a mean, no interval */
    json_t *ces = json_object_get(j, "ces");
    assert_near(json_number_value(json_object_get(ces, "mean")), 7.0, 0);
    assert_true(json_is_null(json_object_get(ces, "ci95")));
    json_t *adv = json_object_get(j, "advocacy");
    assert_int_equal(json_integer_value(json_object_get(adv, "n")), 3);
    assert_near(json_number_value(json_object_get(adv, "positive_pct")), 200.0 / 3, 1e-9);
    assert_near(json_number_value(json_object_get(adv, "negative_pct")), 100.0 / 3, 1e-9);
    assert_near(json_number_value(json_object_get(adv, "mean")), -0.8 / 3, 1e-9);
    json_t *sent = json_object_get(j, "sentiment");
    assert_near(json_number_value(json_object_get(sent, "mean")), 0.25, 1e-12);
    json_t *apo = json_object_get(json_object_get(j, "behaviors"), "apologized");
    assert_int_equal(json_integer_value(json_object_get(apo, "stated_yes")), 2);
    assert_int_equal(json_integer_value(json_object_get(apo, "text_neg")), 1);
    assert_int_equal(json_object_size(json_object_get(j, "behaviors")), HK_BEH_COUNT);
    json_t *rec = json_object_get(j, "recovery");
    assert_int_equal(json_integer_value(json_object_get(rec, "n")), 4);
    assert_int_equal(json_integer_value(json_object_get(rec, "promoters")), 1);
    assert_near(json_number_value(json_object_get(rec, "rate")), 0.25, 1e-12);
    json_decref(j);

    /* an empty group: every statistic null, nothing divides by zero */
    struct hk_rollup_counts zero = {0};
    hk_buf_reset(&out);
    assert_int_equal(hk_rollup_group_json("a\"b", 3, &zero, &out), 0);
    j = json_loads(out.data, 0, &jerr);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "key")), "a\"b");
    assert_true(json_is_null(json_object_get(json_object_get(j, "nps"), "score")));
    assert_true(json_is_null(json_object_get(json_object_get(j, "csat"), "top2_pct")));
    assert_true(json_is_null(json_object_get(json_object_get(j, "recovery"), "rate")));
    json_decref(j);
    hk_buf_free(&out);
}

static void test_cues_json(void **state)
{
    (void)state;
    /* two days of one agent: repeats are summed, most frequent first, ties by name */
    const char *m[] = {"felt_heard|cut me off",           "ease|on hold",
                       "felt_heard|cut me off",           "ease|on hold",
                       "behaviors.apologized|no apology", "sentiment|rude"};
    size_t lens[6];
    for (int i = 0; i < 6; i++)
        lens[i] = strlen(m[i]);
    int64_t counts[] = {3, 1, 2, 4, 4, 1}; /* apology 4 comes after the tie of 5 */
    struct hk_buf out;
    hk_buf_init(&out, 4096);
    assert_int_equal(hk_rollup_cues_json(m, lens, counts, 6, 3, &out), 0);
    assert_string_equal(out.data,
                        "[{\"dimension\":\"ease\",\"entry\":\"on hold\",\"surveys\":5},"
                        "{\"dimension\":\"felt_heard\",\"entry\":\"cut me off\",\"surveys\":5},"
                        "{\"dimension\":\"behaviors.apologized\",\"entry\":\"no apology\","
                        "\"surveys\":4}]");
    hk_buf_reset(&out);
    assert_int_equal(hk_rollup_cues_json(NULL, NULL, NULL, 0, 10, &out), 0);
    assert_string_equal(out.data, "[]");
    hk_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_names_unique_and_found),
        cmocka_unit_test(test_milli),
        cmocka_unit_test(test_one_survey_counts),
        cmocka_unit_test(test_survey_without_comment_or_nps),
        cmocka_unit_test(test_batch_aggregates),
        cmocka_unit_test(test_batch_impact_groups),
        cmocka_unit_test(test_apply_argv_layout),
        cmocka_unit_test(test_stats_nps),
        cmocka_unit_test(test_stats_mean_ci),
        cmocka_unit_test(test_window_sum_and_json),
        cmocka_unit_test(test_cues_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
