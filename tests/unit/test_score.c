/* Scorer tests: one test per rule on a small fixture lexicon (tests/data/lexicons), the JSON
 * line, and the cases of tests/data/scoring.test run against the shipped lexicons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../analyzer/scorer_internal.h" /* an_scorer_stem_all */
#include "hearken/buf.h"
#include "hearken/err.h"
#include "hearken/score.h"

static struct an_lexicon *fix;
static struct an_scorer *fs;
static struct an_score sc;

static int setup(void **state)
{
    (void)state;
    char err[256];
    fix = an_lexicon_load(HK_TEST_DATA "/lexicons", "en", err, sizeof err);
    if (!fix) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    fs = an_scorer_create(fix);
    return fs ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    an_scorer_destroy(fs);
    an_lexicon_destroy(fix);
    return 0;
}

static const struct an_score *score(const char *text)
{
    assert_int_equal(an_scorer_score(fs, text, strlen(text), &sc), 0);
    return &sc;
}

static double sent(const char *text)
{
    return score(text)->dim[AN_DIM_SENTIMENT];
}

/* The weight of the first cue whose entry is `entry`. */
static double cue_weight(const char *text, const char *entry, bool *negated)
{
    score(text);
    for (size_t i = 0; i < sc.ncues; i++) {
        if (strcmp(sc.cues[i].entry, entry) == 0) {
            if (negated)
                *negated = sc.cues[i].negated;
            return sc.cues[i].weight;
        }
    }
    fail_msg("no cue '%s' in '%s'", entry, text);
    return 0;
}

static void test_no_evidence_is_null(void **state)
{
    (void)state;
    const struct an_score *s = score("I called on Tuesday about my account.");
    assert_true(s->has[AN_DIM_SENTIMENT]);
    assert_true(s->dim[AN_DIM_SENTIMENT] == 0);
    for (int d = 1; d < AN_DIM_COUNT; d++)
        assert_false(s->has[d]);
    assert_int_equal(s->ncues, 0);
    s = score("");
    assert_true(s->has[AN_DIM_SENTIMENT] && s->dim[AN_DIM_SENTIMENT] == 0);
    s = score("she listened");
    assert_true(s->has[AN_DIM_FELT_HEARD]);
    assert_false(s->has[AN_DIM_EASE]);
}

static void test_negation_flips_within_scope(void **state)
{
    (void)state;
    bool neg = false;
    assert_true(sent("the agent was helpful") > 0);
    assert_true(sent("the agent was not helpful") < 0);
    assert_true(sent("not bad") > 0);
    assert_true(cue_weight("she didn't listen", "listened", &neg) < 0);
    assert_true(neg);
    assert_true(score("I never felt rushed")->dim[AN_DIM_FELT_HEARD] > 0);
    assert_int_equal(score("Not once did he interrupt")->behavior[HK_BEH_DID_NOT_INTERRUPT], 1);
    assert_true(score("no one listened")->dim[AN_DIM_FELT_HEARD] < 0);
    assert_true(score("without interrupting")->behavior[HK_BEH_DID_NOT_INTERRUPT] == 1);
    /* the scope ends at the clause end ... */
    assert_true(sent("I wasn't sure, but the agent was helpful") > 0);
    assert_true(cue_weight("it is not true, good", "good", &neg) > 0);
    assert_false(neg);
    /* ... after four words ... */
    assert_true(cue_weight("not one two three four good", "good", &neg) > 0);
    assert_true(cue_weight("not one two three good", "good", &neg) < 0);
    /* ... and at a clause word such as "and" */
    assert_true(cue_weight("she didn't listen and rushed me", "rushed", &neg) < 0);
    assert_false(neg);
    /* "not only" is no negation */
    assert_true(sent("not only helpful") > 0);
}

