/* Fuzz target: hk_survey_parse on arbitrary bytes. Invariants checked (abort on violation):
 * a parsed survey re-validates; hk_survey_to_json of it parses again to the same canonical
 * JSON (round trip); a refusal yields an error body that is itself valid JSON. Also checks
 * hk_rfc3339_parse on the raw bytes: a parsed time formats and parses back to itself. */
#include "fuzz.h"

#include "hearken/buf.h"
#include "hearken/err.h"
#include "hearken/survey.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1795000000LL /* 2026-11-18: fixed, so a replay behaves like the run that found it */
#define YEAR_0 (-62167219200LL)  /* 0000-01-01T00:00:00Z */
#define YEAR_10000 253402300800LL /* 10000-01-01T00:00:00Z */

static void check_error_json(const struct hk_field_error *e)
{
    struct hk_buf b;
    hk_buf_init(&b, 1 << 16);
    CHECK(hk_field_error_to_json(e, &b) == 0);
    json_error_t je;
    json_t *j = json_loadb(b.data, b.len, 0, &je);
    if (!j)
        fprintf(stderr, "error body is not JSON: %s (%s)\n", b.data, je.text);
    CHECK(j != NULL);
    CHECK(json_is_string(json_object_get(json_object_get(j, "error"), "code")));
    json_decref(j);
    hk_buf_free(&b);
}

static void check_rfc3339(const uint8_t *data, size_t size)
{
    int64_t t;
    if (size > 64 || hk_rfc3339_parse((const char *)data, size, &t))
        return;
    if (t < YEAR_0 || t >= YEAR_10000) /* outside what the format can write */
        return;
    char out[21];
    hk_rfc3339_format(t, out);
    int64_t t2;
    CHECK(hk_rfc3339_parse(out, strlen(out), &t2) == 0);
    CHECK(t2 == t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hk_scenarios sc;
    static int init;
    if (!init) {
        hk_scenarios_default(&sc);
        init = 1;
    }
    check_rfc3339(data, size);

    struct hk_survey s, s2;
    struct hk_field_error e;
    int rc = hk_survey_parse((const char *)data, size, &sc, NOW, &s, &e);
    CHECK(rc == 0 || rc == HK_ERR_INVALID);
    if (rc) {
        check_error_json(&e);
        return 0;
    }
    CHECK(hk_survey_validate(&s, &sc, &e) == 0);

    struct hk_buf j1, j2;
    hk_buf_init(&j1, 1 << 20);
    hk_buf_init(&j2, 1 << 20);
    CHECK(hk_survey_to_json(&s, &j1) == 0);
    rc = hk_survey_parse(j1.data, j1.len, &sc, NOW, &s2, &e);
    if (rc)
        fprintf(stderr, "canonical JSON refused: %s\n  %s: %s\n", j1.data, e.field, e.message);
    CHECK(rc == 0);
    CHECK(hk_survey_to_json(&s2, &j2) == 0);
    if (j1.len != j2.len || memcmp(j1.data, j2.data, j1.len) != 0)
        fprintf(stderr, "round trip differs:\n  %s\n  %s\n", j1.data, j2.data);
    CHECK(j1.len == j2.len && memcmp(j1.data, j2.data, j1.len) == 0);
    CHECK(s2.submitted_at == s.submitted_at);
    CHECK(memcmp(s2.answers, s.answers, sizeof s.answers) == 0);
    CHECK(memcmp(s2.behaviors, s.behaviors, sizeof s.behaviors) == 0);
    CHECK(s2.comment_len == s.comment_len);
    CHECK(!s.comment || memcmp(s2.comment, s.comment, s.comment_len) == 0);

    hk_buf_free(&j1);
    hk_buf_free(&j2);
    hk_survey_clear(&s);
    hk_survey_clear(&s2);
    return 0;
}
