/* Coaching statistics and CSV export without Redis: moments on the 0..1 scale, the
 * empirical-Bayes fit and shrinkage, Wilson intervals, behaviours missed beyond the team, the
 * ranked queue, and RFC 4180 cells with formula neutralisation. Every expected number is
 * worked out by hand in the comment above its assertion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "hearken/coaching.h"
#include "hearken/csv.h"
#include "hearken/err.h"

#define assert_near(got, want, eps) near_(got, want, eps, __FILE__, __LINE__)

static void near_(double got, double want, double eps, const char *file, int line)
{
    if (!(fabs(got - want) <= eps))
        fail_msg("%s:%d: got %.12g, want %.12g (+/- %g)", file, line, got, want, eps);
}

static void add_answer(struct hk_rollup_counts *c, int f_n, int64_t x, int times)
{
    for (int i = 0; i < times; i++) {
        c->v[HK_RF_N] += 1;
        c->v[f_n] += 1;
        c->v[f_n + 1] += x;
        c->v[f_n + 2] += x * x;
    }
}

static void test_moments(void **state)
{
    (void)state;
    struct hk_rollup_counts c = {{0}};
    struct hk_moments m;
    /* stated felt_heard 1, 3, 5, 5: n 4, sum 14, squares 1+9+25+25 = 60.
     * mean 14/4 = 3.5 → (3.5-1)/4 = 0.625; variance (4*60 - 14^2) / (4*3) = 44/12 = 3.6667,
     * times (1/4)^2 = 0.2291667 */
    add_answer(&c, HK_RF_FH_S_N, 1, 1);
    add_answer(&c, HK_RF_FH_S_N, 3, 1);
    add_answer(&c, HK_RF_FH_S_N, 5, 2);
    hk_coach_moments(&c, HK_CD_FELT_HEARD, true, &m);
    assert_int_equal(m.n, 4);
    assert_near(m.mean, 0.625, 1e-12);
    assert_near(m.var, 44.0 / 12.0 / 16.0, 1e-12);
    /* no text evidence for felt_heard */
    hk_coach_moments(&c, HK_CD_FELT_HEARD, false, &m);
    assert_int_equal(m.n, 0);

    /* advocacy text +0.5 and -0.5 (milli 500, -500): sum 0, squares 500000 micro.
     * mean 0 → (0+1)/2 = 0.5; variance (2*500000 - 0)/(2*1)/1e6 = 0.5, times (1/2)^2 = 0.125 */
    c.v[HK_RF_ADV_N] = 2;
    c.v[HK_RF_ADV_POS] = 1;
    c.v[HK_RF_ADV_NEG] = 1;
    c.v[HK_RF_ADV_SUM] = 0;
    c.v[HK_RF_ADV_SQ] = 500000;
    hk_coach_moments(&c, HK_CD_ADVOCACY, false, &m);
    assert_int_equal(m.n, 2);
    assert_near(m.mean, 0.5, 1e-12);
    assert_near(m.var, 0.125, 1e-12);
}

