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

/* The interaction's context: the fields a survey link carries. */
static int check_context(const struct hk_survey *s, const struct hk_scenarios *scenarios,
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
    return 0;
}

int hk_survey_validate(const struct hk_survey *s, const struct hk_scenarios *scenarios,
                       struct hk_field_error *err)
{
    int rc;
    if ((rc = check_context(s, scenarios, err)) ||
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
    int rc = check_context(s, scenarios, err);
    if (rc)
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

/* ---- fast path: surveys read without jansson ----
 * jansson builds a tree of malloc'd nodes per survey: half of the analyzer's CPU on stream
 * entries, and of the collector's on client posts, whose key order and whitespace vary. This
 * reader takes any JSON layout of a survey object (keys in any order, whitespace, string
 * escapes, null for optional fields) and allocates nothing but the comment. Anything it is not
 * sure of (an unknown, escaped or repeated key, a number other than a small plain integer,
 * \u0000, any value a rule refuses) returns 1 so the caller falls back to jansson, which then
 * decides and words the error. So it only has to agree with the generic path on what it
 * accepts; tests/unit/test_survey.c checks both paths over generated surveys of every layout,
 * their mutations and the invalid cases. */

struct fast {
    const char *p, *end;
};

/* Called between every two tokens, so inlined, and the next token tried before any space. */
static inline __attribute__((always_inline)) void fast_ws(struct fast *f)
{
    while (f->p < f->end && (unsigned char)*f->p <= ' ' &&
           (*f->p == ' ' || *f->p == '\n' || *f->p == '\r' || *f->p == '\t'))
        f->p++;
}

/* Skips JSON whitespace, then takes c if it comes next. */
static inline __attribute__((always_inline)) bool fast_char(struct fast *f, char c)
{
    if (f->p < f->end && *f->p == c) {
        f->p++;
        return true;
    }
    fast_ws(f);
    if (f->p < f->end && *f->p == c) {
        f->p++;
        return true;
    }
    return false;
}

/* A literal like null at p (whitespace already skipped); what follows is checked by the caller,
 * which wants a , or } next. */
static bool fast_lit(struct fast *f, const char *lit, size_t n)
{
    if ((size_t)(f->end - f->p) < n || memcmp(f->p, lit, n) != 0)
        return false;
    f->p += n;
    return true;
}

#define FAST_LIT(f, lit) fast_lit((f), (lit), sizeof(lit) - 1)

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

/* The four hex digits of a \u escape at q, or -1. */
static long hex4(const char *q, const char *end)
{
    if (end - q < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(q[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* The string whose opening quote was just taken: *s, *n are its bytes, pointing into the input
 * when it has no escapes, else decoded into buf (cap bytes; decoding never lengthens). false
 * when it is unterminated, holds a control byte, a bad escape, a lone surrogate or \u0000, or
 * does not fit. Bytes are not checked as UTF-8 here: every caller's rule refuses non-ASCII or
 * checks UTF-8 itself, and escapes only ever write whole characters, so valid output means the
 * raw bytes were valid too (jansson refuses invalid raw UTF-8). */
static bool fast_str(struct fast *f, char *buf, size_t cap, const char **s, size_t *n)
{
    const char *q = f->p;
    while (q < f->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
        q++;
    if (q < f->end && *q == '"') {
        *s = f->p;
        *n = (size_t)(q - f->p);
        f->p = q + 1;
        return true;
    }
    size_t k = (size_t)(q - f->p);
    if (q == f->end || *q != '\\' || k > cap)
        return false;
    memcpy(buf, f->p, k);
    while (q < f->end) {
        unsigned char c = (unsigned char)*q;
        if (c == '"') {
            *s = buf;
            *n = k;
            f->p = q + 1;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c != '\\') {
            if (k == cap)
                return false;
            buf[k++] = (char)c;
            q++;
            continue;
        }
        if (f->end - q < 2)
            return false;
        char e = q[1];
        q += 2;
        long cp;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            cp = e;
            break;
        case 'b':
            cp = '\b';
            break;
        case 'f':
            cp = '\f';
            break;
        case 'n':
            cp = '\n';
            break;
        case 'r':
            cp = '\r';
            break;
        case 't':
            cp = '\t';
            break;
        case 'u':
            cp = hex4(q, f->end);
            q += 4;
            if (cp <= 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
                return false;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                long lo = f->end - q >= 6 && q[0] == '\\' && q[1] == 'u' ? hex4(q + 2, f->end) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return false;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                q += 6;
            }
            break;
        default:
            return false;
        }
        size_t need = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        if (cap - k < need)
            return false;
        if (need == 1) {
            buf[k++] = (char)cp;
        } else {
            static const unsigned char lead[5] = {0, 0, 0xC0, 0xE0, 0xF0};
            buf[k++] = (char)(lead[need] | (cp >> (6 * (need - 1))));
            for (size_t i = need - 1; i > 0; i--)
                buf[k++] = (char)(0x80 | ((cp >> (6 * (i - 1))) & 0x3F));
        }
    }
    return false;
}

/* An object key (whitespace, its quote and the colon after it included) looked up in names,
 * trying names[hint] first: keys mostly come in canonical order. A key matches a name only if
 * its bytes are exactly the name's then a quote, so an escaped or unknown key gives -1. */
static int fast_key(struct fast *f, const char *const *names, int count, int hint)
{
    if (!fast_char(f, '"'))
        return -1;
    const char *k = f->p;
    size_t room = (size_t)(f->end - k);
    for (int n = 0, i = hint < count ? hint : 0; n < count; n++, i = i + 1 < count ? i + 1 : 0) {
        const char *name = names[i];
        if (room == 0 || name[0] != k[0])
            continue;
        size_t j = 1;
        while (name[j] && j < room && name[j] == k[j])
            j++;
        if (!name[j] && j < room && k[j] == '"') {
            f->p = k + j + 1;
            return fast_char(f, ':') ? i : -1;
        }
    }
    return -1;
}

/* A value that may be null: true (and taken) when it is; nothing but whitespace is taken
 * otherwise. */
static bool fast_null(struct fast *f)
{
    fast_ws(f);
    return FAST_LIT(f, "null");
}

/* An id into dst; null allowed only for an optional one (dst stays ""). Ids rarely hold
 * escapes, so the plain ones are checked as they are scanned. */
static bool fast_id(struct fast *f, bool required, char *dst, size_t size)
{
    if (!required && fast_null(f))
        return true;
    if (!fast_char(f, '"'))
        return false;
    char buf[HK_ID_MAX];
    const char *s = f->p, *q = f->p;
    size_t n;
    while (q < f->end && id_char((unsigned char)*q))
        q++;
    if (q < f->end && *q == '"') {
        n = (size_t)(q - s);
        f->p = q + 1;
        if (n < 1 || n > HK_ID_MAX)
            return false;
    } else {
        if (!fast_str(f, buf, sizeof buf, &s, &n) || !id_valid(s, n))
            return false;
    }
    if (n >= size)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

/* The comment string into a malloc'd copy. 0 done, 1 fall back, HK_ERR_NOMEM. */
static int fast_comment(struct fast *f, struct hk_survey *out)
{
    if (fast_null(f))
        return 0;
    if (!fast_char(f, '"'))
        return 1;
    const char *q = f->p;
    while (q < f->end && *q != '"')
        q += *q == '\\' && q + 1 < f->end ? 2 : 1;
    size_t raw = (size_t)(q - f->p);
    if (q >= f->end || raw > 6 * (size_t)HK_COMMENT_MAX)
        return 1;
    char *c = malloc(raw + 1);
    if (!c)
        return HK_ERR_NOMEM;
    const char *s;
    size_t n;
    if (!fast_str(f, c, raw, &s, &n) || n > HK_COMMENT_MAX)
        goto out_fall_back;
    if (s != c)
        memcpy(c, s, n);
    c[n] = '\0';
    if (!hk_utf8_valid(c, n))
        goto out_fall_back;
    if (is_blank(c, n)) { /* a blank comment says nothing; store none */
        free(c);
        return 0;
    }
    out->comment = c;
    out->comment_len = n;
    return 0;

out_fall_back:
    free(c);
    return 1;
}

/* Calls one(f, out, index) for each key of an object of known names (the opening brace not yet
 * taken), refusing unknown and repeated keys. */
#define FAST_OBJECT(f, names, count, one)                                                          \
    do {                                                                                           \
        unsigned seen = 0;                                                                         \
        int hint = 0;                                                                              \
        if (!fast_char(f, '{'))                                                                    \
            return false;                                                                          \
        if (fast_char(f, '}'))                                                                     \
            return true;                                                                           \
        do {                                                                                       \
            int i = fast_key(f, names, count, hint);                                               \
            if (i < 0 || (seen & (1u << i)))                                                       \
                return false;                                                                      \
            seen |= 1u << i;                                                                       \
            hint = i + 1;                                                                          \
            if (!(one))                                                                            \
                return false;                                                                      \
        } while (fast_char(f, ','));                                                               \
        return fast_char(f, '}');                                                                  \
    } while (0)

/* An answer: null, or an integer in range written plainly (0, or one or two digits without a
 * leading zero: the ranges end at 10). */
static bool fast_answer(struct fast *f, struct hk_survey *out, int i)
{
    if (fast_null(f))
        return true;
    if (f->p == f->end || *f->p < '0' || *f->p > '9')
        return false;
    int v = *f->p++ - '0';
    if (v > 0 && f->p < f->end && *f->p >= '0' && *f->p <= '9')
        v = v * 10 + (*f->p++ - '0');
    if (v < hk_answer_min[i] || v > hk_answer_max[i])
        return false;
    out->answers[i] = v;
    return true;
}

static bool fast_answers(struct fast *f, struct hk_survey *out)
{
    if (fast_null(f))
        return true;
    FAST_OBJECT(f, hk_answer_names, HK_ANS_COUNT, fast_answer(f, out, i));
}

static bool fast_behavior(struct fast *f, struct hk_survey *out, int i)
{
    if (fast_null(f))
        return true;
    if (FAST_LIT(f, "true"))
        out->behaviors[i] = 1;
    else if (FAST_LIT(f, "false"))
        out->behaviors[i] = 0;
    else
        return false;
    return true;
}

static bool fast_behaviors(struct fast *f, struct hk_survey *out)
{
    if (fast_null(f))
        return true;
    FAST_OBJECT(f, hk_behavior_names, HK_BEH_COUNT, fast_behavior(f, out, i));
}

/* One top-level field (index into top_fields), its key already taken. 0, 1 or HK_ERR_NOMEM. */
static int fast_field(struct fast *f, int field, const struct hk_scenarios *scenarios, int64_t now,
                      struct hk_survey *out)
{
    char buf[64];
    const char *s;
    size_t n;
    int64_t t;
    switch (field) {
    case 0:
        return !fast_id(f, true, out->interaction_id, sizeof out->interaction_id);
    case 1:
        return !fast_id(f, true, out->agent_id, sizeof out->agent_id);
    case 2:
        return !fast_id(f, true, out->scenario, sizeof out->scenario) ||
               (scenarios && !hk_scenarios_has(scenarios, out->scenario, strlen(out->scenario)));
    case 3:
        return !fast_id(f, false, out->team_id, sizeof out->team_id);
    case 4:
        return !fast_id(f, false, out->channel, sizeof out->channel);
    case 5:
        if (fast_null(f))
            return 0;
        if (!fast_char(f, '"') || !fast_str(f, buf, sizeof buf, &s, &n) || !language_valid(s, n) ||
            n >= sizeof out->language)
            return 1;
        memcpy(out->language, s, n);
        out->language[n] = '\0';
        language_normalise(out->language);
        return 0;
    case 6:
        if (fast_null(f))
            return 0;
        if (!fast_char(f, '"') || !fast_str(f, buf, sizeof buf, &s, &n) ||
            hk_rfc3339_parse(s, n, &t) || check_submitted_at(t, now, NULL))
            return 1;
        out->submitted_at = t;
        return 0;
    case 7:
        return !fast_answers(f, out);
    case 8:
        return !fast_behaviors(f, out);
    default:
        return fast_comment(f, out);
    }
}

int hk_survey_parse_canonical(const char *json, size_t len, const struct hk_scenarios *scenarios,
                              int64_t now, struct hk_survey *out)
{
    struct fast f = {json, json + len};
    unsigned seen = 0;
    int rc = 1, hint = 0;
    hk_survey_init(out);
    out->submitted_at = now;
    if (!fast_char(&f, '{'))
        goto out_clear;
    do {
        int i = fast_key(&f, top_fields, (int)(sizeof top_fields / sizeof *top_fields), hint);
        if (i < 0 || (seen & (1u << i)))
            goto out_clear;
        seen |= 1u << i;
        hint = i + 1;
        if ((rc = fast_field(&f, i, scenarios, now, out)) != 0)
            goto out_clear;
        rc = 1;
    } while (fast_char(&f, ','));
    if (!fast_char(&f, '}'))
        goto out_clear;
    fast_ws(&f);
    if (f.p != f.end || (seen & 7u) != 7u || check_has_content(out, NULL))
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
