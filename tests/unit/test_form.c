/* The form body decoder: what browsers send decodes exactly (percent escapes, '+' as space,
 * UTF-8, empty values), and everything else is refused whole: unknown and repeated fields,
 * broken escapes, empty pairs, too many pairs. Also HTML escaping, the other half of the form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hearken/err.h"
#include "hearken/form.h"
#include "hearken/html.h"

#define NFIELDS 4

static void init(struct hk_form_field *f)
{
    static const char *names[NFIELDS] = {"nps", "comment", "apologized", "felt_heard"};
    for (int i = 0; i < NFIELDS; i++)
        f[i] = (struct hk_form_field){.name = names[i], .value = NULL, .len = 0};
}

static int decode(const char *body, struct hk_form_field *f, struct hk_field_error *e)
{
    init(f);
    return hk_form_decode(body, strlen(body), f, NFIELDS, e);
}

static void test_decodes_browser_bodies(void **state)
{
    (void)state;
    struct hk_form_field f[NFIELDS];
    struct hk_field_error e;
    assert_int_equal(
        decode("nps=9&comment=Very+helpful%2C+thanks%21%0D%0ABye&apologized=on", f, &e), 0);
    assert_string_equal(f[0].value, "9");
    assert_string_equal(f[1].value, "Very helpful, thanks!\r\nBye");
    assert_int_equal(f[1].len, strlen("Very helpful, thanks!\r\nBye"));
    assert_string_equal(f[2].value, "on");
    assert_null(f[3].value); /* not sent: absent, not empty */
    assert_ptr_equal(hk_form_get(f, NFIELDS, "apologized"), &f[2]);
    assert_null(hk_form_get(f, NFIELDS, "nope"));
    hk_form_fields_free(f, NFIELDS);
    assert_null(f[0].value);

    /* UTF-8 in escapes, a literal '+' as %2B, an empty value, escaped name */
    assert_int_equal(decode("comment=caf%C3%A9+%2B+cr%C3%A8me&nps=&%66elt_heard=4", f, &e), 0);
    assert_string_equal(f[1].value, "caf\xc3\xa9 + cr\xc3\xa8me");
    assert_non_null(f[0].value);
    assert_int_equal(f[0].len, 0);
    assert_string_equal(f[3].value, "4");
    hk_form_fields_free(f, NFIELDS);

    /* an empty body is an empty form */
    assert_int_equal(decode("", f, &e), 0);
    for (int i = 0; i < NFIELDS; i++)
        assert_null(f[i].value);

    /* a NUL byte decodes and is counted: the caller refuses it with a field name */
    assert_int_equal(decode("comment=a%00b", f, &e), 0);
    assert_int_equal(f[1].len, 3);
    hk_form_fields_free(f, NFIELDS);
}

static void refused(const char *body, int rc_want, const char *code, const char *field)
{
    struct hk_form_field f[NFIELDS];
    struct hk_field_error e;
    int rc = decode(body, f, &e);
    if (rc != rc_want)
        fail_msg("\"%s\": rc %d, want %d", body, rc, rc_want);
    if (code && (strcmp(e.code, code) != 0 || strcmp(e.field, field) != 0))
        fail_msg("\"%s\": %s/%s, want %s/%s", body, e.code, e.field, code, field);
    for (int i = 0; i < NFIELDS; i++) /* nothing half-decoded is left behind */
        assert_null(f[i].value);
}

static void test_refuses_the_rest(void **state)
{
    (void)state;
    refused("nps=9&nps=10", HK_ERR_INVALID, "duplicate_field", "nps");
    refused("nps=9&n%70s=10", HK_ERR_INVALID, "duplicate_field", "nps");
    refused("nps=9&agent_id=evil", HK_ERR_INVALID, "unknown_field", "agent_id");
    refused("scenario=other", HK_ERR_INVALID, "unknown_field", "scenario");
    refused("NPS=9", HK_ERR_INVALID, "unknown_field", "NPS");
    refused("nps=9&", HK_ERR_INVALID, "invalid_encoding", "");
    refused("&nps=9", HK_ERR_INVALID, "invalid_encoding", "");
    refused("nps=9&&comment=x", HK_ERR_INVALID, "invalid_encoding", "");
    refused("nps", HK_ERR_INVALID, "invalid_encoding", "nps");
    refused("=9", HK_ERR_INVALID, "invalid_encoding", "");
    refused("comment=%", HK_ERR_INVALID, "invalid_encoding", "comment");
    refused("comment=%4", HK_ERR_INVALID, "invalid_encoding", "comment");
    refused("comment=%zz", HK_ERR_INVALID, "invalid_encoding", "comment");
    refused("comment=100%25+sure%2", HK_ERR_INVALID, "invalid_encoding", "comment");
    refused("n%G0s=1", HK_ERR_INVALID, "invalid_encoding", "n%G0s");
    refused("unknown%0A%1B=1", HK_ERR_INVALID, "unknown_field", "unknown??");
}

static void test_unescape(void **state)
{
    (void)state;
    char out[32];
    assert_int_equal(hk_form_unescape("a+b%20c%2b", 10, out), 6);
    assert_string_equal(out, "a b c+");
    assert_int_equal(hk_form_unescape("%e2%82%AC", 9, out), 3);
    assert_string_equal(out, "\xe2\x82\xac");
    assert_int_equal(hk_form_unescape("%-1", 3, out), -1);
    assert_int_equal(hk_form_unescape("%+1", 3, out), -1);
}

static void test_html_escape(void **state)
{
    (void)state;
    struct hk_buf b;
    hk_buf_init(&b, 1000);
    const char in[] = "<script>alert(\"x\")</script> & 'q' caf\xc3\xa9";
    assert_int_equal(hk_html_escape(&b, in, sizeof in - 1), 0);
    assert_string_equal(b.data,
                        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39; "
                        "caf\xc3\xa9");
    hk_buf_reset(&b);
    assert_int_equal(hk_html_escape(&b, "a\0b", 3), 0); /* NUL dropped */
    assert_string_equal(b.data, "ab");
    hk_buf_reset(&b);
    /* bytes that are not UTF-8 (a lone 0xff, a cut sequence, an overlong '<', a surrogate)
     * become U+FFFD: no page carries invalid UTF-8, and no overlong form sneaks a '<' by */
    assert_int_equal(hk_html_escape(&b, "a\xff b\xc3 c\xc0\xbc d\xed\xa0\x80", 15), 0);
    assert_string_equal(b.data, "a\xef\xbf\xbd b\xef\xbf\xbd c\xef\xbf\xbd\xef\xbf\xbd d"
                                "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    hk_buf_reset(&b);
    assert_int_equal(hk_html_escape_str(&b, "plain"), 0);
    assert_string_equal(b.data, "plain");
    hk_buf_free(&b);

    /* over the cap: nothing half-escaped is left */
    hk_buf_init(&b, 10);
    assert_int_equal(hk_buf_append_str(&b, "ok"), 0);
    assert_int_equal(hk_html_escape_str(&b, "<<<<"), HK_ERR_TOO_LARGE);
    assert_string_equal(b.data, "ok");
    hk_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decodes_browser_bodies),
        cmocka_unit_test(test_refuses_the_rest),
        cmocka_unit_test(test_unescape),
        cmocka_unit_test(test_html_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
