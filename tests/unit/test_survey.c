/* Survey validation (SPEC section 2): one case per rule with the exact code and field a client
 * sees, the canonical JSON round trip, scenario sets, and RFC 3339 parsing with offsets,
 * fractions, leap days and impossible dates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hearken/err.h"
#include "hearken/survey.h"

#define NOW 1795600000LL /* 2026-11-25T09:46:40Z */

static struct hk_scenarios scenarios;

static int setup(void **state)
{
    (void)state;
    hk_scenarios_default(&scenarios);
    return 0;
}

/* The two parse paths must agree on everything: rc, every field, and the error a client sees. */
static void same_result(const char *json, size_t len, int rc, const struct hk_survey *a,
                        const struct hk_field_error *ea, int rc2, const struct hk_survey *b,
                        const struct hk_field_error *eb)
{
    if (rc != rc2)
        fail_msg("%.*s\n  hk_survey_parse rc=%d, generic rc=%d (%s %s)", (int)len, json, rc, rc2,
                 eb->code, eb->field);
    assert_string_equal(a->interaction_id, b->interaction_id);
    assert_string_equal(a->agent_id, b->agent_id);
    assert_string_equal(a->scenario, b->scenario);
    assert_string_equal(a->team_id, b->team_id);
    assert_string_equal(a->channel, b->channel);
    assert_string_equal(a->language, b->language);
    assert_int_equal(a->submitted_at, b->submitted_at);
    assert_memory_equal(a->answers, b->answers, sizeof a->answers);
    assert_memory_equal(a->behaviors, b->behaviors, sizeof a->behaviors);
    assert_int_equal(a->comment_len, b->comment_len);
    if (a->comment)
        assert_memory_equal(a->comment, b->comment, a->comment_len + 1);
    else
        assert_null(b->comment);
    assert_string_equal(ea->code, eb->code);
    assert_string_equal(ea->field, eb->field);
    assert_string_equal(ea->message, eb->message);
}

/* hk_survey_parse (canonical fast path, else jansson) checked against the jansson path alone. */
static int parse_len(const char *json, size_t len, int64_t now, struct hk_survey *s,
                     struct hk_field_error *e)
{
    struct hk_survey g;
    struct hk_field_error ge;
    int rc = hk_survey_parse(json, len, &scenarios, now, s, e);
    int rc2 = hk_survey_parse_generic(json, len, &scenarios, now, &g, &ge);
    same_result(json, len, rc, s, e, rc2, &g, &ge);
    hk_survey_clear(&g);
    return rc;
}

static int parse(const char *json, struct hk_survey *s, struct hk_field_error *e)
{
    return parse_len(json, strlen(json), NOW, s, e);
}

/* Asserts that json is refused with code and field. */
static void refused(const char *json, const char *code, const char *field)
{
    struct hk_survey s;
    struct hk_field_error e;
    int rc = parse(json, &s, &e);
    if (rc != HK_ERR_INVALID || strcmp(e.code, code) != 0 || strcmp(e.field, field) != 0)
        fail_msg("%s\n  want %s/%s, got rc=%d %s/%s: %s", json, code, field, rc, e.code, e.field,
                 e.message);
    assert_null(s.comment);
    assert_int_equal(s.interaction_id[0], '\0');
}

static void accepted(const char *json, struct hk_survey *s)
{
    struct hk_field_error e;
    int rc = parse(json, s, &e);
    if (rc)
        fail_msg("%s\n  refused: %s %s: %s", json, e.code, e.field, e.message);
}

#define BASE                                                                                       \
    "\"interaction_id\":\"call-1\",\"agent_id\":\"agent-17\",\"scenario\":\"billing_error\""

static void test_full_example(void **state)
{
    (void)state;
    struct hk_survey s;
    accepted(
        "{ \"interaction_id\": \"call-2026-000123\", \"agent_id\": \"agent-17\", \"scenario\": "
        "\"billing_error\", \"team_id\": \"team-b\", \"channel\": \"voice\", \"language\": "
        "\"en\", \"submitted_at\": \"2026-11-25T08:04:00Z\", \"answers\": { \"nps\": 9, "
        "\"csat\": 5, \"ces\": 6, \"felt_heard\": 4, \"felt_valued\": 5 }, \"comment\": "
        "\"Priya listened without interrupting and fixed the double charge. I'll recommend "
        "you.\" }",
        &s);
    assert_string_equal(s.interaction_id, "call-2026-000123");
    assert_string_equal(s.agent_id, "agent-17");
    assert_string_equal(s.scenario, "billing_error");
    assert_string_equal(s.team_id, "team-b");
    assert_string_equal(s.channel, "voice");
    assert_string_equal(s.language, "en");
    assert_int_equal(s.submitted_at, 1795593840LL);
    int want[HK_ANS_COUNT] = {9, 5, 6, 4, 5};
    for (int i = 0; i < HK_ANS_COUNT; i++)
        assert_int_equal(s.answers[i], want[i]);
    for (int i = 0; i < HK_BEH_COUNT; i++)
        assert_int_equal(s.behaviors[i], -1);
    assert_non_null(strstr(s.comment, "double charge"));
    assert_int_equal(s.comment_len, strlen(s.comment));
    hk_survey_clear(&s);
}

static void test_defaults(void **state)
{
    (void)state;
    struct hk_survey s;
    accepted("{" BASE ",\"answers\":{\"nps\":0}}", &s);
    assert_string_equal(s.language, "en");
    assert_int_equal(s.submitted_at, NOW);
    assert_string_equal(s.team_id, "");
    assert_string_equal(s.channel, "");
    assert_null(s.comment);
    assert_int_equal(s.answers[HK_ANS_NPS], 0);
    assert_int_equal(s.answers[HK_ANS_CSAT], -1);
    hk_survey_clear(&s);
}

static void test_required_fields(void **state)
{
    (void)state;
    refused("{\"agent_id\":\"a\",\"scenario\":\"other\",\"comment\":\"x\"}", "missing_field",
            "interaction_id");
    refused("{\"interaction_id\":\"i\",\"scenario\":\"other\",\"comment\":\"x\"}", "missing_field",
            "agent_id");
    refused("{\"interaction_id\":\"i\",\"agent_id\":\"a\",\"comment\":\"x\"}", "missing_field",
            "scenario");
    refused("{\"interaction_id\":null,\"agent_id\":\"a\",\"scenario\":\"other\",\"comment\":\"x\"}",
            "invalid_field", "interaction_id");
    refused("{\"interaction_id\":\"\",\"agent_id\":\"a\",\"scenario\":\"other\",\"comment\":\"x\"}",
            "invalid_field", "interaction_id");
}