static void test_eb_fit_by_hand(void **state)
{
    (void)state;
    /* Three agents: A n 4 mean 0.5 var 0.04; B n 4 mean 0.7 var 0.04; C n 2 mean 0.9 var 0.02.
     * level  = (4*0.5 + 4*0.7 + 2*0.9) / 10 = 6.6/10 = 0.66
     * sigma2 = (3*0.04 + 3*0.04 + 1*0.02) / (3+3+1) = 0.26/7 = 13/350
     * V      = sample variance of 0.5, 0.7, 0.9 = (0.04 + 0 + 0.04)/2 = 0.04
     * S      = mean of sigma2/n = sigma2 (1/4 + 1/4 + 1/2)/3 = sigma2/3 = 0.26/21
     * tau2   = V - S = 0.04 - 0.26/21 = 0.58/21 = 29/1050
     * B_A    = (sigma2/4) / (sigma2/4 + tau2) = (13/1400) / (13/1400 + 29/1050)
     *        = 39/4200 / (39/4200 + 116/4200) = 39/155
     * est_A  = 0.66 * 39/155 + 0.5 * 116/155 = 83.74/155 = 0.540258064516
     * B_C    = (13/700) / (13/700 + 29/1050) = 78/(78+116) = 39/97
     * est_C  = 0.66 * 39/97 + 0.9 * 58/97 = 77.94/97 = 0.803505154639 */
    struct hk_moments ag[3] = {{4, 0.5, 0.04}, {4, 0.7, 0.04}, {2, 0.9, 0.02}};
    struct hk_eb eb;
    assert_true(hk_eb_fit(ag, 3, 1e-4, &eb));
    assert_int_equal(eb.k, 3);
    assert_near(eb.level, 0.66, 1e-12);
    assert_near(eb.sigma2, 0.26 / 7, 1e-12);
    assert_near(eb.tau2, 0.58 / 21, 1e-12);
    double b;
    assert_near(hk_eb_estimate(&eb, &ag[0], &b), 83.74 / 155, 1e-12);
    assert_near(b, 39.0 / 155, 1e-12);
    assert_near(hk_eb_estimate(&eb, &ag[2], &b), 77.94 / 97, 1e-12);
    assert_near(b, 39.0 / 97, 1e-12);

    /* Two agents with the same mean: V = 0 < S, so tau2 is the floor 1e-4; with sigma2 0.1
     * and n 10, B = 0.01 / (0.01 + 0.0001) = 0.990099: nearly all the way to the team. */
    struct hk_moments same[2] = {{10, 0.5, 0.1}, {10, 0.5, 0.1}};
    assert_true(hk_eb_fit(same, 2, 1e-4, &eb));
    assert_near(eb.tau2, 1e-4, 1e-15);
    hk_eb_estimate(&eb, &same[0], &b);
    assert_near(b, 0.01 / 0.0101, 1e-12);

    /* one agent only: tau2 is the floor; nobody with n >= 1: no fit */
    assert_true(hk_eb_fit(ag, 1, 1e-4, &eb));
    assert_int_equal(eb.k, 1);
    assert_near(eb.tau2, 1e-4, 1e-15);
    struct hk_moments none = {0, 0, 0};
    assert_false(hk_eb_fit(&none, 1, 1e-4, &eb));
}

static void test_wilson(void **state)
{
    (void)state;
    double lo, hi;
    /* 8 of 10, z = 1.96: denom = 1 + 3.8416/10 = 1.38416;
     * centre = (0.8 + 3.8416/20) / 1.38416 = 0.99208/1.38416 = 0.716738;
     * half = 1.96 sqrt(0.8*0.2/10 + 3.8416/400) / 1.38416 = 1.96 sqrt(0.025604)/1.38416
     *      = 0.226582; interval [0.490157, 0.943319] */
    assert_true(hk_stat_wilson95(8, 10, &lo, &hi));
    assert_near(lo, 0.4901568, 1e-6);
    assert_near(hi, 0.9433191, 1e-6);
    /* 0 of 5 stays inside 0..1 */
    assert_true(hk_stat_wilson95(0, 5, &lo, &hi));
    assert_near(lo, 0, 1e-12);
    assert_false(hk_stat_wilson95(0, 0, &lo, &hi));
}

static void set_beh(struct hk_rollup_counts *c, int b, int64_t sy, int64_t sn, int64_t tp,
                    int64_t tn)
{
    c->v[HK_RF_BEH(b, HK_RB_STATED_YES)] = sy;
    c->v[HK_RF_BEH(b, HK_RB_STATED_NO)] = sn;
    c->v[HK_RF_BEH(b, HK_RB_TEXT_POS)] = tp;
    c->v[HK_RF_BEH(b, HK_RB_TEXT_NEG)] = tn;
}

