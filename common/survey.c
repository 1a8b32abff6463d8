/* The survey schema (SPEC section 2): strict parsing and validation of what customers and
 * platforms send, the canonical JSON that goes on the stream, and RFC 3339 dates. Pure: no
 * I/O. Every rule lives in one check_* helper shared by hk_survey_parse and hk_survey_validate,
 * so both report the same first error for the same input. */
#include "hearken/survey.h"
#include "hearken/utf8.h"
#include "hearken/err.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const hk_answer_names[HK_ANS_COUNT] = {"nps", "csat", "ces", "felt_heard",
                                                   "felt_valued"};
const int hk_answer_min[HK_ANS_COUNT] = {0, 1, 1, 1, 1};
const int hk_answer_max[HK_ANS_COUNT] = {10, 5, 7, 5, 5};

static const char *const default_scenarios[] = {
    "billing_error", "service_interruption", "product_quality", "cancellation_return",
    "tech_support",  "complaint_escalation", "other",
};

/* Top-level fields in canonical order. */
static const char *const top_fields[] = {
    "interaction_id", "agent_id",     "scenario", "team_id",   "channel",
    "language",       "submitted_at", "answers",  "behaviors", "comment",
};

#define ID_RULE  "must be 1 to 128 characters of A-Z a-z 0-9 . _ : @ -"
#define MIN_TIME 946684800LL /* 2000-01-01T00:00:00Z: older dates are typos */
#define MAX_SKEW 86400LL     /* a day ahead of the server's clock at most */

static int fail(struct hk_field_error *e, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct hk_field_error *e, const char *code, const char *field, const char *fmt, ...)
{
    if (e) {
        snprintf(e->code, sizeof e->code, "%s", code);
        snprintf(e->field, sizeof e->field, "%s", field);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof e->message, fmt, ap);
        va_end(ap);
    }
    return HK_ERR_INVALID;
}

static bool id_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '@' || c == '-';
}

static bool id_valid(const char *s, size_t n)
{
    if (n < 1 || n > HK_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!id_char((unsigned char)s[i]))
            return false;
    return true;
}

/* A field name built from a client's key, kept printable ASCII (keys may hold any bytes). */
static void field_name(char *dst, size_t size, const char *prefix, const char *key, size_t klen)
{
    int n = snprintf(dst, size, "%s", prefix);
    size_t k = n > 0 ? (size_t)n : 0;
    for (size_t i = 0; i < klen && k + 1 < size && i < 40; i++) {
        unsigned char c = (unsigned char)key[i];
        dst[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    dst[k] = '\0';
}

/* Index of key (with its length: keys may contain NUL) in names, or -1. */
static int name_index(const char *key, size_t klen, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == klen && memcmp(names[i], key, klen) == 0)
            return (int)i;
    return -1;
}

/* ---- scenarios ---- */

void hk_scenarios_default(struct hk_scenarios *s)
{
    s->n = 0;
    for (size_t i = 0; i < sizeof default_scenarios / sizeof *default_scenarios; i++)
        snprintf(s->names[s->n++], sizeof s->names[0], "%s", default_scenarios[i]);
}

int hk_scenarios_parse(struct hk_scenarios *s, const char *csv, char *err, size_t errlen)
{
    struct hk_scenarios tmp = {.n = 0};
    const char *p = csv ? csv : "";
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        size_t n = (size_t)(end - start);
        if (n || *p == ',') {
            if (!id_valid(start, n)) {
                snprintf(err, errlen, "scenario \"%.*s\": " ID_RULE, (int)(n > 40 ? 40 : n), start);
                return HK_ERR_INVALID;
            }
            if (hk_scenarios_has(&tmp, start, n)) {
                snprintf(err, errlen, "scenario \"%.*s\" is listed twice", (int)n, start);
                return HK_ERR_INVALID;
            }
            if (tmp.n == HK_SCENARIOS_MAX) {
                snprintf(err, errlen, "at most %d scenarios", HK_SCENARIOS_MAX);
                return HK_ERR_INVALID;
            }
            memcpy(tmp.names[tmp.n], start, n);
            tmp.names[tmp.n][n] = '\0';
            tmp.n++;
        }
        if (!*p)
            break;
        p++;
    }
    if (tmp.n == 0) {
        snprintf(err, errlen, "at least one scenario is needed");
        return HK_ERR_INVALID;
    }
    *s = tmp;
    return 0;
}