static void test_boosters_and_dampeners(void **state)
{
    (void)state;
    double base = cue_weight("the agent was helpful", "helpful", NULL);
    assert_true(cue_weight("the agent was very helpful", "helpful", NULL) > base);
    assert_true(cue_weight("the agent was extremely helpful", "helpful", NULL) >
                cue_weight("the agent was very helpful", "helpful", NULL));
    double slow = cue_weight("it was slow", "slow", NULL);
    double abit = cue_weight("it was a bit slow", "slow", NULL);
    assert_true(abit < 0 && abit > slow);
    assert_true(cue_weight("slightly rude", "rude", NULL) > cue_weight("rude", "rude", NULL));
    /* too far away: no effect */
    assert_true(cue_weight("very much so and then helpful", "helpful", NULL) == base);
    /* "super" boosts a cue after it, and is a positive word when alone */
    score("super helpful");
    assert_int_equal(sc.ncues, 1);
    assert_true(sc.cues[0].weight > base);
    score("it was super");
    assert_int_equal(sc.ncues, 1);
    assert_string_equal(sc.cues[0].entry, "super");
    assert_true(sent("it was super") > 0);
}

static void test_contrast(void **state)
{
    (void)state;
    assert_true(sent("the agent was good but the wait was terrible") < 0);
    assert_true(sent("the wait was terrible but the agent was excellent") > 0);
    double plain = cue_weight("good", "good", NULL);
    assert_true(fabs(cue_weight("good but fine", "good", NULL) - 0.5 * plain) < 1e-9);
    assert_true(fabs(cue_weight("fine but good", "good", NULL) - 1.5 * plain) < 1e-9);
    /* "But" opening a sentence reaches back to the previous one */
    assert_true(fabs(cue_weight("It was good. But fine.", "good", NULL) - 0.5 * plain) < 1e-9);
    /* "although": its own clause weighs less, the main clause more */
    double slow = cue_weight("slow", "slow", NULL);
    score("Although it was slow, the agent was helpful");
    assert_true(sc.dim[AN_DIM_SENTIMENT] > 0);
    assert_true(fabs(cue_weight("Although it was slow, the agent was helpful", "slow", NULL) -
                     0.5 * slow) < 1e-9);
    assert_true(sent("the agent was helpful although it was slow") > 0);
}

static void test_caps_and_exclamation_emphasis(void **state)
{
    (void)state;
    double plain = cue_weight("the agent was good", "good", NULL);
    assert_true(cue_weight("the agent was GOOD", "good", NULL) > plain);
    /* a comment typed all in capitals shouts nothing */
    assert_true(cue_weight("THE AGENT WAS GOOD", "good", NULL) == plain);
    assert_true(cue_weight("the agent was good!!!", "good", NULL) > plain);
    assert_true(cue_weight("the agent was good!!!", "good", NULL) >
                cue_weight("the agent was good!", "good", NULL));
    /* '!' counts for its own sentence only */
    assert_true(cue_weight("the agent was good. I waited!!!", "good", NULL) == plain);
    /* elongated words match and count a little more */
    assert_true(cue_weight("soooo gooood", "good", NULL) > plain);
}

static void test_normalised_to_unit_range(void **state)
{
    (void)state;
    const struct an_score *s =
        score("great great great excellent love love happy good good good good nice");
    assert_true(s->dim[AN_DIM_SENTIMENT] > 0.9 && s->dim[AN_DIM_SENTIMENT] < 1.0);
    s = score("terrible awful useless hate hate rude bad bad angry!!!");
    assert_true(s->dim[AN_DIM_SENTIMENT] < -0.9 && s->dim[AN_DIM_SENTIMENT] >= -1.0);
    /* more evidence, stronger score */
    assert_true(sent("good") < sent("good and helpful"));
}

static void test_focused_cues_colour_sentiment(void **state)
{
    (void)state;
    /* no sentiment word, yet being made to repeat oneself is a complaint */
    assert_true(sent("I had to repeat myself") < 0);
    assert_true(score("I had to repeat myself")->dim[AN_DIM_FELT_HEARD] < 0);
    assert_true(sent("I will recommend you") > 0);
    /* when the phrase has its own sentiment entry, it speaks for sentiment alone */
    score("rude");
    assert_int_equal(sc.ncues, 1);
}