static void test_content_required(void **state)
{
    (void)state;
    refused("{" BASE "}", "missing_field", "answers");
    refused("{" BASE ",\"answers\":{}}", "missing_field", "answers");
    refused("{" BASE ",\"comment\":\"\"}", "missing_field", "answers");
    refused("{" BASE ",\"comment\":\" \\n\\t \"}", "missing_field", "answers");
    refused("{" BASE ",\"behaviors\":{\"apologized\":true}}", "missing_field", "answers");
    struct hk_survey s;
    accepted("{" BASE ",\"comment\":\"fine\"}", &s);
    assert_string_equal(s.comment, "fine");
    hk_survey_clear(&s);
}

static void test_ids(void **state)
{
    (void)state;
    char json[512];
    char id128[129], id129[130];
    memset(id128, 'a', 128);
    id128[128] = '\0';
    memset(id129, 'b', 129);
    id129[129] = '\0';

    struct hk_survey s;
    snprintf(json, sizeof json,
             "{\"interaction_id\":\"%s\",\"agent_id\":\"A.z_0:9@x-y\",\"scenario\":\"other\","
             "\"comment\":\"x\"}",
             id128);
    accepted(json, &s);
    assert_string_equal(s.interaction_id, id128);
    assert_string_equal(s.agent_id, "A.z_0:9@x-y");
    hk_survey_clear(&s);

    snprintf(json, sizeof json,
             "{\"interaction_id\":\"%s\",\"agent_id\":\"a\",\"scenario\":\"other\","
             "\"comment\":\"x\"}",
             id129);
    refused(json, "invalid_field", "interaction_id");

    const char *bad[] = {"a b", "a/b", "caf\\u00e9", "a\\u0000b", "<x>", "a\\\"b", "a,b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(json, sizeof json,
                 "{\"interaction_id\":\"i\",\"agent_id\":\"%s\",\"scenario\":\"other\","
                 "\"comment\":\"x\"}",
                 bad[i]);
        refused(json, "invalid_field", "agent_id");
    }
    refused("{\"interaction_id\":17,\"agent_id\":\"a\",\"scenario\":\"other\",\"comment\":\"x\"}",
            "invalid_field", "interaction_id");
    refused("{" BASE ",\"team_id\":\"team b\",\"comment\":\"x\"}", "invalid_field", "team_id");
    refused("{" BASE ",\"team_id\":\"\",\"comment\":\"x\"}", "invalid_field", "team_id");
    refused("{" BASE ",\"channel\":[],\"comment\":\"x\"}", "invalid_field", "channel");

    accepted("{" BASE ",\"team_id\":null,\"channel\":null,\"comment\":\"x\"}", &s);
    assert_string_equal(s.team_id, "");
    hk_survey_clear(&s);
}

static void test_scenario(void **state)
{
    (void)state;
    refused("{\"interaction_id\":\"i\",\"agent_id\":\"a\",\"scenario\":\"billing\","
            "\"comment\":\"x\"}",
            "invalid_field", "scenario");
    refused("{\"interaction_id\":\"i\",\"agent_id\":\"a\",\"scenario\":\"Billing_Error\","
            "\"comment\":\"x\"}",
            "invalid_field", "scenario");
    refused("{\"interaction_id\":\"i\",\"agent_id\":\"a\",\"scenario\":3,\"comment\":\"x\"}",
            "invalid_field", "scenario");

    struct hk_scenarios custom;
    char err[128];
    assert_int_equal(hk_scenarios_parse(&custom, " refund , other,delivery ", err, sizeof err), 0);
    assert_int_equal(custom.n, 3);
    assert_true(hk_scenarios_has(&custom, "refund", 6));
    assert_false(hk_scenarios_has(&custom, "billing_error", 13));
    const char *json = "{\"interaction_id\":\"i\",\"agent_id\":\"a\",\"scenario\":\"refund\","
                       "\"comment\":\"x\"}";
    struct hk_survey s;
    struct hk_field_error e;
    assert_int_equal(hk_survey_parse(json, strlen(json), &custom, NOW, &s, &e), 0);
    hk_survey_clear(&s);
    assert_int_equal(parse(json, &s, &e), HK_ERR_INVALID);
    assert_string_equal(e.field, "scenario");
    assert_non_null(strstr(e.message, "billing_error"));

    assert_int_equal(hk_scenarios_parse(&custom, "a,,b", err, sizeof err), HK_ERR_INVALID);
    assert_int_equal(hk_scenarios_parse(&custom, "a,a", err, sizeof err), HK_ERR_INVALID);
    assert_int_equal(hk_scenarios_parse(&custom, "", err, sizeof err), HK_ERR_INVALID);
    assert_int_equal(hk_scenarios_parse(&custom, "with space", err, sizeof err), HK_ERR_INVALID);
    assert_int_equal(custom.n, 3); /* unchanged after errors */

    assert_true(hk_scenario_is_problem("billing_error"));
    assert_false(hk_scenario_is_problem("other"));
}

static void test_language(void **state)
{
    (void)state;
    struct {
        const char *in, *want;
    } ok[] = {{"en", "en"}, {"en-GB", "en-GB"},           {"pt-br", "pt-BR"},
              {"EN", "en"}, {"zh-Hant-TW", "zh-Hant-TW"}, {"fil", "fil"}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char json[256];
        snprintf(json, sizeof json, "{" BASE ",\"language\":\"%s\",\"comment\":\"x\"}", ok[i].in);
        struct hk_survey s;
        accepted(json, &s);
        assert_string_equal(s.language, ok[i].want);
        hk_survey_clear(&s);
    }
    const char *bad[] = {"e",  "english", "en_GB",        "en-", "-en", "en-GB-toolongsubtag",
                         "12", "en GB",   "en-GB-x-y-z-w"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char json[256];
        snprintf(json, sizeof json, "{" BASE ",\"language\":\"%s\",\"comment\":\"x\"}", bad[i]);
        refused(json, "invalid_field", "language");
    }
    refused("{" BASE ",\"language\":1,\"comment\":\"x\"}", "invalid_field", "language");
}