bool hk_scenarios_has(const struct hk_scenarios *s, const char *name, size_t len)
{
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->names[i]) == len && memcmp(s->names[i], name, len) == 0)
            return true;
    return false;
}

bool hk_scenario_is_problem(const char *name)
{
    return name && name[0] && strcmp(name, "other") != 0;
}

/* ---- RFC 3339 ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int y, unsigned m)
{
    static const unsigned dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* n ASCII digits at s, or -1. */
static int digits(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int hk_rfc3339_parse(const char *s, size_t len, int64_t *out)
{
    /* YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) */
    if (len < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':')
        return HK_ERR_INVALID;
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        return HK_ERR_INVALID;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
        sec > 60)
        return HK_ERR_INVALID;
    if ((unsigned)d > days_in_month(y, (unsigned)mo))
        return HK_ERR_INVALID;
    size_t i = 19;
    if (i < len && s[i] == '.') {
        size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start || i - start > 9)
            return HK_ERR_INVALID;
    }
    if (i >= len)
        return HK_ERR_INVALID;
    int64_t offset = 0;
    if (s[i] == 'Z' || s[i] == 'z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        if (len - i < 6 || s[i + 3] != ':')
            return HK_ERR_INVALID;
        int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return HK_ERR_INVALID;
        offset = (int64_t)(oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return HK_ERR_INVALID;
    }
    if (i != len)
        return HK_ERR_INVALID;
    /* A leap second (:60) counts as the first second of the next minute. */
    *out =
        days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    return 0;
}

void hk_rfc3339_format(int64_t t, char out[21])
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t rem = t - days * 86400;
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) { /* cannot happen for validated surveys; keep the width */
        snprintf(out, 21, "0000-01-01T00:00:00Z");
        return;
    }
    unsigned r = (unsigned)rem % 86400u;
    snprintf(out, 21, "%04d-%02u-%02uT%02u:%02u:%02uZ", y, m % 13u, d % 32u, r / 3600u % 24u,
             r / 60u % 60u, r % 60u);
}

void hk_day_format(int64_t t, char out[11])
{
    char full[21];
    hk_rfc3339_format(t, full);
    memcpy(out, full, 10);
    out[10] = '\0';
}

/* ---- field rules (shared by parse and validate) ---- */

static int check_id(const char *field, const char *s, size_t n, bool required,
                    struct hk_field_error *e)
{
    if (n == 0 && required)
        return fail(e, "missing_field", field, "is required");
    if (n == 0)
        return 0;
    if (!id_valid(s, n))
        return fail(e, "invalid_field", field, ID_RULE);
    return 0;
}

static int check_scenario(const char *s, size_t n, const struct hk_scenarios *sc,
                          struct hk_field_error *e)
{
    int rc = check_id("scenario", s, n, true, e);
    if (rc)
        return rc;
    if (sc && !hk_scenarios_has(sc, s, n)) {
        char list[160];
        size_t used = 0;
        bool fits = true;
        for (size_t i = 0; i < sc->n && fits; i++) {
            int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", sc->names[i]);
            if (w < 0 || (size_t)w >= sizeof list - used)
                fits = false;
            else
                used += (size_t)w;
        }
        if (fits && used + 16 < sizeof list)
            return fail(e, "invalid_field", "scenario", "must be one of: %s", list);
        return fail(e, "invalid_field", "scenario", "must be one of the configured scenarios");
    }
    return 0;
}

/* A short BCP 47 tag: 2-3 letters, then up to three subtags of 1-8 letters or digits, at most
 * 15 characters ("en", "en-GB", "pt-BR", "zh-Hant-TW"). */
static bool language_valid(const char *s, size_t n)
{
    if (n < 2 || n > 15)
        return false;
    size_t i = 0;
    while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
        i++;
    if (i < 2 || i > 3)
        return false;
    for (int subtags = 0; i < n; subtags++) {
        if (s[i] != '-' || subtags == 3)
            return false;
        size_t start = ++i;
        while (i < n && id_char((unsigned char)s[i]) && s[i] != '-' && s[i] != '.' && s[i] != '_' &&
               s[i] != ':' && s[i] != '@')
            i++;
        if (i - start < 1 || i - start > 8)
            return false;
    }
    return true;
}

