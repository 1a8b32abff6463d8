/* The worker's language handling: a survey's language tag becomes a lexicon folder name
 * only when it is 2-3 ASCII letters (so it can never reach outside the lexicon folder), and
 * a language without lexicons falls back to English instead of failing the survey. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../analyzer/worker_lex.h"
#include "hearken/score.h"

static void check(const char *tag, const char *want)
{
    char out[8];
    an_lang_normalize(tag, out);
    if (strcmp(out, want) != 0)
        fail_msg("\"%s\" -> \"%s\", want \"%s\"", tag ? tag : "(null)", out, want);
}

static void test_normalize(void **state)
{
    (void)state;
    check("en", "en");
    check("EN", "en");
    check("en-GB", "en");
    check("pt_BR", "pt");
    check("fil", "fil");
    check("", "en");
    check(NULL, "en");
    check("e", "en");
    check("engl", "en");
    check("../x", "en");
    check("d/", "en");
    check("de.", "en");
    check("de/../../etc", "en");
    check("zz-", "zz");
}

static void test_fallback_to_english(void **state)
{
    (void)state;
    const char *dir = getenv("HEARKEN_LEXICONS");
    char err[256];
    struct an_lexset *set =
        an_lexset_create(dir ? dir : HK_SOURCE_DIR "/lexicons", NULL, 0, err, sizeof err);
    if (!set)
        skip(); /* the English lexicons are the scorer's tests to guard */
    assert_int_equal(an_lexset_slot(set, "en-US"), 0);
    assert_int_equal(an_lexset_slot(set, "xx"), 0); /* no lexicons/xx: English */
    assert_int_equal(an_lexset_slot(set, "xx"), 0); /* remembered, not retried */
    assert_non_null(an_lexset_lexicon(set, 0));
    char langs[4][8];
    assert_int_equal(an_lexset_langs(set, langs, 4), 1);
    assert_string_equal(langs[0], "en");
    an_lexset_ref(set);
    an_lexset_unref(set);
    an_lexset_unref(set);
    an_lexset_unref(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_fallback_to_english),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