static void test_ratings_emoticons_emoji(void **state)
{
    (void)state;
    assert_true(sent("10/10") > 0);
    assert_true(sent("2/10") < 0);
    assert_true(sent("1 star") < 0);
    assert_true(sent("5 stars") > 0);
    assert_true(sent("ok :)") > 0);
    assert_true(sent("ok :(") < 0);
    assert_true(sent("so happy (^_^)") > sent("so happy"));
    assert_true(sent("\xf0\x9f\x98\x8a") > 0);
    assert_true(sent("\xf0\x9f\x98\xa1") < 0);
    assert_true(sent("thanks <3") > 0);
}

static void test_neutral_phrase_blocks_its_words(void **state)
{
    (void)state;
    assert_false(score("I called customer care")->has[AN_DIM_FELT_VALUED]);
    assert_true(score("they really care")->dim[AN_DIM_FELT_VALUED] > 0);
    assert_true(sent("no problem at all") > 0);
}

static void test_invalid_utf8_is_an_error(void **state)
{
    (void)state;
    const char bad[] = "good \xc3\x28 bad";
    assert_int_equal(an_scorer_score(fs, bad, sizeof bad - 1, &sc), HK_ERR_INVALID);
    assert_true(sc.has[AN_DIM_SENTIMENT] && sc.dim[AN_DIM_SENTIMENT] == 0);
    assert_int_equal(sc.ncues, 0);
}

static void test_cue_spans_and_json(void **state)
{
    (void)state;
    const char *text = "Great, but they didn't listen";
    score(text);
    assert_int_equal(sc.ncues, 2);
    assert_int_equal(sc.cues[0].start, 0);
    assert_int_equal(sc.cues[0].len, 5);
    assert_int_equal(sc.cues[1].start, 23);
    assert_int_equal(sc.cues[1].len, 6);
    assert_true(sc.cues[1].negated);
    struct hk_buf out;
    hk_buf_init(&out, 1 << 20);
    assert_int_equal(an_score_to_json(&sc, text, strlen(text), "c-1", 3, &out), 0);
    assert_string_equal(
        out.data,
        "{\"id\":\"c-1\",\"sentiment\":0.1002,\"felt_heard\":-0.7497,\"felt_valued\":null,"
        "\"advocacy\":null,\"ease\":null,\"behaviors\":{},\"cues\":["
        "{\"span\":[0,5],\"text\":\"Great\",\"entry\":\"great\",\"dimension\":\"sentiment\","
        "\"weight\":1.5,\"negated\":false},"
        "{\"span\":[23,6],\"text\":\"listen\",\"entry\":\"listened\",\"dimension\":"
        "\"felt_heard\",\"weight\":-2.775,\"negated\":true}]}");
    hk_buf_reset(&out);
    score("she said sorry & <b>");
    assert_int_equal(an_score_to_json_raw_id(&sc, "she said sorry & <b>", 20, "7", 1, &out), 0);
    assert_non_null(strstr(out.data, "{\"id\":7,"));
    assert_non_null(strstr(out.data, "\"behaviors\":{\"apologized\":1}"));
    assert_non_null(strstr(out.data, "\"dimension\":\"behaviors.apologized\""));
    hk_buf_reset(&out);
    assert_int_equal(an_score_to_json(&sc, "x", 1, NULL, 0, &out), HK_ERR_INVALID);
    hk_buf_free(&out);
    assert_string_equal(an_cue_dim_name(AN_DIM_COUNT + HK_BEH_MADE_NO_ASSUMPTIONS),
                        "behaviors.made_no_assumptions");
    for (int b = 0; b < HK_BEH_COUNT; b++)
        assert_string_equal(an_cue_dim_name(AN_DIM_COUNT + b) + 10, hk_behavior_names[b]);
}

