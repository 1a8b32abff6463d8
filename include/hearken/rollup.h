/* Rollups (SPEC section 6): what one scored survey adds to the per-day counters, the batch
 * accumulator and Lua apply script the analyzer commits with, and the read side that sums a
 * window of days into the /v1/rollups answer. Keys and field layout: common/rollup.c.
 *
 * Ownership: a struct hk_rollup_batch owns its keys and counters; the argv built by
 * hk_rollup_apply_argv points into the batch, the items and its own arenas, so it is
 * valid until any of them changes. Nothing here keeps a redisContext. */
#ifndef HEARKEN_ROLLUP_H
#define HEARKEN_ROLLUP_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hearken/behavior.h"
#include "hearken/buf.h"
#include "hearken/survey.h"

/* ---- groupings ---- */
enum hk_rollup_by {
    HK_BY_ALL,
    HK_BY_AGENT,
    HK_BY_TEAM,
    HK_BY_SCENARIO,
    HK_BY_AGENT_SCENARIO,
    HK_BY_BEHAVIOR_SCENARIO, /* impact: keys "BEHAVIOUR|done|SCENARIO", "…|not|…", SCENARIO "*" */
    HK_BY_AGENT_TEAM,        /* membership: keys "agent|team", field n only (coaching's teams) */
    HK_BY_COUNT
};
/* "all", "agent", "team", "scenario", "agent_scenario", "behavior_scenario", "agent_team" */
extern const char *const hk_rollup_by_names[HK_BY_COUNT];

/* by: one of hk_rollup_by_names; returns the enum or -1. */
int hk_rollup_by_parse(const char *s);

/* The longest window hk_rollups_query sums (a leap year). */
#define HK_ROLLUP_MAX_DAYS 366

/* ---- counter fields (one integer hash field each; names in hk_rollup_field_names) ---- */
enum hk_rollup_field {
    HK_RF_N,
    HK_RF_NPS_PRO,
    HK_RF_NPS_PAS,
    HK_RF_NPS_DET,
    HK_RF_CSAT_N,
    HK_RF_CSAT_TOP2,
    HK_RF_CES_N,
    HK_RF_CES_SUM,
    HK_RF_CES_SQ,
    HK_RF_FH_S_N, /* felt_heard, stated answer 1..5 */
    HK_RF_FH_S_SUM,
    HK_RF_FH_S_SQ,
    HK_RF_FH_T_N, /* felt_heard, text score in milli-units; squares in micro-units */
    HK_RF_FH_T_SUM,
    HK_RF_FH_T_SQ,
    HK_RF_FV_S_N,
    HK_RF_FV_S_SUM,
    HK_RF_FV_S_SQ,
    HK_RF_FV_T_N,
    HK_RF_FV_T_SUM,
    HK_RF_FV_T_SQ,
    HK_RF_ADV_N,
    HK_RF_ADV_POS,
    HK_RF_ADV_NEG,
    HK_RF_ADV_SUM,
    HK_RF_ADV_SQ,
    HK_RF_EASE_N,
    HK_RF_EASE_SUM,
    HK_RF_EASE_SQ,
    HK_RF_SENT_N,
    HK_RF_SENT_SUM,
    HK_RF_SENT_SQ,
    HK_RF_REC_N,
    HK_RF_REC_PRO,
    HK_RF_BEH_BASE, /* + 4*behaviour + one of enum hk_rollup_beh_field */
    HK_RF_COUNT = HK_RF_BEH_BASE + 4 * HK_BEH_COUNT
};
enum hk_rollup_beh_field { HK_RB_STATED_YES, HK_RB_STATED_NO, HK_RB_TEXT_POS, HK_RB_TEXT_NEG };
#define HK_RF_BEH(b, f) (HK_RF_BEH_BASE + 4 * (b) + (f))

/* "n", "nps_pro", ..., "apologized:sy", ... (static strings, index = enum hk_rollup_field) */
extern const char *const hk_rollup_field_names[HK_RF_COUNT];
/* Index of a field name, or -1 (unknown fields are ignored when summing). */
int hk_rollup_field_find(const char *name, size_t len);

/* Counters of one group: one day's hash, a batch's increments or a window's sum. */
struct hk_rollup_counts {
    int64_t v[HK_RF_COUNT];
};

/* ---- what one scored survey adds ---- */
/* Text dimensions in the scorer's order (enum an_dim in score.h). */
enum hk_text_dim {
    HK_TXT_SENTIMENT,
    HK_TXT_FELT_HEARD,
    HK_TXT_FELT_VALUED,
    HK_TXT_ADVOCACY,
    HK_TXT_EASE,
    HK_TXT_COUNT
};