static int check_language(const char *s, size_t n, struct hk_field_error *e)
{
    if (!language_valid(s, n))
        return fail(e, "invalid_field", "language",
                    "must be a language tag like en, en-GB or pt-BR");
    return 0;
}

static int check_submitted_at(int64_t t, int64_t now, struct hk_field_error *e)
{
    if (t < MIN_TIME)
        return fail(e, "invalid_field", "submitted_at", "must not be before 2000-01-01");
    if (now > 0 && t > now + MAX_SKEW)
        return fail(e, "invalid_field", "submitted_at", "must not be in the future");
    return 0;
}

static int check_answer(int i, long long v, struct hk_field_error *e)
{
    if (v < hk_answer_min[i] || v > hk_answer_max[i]) {
        char field[32];
        snprintf(field, sizeof field, "answers.%s", hk_answer_names[i]);
        return fail(e, "invalid_field", field, "must be an integer from %d to %d", hk_answer_min[i],
                    hk_answer_max[i]);
    }
    return 0;
}

static bool is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return false;
    return true;
}

static int check_comment(const char *s, size_t n, struct hk_field_error *e)
{
    if (n > HK_COMMENT_MAX)
        return fail(e, "invalid_field", "comment", "must be at most %d bytes of UTF-8 (got %zu)",
                    HK_COMMENT_MAX, n);
    if (memchr(s, '\0', n))
        return fail(e, "invalid_field", "comment", "must not contain NUL characters");
    if (!hk_utf8_valid(s, n))
        return fail(e, "invalid_field", "comment", "must be valid UTF-8");
    return 0;
}

static int check_has_content(const struct hk_survey *s, struct hk_field_error *e)
{
    for (int i = 0; i < HK_ANS_COUNT; i++)
        if (s->answers[i] >= 0)
            return 0;
    if (s->comment && !is_blank(s->comment, s->comment_len))
        return 0;
    return fail(e, "missing_field", "answers",
                "at least one answer or a non-empty comment is required");
}

/* ---- struct ---- */

void hk_survey_init(struct hk_survey *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->language, sizeof s->language, "en");
    for (int i = 0; i < HK_ANS_COUNT; i++)
        s->answers[i] = -1;
    for (int i = 0; i < HK_BEH_COUNT; i++)
        s->behaviors[i] = -1;
}

void hk_survey_clear(struct hk_survey *s)
{
    free(s->comment);
    hk_survey_init(s);
}

int hk_survey_validate(const struct hk_survey *s, const struct hk_scenarios *scenarios,
                       struct hk_field_error *err)
{
    int rc;
    if ((rc = check_id("interaction_id", s->interaction_id,
                       strnlen(s->interaction_id, sizeof s->interaction_id), true, err)) ||
        (rc = check_id("agent_id", s->agent_id, strnlen(s->agent_id, sizeof s->agent_id), true,
                       err)) ||
        (rc = check_scenario(s->scenario, strnlen(s->scenario, sizeof s->scenario), scenarios,
                             err)) ||
        (rc =
             check_id("team_id", s->team_id, strnlen(s->team_id, sizeof s->team_id), false, err)) ||
        (rc =
             check_id("channel", s->channel, strnlen(s->channel, sizeof s->channel), false, err)) ||
        (rc = check_language(s->language, strnlen(s->language, sizeof s->language), err)) ||
        (rc = check_submitted_at(s->submitted_at, 0, err)))
        return rc;
    for (int i = 0; i < HK_ANS_COUNT; i++)
        if (s->answers[i] != -1 && (rc = check_answer(i, s->answers[i], err)))
            return rc;
    for (int i = 0; i < HK_BEH_COUNT; i++) {
        if (s->behaviors[i] < -1 || s->behaviors[i] > 1) {
            char field[48];
            snprintf(field, sizeof field, "behaviors.%s", hk_behavior_names[i]);
            return fail(err, "invalid_field", field, "must be true or false");
        }
    }
    if (s->comment && (rc = check_comment(s->comment, s->comment_len, err)))
        return rc;
    return check_has_content(s, err);
}

/* ---- parse ---- */

