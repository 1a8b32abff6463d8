/* Redaction of e-mails, phone numbers and card numbers in comments: real-looking personal data
 * goes, and the numbers customers write that are not personal (dates, times, prices, short
 * references, Luhn-invalid long numbers next to letters) stay, so the scorer still reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hearken/err.h"
#include "hearken/redact.h"

static void check(const char *in, const char *want)
{
    struct hk_buf b;
    hk_buf_init(&b, 100000);
    assert_int_equal(hk_redact(in, strlen(in), &b, NULL), 0);
    if (strcmp(b.data ? b.data : "", want) != 0)
        fail_msg("in:   %s\ngot:  %s\nwant: %s", in, b.data ? b.data : "", want);
    hk_buf_free(&b);
}

static void test_emails(void **state)
{
    (void)state;
    check("mail me at priya.k+cx@example.co.uk please", "mail me at [email] please");
    check("<john_doe99@mail-server.example.com>.", "<[email]>.");
    check("a@b.co", "[email]");
    check("two: x@y.io, z@w.org.", "two: [email], [email].");
    check("digits 5551234567@example.com stay one address", "digits [email] stay one address");
    /* not addresses */
    check("meet @ 5pm", "meet @ 5pm");
    check("user@localhost", "user@localhost");
    check("a@b.c", "a@b.c");
    check("@handle on twitter", "@handle on twitter");
    check("foo@bar.123", "foo@bar.123");
}

static void test_cards(void **state)
{
    (void)state;
    check("card 4111 1111 1111 1111 was charged twice", "card [card] was charged twice");
    check("4111-1111-1111-1111", "[card]");
    check("4111111111111111", "[card]");
    check("amex 378282246310005.", "amex [card].");
    check("card 4111111111111111 1228 exp", "card [card] 1228 exp");
    check("4111 1111 1111 1111 and 5500 0000 0000 0004", "[card] and [card]");
    /* Luhn-invalid 16 digits: not a card (and too long for a phone) */
    check("ref 4111 1111 1111 1112", "ref 4111 1111 1111 1112");
    /* touching letters: part of a word, left alone */
    check("x4111111111111111", "x4111111111111111");
    check("4111111111111111x", "4111111111111111x");
}

static void test_phones(void **state)
{
    (void)state;
    check("call me on +44 7700 900123 tomorrow", "call me on [phone] tomorrow");
    check("(555) 123-4567", "[phone]");
    check("+1 (555) 123-4567", "[phone]");
    check("555-123-4567 or 555.987.6543", "[phone] or [phone]");
    check("07700 900123", "[phone]");
    check("my number is 555-1234.", "my number is [phone].");
    check("+4930123456", "[phone]");
    check("\xe9\x9b\xbb\xe8\xa9\xb1"
          "09012345678"
          "\xe3\x81\xa7\xe3\x81\x99",
          "\xe9\x9b\xbb\xe8\xa9\xb1[phone]\xe3\x81\xa7\xe3\x81\x99");
}

static void test_numbers_that_stay(void **state)
{
    (void)state;
    check("on 2026-11-25 10:04 I waited 45 minutes", "on 2026-11-25 10:04 I waited 45 minutes");
    check("25.11.2026 at 10:04", "25.11.2026 at 10:04");
    check("charged $1,234.56 twice, order 123456", "charged $1,234.56 twice, order 123456");
    check("ticket #98765 and case 12-34", "ticket #98765 and case 12-34");
    check("9/10 would recommend", "9/10 would recommend");
    check("version 1.2.3", "version 1.2.3");
    check("ABC1234567890", "ABC1234567890");
    check("", "");
}

static void test_counts_and_cap(void **state)
{
    (void)state;
    struct hk_buf b;
    struct hk_redact_counts c;
    const char in[] = "a@b.co 4111111111111111 +44 7700 900123 x@y.zz";
    hk_buf_init(&b, 1000);
    assert_int_equal(hk_redact(in, sizeof in - 1, &b, &c), 0);
    assert_string_equal(b.data, "[email] [card] [phone] [email]");
    assert_int_equal(c.email, 2);
    assert_int_equal(c.card, 1);
    assert_int_equal(c.phone, 1);
    hk_buf_free(&b);

    /* a replacement one byte longer than the address, at the cap: cut on a character boundary */
    hk_buf_init(&b, 8);
    assert_int_equal(hk_redact("\xc3\xa9"
                               "a@b.co",
                               8, &b, &c),
                     0);
    assert_int_equal(b.len, 8);
    assert_memory_equal(b.data, "\xc3\xa9[email", 8);
    hk_buf_free(&b);
    hk_buf_init(&b, 3);
    assert_int_equal(hk_redact("\xc3\xa9\xc3\xa9", 4, &b, &c), 0);
    assert_int_equal(b.len, 2); /* not half of the second é */
    hk_buf_free(&b);
}

static void test_luhn(void **state)
{
    (void)state;
    assert_true(hk_luhn_valid("4111 1111 1111 1111", 19));
    assert_true(hk_luhn_valid("79927398713", 11));
    assert_false(hk_luhn_valid("79927398710", 11));
    assert_false(hk_luhn_valid("", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emails),         cmocka_unit_test(test_cards),
        cmocka_unit_test(test_phones),         cmocka_unit_test(test_numbers_that_stay),
        cmocka_unit_test(test_counts_and_cap), cmocka_unit_test(test_luhn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