static void test_misses_and_focus(void **state)
{
    (void)state;
    struct hk_rollup_counts agent = {{0}}, team = {{0}};
    /* apologized: agent missed 6 (ticks) + 2 (comments) of 8 + 1 + 1 = 10;
     * team missed 10 + 5 of 15 + 20 + 15 = 50 → team rate 0.3;
     * excess = 8 - 0.3*10 = 5; z = 5 / sqrt(10*0.3*0.7) = 5/sqrt(2.1) = 3.450328 */
    set_beh(&agent, HK_BEH_APOLOGIZED, 1, 6, 1, 2);
    set_beh(&team, HK_BEH_APOLOGIZED, 20, 10, 15, 5);
    /* calm_tone: agent 1 miss of 10, team rate 0.5 → excess 1 - 5 = -4 */
    set_beh(&agent, HK_BEH_CALM_TONE, 9, 1, 0, 0);
    set_beh(&team, HK_BEH_CALM_TONE, 10, 10, 0, 0);
    struct hk_coach_miss m[HK_BEH_COUNT];
    hk_coach_misses(&agent, &team, m);
    assert_int_equal(m[0].behavior, HK_BEH_APOLOGIZED);
    assert_int_equal(m[0].missed, 8);
    assert_int_equal(m[0].evidence, 10);
    assert_near(m[0].rate, 0.8, 1e-12);
    assert_near(m[0].team_rate, 0.3, 1e-12);
    assert_near(m[0].excess, 5, 1e-12);
    assert_near(m[0].z, 5 / sqrt(2.1), 1e-9);
    assert_int_equal(m[HK_BEH_COUNT - 1].behavior, HK_BEH_CALM_TONE); /* most negative last */
    assert_near(m[HK_BEH_COUNT - 1].excess, -4, 1e-12);
    bool data;
    /* clear signal (z >= 2): the data's answer, whatever the dimension */
    assert_int_equal(hk_coach_focus(HK_CD_FELT_HEARD, m, &data), HK_BEH_APOLOGIZED);
    assert_true(data);

    /* weak signal on a felt_heard behaviour: 3 misses of 10 at team rate 0.2 → excess 1,
     * z = 1/sqrt(1.6) = 0.79 < 2, but it is felt_heard's behaviour with positive excess */
    struct hk_rollup_counts a2 = {{0}}, t2 = {{0}};
    set_beh(&a2, HK_BEH_WAS_PATIENT, 7, 3, 0, 0);
    set_beh(&t2, HK_BEH_WAS_PATIENT, 40, 10, 0, 0);
    hk_coach_misses(&a2, &t2, m);
    assert_int_equal(hk_coach_focus(HK_CD_FELT_HEARD, m, &data), HK_BEH_WAS_PATIENT);
    assert_true(data);
    /* ... which says nothing about felt_valued: its first behaviour, not from data */
    assert_int_equal(hk_coach_focus(HK_CD_FELT_VALUED, m, &data), HK_BEH_APOLOGIZED);
    assert_false(data);
}

static void test_rank_by_hand(void **state)
{
    (void)state;
    /* One team, stated felt_heard only (1..5 → 0..1: 5→1, 4→.75, 3→.5, 2→.25, 1→0):
     *   good: 20 x 5, 10 x 4   n 30 mean (20 + 7.5)/30 = 0.916667  SS 0.416667 var 0.0143678
     *   bad:  20 x 2, 10 x 3   n 30 mean (5 + 5)/30    = 0.333333  SS 0.416667 var 0.0143678
     *   mid:  15 x 4, 15 x 3   n 30 mean 0.625                     SS 0.46875  var 0.0161638
     *   new:   5 x 1           n 5  mean 0                         SS 0
     * min_n 20: new is "not enough data" but still counts in the team's level and variances.
     * level  = (27.5 + 10 + 18.75 + 0)/95 = 56.25/95 = 0.592105
     * sigma2 = (0.416667 + 0.416667 + 0.46875 + 0)/(29+29+29+4) = 1.302083/91 = 0.0143086
     * means 0.916667 0.333333 0.625 0 → mean 0.46875; V = 0.463108/3 = 0.154369
     * S = sigma2 (3/30 + 1/5)/4 = 0.0143086*0.3/4 = 0.00107315; tau2 = 0.153296
     * bad: B = (sigma2/30)/(sigma2/30 + tau2) = 0.000476954/0.153773 = 0.00310167
     *      estimate = 0.00310167*0.592105 + 0.99689833*0.333333 = 0.334136
     *      gain = (0.592105 - 0.334136) * 30 = 7.73908
     * good and mid sit above the level: gain <= 0, not listed. */
    struct hk_coach_agent ag[4] = {
        {.id = "good", .id_len = 4, .team = "t", .team_len = 1},
        {.id = "bad", .id_len = 3, .team = "t", .team_len = 1},
        {.id = "mid", .id_len = 3, .team = "t", .team_len = 1},
        {.id = "new", .id_len = 3, .team = "t", .team_len = 1},
    };
    add_answer(&ag[0].c, HK_RF_FH_S_N, 5, 20);
    add_answer(&ag[0].c, HK_RF_FH_S_N, 4, 10);
    add_answer(&ag[1].c, HK_RF_FH_S_N, 2, 20);
    add_answer(&ag[1].c, HK_RF_FH_S_N, 3, 10);
    add_answer(&ag[2].c, HK_RF_FH_S_N, 4, 15);
    add_answer(&ag[2].c, HK_RF_FH_S_N, 3, 15);
    add_answer(&ag[3].c, HK_RF_FH_S_N, 1, 5);
    /* bad interrupts: 20 ticks "no" against the others' "yes" */
    set_beh(&ag[1].c, HK_BEH_DID_NOT_INTERRUPT, 2, 20, 0, 0);
    set_beh(&ag[0].c, HK_BEH_DID_NOT_INTERRUPT, 20, 1, 0, 0);
    set_beh(&ag[2].c, HK_BEH_DID_NOT_INTERRUPT, 18, 2, 0, 0);

    struct hk_coach_opts opts = {.min_n = 20, .tau2_floor = 1e-4};
    struct hk_coach_item items[4];
    size_t few[4], nitems, nfew;
    assert_int_equal(hk_coaching_rank(ag, 4, NULL, NULL, &opts, items, &nitems, few, &nfew), 0);
    assert_int_equal(nfew, 1);
    assert_int_equal(few[0], 3);
    assert_int_equal(nitems, 1);
    assert_int_equal(items[0].agent, 1);
    assert_int_equal(items[0].dim, HK_CD_FELT_HEARD);
    assert_true(items[0].stated);
    assert_int_equal(items[0].n, 30);
    assert_near(items[0].level, 56.25 / 95, 1e-9);
    assert_near(items[0].raw, 1.0 / 3, 1e-9);
    assert_near(items[0].estimate, 0.334136, 1e-6);
    assert_near(items[0].gain, 7.73908, 1e-4);
    /* did_not_interrupt: 20 missed of 22; team 23 of 63 → excess 20 - 22*23/63 = 11.97 */
    assert_int_equal(items[0].focus, HK_BEH_DID_NOT_INTERRUPT);
    assert_true(items[0].focus_from_data);
    assert_null(items[0].scenario);
}