static void test_stem_cache_survives_being_full(void **state)
{
    (void)state;
    char word[32];
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(word, sizeof word, "zq%dx good", i);
        assert_int_equal(an_scorer_score(fs, word, (size_t)n, &sc), 0);
        assert_int_equal(sc.ncues, 1);
    }
    assert_true(sent("not good") < 0);
}

/* The stem prefilter only skips words whose stem cannot be a lexicon key: scoring with it and
 * with every word stemmed must give the same lines. Real comments (dev.tsv, scoring.test) and
 * every word of them with common suffixes, where Snowball rewrites stems ("-ying", "-ies",
 * "-bility"). */
static void check_same(struct an_scorer *a, struct an_scorer *b, const char *text, size_t n,
                       struct hk_buf *ja, struct hk_buf *jb, size_t *checked)
{
    struct an_score sa, sb;
    hk_buf_reset(ja);
    hk_buf_reset(jb);
    assert_int_equal(an_scorer_score(a, text, n, &sa), an_scorer_score(b, text, n, &sb));
    assert_int_equal(an_score_to_json(&sa, text, n, NULL, 0, ja), 0);
    assert_int_equal(an_score_to_json(&sb, text, n, NULL, 0, jb), 0);
    if (ja->len != jb->len || memcmp(ja->data, jb->data, ja->len) != 0)
        fail_msg("prefilter changed the score of \"%.*s\":\n%s\n%s", (int)n, text, ja->data,
                 jb->data);
    (*checked)++;
}

static void test_stem_prefilter_changes_nothing(void **state)
{
    (void)state;
    char err[256];
    struct an_lexicon *lex = an_lexicon_load(HK_SOURCE_DIR "/lexicons", "en", err, sizeof err);
    assert_non_null(lex);
    struct an_scorer *fast = an_scorer_create(lex), *all = an_scorer_create(lex);
    assert_non_null(fast);
    assert_non_null(all);
    an_scorer_stem_all(all, true);
    struct hk_buf ja, jb;
    hk_buf_init(&ja, 1 << 20);
    hk_buf_init(&jb, 1 << 20);
    static const char *const files[] = {HK_TEST_DATA "/devset/dev.tsv",
                                        HK_TEST_DATA "/scoring.test"};
    /* the prefilter also reads a word's rest as Snowball suffixes (an_stem_tail_ok): chains,
     * rewrites ("-ating": "ate" back then gone) and doubled consonants ("-tting") below */
    static const char *const suffix[] = {
        "",       "s",      "ing",     "ed",      "ly",      "ies",       "ying",    "ity",
        "ness",   "ful",    "able",    "ation",   "ization", "bility",    "'s",      "ingly",
        "er",     "ably",   "ating",   "izing",   "ators",   "fulness",   "iveness", "ousness",
        "ically", "lessly", "ements",  "ism",     "ists",    "ationally", "ities",   "edly",
        "iness",  "ers'",   "alizing", "ivities", "ogist",   "tting",     "rred",    "nning"};
    size_t checked = 0;
    char line[4096], word[128];
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        FILE *in = fopen(files[f], "r");
        assert_non_null(in);
        while (fgets(line, sizeof line, in)) {
            size_t n = strcspn(line, "\n");
            check_same(fast, all, line, n, &ja, &jb, &checked);
            for (size_t i = 0; i < n;) {
                size_t j = i;
                while (j < n && ((line[j] | 0x20) >= 'a' && (line[j] | 0x20) <= 'z'))
                    j++;
                for (size_t k = 0; j > i && j - i < 64 && k < sizeof suffix / sizeof suffix[0];
                     k++) {
                    int m =
                        snprintf(word, sizeof word, "%.*s%s", (int)(j - i), line + i, suffix[k]);
                    check_same(fast, all, word, (size_t)m, &ja, &jb, &checked);
                }
                i = j + 1;
            }
        }
        fclose(in);
    }
    assert_true(checked > 10000);
    hk_buf_free(&ja);
    hk_buf_free(&jb);
    an_scorer_destroy(fast);
    an_scorer_destroy(all);
    an_lexicon_destroy(lex);
}