/* Copies a validated id-like string into dst (n < size guaranteed by the check). */
static void copy_str(char *dst, size_t size, const char *s, size_t n)
{
    if (n >= size)
        n = size - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* JSON strings only; null counts as absent for optional fields. */
static int get_id_field(json_t *root, const char *field, bool required, char *dst, size_t size,
                        struct hk_field_error *e)
{
    json_t *v = json_object_get(root, field);
    if (!v || (json_is_null(v) && !required))
        return check_id(field, "", 0, required, e);
    if (!json_is_string(v))
        return fail(e, "invalid_field", field, ID_RULE);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0) /* present but empty is a mistake, not an absence */
        return fail(e, "invalid_field", field, ID_RULE);
    int rc = check_id(field, s, n, required, e);
    if (!rc)
        copy_str(dst, size, s, n);
    return rc;
}

/* Canonical case: primary subtag lower, 2-letter region upper ("EN-gb" → "en-GB"). */
static void language_normalise(char *s)
{
    size_t part = 0, start = 0, n = strlen(s);
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '-')
            continue;
        for (size_t k = start; k < i; k++) {
            char c = s[k];
            if (part == 0 && c >= 'A' && c <= 'Z')
                s[k] = (char)(c - 'A' + 'a');
            else if (part > 0 && i - start == 2 && c >= 'a' && c <= 'z')
                s[k] = (char)(c - 'a' + 'A');
        }
        part++;
        start = i + 1;
    }
}

int hk_survey_validate_context(struct hk_survey *s, const struct hk_scenarios *scenarios,
                               struct hk_field_error *err)
{
    int rc;
    if ((rc = check_id("interaction_id", s->interaction_id,
                       strnlen(s->interaction_id, sizeof s->interaction_id), true, err)) ||
        (rc = check_id("agent_id", s->agent_id, strnlen(s->agent_id, sizeof s->agent_id), true,
                       err)) ||
        (rc = check_scenario(s->scenario, strnlen(s->scenario, sizeof s->scenario), scenarios,
                             err)) ||
        (rc =
             check_id("team_id", s->team_id, strnlen(s->team_id, sizeof s->team_id), false, err)) ||
        (rc =
             check_id("channel", s->channel, strnlen(s->channel, sizeof s->channel), false, err)) ||
        (rc = check_language(s->language, strnlen(s->language, sizeof s->language), err)))
        return rc;
    language_normalise(s->language);
    return 0;
}