static void test_answers(void **state)
{
    (void)state;
    static const char *names[] = {"nps", "csat", "ces", "felt_heard", "felt_valued"};
    static const int lo[] = {0, 1, 1, 1, 1}, hi[] = {10, 5, 7, 5, 5};
    char json[256], field[64];
    for (int i = 0; i < HK_ANS_COUNT; i++) {
        assert_string_equal(hk_answer_names[i], names[i]);
        assert_int_equal(hk_answer_min[i], lo[i]);
        assert_int_equal(hk_answer_max[i], hi[i]);
        snprintf(field, sizeof field, "answers.%s", names[i]);
        struct hk_survey s;
        for (int v = lo[i]; v <= hi[i]; v++) {
            snprintf(json, sizeof json, "{" BASE ",\"answers\":{\"%s\":%d}}", names[i], v);
            accepted(json, &s);
            assert_int_equal(s.answers[i], v);
            hk_survey_clear(&s);
        }
        const char *bad[] = {"%d", "%d", "9.5", "5.0", "\"5\"", "true", "[5]", "{}", "-0.0"};
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            char val[32];
            snprintf(val, sizeof val, bad[k], k == 0 ? lo[i] - 1 : hi[i] + 1);
            snprintf(json, sizeof json, "{" BASE ",\"answers\":{\"%s\":%s}}", names[i], val);
            refused(json, "invalid_field", field);
        }
    }
    struct hk_survey s;
    struct hk_field_error e;
    parse("{" BASE ",\"answers\":{\"nps\":11}}", &s, &e);
    assert_string_equal(e.message, "must be an integer from 0 to 10");

    refused("{" BASE ",\"answers\":{\"nps\":99999999999999999999999}}", "invalid_json", "");
    refused("{" BASE ",\"answers\":{\"recommend\":9}}", "unknown_field", "answers.recommend");
    refused("{" BASE ",\"answers\":[9]}", "invalid_field", "answers");
    refused("{" BASE ",\"answers\":{\"nps\":9,\"nps\":3}}", "invalid_json", "");

    accepted("{" BASE ",\"answers\":{\"nps\":null,\"csat\":4}}", &s);
    assert_int_equal(s.answers[HK_ANS_NPS], -1);
    assert_int_equal(s.answers[HK_ANS_CSAT], 4);
    hk_survey_clear(&s);
}

static void test_behaviors(void **state)
{
    (void)state;
    struct hk_survey s;
    accepted("{" BASE ",\"answers\":{\"nps\":5},\"behaviors\":{\"apologized\":true,"
             "\"made_no_assumptions\":false,\"calm_tone\":null}}",
             &s);
    assert_int_equal(s.behaviors[HK_BEH_APOLOGIZED], 1);
    assert_int_equal(s.behaviors[HK_BEH_MADE_NO_ASSUMPTIONS], 0);
    assert_int_equal(s.behaviors[HK_BEH_CALM_TONE], -1);
    assert_int_equal(s.behaviors[HK_BEH_WAS_PATIENT], -1);
    hk_survey_clear(&s);

    refused("{" BASE ",\"answers\":{\"nps\":5},\"behaviors\":{\"hugged\":true}}", "invalid_field",
            "behaviors.hugged");
    refused("{" BASE ",\"answers\":{\"nps\":5},\"behaviors\":{\"apologized\":1}}", "invalid_field",
            "behaviors.apologized");
    refused("{" BASE ",\"answers\":{\"nps\":5},\"behaviors\":{\"apologized\":\"true\"}}",
            "invalid_field", "behaviors.apologized");
    refused("{" BASE ",\"answers\":{\"nps\":5},\"behaviors\":[\"apologized\"]}", "invalid_field",
            "behaviors");
}

static void test_comment(void **state)
{
    (void)state;
    char *json = malloc(6000);
    char *big = malloc(5002);
    memset(big, 'x', 5001);
    big[5001] = '\0';
    struct hk_survey s;

    big[5000] = '\0'; /* exactly 5000 bytes: fine */
    snprintf(json, 6000, "{" BASE ",\"comment\":\"%s\"}", big);
    accepted(json, &s);
    assert_int_equal(s.comment_len, 5000);
    hk_survey_clear(&s);

    big[5000] = 'x'; /* 5001 bytes */
    snprintf(json, 6000, "{" BASE ",\"comment\":\"%s\"}", big);
    refused(json, "invalid_field", "comment");

    /* 5000 bytes counted as UTF-8 bytes, not characters: 2,501 two-byte characters refused */
    char *p = json + snprintf(json, 6000, "{" BASE ",\"comment\":\"");
    for (int i = 0; i < 2501; i++) {
        *p++ = (char)0xc3;
        *p++ = (char)0xa9;
    }
    snprintf(p, 8, "\"}");
    refused(json, "invalid_field", "comment");

    refused("{" BASE ",\"comment\":\"a\\u0000b\"}", "invalid_field", "comment");
    refused("{" BASE ",\"comment\":42}", "invalid_field", "comment");
    refused("{" BASE ",\"comment\":\"bad \xff byte\"}", "invalid_json", "");
    refused("{" BASE ",\"comment\":\"lone \\ud800 surrogate\"}", "invalid_json", "");

    accepted("{" BASE ",\"comment\":\"Na\\u00efve \xf0\x9f\x98\x80 \\\"quoted\\\"\\n\"}", &s);
    assert_string_equal(s.comment, "Na\xc3\xafve \xf0\x9f\x98\x80 \"quoted\"\n");
    hk_survey_clear(&s);
    free(json);
    free(big);
}

static void test_submitted_at(void **state)
{
    (void)state;
    struct hk_survey s;
    accepted("{" BASE ",\"comment\":\"x\",\"submitted_at\":\"2026-11-25T10:04:00+02:00\"}", &s);
    assert_int_equal(s.submitted_at, 1795593840LL);
    hk_survey_clear(&s);

    refused("{" BASE ",\"comment\":\"x\",\"submitted_at\":\"2026-02-30T00:00:00Z\"}",
            "invalid_field", "submitted_at");
    refused("{" BASE ",\"comment\":\"x\",\"submitted_at\":\"yesterday\"}", "invalid_field",
            "submitted_at");
    refused("{" BASE ",\"comment\":\"x\",\"submitted_at\":1795593840}", "invalid_field",
            "submitted_at");
    refused("{" BASE ",\"comment\":\"x\",\"submitted_at\":\"1999-12-31T23:59:59Z\"}",
            "invalid_field", "submitted_at");
    /* more than a day ahead of the server clock */
    refused("{" BASE ",\"comment\":\"x\",\"submitted_at\":\"2026-11-27T09:00:00Z\"}",
            "invalid_field", "submitted_at");
    accepted("{" BASE ",\"comment\":\"x\",\"submitted_at\":\"2026-11-26T08:00:00Z\"}", &s);
    hk_survey_clear(&s);
}

