/* hk_buf: the cap holds (a refused append changes nothing), the data stays NUL-terminated,
 * and JSON escaping produces what a JSON parser reads back as the same bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "hearken/buf.h"
#include "hearken/err.h"

static void test_append_and_terminate(void **state)
{
    (void)state;
    struct hk_buf b;
    hk_buf_init(&b, 1000);
    assert_int_equal(hk_buf_append_str(&b, "hello"), 0);
    assert_int_equal(hk_buf_append_char(&b, ' '), 0);
    assert_int_equal(hk_buf_printf(&b, "%d-%s", 42, "x"), 0);
    assert_string_equal(b.data, "hello 42-x");
    assert_int_equal(b.len, 10);
    hk_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    hk_buf_free(&b);
    assert_null(b.data);
}

static void test_cap_refuses_whole_append(void **state)
{
    (void)state;
    struct hk_buf b;
    hk_buf_init(&b, 8);
    assert_int_equal(hk_buf_append_str(&b, "12345678"), 0);
    assert_int_equal(hk_buf_append_char(&b, '9'), HK_ERR_TOO_LARGE);
    assert_string_equal(b.data, "12345678");
    hk_buf_reset(&b);
    assert_int_equal(hk_buf_append_str(&b, "abc"), 0);
    assert_int_equal(hk_buf_append_str(&b, "defghi"), HK_ERR_TOO_LARGE);
    assert_string_equal(b.data, "abc");
    assert_int_equal(b.len, 3);
    hk_buf_free(&b);
}

static void test_printf_long_and_over_cap(void **state)
{
    (void)state;
    struct hk_buf b;
    char big[600];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    hk_buf_init(&b, 1000);
    assert_int_equal(hk_buf_printf(&b, "<%s>", big), 0); /* longer than the 256-byte fast path */
    assert_int_equal(b.len, 601);
    assert_int_equal(b.data[0], '<');
    assert_int_equal(b.data[600], '>');
    assert_int_equal(hk_buf_printf(&b, "%s", big), HK_ERR_TOO_LARGE);
    assert_int_equal(b.len, 601);
    hk_buf_free(&b);
}

static void test_zero_cap(void **state)
{
    (void)state;
    struct hk_buf b;
    hk_buf_init(&b, 0);
    assert_int_equal(hk_buf_append(&b, "x", 1), HK_ERR_TOO_LARGE);
    assert_int_equal(hk_buf_append(&b, "", 0), 0);
    assert_int_equal(b.len, 0);
    hk_buf_free(&b);
}

static void check_json_roundtrip(const char *s, size_t n)
{
    struct hk_buf b;
    hk_buf_init(&b, 1 << 16);
    assert_int_equal(hk_buf_append_json_str(&b, s, n), 0);
    json_error_t je;
    json_t *v = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    assert_non_null(v);
    assert_true(json_is_string(v));
    assert_int_equal(json_string_length(v), n);
    assert_memory_equal(json_string_value(v), s, n);
    json_decref(v);
    hk_buf_free(&b);
}

#define CHECK_LIT(s) check_json_roundtrip((s), sizeof(s) - 1)

static void test_json_string_escapes(void **state)
{
    (void)state;
    struct hk_buf b;
    hk_buf_init(&b, 100);
    assert_int_equal(hk_buf_append_json_str(&b, "a\"b\\c\n", 6), 0);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\"");
    hk_buf_reset(&b);
    assert_int_equal(hk_buf_append_json_str(&b, "</script>", 9), 0);
    assert_null(strchr(b.data, '<')); /* safe inside HTML */
    hk_buf_free(&b);

    CHECK_LIT("plain");
    CHECK_LIT("tab\there\r\n\x01\x1f end");
    CHECK_LIT("caf\xc3\xa9 \xf0\x9f\x98\x80 <&>");
    CHECK_LIT("nul\0inside");
    check_json_roundtrip("", 0);
}

static void test_json_string_over_cap_leaves_buffer(void **state)
{
    (void)state;
    struct hk_buf b;
    hk_buf_init(&b, 10);
    assert_int_equal(hk_buf_append_str(&b, "ab"), 0);
    assert_int_equal(hk_buf_append_json_str(&b, "\n\n\n\n\n", 5), HK_ERR_TOO_LARGE);
    assert_string_equal(b.data, "ab");
    hk_buf_free(&b);
}

static void test_json_numbers(void **state)
{
    (void)state;
    struct hk_buf b;
    hk_buf_init(&b, 200);
    assert_int_equal(hk_buf_append_json_num(&b, 3), 0);
    assert_int_equal(hk_buf_append_char(&b, ' '), 0);
    assert_int_equal(hk_buf_append_json_num(&b, 0.1), 0);
    assert_int_equal(hk_buf_append_char(&b, ' '), 0);
    assert_int_equal(hk_buf_append_json_num(&b, -2.5), 0);
    assert_int_equal(hk_buf_append_char(&b, ' '), 0);
    assert_int_equal(hk_buf_append_json_num(&b, 0.0 / 0.0), 0);
    assert_string_equal(b.data, "3 0.1 -2.5 null");
    hk_buf_reset(&b);
    double v = 1.0 / 3.0;
    assert_int_equal(hk_buf_append_json_num(&b, v), 0);
    assert_true(strtod(b.data, NULL) == v);
    hk_buf_free(&b);
}

static void test_json_ci95(void **state)
{
    (void)state;
    struct hk_buf b;
    hk_buf_init(&b, 64);
    assert_int_equal(hk_buf_append_json_ci95(&b, true, 1.5, 3.25), 0);
    assert_string_equal(b.data, ",\"ci95\":[1.5,3.25]");
    hk_buf_reset(&b);
    assert_int_equal(hk_buf_append_json_ci95(&b, false, 1.5, 3.25), 0);
    assert_string_equal(b.data, ",\"ci95\":null");
    hk_buf_free(&b);
    /* over the cap: nothing half-written */
    hk_buf_init(&b, 12);
    assert_int_equal(hk_buf_append_str(&b, "x"), 0);
    assert_int_equal(hk_buf_append_json_ci95(&b, true, 1.5, 3.25), HK_ERR_TOO_LARGE);
    assert_string_equal(b.data, "x");
    hk_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_terminate),
        cmocka_unit_test(test_cap_refuses_whole_append),
        cmocka_unit_test(test_printf_long_and_over_cap),
        cmocka_unit_test(test_zero_cap),
        cmocka_unit_test(test_json_string_escapes),
        cmocka_unit_test(test_json_string_over_cap_leaves_buffer),
        cmocka_unit_test(test_json_numbers),
        cmocka_unit_test(test_json_ci95),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