/* Jansson's message can quote raw input; keep it printable ASCII so it is safe anywhere. */
static void json_error_message(const json_error_t *je, struct hk_field_error *e)
{
    char text[JSON_ERROR_TEXT_LENGTH];
    size_t k = 0;
    for (size_t i = 0; je->text[i] && k < sizeof text - 1; i++) {
        unsigned char c = (unsigned char)je->text[i];
        text[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    text[k] = '\0';
    fail(e, "invalid_json", "", "%.100s (line %d, column %d)", text, je->line, je->column);
}

static int parse_answers(json_t *obj, struct hk_survey *s, struct hk_field_error *e)
{
    const char *key;
    size_t klen;
    json_t *v;
    if (!json_is_object(obj))
        return fail(e, "invalid_field", "answers", "must be an object");
    json_object_keylen_foreach(obj, key, klen, v)
    {
        if (name_index(key, klen, hk_answer_names, HK_ANS_COUNT) < 0) {
            char field[64];
            field_name(field, sizeof field, "answers.", key, klen);
            return fail(e, "unknown_field", field,
                        "is not a known answer (nps, csat, ces, felt_heard, felt_valued)");
        }
    }
    for (int i = 0; i < HK_ANS_COUNT; i++) {
        v = json_object_get(obj, hk_answer_names[i]);
        if (!v || json_is_null(v))
            continue;
        /* integers only: 9.5, 9.0, "9" and true are all refused */
        long long x = json_is_integer(v) ? json_integer_value(v) : -1000;
        int rc = check_answer(i, x, e);
        if (rc)
            return rc;
        s->answers[i] = (int)x;
    }
    return 0;
}

static int parse_behaviors(json_t *obj, struct hk_survey *s, struct hk_field_error *e)
{
    const char *key;
    size_t klen;
    json_t *v;
    if (!json_is_object(obj))
        return fail(e, "invalid_field", "behaviors", "must be an object of behaviour: true|false");
    json_object_keylen_foreach(obj, key, klen, v)
    {
        char field[64];
        field_name(field, sizeof field, "behaviors.", key, klen);
        int i = hk_behavior_find(key, klen);
        if (i < 0)
            return fail(e, "invalid_field", field,
                        "is not a known behaviour (apologized, calm_tone, was_patient, ...)");
        if (json_is_null(v))
            continue;
        if (!json_is_boolean(v))
            return fail(e, "invalid_field", field, "must be true or false");
        s->behaviors[i] = json_is_true(v) ? 1 : 0;
    }
    return 0;
}

static int parse_object(json_t *root, const struct hk_scenarios *scenarios, int64_t now,
                        struct hk_survey *s, struct hk_field_error *e)
{
    const char *key;
    size_t klen;
    json_t *v;
    int rc;

    /* Unknown fields first: a typo like "answer" must not pass as a survey without answers. */
    json_object_keylen_foreach(root, key, klen, v)
    {
        if (name_index(key, klen, top_fields, sizeof top_fields / sizeof *top_fields) < 0) {
            char field[64];
            field_name(field, sizeof field, "", key, klen);
            return fail(e, "unknown_field", field, "is not a survey field");
        }
    }

    if ((rc = get_id_field(root, "interaction_id", true, s->interaction_id,
                           sizeof s->interaction_id, e)) ||
        (rc = get_id_field(root, "agent_id", true, s->agent_id, sizeof s->agent_id, e)))
        return rc;

    v = json_object_get(root, "scenario");
    if (!v)
        return fail(e, "missing_field", "scenario", "is required");
    if (!json_is_string(v))
        return fail(e, "invalid_field", "scenario", "must be a string naming a scenario");
    if ((rc = check_scenario(json_string_value(v), json_string_length(v), scenarios, e)))
        return rc;
    copy_str(s->scenario, sizeof s->scenario, json_string_value(v), json_string_length(v));

    if ((rc = get_id_field(root, "team_id", false, s->team_id, sizeof s->team_id, e)) ||
        (rc = get_id_field(root, "channel", false, s->channel, sizeof s->channel, e)))
        return rc;

    v = json_object_get(root, "language");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v))
            return check_language("", 0, e);
        if ((rc = check_language(json_string_value(v), json_string_length(v), e)))
            return rc;
        copy_str(s->language, sizeof s->language, json_string_value(v), json_string_length(v));
        language_normalise(s->language);
    }

    s->submitted_at = now;
    v = json_object_get(root, "submitted_at");
    if (v && !json_is_null(v)) {
        int64_t t;
        if (!json_is_string(v) || hk_rfc3339_parse(json_string_value(v), json_string_length(v), &t))
            return fail(e, "invalid_field", "submitted_at",
                        "must be an RFC 3339 date-time like 2026-11-25T10:04:00Z");
        if ((rc = check_submitted_at(t, now, e)))
            return rc;
        s->submitted_at = t;
    }

    v = json_object_get(root, "answers");
    if (v && !json_is_null(v) && (rc = parse_answers(v, s, e)))
        return rc;
    v = json_object_get(root, "behaviors");
    if (v && !json_is_null(v) && (rc = parse_behaviors(v, s, e)))
        return rc;

    v = json_object_get(root, "comment");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v))
            return fail(e, "invalid_field", "comment", "must be a string");
        const char *c = json_string_value(v);
        size_t n = json_string_length(v);
        if ((rc = check_comment(c, n, e)))
            return rc;
        if (!is_blank(c, n)) { /* a blank comment says nothing; store none */
            s->comment = malloc(n + 1);
            if (!s->comment)
                return HK_ERR_NOMEM;
            memcpy(s->comment, c, n);
            s->comment[n] = '\0';
            s->comment_len = n;
        }
    }
    return check_has_content(s, e);
}

/* ---- fast path: the collector's canonical JSON ----
 * The analyzer parses every stream entry, and jansson (a tree of malloc'd nodes per survey) was
 * half of its CPU. Entries are hk_survey_to_json's output: fixed key order, no whitespace, ids
 * without escapes. This reader takes exactly that shape and nothing else; any surprise (another
 * key order, whitespace, null, an escape it does not know, or any value a rule refuses) returns
 * 1 so the caller falls back to jansson, which then decides and words the error. So it only has
 * to agree with the generic path on what it accepts; tests/unit/test_survey.c checks both paths
 * over generated surveys and the invalid cases. */