static void test_strictness(void **state)
{
    (void)state;
    refused("{" BASE ",\"answer\":{\"nps\":9}}", "unknown_field", "answer");
    refused("{" BASE ",\"answers\":{\"nps\":9},\"Comment\":\"x\"}", "unknown_field", "Comment");
    refused("{" BASE ",\"answers\":{\"nps\":9},\"comment\\u0000\":\"x\"}", "invalid_json",
            ""); /* jansson refuses NUL in keys */
    refused("{" BASE ",\"agent_id\":\"other\",\"comment\":\"x\"}", "invalid_json", "");
    refused("[1,2]", "invalid_json", "");
    refused("\"survey\"", "invalid_json", "");
    refused("", "invalid_json", "");
    refused("{" BASE ",\"comment\":\"x\"} trailing", "invalid_json", "");
    refused("{" BASE ",\"comment\":\"x\",}", "invalid_json", "");
    refused("{'interaction_id':'x'}", "invalid_json", "");

    /* first error wins, in field order after unknown fields */
    refused("{\"interaction_id\":\"bad id\",\"agent_id\":\"bad id\",\"scenario\":\"no\"}",
            "invalid_field", "interaction_id");
    refused("{\"interaction_id\":\"ok\",\"agent_id\":\"a\",\"scenario\":\"nope\","
            "\"answers\":{\"nps\":99},\"extra\":1}",
            "unknown_field", "extra");
}

static void test_roundtrip(void **state)
{
    (void)state;
    const char *inputs[] = {
        "{" BASE ",\"team_id\":\"t\",\"channel\":\"web\",\"language\":\"pt-BR\","
        "\"submitted_at\":\"2026-03-01T23:30:00.123-01:30\",\"answers\":{\"felt_valued\":2,"
        "\"nps\":10},\"behaviors\":{\"was_patient\":false,\"apologized\":true},"
        "\"comment\":\"<b>&amp;</b> \\\"q\\\" \\\\ \\t tab \xe2\x82\xac \\u0001\"}",
        "{" BASE ",\"answers\":{\"ces\":7}}",
        "{" BASE ",\"comment\":\"only text\"}",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        struct hk_survey a, b;
        struct hk_field_error e;
        struct hk_buf j1, j2;
        hk_buf_init(&j1, 1 << 16);
        hk_buf_init(&j2, 1 << 16);
        accepted(inputs[i], &a);
        assert_int_equal(hk_survey_to_json(&a, &j1), 0);
        assert_int_equal(hk_survey_parse(j1.data, j1.len, &scenarios, NOW + 999999, &b, &e), 0);
        assert_string_equal(a.interaction_id, b.interaction_id);
        assert_string_equal(a.agent_id, b.agent_id);
        assert_string_equal(a.scenario, b.scenario);
        assert_string_equal(a.team_id, b.team_id);
        assert_string_equal(a.channel, b.channel);
        assert_string_equal(a.language, b.language);
        assert_int_equal(a.submitted_at, b.submitted_at);
        assert_memory_equal(a.answers, b.answers, sizeof a.answers);
        assert_memory_equal(a.behaviors, b.behaviors, sizeof a.behaviors);
        assert_int_equal(a.comment_len, b.comment_len);
        if (a.comment)
            assert_memory_equal(a.comment, b.comment, a.comment_len);
        else
            assert_null(b.comment);
        assert_int_equal(hk_survey_to_json(&b, &j2), 0);
        assert_string_equal(j1.data, j2.data); /* canonical: a fixed point */
        assert_int_equal(hk_survey_validate(&a, &scenarios, &e), 0);
        hk_survey_clear(&a);
        hk_survey_clear(&b);
        hk_buf_free(&j1);
        hk_buf_free(&j2);
    }
}

static void test_canonical_order(void **state)
{
    (void)state;
    struct hk_survey s;
    struct hk_buf j;
    hk_buf_init(&j, 4096);
    accepted("{\"comment\":\"hi\",\"behaviors\":{\"calm_tone\":true,\"apologized\":false},"
             "\"answers\":{\"felt_heard\":3,\"nps\":8},\"submitted_at\":\"2026-11-25T00:00:00Z\","
             "\"scenario\":\"other\",\"channel\":\"sms\",\"agent_id\":\"a\",\"team_id\":\"t\","
             "\"interaction_id\":\"i\"}",
             &s);
    assert_int_equal(hk_survey_to_json(&s, &j), 0);
    assert_string_equal(j.data,
                        "{\"interaction_id\":\"i\",\"agent_id\":\"a\",\"scenario\":\"other\","
                        "\"team_id\":\"t\",\"channel\":\"sms\",\"language\":\"en\","
                        "\"submitted_at\":\"2026-11-25T00:00:00Z\",\"answers\":{\"nps\":8,"
                        "\"felt_heard\":3},\"behaviors\":{\"apologized\":false,"
                        "\"calm_tone\":true},\"comment\":\"hi\"}");
    hk_survey_clear(&s);
    hk_buf_free(&j);
}

/* A small deterministic generator (xorshift), so failures reproduce. */
static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static size_t rnd_below(size_t n)
{
    return (size_t)(rnd() % n);
}