static void test_csv(void **state)
{
    (void)state;
    struct hk_buf out;
    hk_buf_init(&out, 1 << 16);
    /* neutralised and quoted cells */
    assert_int_equal(hk_csv_cell(&out, "=HYPERLINK(\"x\")", 15), 0);
    assert_string_equal(out.data, "\"'=HYPERLINK(\"\"x\"\")\"");
    hk_buf_reset(&out);
    assert_int_equal(hk_csv_cell(&out, "@SUM(A1)", 8), 0);
    assert_int_equal(hk_csv_cell(&out, ",", 1), 0);
    assert_int_equal(hk_csv_cell(&out, "a\nb", 3), 0);
    assert_string_equal(out.data, "'@SUM(A1)\",\"\"a\nb\"");
    hk_buf_reset(&out);

    static const char json[] =
        "{\"rows\":[{\"a\":\"=1+2\",\"b\":-1.5,\"ci95\":[0.1,0.2],\"o\":{\"x\":\"he said "
        "\\\"hi\\\", ok\"}},"
        "{\"a\":\"-x\",\"ci95\":null,\"ev\":[{\"k\":1}],\"tags\":[\"x\",\"y\"],\"n\":3}]}";
    assert_int_equal(hk_csv_from_json(json, sizeof json - 1, "rows", &out), 0);
    assert_string_equal(out.data, "a,b,ci95_lo,ci95_hi,o.x,ev,tags,n\r\n"
                                  "'=1+2,-1.5,0.1,0.2,\"he said \"\"hi\"\", ok\",,,\r\n"
                                  "'-x,,,,,\"[{\"\"k\"\":1}]\",x; y,3\r\n");
    hk_buf_reset(&out);
    assert_int_equal(hk_csv_from_json("{\"rows\":{}}", 11, "rows", &out), HK_ERR_INVALID);
    assert_int_equal(hk_csv_from_json("nope", 4, "rows", &out), HK_ERR_INVALID);
    hk_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_moments),      cmocka_unit_test(test_eb_fit_by_hand),
        cmocka_unit_test(test_wilson),       cmocka_unit_test(test_misses_and_focus),
        cmocka_unit_test(test_rank_by_hand), cmocka_unit_test(test_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