struct fast {
    const char *p, *end;
};

static bool fast_lit(struct fast *f, const char *lit, size_t n)
{
    if ((size_t)(f->end - f->p) < n || memcmp(f->p, lit, n) != 0)
        return false;
    f->p += n;
    return true;
}

#define FAST_LIT(f, lit) fast_lit((f), (lit), sizeof(lit) - 1)

/* NAME": (the opening quote already taken); nothing is consumed unless it all matches. */
static bool fast_key(struct fast *f, const char *name)
{
    size_t n = strlen(name);
    if ((size_t)(f->end - f->p) < n + 2 || memcmp(f->p, name, n) != 0 || f->p[n] != '"' ||
        f->p[n + 1] != ':')
        return false;
    f->p += n + 2;
    return true;
}

/* A string without escapes or control characters; p is after the opening quote. */
static bool fast_plain(struct fast *f, const char **s, size_t *n)
{
    const char *q = f->p;
    while (q < f->end && *q != '"') {
        if (*q == '\\' || (unsigned char)*q < 0x20)
            return false;
        q++;
    }
    if (q == f->end)
        return false;
    *s = f->p;
    *n = (size_t)(q - f->p);
    f->p = q + 1;
    return true;
}

/* "KEY":"ID" with a valid id, copied into dst. */
static bool fast_id(struct fast *f, char *dst, size_t size)
{
    const char *s;
    size_t n;
    if (!fast_plain(f, &s, &n) || !id_valid(s, n) || n >= size)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The comment string, p after the opening quote, decoded into a malloc'd copy. Escapes: the
 * short ones and \u00XX below 0x80 except NUL (all hk_buf_append_json_str writes). 0 done,
 * 1 not canonical, HK_ERR_NOMEM. */
static int fast_comment(struct fast *f, struct hk_survey *out)
{
    const char *q = f->p;
    while (q < f->end && *q != '"')
        q += *q == '\\' && q + 1 < f->end ? 2 : 1;
    if (q >= f->end || (size_t)(q - f->p) > 6 * (size_t)HK_COMMENT_MAX)
        return 1;
    char *c = malloc((size_t)(q - f->p) + 1);
    if (!c)
        return HK_ERR_NOMEM;
    size_t n = 0;
    const char *r = f->p;
    while (r < q) {
        unsigned char ch = (unsigned char)*r;
        if (ch < 0x20)
            goto out_not_canonical;
        if (ch != '\\') {
            c[n++] = (char)ch;
            r++;
            continue;
        }
        char e = r[1];
        r += 2;
        switch (e) {
        case '"':
            c[n++] = '"';
            break;
        case '\\':
            c[n++] = '\\';
            break;
        case '/':
            c[n++] = '/';
            break;
        case 'b':
            c[n++] = '\b';
            break;
        case 'f':
            c[n++] = '\f';
            break;
        case 'n':
            c[n++] = '\n';
            break;
        case 'r':
            c[n++] = '\r';
            break;
        case 't':
            c[n++] = '\t';
            break;
        case 'u': {
            if (q - r < 4 || r[0] != '0' || r[1] != '0')
                goto out_not_canonical;
            int hi = hex_digit(r[2]), lo = hex_digit(r[3]);
            if (hi < 0 || lo < 0 || hi > 7 || (hi == 0 && lo == 0))
                goto out_not_canonical;
            c[n++] = (char)(hi * 16 + lo);
            r += 4;
            break;
        }
        default:
            goto out_not_canonical;
        }
    }
    c[n] = '\0';
    if (n > HK_COMMENT_MAX || !hk_utf8_valid(c, n))
        goto out_not_canonical;
    f->p = q + 1;
    if (is_blank(c, n)) { /* a blank comment says nothing; store none */
        free(c);
        return 0;
    }
    out->comment = c;
    out->comment_len = n;
    return 0;

out_not_canonical:
    free(c);
    return 1;
}

/* ,"answers":{"nps":9,...} in canonical order, each a plain integer in range. */
static bool fast_answers(struct fast *f, struct hk_survey *out)
{
    int next = 0;
    for (bool first = true;; first = false) {
        if (!first && !FAST_LIT(f, ","))
            return false;
        if (!FAST_LIT(f, "\""))
            return false;
        int i = next;
        while (i < HK_ANS_COUNT && !fast_key(f, hk_answer_names[i]))
            i++;
        if (i == HK_ANS_COUNT)
            return false;
        /* 0, or up to two digits without a leading zero: the ranges end at 10 */
        int v = 0, nd = 0;
        while (f->p < f->end && *f->p >= '0' && *f->p <= '9' && nd < 3) {
            v = v * 10 + (*f->p - '0');
            f->p++;
            nd++;
        }
        if (nd == 0 || nd > 2 || (nd == 2 && v < 10) || v < hk_answer_min[i] ||
            v > hk_answer_max[i])
            return false;
        out->answers[i] = v;
        next = i + 1;
        if (FAST_LIT(f, "}"))
            return true;
    }
}

/* ,"behaviors":{"apologized":true,...} in canonical order. */
static bool fast_behaviors(struct fast *f, struct hk_survey *out)
{
    int next = 0;
    for (bool first = true;; first = false) {
        if (!first && !FAST_LIT(f, ","))
            return false;
        if (!FAST_LIT(f, "\""))
            return false;
        int i = next;
        while (i < HK_BEH_COUNT && !fast_key(f, hk_behavior_names[i]))
            i++;
        if (i == HK_BEH_COUNT)
            return false;
        if (FAST_LIT(f, "true"))
            out->behaviors[i] = 1;
        else if (FAST_LIT(f, "false"))
            out->behaviors[i] = 0;
        else
            return false;
        next = i + 1;
        if (FAST_LIT(f, "}"))
            return true;
    }
}

int hk_survey_parse_canonical(const char *json, size_t len, const struct hk_scenarios *scenarios,
                              int64_t now, struct hk_survey *out)
{
    struct fast f = {json, json + len};
    const char *s;
    size_t n;
    int rc = 1;
    hk_survey_init(out);
    if (!FAST_LIT(&f, "{\"interaction_id\":\"") ||
        !fast_id(&f, out->interaction_id, sizeof out->interaction_id) ||
        !FAST_LIT(&f, ",\"agent_id\":\"") || !fast_id(&f, out->agent_id, sizeof out->agent_id) ||
        !FAST_LIT(&f, ",\"scenario\":\"") || !fast_id(&f, out->scenario, sizeof out->scenario) ||
        (scenarios && !hk_scenarios_has(scenarios, out->scenario, strlen(out->scenario))))
        goto out_clear;
    if (FAST_LIT(&f, ",\"team_id\":\"") && !fast_id(&f, out->team_id, sizeof out->team_id))
        goto out_clear;
    if (FAST_LIT(&f, ",\"channel\":\"") && !fast_id(&f, out->channel, sizeof out->channel))
        goto out_clear;
    if (!FAST_LIT(&f, ",\"language\":\"") || !fast_plain(&f, &s, &n) || !language_valid(s, n) ||
        n >= sizeof out->language)
        goto out_clear;
    memcpy(out->language, s, n);
    out->language[n] = '\0';
    language_normalise(out->language);
    int64_t t;
    if (!FAST_LIT(&f, ",\"submitted_at\":\"") || !fast_plain(&f, &s, &n) ||
        hk_rfc3339_parse(s, n, &t) || check_submitted_at(t, now, NULL))
        goto out_clear;
    out->submitted_at = t;
    if (FAST_LIT(&f, ",\"answers\":{") && !fast_answers(&f, out))
        goto out_clear;
    if (FAST_LIT(&f, ",\"behaviors\":{") && !fast_behaviors(&f, out))
        goto out_clear;
    if (FAST_LIT(&f, ",\"comment\":\"") && (rc = fast_comment(&f, out)) != 0)
        goto out_clear;
    rc = 1;
    if (!FAST_LIT(&f, "}") || f.p != f.end || check_has_content(out, NULL))
        goto out_clear;
    return 0;

out_clear:
    hk_survey_clear(out);
    return rc;
}

int hk_survey_parse(const char *json, size_t len, const struct hk_scenarios *scenarios, int64_t now,
                    struct hk_survey *out, struct hk_field_error *err)
{
    int rc = hk_survey_parse_canonical(json, len, scenarios, now, out);
    if (rc <= 0) {
        if (err)
            memset(err, 0, sizeof *err);
        return rc;
    }
    return hk_survey_parse_generic(json, len, scenarios, now, out, err);
}

int hk_survey_parse_generic(const char *json, size_t len, const struct hk_scenarios *scenarios,
                            int64_t now, struct hk_survey *out, struct hk_field_error *err)
{
    json_error_t je;
    hk_survey_init(out);
    if (err)
        memset(err, 0, sizeof *err);
    /* ALLOW_NUL so that \u0000 reaches our own check with a field name in the error */
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!root) {
        if (err)
            json_error_message(&je, err);
        return HK_ERR_INVALID;
    }
    int rc;
    if (!json_is_object(root))
        rc = fail(err, "invalid_json", "", "must be a JSON object");
    else
        rc = parse_object(root, scenarios, now, out, err);
    json_decref(root);
    if (rc)
        hk_survey_clear(out);
    return rc;
}