/* The text scores of one comment in fixed point, so sums are exact and order-independent. */
struct hk_rollup_text {
    bool scored;                 /* false: no comment, nothing from text counts */
    bool has[HK_TXT_COUNT];      /* false: no evidence for the dimension (JSON null) */
    int32_t milli[HK_TXT_COUNT]; /* round(score * 1000), -1000..1000 */
    int8_t behavior[HK_BEH_COUNT];
};

/* Converts a score in [-1, 1] to milli-units, clamped. */
int32_t hk_rollup_milli(double score);

/* Fills c with the increments of one survey (c is zeroed first). */
void hk_rollup_survey_counts(const struct hk_survey *s, const struct hk_rollup_text *t,
                             struct hk_rollup_counts *c);

/* ---- the batch accumulator: key -> counters, no allocation per field ---- */
struct hk_rollup_batch;

struct hk_rollup_entry {
    const char *key; /* PREFIX r:DAY:GROUPING:KEY (the hash) */
    size_t key_len;
    const char *index_key; /* PREFIX ri:DAY:GROUPING (the set listing the day's keys) */
    size_t index_key_len;
    const char *member; /* KEY, as added to the index set */
    size_t member_len;
    struct hk_rollup_counts c;
};

struct hk_rollup_batch *hk_rollup_batch_create(const char *prefix);
void hk_rollup_batch_destroy(struct hk_rollup_batch *b);
/* Forgets every entry; keeps the allocations for the next batch. */
void hk_rollup_batch_reset(struct hk_rollup_batch *b);
/* Adds one survey's counters to each of its groups (team is skipped when team_id is empty;
 * behavior_scenario gets one group per behaviour with evidence, per scenario and "*"). */
int hk_rollup_batch_add(struct hk_rollup_batch *b, const struct hk_survey *s,
                        const struct hk_rollup_counts *c);
size_t hk_rollup_batch_count(const struct hk_rollup_batch *b);
/* Coaching evidence: one survey's negative cue, member "DIMENSION|ENTRY" (count it once per
 * survey), for the (day, agent) sorted set. */
struct hk_rollup_cue {
    const char *key; /* PREFIX rc:DAY:AGENT */
    size_t key_len;
    const char *member;
    size_t member_len;
    int64_t n; /* surveys */
};
int hk_rollup_batch_add_cue(struct hk_rollup_batch *b, const struct hk_survey *s,
                            const char *member, size_t member_len);
size_t hk_rollup_batch_cue_count(const struct hk_rollup_batch *b);
const struct hk_rollup_cue *hk_rollup_batch_cue(const struct hk_rollup_batch *b, size_t i);

/* "done", "not" or NULL (no evidence) for behaviour beh of one survey's counters: the
 * customer's tick decides, else the comment's signal. */
const char *hk_rollup_behavior_state(const struct hk_rollup_counts *c, int beh);
/* Entry i in insertion order; valid until the next add or reset. */
const struct hk_rollup_entry *hk_rollup_batch_entry(const struct hk_rollup_batch *b, size_t i);

/* ---- the atomic apply (Lua) ---- */
/* The script text (see the contract above it in common/rollup.c). */
extern const char hk_rollup_apply_lua[];

/* One stream entry of a batch, as the apply script sees it. */
struct hk_rollup_item {
    const char *id; /* stream id */
    size_t id_len;
    bool dead; /* true: dead-letter it (reason, survey) instead of counting it */
    const char *reason;
    size_t reason_len;
    const char *survey; /* dead: the entry's survey field as read (may be empty) */
    size_t survey_len;
};

/* An argv for redisCommandArgv / redisAppendCommandArgv. */
struct hk_rollup_argv {
    const char **argv;
    size_t *argvlen;
    size_t argc, cap;
    struct hk_buf nums;                /* the decimal numbers argv points at */
    struct hk_buf pack;                /* the MessagePack arguments argv points at */
    const struct hk_rollup_cue **cues; /* scratch: the batch's cue counts by sorted set */
    size_t cues_cap;
};

void hk_rollup_argv_init(struct hk_rollup_argv *av);
void hk_rollup_argv_free(struct hk_rollup_argv *av);

/* Builds EVALSHA sha ... for the items and the batch's increments and cue counts (the
 * increments and cue counts as MessagePack arguments; layout above the script). */
int hk_rollup_apply_argv(struct hk_rollup_argv *av, const char *sha, const char *stream_key,
                         const char *dead_key, const char *group,
                         const struct hk_rollup_item *items, size_t nitems,
                         const struct hk_rollup_batch *b);

/* ---- statistics (pure; hand-checked in tests/unit/test_rollup.c) ---- */
/* Two-sided 95% critical value for a mean of n values: Student's t (n-1 df) below 30, else
 * 1.96. Returns 0 for n < 2. */
