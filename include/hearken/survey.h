/* The survey (SPEC section 2): validation of what a customer or platform sends, and the
 * canonical JSON that goes on the stream. Pure: no I/O.
 *
 * Ownership: struct hk_survey owns its comment (malloc'd); hk_survey_clear frees it. */
#ifndef HEARKEN_SURVEY_H
#define HEARKEN_SURVEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hearken/behavior.h"
#include "hearken/buf.h"

#define HK_ID_MAX        128
#define HK_COMMENT_MAX   5000
#define HK_SCENARIOS_MAX 64

enum hk_answer {
    HK_ANS_NPS,
    HK_ANS_CSAT,
    HK_ANS_CES,
    HK_ANS_FELT_HEARD,
    HK_ANS_FELT_VALUED,
    HK_ANS_COUNT
};
/* "nps", "csat", "ces", "felt_heard", "felt_valued" with their ranges */
extern const char *const hk_answer_names[HK_ANS_COUNT];
extern const int hk_answer_min[HK_ANS_COUNT], hk_answer_max[HK_ANS_COUNT];

/* The configured scenario set (default: SPEC section 2's seven). */
struct hk_scenarios {
    size_t n;
    char names[HK_SCENARIOS_MAX][HK_ID_MAX + 1];
};
void hk_scenarios_default(struct hk_scenarios *s);
/* Comma-separated list; each name must be a valid id. HK_ERR_INVALID with message on error. */
int hk_scenarios_parse(struct hk_scenarios *s, const char *csv, char *err, size_t errlen);
bool hk_scenarios_has(const struct hk_scenarios *s, const char *name, size_t len);
/* Problem scenarios count toward the recovery rate: every scenario except "other". */
bool hk_scenario_is_problem(const char *name);

struct hk_survey {
    char interaction_id[HK_ID_MAX + 1];
    char agent_id[HK_ID_MAX + 1];
    char scenario[HK_ID_MAX + 1];
    char team_id[HK_ID_MAX + 1];    /* "" when absent */
    char channel[HK_ID_MAX + 1];    /* "" when absent */
    char language[16];              /* default "en" */
    int64_t submitted_at;           /* unix seconds, UTC */
    int answers[HK_ANS_COUNT];      /* -1 when absent */
    int8_t behaviors[HK_BEH_COUNT]; /* 1 ticked true, 0 ticked false, -1 not given */
    char *comment;                  /* NULL when absent; valid UTF-8, NUL-terminated */
    size_t comment_len;
};

/* The first problem found, for the JSON error body. */
struct hk_field_error {
    char code[32];     /* "invalid_json", "invalid_field", "missing_field", "unknown_field" */
    char field[64];    /* "answers.nps"; "" for invalid_json */
    char message[160]; /* "must be an integer from 0 to 10" */
};

void hk_survey_init(struct hk_survey *s);
void hk_survey_clear(struct hk_survey *s);

/* Parses and validates one survey JSON object. now is the server time used when
 * submitted_at is absent. Returns 0, HK_ERR_INVALID (err filled), or HK_ERR_NOMEM.
 * On error *out is left cleared. */
int hk_survey_parse(const char *json, size_t len, const struct hk_scenarios *scenarios, int64_t now,
                    struct hk_survey *out, struct hk_field_error *err);

/* The two halves of hk_survey_parse, for tests and benchmarks. _canonical is the fast reader:
 * any key order, whitespace, string escapes and null for optional fields (no allocation but the
 * comment); it returns 0 (parsed and valid, exactly as _generic would), 1 (anything it is unsure
 * of, or something a rule refuses: *out cleared; the generic path decides) or HK_ERR_NOMEM.
 * _generic is the jansson parser with hk_survey_parse's contract. */
int hk_survey_parse_canonical(const char *json, size_t len, const struct hk_scenarios *scenarios,
                              int64_t now, struct hk_survey *out);
int hk_survey_parse_generic(const char *json, size_t len, const struct hk_scenarios *scenarios,
                            int64_t now, struct hk_survey *out, struct hk_field_error *err);

/* Validates an already-filled struct (used by the form path): ids, ranges, scenario,
 * comment UTF-8 and length, at least one answer or a comment. */
int hk_survey_validate(const struct hk_survey *s, const struct hk_scenarios *scenarios,
                       struct hk_field_error *err);

/* Validates the context fields only (interaction_id, agent_id, scenario, team_id, channel,
 * language) by the same rules, and puts language in canonical case ("EN-gb" → "en-GB"): for
 * signed links, which carry the context of a survey not answered yet. */
int hk_survey_validate_context(struct hk_survey *s, const struct hk_scenarios *scenarios,
                               struct hk_field_error *err);

/* Canonical JSON for the stream: fixed key order, absent fields omitted, submitted_at as
 * RFC 3339 UTC. hk_survey_parse of this output gives back the same struct. */
int hk_survey_to_json(const struct hk_survey *s, struct hk_buf *out);

/* {"error":{"code":…,"field":…,"message":…}} */
int hk_field_error_to_json(const struct hk_field_error *e, struct hk_buf *out);

/* RFC 3339 helpers: parse "2026-11-25T10:04:00Z" / "+02:00" offsets / fractional seconds. */
int hk_rfc3339_parse(const char *s, size_t len, int64_t *out);
void hk_rfc3339_format(int64_t t, char out[21]); /* "2026-11-25T10:04:00Z" */
void hk_day_format(int64_t t, char out[11]);     /* "2026-11-25" (UTC) */

#endif