/* ---- output ---- */

int hk_survey_to_json(const struct hk_survey *s, struct hk_buf *out)
{
    size_t start = out->len;
    int rc = 0;
    char ts[21];
    hk_rfc3339_format(s->submitted_at, ts);

#define PUT(expr)                                                                                  \
    do {                                                                                           \
        if (!rc)                                                                                   \
            rc = (expr);                                                                           \
    } while (0)
#define PUT_FIELD(name, str)                                                                       \
    do {                                                                                           \
        PUT(hk_buf_append_str(out, ",\"" name "\":"));                                             \
        PUT(hk_buf_append_json_str(out, (str), strlen(str)));                                      \
    } while (0)

    PUT(hk_buf_append_str(out, "{\"interaction_id\":"));
    PUT(hk_buf_append_json_str(out, s->interaction_id, strlen(s->interaction_id)));
    PUT_FIELD("agent_id", s->agent_id);
    PUT_FIELD("scenario", s->scenario);
    if (s->team_id[0])
        PUT_FIELD("team_id", s->team_id);
    if (s->channel[0])
        PUT_FIELD("channel", s->channel);
    PUT_FIELD("language", s->language[0] ? s->language : "en");
    PUT_FIELD("submitted_at", ts);

    bool first = true;
    for (int i = 0; i < HK_ANS_COUNT; i++) {
        if (s->answers[i] < 0)
            continue;
        PUT(hk_buf_printf(out, "%s\"%s\":%d", first ? ",\"answers\":{" : ",", hk_answer_names[i],
                          s->answers[i]));
        first = false;
    }
    if (!first)
        PUT(hk_buf_append_char(out, '}'));

    first = true;
    for (int i = 0; i < HK_BEH_COUNT; i++) {
        if (s->behaviors[i] < 0)
            continue;
        PUT(hk_buf_printf(out, "%s\"%s\":%s", first ? ",\"behaviors\":{" : ",",
                          hk_behavior_names[i], s->behaviors[i] ? "true" : "false"));
        first = false;
    }
    if (!first)
        PUT(hk_buf_append_char(out, '}'));

    if (s->comment) {
        PUT(hk_buf_append_str(out, ",\"comment\":"));
        PUT(hk_buf_append_json_str(out, s->comment, s->comment_len));
    }
    PUT(hk_buf_append_char(out, '}'));
#undef PUT_FIELD
#undef PUT

    if (rc) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return rc;
}

int hk_field_error_to_json(const struct hk_field_error *e, struct hk_buf *out)
{
    size_t start = out->len;
    int rc = hk_buf_append_str(out, "{\"error\":{\"code\":");
    if (!rc)
        rc = hk_buf_append_json_str(out, e->code, strnlen(e->code, sizeof e->code));
    if (!rc)
        rc = hk_buf_append_str(out, ",\"field\":");
    size_t flen = strnlen(e->field, sizeof e->field);
    if (!rc)
        rc = flen ? hk_buf_append_json_str(out, e->field, flen) : hk_buf_append_str(out, "null");
    if (!rc)
        rc = hk_buf_append_str(out, ",\"message\":");
    if (!rc)
        rc = hk_buf_append_json_str(out, e->message, strnlen(e->message, sizeof e->message));
    if (!rc)
        rc = hk_buf_append_str(out, "}}");
    if (rc) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return rc;
}
