/* The survey form's pieces that need no server: the per-address token bucket (burst, refill,
 * Retry-After, separate addresses, a full table), the texts per language (English complete,
 * fallback by primary subtag), and the page itself (every control labelled, entries kept and
 * escaped, errors next to their question, no inline script or style). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../collector/customer.h"
#include "hearken/err.h"

#define SEC 1000000000ULL

static void key_of(unsigned n, unsigned char key[16])
{
    memset(key, 0, 16);
    key[10] = key[11] = 0xff;
    key[12] = 10;
    key[13] = (unsigned char)(n >> 16);
    key[14] = (unsigned char)(n >> 8);
    key[15] = (unsigned char)n;
}

static void test_bucket(void **state)
{
    (void)state;
    struct col_ratelimit *rl = col_ratelimit_create(6, 3); /* one every 10 s, 3 at once */
    assert_non_null(rl);
    unsigned char a[16], b[16];
    key_of(1, a);
    key_of(2, b);
    unsigned retry = 0;
    uint64_t t = 1000 * SEC;
    for (int i = 0; i < 3; i++)
        assert_true(col_ratelimit_take(rl, a, t, &retry));
    assert_false(col_ratelimit_take(rl, a, t, &retry));
    assert_int_equal(retry, 10);
    assert_true(col_ratelimit_take(rl, b, t, &retry)); /* another address has its own bucket */
    assert_false(col_ratelimit_take(rl, a, t + 5 * SEC, &retry));
    assert_int_equal(retry, 5);
    assert_true(col_ratelimit_take(rl, a, t + 10 * SEC, &retry));
    assert_false(col_ratelimit_take(rl, a, t + 10 * SEC, &retry));
    /* a long pause refills up to the burst, not beyond */
    t += 3600 * SEC;
    for (int i = 0; i < 3; i++)
        assert_true(col_ratelimit_take(rl, a, t, &retry));
    assert_false(col_ratelimit_take(rl, a, t, &retry));
    /* a clock that steps back never adds tokens */
    assert_false(col_ratelimit_take(rl, a, t - 100 * SEC, &retry));
    col_ratelimit_destroy(rl);
    assert_null(col_ratelimit_create(0, 3));
    col_ratelimit_destroy(NULL);
}

static void test_table_stays_bounded(void **state)
{
    (void)state;
    struct col_ratelimit *rl = col_ratelimit_create(60, 1);
    unsigned char k[16];
    unsigned retry;
    /* far more addresses than slots: every new one is let in (memory stays fixed) ... */
    for (unsigned i = 0; i < 100000; i++) {
        key_of(i, k);
        assert_true(col_ratelimit_take(rl, k, 5 * SEC, &retry));
    }
    /* ... and a recent, busy address is still remembered and limited */
    unsigned char busy[16];
    key_of(424242, busy);
    assert_true(col_ratelimit_take(rl, busy, 6 * SEC, &retry));
    assert_false(col_ratelimit_take(rl, busy, 6 * SEC, &retry));
    col_ratelimit_destroy(rl);
}

static void test_languages(void **state)
{
    (void)state;
    char err[200];
    struct col_i18n *t = col_i18n_load(err, sizeof err);
    if (!t)
        fail_msg("i18n: %s", err);
    const struct col_lang *en = col_i18n_find(t, "en");
    assert_string_equal(en->tag, "en");
    for (int k = 0; k < COL_T_COUNT; k++)
        assert_non_null(en->text[k]);
    assert_string_equal(en->text[COL_T_HEADING], "How did we do?");
    assert_ptr_equal(col_i18n_find(t, "EN-us"), en);
    assert_ptr_equal(col_i18n_find(t, "xx"), en);
    assert_ptr_equal(col_i18n_find(t, ""), en);
    const struct col_lang *de = col_i18n_find(t, "de-AT");
    assert_string_equal(de->tag, "de");
    assert_string_equal(de->text[COL_T_HEADING], "Wie waren wir?");
    for (int k = 0; k < COL_T_COUNT; k++)
        assert_non_null(de->text[k]);
    col_i18n_free(t);
}

static void test_form_page(void **state)
{
    (void)state;
    char err[200];
    struct col_i18n *t = col_i18n_load(err, sizeof err);
    assert_non_null(t);
    struct col_form_view v;
    struct hk_buf b;
    col_form_view_init(&v);
    v.answers[HK_ANS_NPS] = 9;
    v.ticked[HK_BEH_WAS_PATIENT] = true;
    v.comment = "<script>alert('x')</script>\n&";
    v.comment_len = strlen(v.comment);
    v.error[HK_ANS_CES] = COL_T_ERR_CHOICE;
    v.top_error = COL_T_ERR_EMPTY;
    hk_buf_init(&b, 1 << 20);
    assert_int_equal(col_form_page(col_i18n_find(t, "en"), &v, &b), 0);
    const char *h = b.data;
    assert_non_null(strstr(h, "<html lang=\"en\">"));
    assert_non_null(strstr(h, "id=\"nps-9\" name=\"nps\" value=\"9\" checked>"));
    assert_null(strstr(h, "value=\"8\" checked"));
    assert_non_null(strstr(h, "name=\"was_patient\" value=\"on\" checked>"));
    assert_non_null(
        strstr(h, ">\n&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;\n&amp;</textarea>"));
    assert_null(strstr(h, "<script"));
    assert_null(strstr(h, "style="));
    assert_non_null(strstr(h, "<fieldset class=\"q invalid\" aria-describedby=\"ces-err\">"));
    assert_non_null(
        strstr(h, "<p class=\"err\" id=\"ces-err\">Please choose one of the options.</p>"));
    assert_non_null(strstr(h, "<a href=\"#ces-1\">"));
    assert_non_null(strstr(h, "Please answer at least one question or write a comment."));
    /* every input has a label for it */
    for (const char *p = strstr(h, "<input"); p; p = strstr(p + 1, "<input")) {
        const char *id = strstr(p, "id=\"");
        assert_non_null(id);
        char want[80];
        int n = (int)(strchr(id + 4, '"') - (id + 4));
        snprintf(want, sizeof want, "<label for=\"%.*s\">", n, id + 4);
        assert_non_null(strstr(h, want));
    }
    hk_buf_free(&b);

    hk_buf_init(&b, 1 << 20);
    assert_int_equal(
        col_message_page(col_i18n_find(t, "de"), COL_T_THANKS_TITLE, COL_T_THANKS_BODY, true, &b),
        0);
    assert_non_null(strstr(b.data, "<h1>Vielen Dank!</h1>"));
    assert_non_null(strstr(b.data, "<a href=\"\">Zurück zur Umfrage</a>"));
    hk_buf_free(&b);
    /* a page that does not fit its cap fails whole */
    hk_buf_init(&b, 100);
    assert_int_equal(col_form_page(col_i18n_find(t, "en"), &v, &b), HK_ERR_TOO_LARGE);
    hk_buf_free(&b);
    col_i18n_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_table_stays_bounded),
        cmocka_unit_test(test_languages),
        cmocka_unit_test(test_form_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