static void rnd_id(char *dst, size_t size, bool maybe_odd)
{
    static const char chars[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:@-";
    size_t n = 1 + rnd_below(maybe_odd && rnd_below(20) == 0 ? size - 1 : 12);
    for (size_t i = 0; i < n; i++)
        dst[i] = chars[rnd_below(sizeof chars - 1)];
    dst[n] = '\0';
}

/* Comments with what the writer escapes (quotes, backslashes, control bytes, < > &), UTF-8 of
 * every length, blanks, and now and then something over the length limit. */
static size_t rnd_comment(char *c, size_t cap)
{
    static const char *const pieces[] = {"ok",
                                         " ",
                                         "\"",
                                         "\\",
                                         "\n",
                                         "\r",
                                         "\t",
                                         "\x01",
                                         "\x1f",
                                         "<",
                                         ">",
                                         "&",
                                         "\xc3\xa9",
                                         "\xe2\x82\xac",
                                         "\xf0\x9f\x98\x8a",
                                         "/",
                                         "\x7f",
                                         "great service",
                                         "Agent kept interrupting me. ",
                                         "'"};
    size_t n = 0, want = rnd_below(10) == 0 ? 0 : rnd_below(60);
    if (rnd_below(200) == 0)
        want = HK_COMMENT_MAX / 2 + rnd_below(HK_COMMENT_MAX / 2);
    while (n < want) {
        const char *p = pieces[rnd_below(sizeof pieces / sizeof *pieces)];
        size_t k = strlen(p);
        if (n + k >= cap)
            break;
        memcpy(c + n, p, k);
        n += k;
    }
    if (rnd_below(8) == 0) { /* blank */
        n = rnd_below(4);
        memset(c, ' ', n);
    }
    c[n] = '\0';
    return n;
}

static void rnd_survey(struct hk_survey *s, char *comment, size_t cap)
{
    hk_survey_init(s);
    rnd_id(s->interaction_id, sizeof s->interaction_id, true);
    rnd_id(s->agent_id, sizeof s->agent_id, true);
    snprintf(s->scenario, sizeof s->scenario, "%s", scenarios.names[rnd_below(scenarios.n)]);
    if (rnd_below(3))
        rnd_id(s->team_id, sizeof s->team_id, false);
    if (rnd_below(3))
        rnd_id(s->channel, sizeof s->channel, false);
    static const char *const langs[] = {"en", "en-GB", "pt-BR", "zh-Hant-TW", "de"};
    snprintf(s->language, sizeof s->language, "%s", langs[rnd_below(5)]);
    s->submitted_at = NOW - (int64_t)rnd_below(90 * 86400);
    for (int i = 0; i < HK_ANS_COUNT; i++)
        if (rnd_below(4))
            s->answers[i] = hk_answer_min[i] +
                            (int)rnd_below((size_t)(hk_answer_max[i] - hk_answer_min[i] + 1));
    for (int i = 0; i < HK_BEH_COUNT; i++)
        if (rnd_below(3) == 0)
            s->behaviors[i] = (int8_t)rnd_below(2);
    if (rnd_below(5)) {
        s->comment_len = rnd_comment(comment, cap);
        s->comment = comment;
    }
}

/* Canonical JSON of many generated surveys: the fast path takes it (when the survey is valid)
 * and agrees with jansson; then single-byte mutations of it, which must agree too, whichever
 * path answers. */
static void test_parse_paths_agree(void **state)
{
    (void)state;
    static char comment[HK_COMMENT_MAX + 64];
    static const char noise[] = " \t\"\\{}[],:0123456789-.eEtfnu\x00\x80\xff";
    struct hk_buf j;
    hk_buf_init(&j, 1 << 20);
    size_t fast = 0;
    for (int iter = 0; iter < 20000; iter++) {
        struct hk_survey gen, a, c;
        struct hk_field_error e;
        rnd_survey(&gen, comment, sizeof comment);
        hk_buf_reset(&j);
        assert_int_equal(hk_survey_to_json(&gen, &j), 0);
        int rc = parse_len(j.data, j.len, NOW, &a, &e);
        int rc_fast = hk_survey_parse_canonical(j.data, j.len, &scenarios, NOW, &c);
        if (rc == 0) {
            /* valid canonical input always takes the fast path */
            if (rc_fast != 0)
                fail_msg("not taken by the fast path: %s", j.data);
            fast++;
        } else {
            assert_int_equal(rc_fast, 1);
        }
        hk_survey_clear(&c);
        hk_survey_clear(&a);
        /* a few mutations: replace, delete or insert one byte */
        for (int m = 0; m < 3 && j.len > 2; m++) {
            char buf[HK_COMMENT_MAX * 6 + 2048];
            if (j.len + 32 > sizeof buf)
                break;
            memcpy(buf, j.data, j.len);
            size_t len = j.len, at = rnd_below(len);
            char ch = noise[rnd_below(sizeof noise - 1)];
            switch (rnd_below(3)) {
            case 0:
                buf[at] = ch;
                break;
            case 1:
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
                break;
            default:
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = ch;
                len++;
                break;
            }
            parse_len(buf, len, NOW, &a, &e);
            hk_survey_clear(&a);
        }
        /* the same bytes judged against another clock: submitted_at in the future */
        parse_len(j.data, j.len, gen.submitted_at - 86400 - 1, &a, &e);
        hk_survey_clear(&a);
    }
    assert_true(fast > 10000);
    hk_buf_free(&j);
}

static void put_ws(struct hk_buf *b)
{
    static const char *const ws[] = {"", "", "", " ", "  ", "\n", "\t", "\r\n    "};
    assert_int_equal(hk_buf_append_str(b, ws[rnd_below(sizeof ws / sizeof *ws)]), 0);
}

static void put_u(struct hk_buf *b, unsigned cp)
{
    assert_int_equal(hk_buf_printf(b, rnd_below(2) ? "\\u%04x" : "\\u%04X", cp), 0);
}

static void put_str(struct hk_buf *b, const char *s, size_t n)
{
    assert_int_equal(hk_buf_append_char(b, '"'), 0);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        bool esc = rnd_below(6) == 0;
        if (c >= 0x80) { /* one UTF-8 character, raw or as \u (a surrogate pair above U+FFFF) */
            size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            unsigned cp = c & (k == 4 ? 0x07u : k == 3 ? 0x0Fu : 0x1Fu);
            for (size_t j = 1; j < k; j++)
                cp = (cp << 6) | ((unsigned char)s[i + j] & 0x3Fu);
            if (!esc) {
                assert_int_equal(hk_buf_append(b, s + i, k), 0);
            } else if (cp >= 0x10000) {
                put_u(b, 0xD800 + ((cp - 0x10000) >> 10));
                put_u(b, 0xDC00 + ((cp - 0x10000) & 0x3FF));
            } else {
                put_u(b, cp);
            }
            i += k;
            continue;
        }
        static const char shorts[] = "\"\"\\\\//\bb\ff\nn\rr\tt";
        const char *sh = NULL; /* pairs: the byte, then the letter of its short escape */
        for (size_t k = 0; k + 1 < sizeof shorts; k += 2)
            if (shorts[k] == (char)c)
                sh = shorts + k;
        if (c >= 0x20 && c != '"' && c != '\\' && !esc)
            assert_int_equal(hk_buf_append_char(b, (char)c), 0);
        else if (sh && (!esc || rnd_below(2)))
            assert_int_equal(hk_buf_printf(b, "\\%c", sh[1]), 0);
        else
            put_u(b, c);
        i++;
    }
    assert_int_equal(hk_buf_append_char(b, '"'), 0);
}

static void put_key(struct hk_buf *b, bool first, const char *key)
{
    if (!first)
        assert_int_equal(hk_buf_append_char(b, ','), 0);
    put_ws(b);
    assert_int_equal(hk_buf_printf(b, "\"%s\"", key), 0);
    put_ws(b);
    assert_int_equal(hk_buf_append_char(b, ':'), 0);
    put_ws(b);
}

