/* Lexicon tests: loading the fixture and the shipped lexicons, load errors reported as
 * file:line, lint findings, and the external VADER / AFINN formats. */
#define _XOPEN_SOURCE 700 /* nftw, mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../analyzer/scorer_internal.h"
#include "hearken/behavior.h"
#include "hearken/score.h"

#define FIXTURE HK_TEST_DATA "/lexicons"

static char tmpdir[256];

/* A scratch lexicon folder tmp/en with the fixture's function words and one dimension file. */
static void write_file(const char *name, const char *content)
{
    char path[512];
    snprintf(path, sizeof path, "%s/en/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static int make_tmp(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hk-lex-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    char path[512];
    snprintf(path, sizeof path, "%s/en", tmpdir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/en/behaviors", tmpdir);
    assert_int_equal(mkdir(path, 0700), 0);
    write_file("negators.txt", "not\nn't\n");
    write_file("boosters.tsv", "very\t1.5\n");
    write_file("contrast.txt", "but\n");
    write_file("felt_heard.tsv", "listened\t2.5\n");
    write_file("felt_valued.tsv", "valued\t3\n");
    write_file("advocacy.tsv", "recommend\t3\n");
    write_file("ease.tsv", "quick\t2\n");
    for (int b = 0; b < HK_BEH_COUNT; b++) {
        char name[128];
        snprintf(name, sizeof name, "behaviors/%s.tsv", hk_behavior_names[b]);
        write_file(name, "# none yet\n");
    }
    return 0;
}

static int unlink_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int remove_tmp(void **state)
{
    (void)state;
    return nftw(tmpdir, unlink_one, 8, FTW_DEPTH | FTW_PHYS);
}

static double sentiment_of(const struct an_lexicon *lex, const char *text)
{
    struct an_scorer *s = an_scorer_create(lex);
    assert_non_null(s);
    struct an_score sc;
    assert_int_equal(an_scorer_score(s, text, strlen(text), &sc), 0);
    double v = sc.dim[AN_DIM_SENTIMENT];
    an_scorer_destroy(s);
    return v;
}

static void test_fixture_loads(void **state)
{
    (void)state;
    char err[256];
    struct an_lexicon *lex = an_lexicon_load(FIXTURE, "en", err, sizeof err);
    assert_non_null(lex);
    assert_string_equal(an_lexicon_lang(lex), "en");
    assert_true(an_lexicon_size(lex) > 30);
    an_lexicon_destroy(lex);
    an_lexicon_destroy(NULL);
}

static void test_shipped_lexicons_load(void **state)
{
    (void)state;
    char err[256];
    struct an_lexicon *lex = an_lexicon_load(HK_SOURCE_DIR "/lexicons", "en", err, sizeof err);
    if (!lex)
        fail_msg("%s", err);
    assert_true(an_lexicon_size(lex) > 800);
    an_lexicon_destroy(lex);
}

static void expect_error(const char *file, const char *content, const char *want)
{
    char err[256];
    write_file(file, content);
    struct an_lexicon *lex = an_lexicon_load(tmpdir, "en", err, sizeof err);
    assert_null(lex);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
}

static void test_load_errors_name_file_and_line(void **state)
{
    (void)state;
    char want[400];
    snprintf(want, sizeof want, "%s/en/sentiment.tsv:3: bad weight 'lots'", tmpdir);
    expect_error("sentiment.tsv", "# c\ngood\t2\nbad\tlots\n", want);
    snprintf(want, sizeof want, "%s/en/sentiment.tsv:2: weight 5 out of range", tmpdir);
    expect_error("sentiment.tsv", "good\t2\ngreat\t5\n", want);
    snprintf(want, sizeof want, "%s/en/sentiment.tsv:1: missing tab", tmpdir);
    expect_error("sentiment.tsv", "good 2\n", want);
    snprintf(want, sizeof want, "%s/en/sentiment.tsv:2: invalid UTF-8", tmpdir);
    expect_error("sentiment.tsv",
                 "good\t2\nb\xff"
                 "d\t-2\n",
                 want);
    snprintf(want, sizeof want, "%s/en/contrast.txt:1: contrast kind", tmpdir);
    write_file("sentiment.tsv", "good\t2\n");
    expect_error("contrast.txt", "but\tbefore\n", want);
    write_file("contrast.txt", "but\n");
    /* a missing file loads (a language can grow its lexicons), lint reports it */
    char path[512];
    snprintf(path, sizeof path, "%s/en/ease.tsv", tmpdir);
    unlink(path);
    char err[256];
    struct an_lexicon *lex = an_lexicon_load(tmpdir, "en", err, sizeof err);
    assert_non_null(lex);
    an_lexicon_destroy(lex);
    FILE *rep = tmpfile();
    assert_int_equal(an_lexicon_lint(tmpdir, "en", rep), 1);
    fclose(rep);
    write_file("ease.tsv", "quick\t2\n");
    /* an unknown language */
    assert_null(an_lexicon_load(tmpdir, "xx", err, sizeof err));
    assert_null(an_lexicon_load(tmpdir, "../en", err, sizeof err));
}

static void test_lint_findings(void **state)
{
    (void)state;
    /* listened/listening stem alike; "helpful" twice; cancel is + here and - in advocacy */
    write_file("sentiment.tsv", "good\t2\nhelpful\t2\nhelpful\t1.5\nbad\t-9\ncancel\t1\n");
    write_file("felt_heard.tsv", "listened\t2.5\nlistening\t2\n");
    write_file("advocacy.tsv", "recommend\t3\ncancel\t-3\n");
    FILE *rep = tmpfile();
    assert_non_null(rep);
    int n = an_lexicon_lint(tmpdir, "en", rep);
    rewind(rep);
    char buf[4096];
    size_t got = fread(buf, 1, sizeof buf - 1, rep);
    buf[got] = '\0';
    fclose(rep);
    assert_int_equal(n, 4);
    assert_non_null(strstr(buf, "sentiment.tsv:3: duplicate after stemming"));
    assert_non_null(strstr(buf, "sentiment.tsv:4: weight -9 out of range"));
    assert_non_null(strstr(buf, "felt_heard.tsv:2: duplicate after stemming"));
    assert_non_null(strstr(buf, "advocacy.tsv:2: 'cancel' is -3 in advocacy but 1"));
    /* a clean folder */
    write_file("sentiment.tsv", "good\t2\n");
    write_file("felt_heard.tsv", "listened\t2.5\n");
    write_file("advocacy.tsv", "recommend\t3\n");
    rep = tmpfile();
    assert_int_equal(an_lexicon_lint(tmpdir, "en", rep), 0);
    fclose(rep);
}

/* Our own files must lint clean; sentiment.tsv belongs to another author and is checked by
 * its own review, so its lines are not counted here. */
static void test_shipped_lexicons_lint_clean(void **state)
{
    (void)state;
    FILE *rep = tmpfile();
    assert_non_null(rep);
    int n = an_lexicon_lint(HK_SOURCE_DIR "/lexicons", "en", rep);
    assert_true(n >= 0);
    rewind(rep);
    char line[1024];
    int ours = 0;
    while (fgets(line, sizeof line, rep)) {
        if (strstr(line, "/sentiment.tsv:") || strstr(line, "/sentiment.tsv: "))
            continue;
        fprintf(stderr, "lint: %s", line);
        ours++;
    }
    fclose(rep);
    assert_int_equal(ours, 0);
}

static void test_external_vader(void **state)
{
    (void)state;
    char err[256];
    struct an_lexicon_opts o = {HK_TEST_DATA "/external_vader.tsv", AN_EXT_VADER, false};
    struct an_lexicon *lex = an_lexicon_load_opts(FIXTURE, "en", &o, err, sizeof err);
    if (!lex)
        fail_msg("%s", err);
    assert_true(sentiment_of(lex, "a splendid evening") > 0.3);
    assert_true(sentiment_of(lex, "simply dreadful") < -0.3);
    assert_true(sentiment_of(lex, "ha :-D") > 0.3);
    /* merged: the fixture's own words still count */
    assert_true(sentiment_of(lex, "good") > 0);
    an_lexicon_destroy(lex);
    /* replace: only the external file scores sentiment */
    o.external_replace = true;
    lex = an_lexicon_load_opts(FIXTURE, "en", &o, err, sizeof err);
    assert_non_null(lex);
    assert_true(sentiment_of(lex, "good") == 0);
    assert_true(sentiment_of(lex, "splendid") > 0);
    an_lexicon_destroy(lex);
}

static void test_external_afinn(void **state)
{
    (void)state;
    char err[256];
    struct an_lexicon_opts o = {HK_TEST_DATA "/external_afinn.tsv", AN_EXT_AFINN, true};
    struct an_lexicon *lex = an_lexicon_load_opts(FIXTURE, "en", &o, err, sizeof err);
    if (!lex)
        fail_msg("%s", err);
    assert_true(sentiment_of(lex, "splendid") > 0.5);
    assert_true(sentiment_of(lex, "the app does not work") < -0.3);
    /* AFINN's -5..+5 is scaled to -4..+4: "splendid" (4) scores as 3.2 */
    assert_true(sentiment_of(lex, "splendid") < sentiment_of(lex, "splendid splendid"));
    an_lexicon_destroy(lex);
    /* a VADER line read as AFINN has a bad weight */
    o.external = HK_TEST_DATA "/external_vader.tsv";
    assert_null(an_lexicon_load_opts(FIXTURE, "en", &o, err, sizeof err));
    assert_non_null(strstr(err, "external_vader.tsv:1: bad weight"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_loads),
        cmocka_unit_test(test_shipped_lexicons_load),
        cmocka_unit_test_setup_teardown(test_load_errors_name_file_and_line, make_tmp, remove_tmp),
        cmocka_unit_test_setup_teardown(test_lint_findings, make_tmp, remove_tmp),
        cmocka_unit_test(test_shipped_lexicons_lint_clean),
        cmocka_unit_test(test_external_vader),
        cmocka_unit_test(test_external_afinn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