double hk_stat_t95(int64_t n);
/* NPS = 100 (p - d) / n and its standard error 100 sqrt((p/n + d/n - (p/n - d/n)^2) / n).
 * Returns false (outputs untouched) when n = p + pa + d is 0. */
bool hk_stat_nps(int64_t p, int64_t pa, int64_t d, double *score, double *se);
/* Mean and 95% interval of n values given their exact sum and sum of squares, both in units
 * of 1/scale (scale 1 for answers, 1000 for milli-unit text scores, squares in 1/scale^2).
 * The interval is clamped to [lo_bound, hi_bound], the scale's range.
 * Returns the number of outputs set: 0 (n = 0), 1 (mean only, n = 1), 2 (mean and interval). */
int hk_stat_mean_ci(int64_t n, int64_t sum, int64_t sumsq, double scale, double lo_bound,
                    double hi_bound, double *mean, double *lo, double *hi);

/* ---- the read side ---- */
/* Adds one HGETALL's field/value pairs into c (argv style: fields[i], values[i]). Unknown
 * fields are ignored; a value that is not an integer returns HK_ERR_INVALID after adding the
 * rest. */
int hk_rollup_counts_add_fields(struct hk_rollup_counts *c, size_t npairs,
                                const char *const *fields, const size_t *field_lens,
                                const char *const *values, const size_t *value_lens);
/* Appends one group object of the /v1/rollups answer for key and its window sums. */
int hk_rollup_group_json(const char *key, size_t key_len, const struct hk_rollup_counts *c,
                         struct hk_buf *out);

/* Sums days from_day..to_day (unix seconds, any time of day; whole UTC days, inclusive) for
 * one grouping and appends the SPEC section 9 JSON to out: groups sorted by key (bytewise),
 * groups with n = 0 left out. Pipelined: one round trip for the days' index sets, then one
 * per 256 hashes. Returns 0, HK_ERR_UNAVAILABLE (an I/O error: c->err is set and the context
 * is dead; or an error reply, the context still in step), HK_ERR_INVALID (window backwards or
 * longer than HK_ROLLUP_MAX_DAYS, or by unknown), HK_ERR_NOMEM/TOO_LARGE (out was not
 * completed). The context is never left out of step without c->err set. */
int hk_rollups_query(redisContext *c, const char *prefix, int by, int64_t from_day, int64_t to_day,
                     struct hk_buf *out);

/* One group's window sums; key points into the window's names. */
struct hk_rollup_group {
    const char *key;
    size_t key_len;
    struct hk_rollup_counts c;
};
/* The groups of one grouping summed over a window, sorted by key (bytewise), n = 0 left out.
 * Owns its keys and groups; hk_rollup_window_free releases them (and accepts a zeroed one). */
struct hk_rollup_window {
    struct hk_rollup_group *groups;
    size_t ngroups;
    struct hk_buf names;
};
/* The summation behind hk_rollups_query (same round trips and errors), for callers that
 * compute on the sums: trends, impact, coaching. w is initialised here. */
int hk_rollup_window_collect(redisContext *c, const char *prefix, int by, int64_t from_day,
                             int64_t to_day, struct hk_rollup_window *w);
void hk_rollup_window_free(struct hk_rollup_window *w);
/* The group called key, or NULL (binary search). */
const struct hk_rollup_group *hk_rollup_window_find(const struct hk_rollup_window *w,
                                                    const char *key, size_t key_len);
/* One group's counters per day: days[i] (zeroed here) gets day from_day + i, for every day of
 * the window (at most HK_ROLLUP_MAX_DAYS; days must have room). One pipelined round trip per
 * 256 days. Errors as hk_rollups_query. */
int hk_rollup_days_query(redisContext *c, const char *prefix, int by, const char *key,
                         size_t key_len, int64_t from_day, int64_t to_day,
                         struct hk_rollup_counts *days);

/* Coaching evidence: sums the agent's negative-cue sets over days from_day..to_day and
 * appends {"agent":…,"from":…,"to":…,"cues":[{"dimension":…,"entry":…,"surveys":n},…]}, at
 * most limit cues, most frequent first (ties by name). Errors as hk_rollups_query. */
int hk_rollup_cues_query(redisContext *c, const char *prefix, const char *agent, size_t agent_len,
                         int64_t from_day, int64_t to_day, size_t limit, struct hk_buf *out);
/* The "cues" array from member/count pairs ("DIMENSION|ENTRY"; repeats are summed). */
int hk_rollup_cues_json(const char *const *members, const size_t *lens, const int64_t *counts,
                        size_t n, size_t limit, struct hk_buf *out);

#endif