/* ---- tests/data/scoring.test: text, then "field op value" lines, blank line between ---- */

static int field_index(const char *name, bool *is_beh)
{
    for (int d = 0; d < AN_DIM_COUNT; d++)
        if (strcmp(name, an_dim_names[d]) == 0) {
            *is_beh = false;
            return d;
        }
    *is_beh = true;
    return hk_behavior_find(name, strlen(name));
}

static void test_scoring_cases(void **state)
{
    (void)state;
    const char *dir = getenv("HEARKEN_LEXICONS");
    char err[256];
    struct an_lexicon *lex =
        an_lexicon_load(dir && *dir ? dir : HK_SOURCE_DIR "/lexicons", "en", err, sizeof err);
    if (!lex)
        fail_msg("%s", err);
    struct an_scorer *s = an_scorer_create(lex);
    FILE *f = fopen(HK_TEST_DATA "/scoring.test", "r");
    assert_non_null(f);
    char line[2048], text[2048] = "";
    int lineno = 0, cases = 0, failures = 0;
    bool have_text = false;
    struct an_score r;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#')
            continue;
        if (line[0] == '\0') {
            have_text = false;
            continue;
        }
        if (!have_text) {
            snprintf(text, sizeof text, "%s", line);
            assert_int_equal(an_scorer_score(s, text, strlen(text), &r), 0);
            have_text = true;
            cases++;
            continue;
        }
        char name[64], op[4], val[32];
        if (sscanf(line, "%63s %3s %31s", name, op, val) != 3)
            fail_msg("scoring.test:%d: expected 'field op value'", lineno);
        bool is_beh;
        int idx = field_index(name, &is_beh);
        if (idx < 0)
            fail_msg("scoring.test:%d: unknown field '%s'", lineno, name);
        bool ok;
        double got;
        bool isnull = !is_beh && !r.has[idx];
        got = is_beh ? r.behavior[idx] : r.dim[idx];
        if (strcmp(val, "null") == 0) {
            ok = strcmp(op, "=") == 0 ? isnull : !isnull;
        } else {
            double want = strtod(val, NULL);
            if (isnull)
                ok = false;
            else if (strcmp(op, ">") == 0)
                ok = got > want;
            else if (strcmp(op, "<") == 0)
                ok = got < want;
            else
                ok = fabs(got - want) < 1e-9;
        }
        if (!ok) {
            failures++;
            fprintf(stderr, "scoring.test:%d: \"%s\": want %s %s %s, got %s%g\n", lineno, text,
                    name, op, val, isnull ? "null " : "", got);
        }
    }
    fclose(f);
    an_scorer_destroy(s);
    an_lexicon_destroy(lex);
    assert_true(cases >= 40);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_evidence_is_null),
        cmocka_unit_test(test_negation_flips_within_scope),
        cmocka_unit_test(test_boosters_and_dampeners),
        cmocka_unit_test(test_contrast),
        cmocka_unit_test(test_caps_and_exclamation_emphasis),
        cmocka_unit_test(test_normalised_to_unit_range),
        cmocka_unit_test(test_focused_cues_colour_sentiment),
        cmocka_unit_test(test_ratings_emoticons_emoji),
        cmocka_unit_test(test_neutral_phrase_blocks_its_words),
        cmocka_unit_test(test_invalid_utf8_is_an_error),
        cmocka_unit_test(test_cue_spans_and_json),
        cmocka_unit_test(test_stem_cache_survives_being_full),
        cmocka_unit_test(test_scoring_cases),
        cmocka_unit_test(test_stem_prefilter_changes_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
