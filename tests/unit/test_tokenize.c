/* Tokenizer tests: UTF-8 validation, case folding, contractions, hyphens, numbers and ratings,
 * emoticons and emoji, emphasis signals (ALL CAPS, "!!!"), byte spans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../analyzer/scorer_internal.h"
#include "hearken/err.h"

static struct an_tokens toks;

static int setup(void **state)
{
    (void)state;
    an_tokens_init(&toks);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    an_tokens_free(&toks);
    return 0;
}

/* Tokenizes text and renders it as "fold|fold|..." with punctuation as "." or ",". */
static const char *render(const char *text, const struct an_emotes *em)
{
    static char out[1024];
    assert_int_equal(an_tokenize(text, strlen(text), em, &toks), 0);
    size_t o = 0;
    for (size_t i = 0; i < toks.n; i++) {
        const struct an_token *t = &toks.v[i];
        if (i)
            out[o++] = '|';
        if (t->kind == AN_TOK_PUNCT) {
            out[o++] = (t->flags & AN_TF_SENT) ? '.' : ',';
            continue;
        }
        memcpy(out + o, toks.fold + t->fold, t->flen);
        o += t->flen;
    }
    out[o] = '\0';
    return out;
}

static void test_words_and_case_folding(void **state)
{
    (void)state;
    assert_string_equal(render("She LISTENED, really.", NULL), "she|listened|,|really|.");
    assert_string_equal(render("ÉCOLE Straße ΣΟΦΊΑ", NULL), "école|strasse|σοφία");
    assert_string_equal(render("", NULL), "");
}

static void test_contractions(void **state)
{
    (void)state;
    assert_string_equal(render("didn't won't can't ain't", NULL),
                        "did|n't|will|n't|can|n't|is|n't");
    /* the typographic apostrophe is an apostrophe */
    assert_string_equal(render("wasn\xe2\x80\x99t", NULL), "was|n't");
    assert_true(toks.v[1].flags & AN_TF_NEG);
    assert_string_equal(render("I'll I've you're I'm she'd", NULL),
                        "i|will|i|have|you|are|i|am|she|would");
    assert_string_equal(render("customer's 'quoted'", NULL), "customer's|quoted");
}

static void test_spans_point_into_the_text(void **state)
{
    (void)state;
    const char *text = "He couldn\xe2\x80\x99t help";
    render(text, NULL);
    assert_int_equal(toks.n, 4);
    assert_int_equal(toks.v[1].start, 3); /* "could" */
    assert_int_equal(toks.v[1].len, 5);
    assert_int_equal(toks.v[2].start, 8); /* "n’t": n, 3-byte apostrophe, t */
    assert_int_equal(toks.v[2].len, 5);
    assert_int_equal(toks.v[3].start, 14);
}

static void test_hyphens_and_dashes(void **state)
{
    (void)state;
    assert_string_equal(render("follow-up call", NULL), "follow|up|call");
    assert_string_equal(render("slow - but fine", NULL), "slow|,|but|fine");
    assert_string_equal(render("slow\xe2\x80\x94"
                               "fine",
                               NULL),
                        "slow|,|fine");
}

static void test_numbers_and_ratings(void **state)
{
    (void)state;
    assert_string_equal(render("10/10 2 hours 5 stars 3.5", NULL), "10/10|2|hours|5|stars|3.5");
    assert_int_equal(toks.v[0].kind, AN_TOK_NUM);
    assert_true(toks.v[0].flags & AN_TF_RATING);
    assert_true(toks.v[0].num == 10 && toks.v[0].den == 10);
    assert_false(toks.v[1].flags & AN_TF_RATING);
    render("24/7", NULL);
    assert_false(toks.v[0].flags & AN_TF_RATING);
    assert_string_equal(render("5stars", NULL), "5|stars");
}

static void test_emoticons_builtin(void **state)
{
    (void)state;
    assert_string_equal(render("great :) bad :-( love <3 ok :D", NULL),
                        "great|:)|bad|:(|love|<3|ok|:D");
    assert_int_equal(toks.v[1].kind, AN_TOK_EMOTICON);
    /* not faces: times, URLs, "(ok):" */
    assert_string_equal(render("at 10:30 see http://x.io/a:b (ok): fine", NULL),
                        "at|10|,|30|see|,|ok|,|fine");
}

static void test_emoticons_from_lexicon(void **state)
{
    (void)state;
    struct an_emotes em;
    memset(&em, 0, sizeof em);
    assert_int_equal(an_emotes_add(&em, "(^_^)", 5), 0);
    assert_int_equal(an_emotes_add(&em, ":-d", 3), 0);
    assert_true(an_emote_literal("(^_^)", 5));
    assert_false(an_emote_literal("10/10", 5));
    assert_false(an_emote_literal("follow-up", 9));
    assert_string_equal(render("so happy (^_^) yes :-D", &em), "so|happy|(^_^)|yes|:-d");
    an_emotes_free(&em);
}

static void test_emoji(void **state)
{
    (void)state;
    /* thumbs up with a skin tone, then a face with a variation selector */
    render("ok \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd \xe2\x98\xba\xef\xb8\x8f", NULL);
    assert_int_equal(toks.n, 3);
    assert_int_equal(toks.v[1].kind, AN_TOK_EMOJI);
    assert_int_equal(toks.v[1].flen, 4); /* the skin tone is dropped from the match form */
    assert_int_equal(toks.v[1].len, 8);  /* but kept in the span */
    assert_int_equal(toks.v[2].kind, AN_TOK_EMOJI);
}