static void shuffle(int *order, int n)
{
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rnd_below((size_t)i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* Client-style JSON of a generated survey: keys shuffled, whitespace anywhere, strings escaped
 * in every way JSON allows (\u with surrogate pairs, \/, either hex case), null for what is
 * absent. A null or absent submitted_at sets s->submitted_at to NOW, which the text then means. */
static void put_survey_varied(struct hk_buf *b, struct hk_survey *s)
{
    static const char *const id_keys[] = {"interaction_id", "agent_id", "scenario", "team_id",
                                          "channel"};
    int order[10];
    bool first = true;
    assert_int_equal(hk_buf_append_char(b, '{'), 0);
    shuffle(order, 10);
    for (int k = 0; k < 10; k++) {
        const char *ids[] = {s->interaction_id, s->agent_id, s->scenario, s->team_id, s->channel};
        int f = order[k];
        bool as_null = rnd_below(3) == 0;
        if (f < 5) {
            if (!ids[f][0] && !as_null)
                continue;
            put_key(b, first, id_keys[f]);
            if (ids[f][0])
                put_str(b, ids[f], strlen(ids[f]));
            else
                assert_int_equal(hk_buf_append_str(b, "null"), 0);
        } else if (f == 5) {
            bool dflt = strcmp(s->language, "en") == 0;
            if (dflt && rnd_below(3) == 0)
                continue;
            put_key(b, first, "language");
            if (dflt && as_null) {
                assert_int_equal(hk_buf_append_str(b, "null"), 0);
            } else {
                char lang[16];
                snprintf(lang, sizeof lang, "%s", s->language);
                for (size_t i = 0; rnd_below(2) && lang[i] && lang[i] != '-'; i++)
                    lang[i] = (char)(lang[i] - 'a' + 'A'); /* the parser lower-cases it */
                put_str(b, lang, strlen(lang));
            }
        } else if (f == 6) {
            if (as_null && rnd_below(2)) {
                s->submitted_at = NOW; /* absent or null: the server's clock */
                if (rnd_below(2))
                    continue;
                put_key(b, first, "submitted_at");
                assert_int_equal(hk_buf_append_str(b, "null"), 0);
            } else {
                char ts[21];
                hk_rfc3339_format(s->submitted_at, ts);
                put_key(b, first, "submitted_at");
                put_str(b, ts, strlen(ts));
            }
        } else if (f == 7 || f == 8) {
            int n = f == 7 ? HK_ANS_COUNT : HK_BEH_COUNT, given = 0;
            for (int i = 0; i < n; i++)
                given += (f == 7 ? s->answers[i] : s->behaviors[i]) >= 0;
            if (!given && !as_null)
                continue;
            put_key(b, first, f == 7 ? "answers" : "behaviors");
            if (!given && rnd_below(2)) {
                assert_int_equal(hk_buf_append_str(b, "null"), 0);
                first = false;
                continue;
            }
            int inner[(int)HK_BEH_COUNT > (int)HK_ANS_COUNT ? HK_BEH_COUNT : HK_ANS_COUNT];
            bool in_first = true;
            shuffle(inner, n);
            assert_int_equal(hk_buf_append_char(b, '{'), 0);
            for (int k2 = 0; k2 < n; k2++) {
                int i = inner[k2], v = f == 7 ? s->answers[i] : s->behaviors[i];
                if (v < 0 && rnd_below(4))
                    continue;
                put_key(b, in_first, f == 7 ? hk_answer_names[i] : hk_behavior_names[i]);
                in_first = false;
                if (v < 0)
                    assert_int_equal(hk_buf_append_str(b, "null"), 0);
                else if (f == 7)
                    assert_int_equal(hk_buf_printf(b, "%d", v), 0);
                else
                    assert_int_equal(hk_buf_append_str(b, v ? "true" : "false"), 0);
                put_ws(b);
            }
            assert_int_equal(hk_buf_append_char(b, '}'), 0);
        } else {
            if (!s->comment && !as_null)
                continue;
            put_key(b, first, "comment");
            if (s->comment)
                put_str(b, s->comment, s->comment_len);
            else
                assert_int_equal(hk_buf_append_str(b, "null"), 0);
        }
        put_ws(b);
        first = false;
    }
    assert_int_equal(hk_buf_append_char(b, '}'), 0);
    put_ws(b);
}

/* What clients send (any key order, whitespace, escapes, nulls): the fast path takes every valid
 * one, reads it as the canonical JSON of the same survey, and agrees with jansson; so do
 * single-byte mutations of it. */
static void test_parse_paths_agree_any_layout(void **state)
{
    (void)state;
    static char comment[HK_COMMENT_MAX + 64];
    static const char noise[] = " \t\r\n\"\\/{}[],:0123456789-+.eEtrufalsn\x00\x7f\x80\xc3\xed\xff";
    struct hk_buf j, canon, c1, c2;
    hk_buf_init(&j, 1 << 20);
    hk_buf_init(&canon, 1 << 20);
    hk_buf_init(&c1, 1 << 20);
    hk_buf_init(&c2, 1 << 20);
    size_t fast = 0;
    for (int iter = 0; iter < 20000; iter++) {
        struct hk_survey gen, a, b, c;
        struct hk_field_error e;
        rnd_survey(&gen, comment, sizeof comment);
        hk_buf_reset(&j);
        put_survey_varied(&j, &gen);
        hk_buf_reset(&canon);
        assert_int_equal(hk_survey_to_json(&gen, &canon), 0);
        int rc = parse_len(j.data, j.len, NOW, &a, &e);
        struct hk_field_error ec;
        int rc_canon = hk_survey_parse(canon.data, canon.len, &scenarios, NOW, &b, &ec);
        int rc_fast = hk_survey_parse_canonical(j.data, j.len, &scenarios, NOW, &c);
        if (rc != rc_canon)
            fail_msg("%s\n  rc=%d (%s %s: %s), canonical form rc=%d", j.data, rc, e.code, e.field,
                     e.message, rc_canon);
        if (rc == 0) {
            if (rc_fast != 0)
                fail_msg("not taken by the fast path: %s", j.data);
            fast++;
            hk_buf_reset(&c1);
            hk_buf_reset(&c2);
            assert_int_equal(hk_survey_to_json(&a, &c1), 0);
            assert_int_equal(hk_survey_to_json(&b, &c2), 0);
            assert_string_equal(c1.data, c2.data);
        } else {
            assert_int_equal(rc_fast, 1);
        }
        hk_survey_clear(&a);
        hk_survey_clear(&b);
        hk_survey_clear(&c);
        for (int m = 0; m < 3 && j.len > 2; m++) {
            static char buf[(HK_COMMENT_MAX + 64) * 12 + 4096];
            if (j.len + 2 > sizeof buf)
                break;
            memcpy(buf, j.data, j.len);
            size_t len = j.len, at = rnd_below(len);
            char ch = noise[rnd_below(sizeof noise - 1)];
            switch (rnd_below(4)) {
            case 0:
                buf[at] = ch;
                break;
            case 1:
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
                break;
            case 2: /* the same key or value twice, or a piece moved */
                if (len > 40) {
                    size_t from = rnd_below(len - 20), n = 1 + rnd_below(20);
                    memmove(buf + at + n, buf + at, len - at);
                    memcpy(buf + at, j.data + from, n);
                    len += n;
                }
                break;
            default:
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = ch;
                len++;
                break;
            }
            parse_len(buf, len, NOW, &a, &e);
            hk_survey_clear(&a);
        }
    }
    assert_true(fast > 10000);
    hk_buf_free(&j);
    hk_buf_free(&canon);
    hk_buf_free(&c1);
    hk_buf_free(&c2);
}

/* Inputs the fast path must leave to jansson (or take with the same result): both paths run on
 * each through parse(), which compares them. */
static void test_fast_path_edges(void **state)
{
    (void)state;
    static const char *const tails[] = {
        "\"answers\":{\"nps\":-0}",
        "\"answers\":{\"nps\":1e1}",
        "\"answers\":{\"nps\":9.0}",
        "\"answers\":{\"nps\":09}",
        "\"answers\":{\"nps\":100}",
        "\"answers\":{\"nps\":9,\"nps\":8}",
        "\"answers\":{\"nps\":9},\"answers\":{\"nps\":9}",
        "\"answers\":{\"nps\":true}",
        "\"answers\":{\"nps\":\"9\"}",
        "\"answers\":{\"nps\":null,\"ces\":3}",
        "\"answers\":[9]",
        "\"answers\":{\"n\\u0070s\":9}",
        "\"answers\":{\"nps\":9,}",
        "\"answers\":{\"nps\"9}",
        "\"answers\":{\"nps\":9}}",
        "\"answers\":{\"nps\":nul}",
        "\"answers\":{\"nps\":nulll}",
        "\"answers\":null,\"comment\":\"x\"",
        "\"answers\":{},\"comment\":\"x\"",
        "\"behaviors\":{\"calm_tone\":null,\"apologized\":ntrue},\"comment\":\"x\"",
        "\"behaviors\":{\"calm_tone\":truex},\"comment\":\"x\"",
        "\"behaviors\":{\"calm_tone\":true,\"calm_tone\":false},\"comment\":\"x\"",
        "\"behaviors\":{\"CALM\":true},\"comment\":\"x\"",
        "\"behaviors\":{\"calm_tone\":1},\"comment\":\"x\"",
        "\"comment\":\"\\ud83d\\ude0a\"",
        "\"comment\":\"\\uD83D\\uDE0A \\u00e9 \\u20AC\"",
        "\"comment\":\"\\ud83d\"",
        "\"comment\":\"\\ude0a\"",
        "\"comment\":\"\\ud83d\\u0041\"",
        "\"comment\":\"\\ud83dx\"",
        "\"comment\":\"a\\u0000b\"",
        "\"comment\":\"\\u00zz\"",
        "\"comment\":\"\\x41\"",
        "\"comment\":\"\\/\\b\\f\\r\"",
        "\"comment\":\"\xed\xa0\x80\"",
        "\"comment\":\"\xc3\"",
        "\"comment\":\"\xc0\xaf\"",
        "\"comment\":\"\xf4\x90\x80\x80\"",
        "\"comment\":\"tab\there\"",
        "\"comment\":\"\\u007f\x7f\"",
        "\"comment\":null,\"answers\":{\"ces\":1}",
        "\"comment\":\" \\n\\t\\u0020\"",
        "\"comment\":\"x\" ,\"team_id\":null,\"channel\":null",
        "\"comment\":\"x\",\"team_id\":\"\"",
        "\"comment\":\"x\",\"team_id\":\"t\\u0031\"",
        "\"comment\":\"x\",\"language\":null",
        "\"comment\":\"x\",\"language\":\"EN-gb\"",
        "\"comment\":\"x\",\"language\":\"e\\u006e\"",
        "\"comment\":\"x\",\"language\":1",
        "\"comment\":\"x\",\"submitted_at\":null",
        "\"comment\":\"x\",\"submitted_at\":\"2026-11-25T08:04:00+02:00\"",
        "\"comment\":\"x\",\"submitted_at\":\"2026-11-25T08:04:00\\u005a\"",
        "\"comment\":\"x\",\"submitted_at\":\"1999-12-31T23:59:59Z\"",
        "\"comment\":\"x\",\"submitted_at\":\"2099-11-25T08:04:00Z\"",
        "\"comment\":\"x\"\x00",
        "\"comment\":\"x\"\n\t ",
        "\"comment\":\"x\"} {",
        "\"comment\":\"x\"}\x00",
    };
    char json[512];
    for (size_t i = 0; i < sizeof tails / sizeof *tails; i++) {
        /* parse() compares hk_survey_parse with jansson alone */
        size_t n = (size_t)snprintf(json, sizeof json, "{" BASE ",%s}", tails[i]);
        struct hk_survey s;
        struct hk_field_error e;
        parse_len(json, n, NOW, &s, &e);
        hk_survey_clear(&s);
        parse_len(json, n + 1, NOW, &s, &e); /* with a NUL byte after the object */
        hk_survey_clear(&s);
    }
    /* what the fast path is for: a client's layout, taken without jansson */
    static const char *const taken[] = {
        " {\n  \"scenario\": \"other\", \"agent_id\": \"a\\u002d1\",\n  \"interaction_id\": \"i\","
        " \"answers\": {\"ces\": 7, \"nps\": null}, \"team_id\": null, \"language\": \"PT-br\","
        " \"behaviors\": null, \"comment\": \"caf\\u00e9 \\ud83d\\ude0a \\\"ok\\\" \\/\" }\r\n",
        "{\"comment\":\"x\"," BASE "}",
    };
    for (size_t i = 0; i < sizeof taken / sizeof *taken; i++) {
        struct hk_survey s, c;
        accepted(taken[i], &s);
        assert_int_equal(hk_survey_parse_canonical(taken[i], strlen(taken[i]), &scenarios, NOW, &c),
                         0);
        hk_survey_clear(&s);
        hk_survey_clear(&c);
    }
    struct hk_survey s;
    accepted(taken[0], &s);
    assert_string_equal(s.agent_id, "a-1");
    assert_string_equal(s.language, "pt-BR");
    assert_int_equal(s.answers[HK_ANS_CES], 7);
    assert_int_equal(s.answers[HK_ANS_NPS], -1);
    assert_string_equal(s.comment, "caf\xc3\xa9 \xf0\x9f\x98\x8a \"ok\" /");
    hk_survey_clear(&s);
}

static void test_validate_struct(void **state)
{
    (void)state;
    struct hk_survey s;
    struct hk_field_error e;
    hk_survey_init(&s);
    snprintf(s.interaction_id, sizeof s.interaction_id, "i-1");
    snprintf(s.agent_id, sizeof s.agent_id, "a");
    snprintf(s.scenario, sizeof s.scenario, "other");
    s.submitted_at = NOW;
    assert_int_equal(hk_survey_validate(&s, &scenarios, &e), HK_ERR_INVALID);
    assert_string_equal(e.field, "answers");
    s.answers[HK_ANS_CES] = 8;
    assert_int_equal(hk_survey_validate(&s, &scenarios, &e), HK_ERR_INVALID);
    assert_string_equal(e.field, "answers.ces");
    s.answers[HK_ANS_CES] = 7;
    assert_int_equal(hk_survey_validate(&s, &scenarios, &e), 0);
    snprintf(s.scenario, sizeof s.scenario, "nope");
    assert_int_equal(hk_survey_validate(&s, &scenarios, &e), HK_ERR_INVALID);
    assert_string_equal(e.field, "scenario");
    snprintf(s.scenario, sizeof s.scenario, "other");
    s.comment = strdup("bad \xc3 utf8");
    s.comment_len = strlen(s.comment);
    assert_int_equal(hk_survey_validate(&s, &scenarios, &e), HK_ERR_INVALID);
    assert_string_equal(e.field, "comment");
    hk_survey_clear(&s);
    assert_null(s.comment);
}

static void test_error_json(void **state)
{
    (void)state;
    struct hk_field_error e = {"invalid_field", "answers.nps", "must be an integer from 0 to 10"};
    struct hk_buf b;
    hk_buf_init(&b, 1024);
    assert_int_equal(hk_field_error_to_json(&e, &b), 0);
    assert_string_equal(b.data, "{\"error\":{\"code\":\"invalid_field\",\"field\":\"answers.nps\","
                                "\"message\":\"must be an integer from 0 to 10\"}}");
    hk_buf_reset(&b);
    struct hk_field_error j = {"invalid_json", "", "unexpected \"token\""};
    assert_int_equal(hk_field_error_to_json(&j, &b), 0);
    assert_string_equal(b.data, "{\"error\":{\"code\":\"invalid_json\",\"field\":null,"
                                "\"message\":\"unexpected \\\"token\\\"\"}}");
    hk_buf_free(&b);
}

static void test_rfc3339(void **state)
{
    (void)state;
    struct {
        const char *s;
        int64_t t;
    } ok[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"2026-11-25T10:04:00Z", 1795601040LL},
        {"2026-11-25T10:04:00z", 1795601040LL},
        {"2026-11-25t10:04:00Z", 1795601040LL},
        {"2026-11-25 10:04:00Z", 1795601040LL},
        {"2026-11-25T12:04:00+02:00", 1795601040LL},
        {"2026-11-25T04:34:00-05:30", 1795601040LL},
        {"2026-11-25T10:04:00.999999999Z", 1795601040LL},
        {"2026-11-25T10:04:00.5+00:00", 1795601040LL},
        {"2024-02-29T00:00:00Z", 1709164800LL},
        {"2000-02-29T00:00:00Z", 951782400LL},
        {"2016-12-31T23:59:60Z", 1483228800LL},      /* leap second */
        {"2026-01-01T00:30:00+01:00", 1767223800LL}, /* crosses a year backward */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t t = -1;
        if (hk_rfc3339_parse(ok[i].s, strlen(ok[i].s), &t))
            fail_msg("refused %s", ok[i].s);
        if (t != ok[i].t)
            fail_msg("%s: got %lld want %lld", ok[i].s, (long long)t, (long long)ok[i].t);
    }
    const char *bad[] = {
        "2026-02-30T00:00:00Z",
        "2025-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-01-00T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T23:60:00Z",
        "2026-01-01T23:59:61Z",
        "2026-01-01T00:00:00",
        "2026-01-01T00:00:00+0200",
        "2026-01-01T00:00:00+24:00",
        "2026-01-01T00:00:00+02:60",
        "2026-01-01",
        "2026-1-01T00:00:00Z",
        "2026-01-01T00:00:00.Z",
        "2026-01-01T00:00:00ZZ",
        "2026-01-01X00:00:00Z",
        "+2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00.1234567890Z",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t;
        if (hk_rfc3339_parse(bad[i], strlen(bad[i]), &t) == 0)
            fail_msg("accepted %s", bad[i]);
    }
    /* length is honoured: no reading past it */
    int64_t t;
    assert_int_equal(hk_rfc3339_parse("2026-11-25T10:04:00Zjunk", 20, &t), 0);
    assert_int_equal(t, 1795601040LL);

    char out[21], day[11];
    hk_rfc3339_format(1795601040LL, out);
    assert_string_equal(out, "2026-11-25T10:04:00Z");
    hk_rfc3339_format(951782399LL, out);
    assert_string_equal(out, "2000-02-28T23:59:59Z");
    hk_day_format(1795601040LL, day);
    assert_string_equal(day, "2026-11-25");
    for (int64_t x = 946684800LL; x < 4102444800LL; x += 86399 * 37) {
        hk_rfc3339_format(x, out);
        assert_int_equal(hk_rfc3339_parse(out, 20, &t), 0);
        assert_int_equal(t, x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_example),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_required_fields),
        cmocka_unit_test(test_content_required),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_scenario),
        cmocka_unit_test(test_language),
        cmocka_unit_test(test_answers),
        cmocka_unit_test(test_behaviors),
        cmocka_unit_test(test_comment),
        cmocka_unit_test(test_submitted_at),
        cmocka_unit_test(test_strictness),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_canonical_order),
        cmocka_unit_test(test_parse_paths_agree),
        cmocka_unit_test(test_parse_paths_agree_any_layout),
        cmocka_unit_test(test_fast_path_edges),
        cmocka_unit_test(test_validate_struct),
        cmocka_unit_test(test_error_json),
        cmocka_unit_test(test_rfc3339),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