static void test_emphasis_signals(void **state)
{
    (void)state;
    const char *text = "I was NOT happy!!! OK?";
    render(text, NULL);
    assert_false(an_word_caps(text + toks.v[0].start, toks.v[0].len)); /* one letter */
    assert_true(an_word_caps(text + toks.v[2].start, toks.v[2].len));
    assert_false(an_word_caps("Not", 3));
    assert_true(an_word_caps("\xc3\x89"
                             "CHEC",
                             6));
    assert_int_equal(toks.v[4].kind, AN_TOK_PUNCT);
    assert_int_equal(toks.v[4].bangs, 3);
    assert_true(toks.v[4].flags & AN_TF_SENT);
    assert_true(an_word_elongated("soooo", 5));
    assert_false(an_word_elongated("good", 4));
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    const char *bad[] = {"abc\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "ok \xf5\x80\x80\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(an_tokenize(bad[i], strlen(bad[i]), NULL, &toks), HK_ERR_INVALID);
    assert_true(an_utf8_valid("caf\xc3\xa9 \xf0\x9f\x98\x8a", 10));
}

/* The ASCII fast path reads 8 bytes a step: words of 7, 8, 9 and 16 bytes, capitals at every
 * position, digits, apostrophes and non-ASCII letters right after a full step, and words that
 * end exactly at the end of the text. */
static void test_ascii_fast_path_edges(void **state)
{
    (void)state;
    assert_string_equal(render("abcdefg abcdefgh abcdefghi", NULL), "abcdefg|abcdefgh|abcdefghi");
    assert_string_equal(render("ABCDEFG ABCDEFGH ABCDEFGHI", NULL), "abcdefg|abcdefgh|abcdefghi");
    assert_string_equal(render("aBcDeFgH AbCdEfGhIjKlMnOp", NULL), "abcdefgh|abcdefghijklmnop");
    assert_string_equal(render("abcdefgh", NULL), "abcdefgh");
    assert_string_equal(render("abcdefghabcdefgh", NULL), "abcdefghabcdefgh");
    assert_string_equal(render("zZ@[`{ AZaz", NULL), "zz|,|azaz");
    assert_string_equal(render("abcdefgh123 x", NULL), "abcdefgh123|x");
    assert_string_equal(render("abcdefg9 ab1cdefghij", NULL), "abcdefg9|ab1cdefghij");
    assert_string_equal(render("ABCDEFGHÉCOLE x", NULL), "abcdefghécole|x");
    assert_string_equal(render("Wouldn't COULDN'T shouldn\xe2\x80\x99t", NULL),
                        "would|n't|could|n't|should|n't");
    assert_string_equal(render("Understanding, Unbelievably!", NULL),
                        "understanding|,|unbelievably|.");
    /* every capital letter at every position of an 8-byte step folds */
    for (char c = 'A'; c <= 'Z'; c++) {
        for (size_t pos = 0; pos < 10; pos++) {
            char w[16], want[16];
            memset(w, 'q', 10);
            w[10] = '\0';
            w[pos] = c;
            memcpy(want, w, 11);
            want[pos] = (char)(c | 0x20);
            assert_string_equal(render(w, NULL), want);
        }
    }
    /* bytes next to the letter ranges end a word: '@' '[' '`' '{' and '/' ':' */
    const char *ends = "@[`{/:";
    for (const char *e = ends; *e; e++) {
        char w[32];
        snprintf(w, sizeof w, "abcdefghij%cz", *e);
        assert_int_equal(an_tokenize(w, strlen(w), NULL, &toks), 0);
        assert_true(toks.n >= 1);
        assert_int_equal(toks.v[0].len, 10);
        assert_int_equal(toks.v[0].flen, 10);
        assert_memory_equal(toks.fold + toks.v[0].fold, "abcdefghij", 10);
    }
}

/* UTF-8 is only validated from the first byte above 0x7F: bad bytes after long ASCII prefixes
 * (in and after 8- and 32-byte steps) are still refused, good ones still accepted. */
static void test_invalid_utf8_after_ascii(void **state)
{
    (void)state;
    const char *tails[] = {"\xff",         "\xc3",     "\xc0\xaf",
                           "\xed\xa0\x80", "\xe2\x82", "\xf5\x80\x80\x80"};
    for (size_t pre = 0; pre < 70; pre++) {
        char buf[96];
        memset(buf, pre % 3 ? 'a' : ' ', pre);
        for (size_t k = 0; k < sizeof tails / sizeof tails[0]; k++) {
            size_t tl = strlen(tails[k]);
            memcpy(buf + pre, tails[k], tl);
            memcpy(buf + pre + tl, " ok", 3);
            assert_int_equal(an_tokenize(buf, pre + tl + 3, NULL, &toks), HK_ERR_INVALID);
            assert_int_equal(an_tokenize(buf, pre + tl, NULL, &toks), HK_ERR_INVALID);
        }
        memcpy(buf + pre, "\xc3\xa9", 2);
        assert_int_equal(an_tokenize(buf, pre + 2, NULL, &toks), 0);
    }
}

static void test_mentions_and_entities(void **state)
{
    (void)state;
    assert_string_equal(render("@support thanks &amp; bye &lt;3", NULL), "thanks|bye|<3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_words_and_case_folding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contractions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spans_point_into_the_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hyphens_and_dashes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers_and_ratings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emoticons_builtin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emoticons_from_lexicon, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emoji, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emphasis_signals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mentions_and_entities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ascii_fast_path_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8_after_ascii, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
