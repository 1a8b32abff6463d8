/* Coaching and impact statistics (SPEC section 6): empirical-Bayes shrinkage of each agent
 * toward their team, the coaching queue's ranking, focus and missing-behaviour evidence, and
 * the interval helpers /v1/trends and /v1/impact use. Pure: rollup window sums in, numbers
 * out; the collector fetches the sums and writes the JSON. Checked by hand in
 * tests/unit/test_coaching.c.
 *
 * Ownership: results point into the caller's inputs (agent ids, keys) and own nothing else. */
#ifndef HEARKEN_COACHING_H
#define HEARKEN_COACHING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hearken/rollup.h"

/* ---- intervals ---- */
/* Wilson 95% interval of a proportion k/n (z = 1.96), in 0..1; false when n <= 0. */
bool hk_stat_wilson95(int64_t k, int64_t n, double *lo, double *hi);

/* ---- one dimension's moments on the common 0..1 scale ---- */
enum hk_coach_dim { HK_CD_FELT_HEARD, HK_CD_FELT_VALUED, HK_CD_ADVOCACY, HK_CD_EASE, HK_CD_COUNT };
/* "felt_heard", "felt_valued", "advocacy", "ease" */
extern const char *const hk_coach_dim_names[HK_CD_COUNT];

struct hk_moments {
    int64_t n;
    double mean; /* 0..1 */
    double var;  /* sample variance (n - 1), 0 below n = 2 */
};
/* A dimension of c on the 0..1 scale: stated answers 1..5 become (x - 1) / 4 (felt_heard and
 * felt_valued only, when stated is true), text scores -1..1 become (x + 1) / 2. */
void hk_coach_moments(const struct hk_rollup_counts *c, int dim, bool stated, struct hk_moments *m);

/* ---- empirical Bayes, normal-normal, within one team ---- */
struct hk_eb {
    double level;  /* the team's mean: every survey of its agents, sum n_i mean_i / sum n_i */
    double sigma2; /* pooled within-agent variance per survey, sum (n_i-1) var_i / sum (n_i-1) */
    double tau2;   /* between-agent variance of true levels, floored */
    size_t k;      /* agents (n_i >= 2) the variances came from */
};
/* Fits the team from its agents' moments (agents with n = 0 are ignored):
 * tau2 = max(tau2_floor, V - S) with V the sample variance of the agents' means and S the
 * mean of their sampling variances sigma2 / n_i, over the k agents with n_i >= 2 (tau2_floor
 * when k < 2). Returns false when no agent has n >= 1. */
bool hk_eb_fit(const struct hk_moments *agents, size_t nagents, double tau2_floor, struct hk_eb *t);
/* The agent's estimate shrunk toward the level: B = (sigma2/n) / (sigma2/n + tau2),
 * estimate = B level + (1 - B) mean. *shrink gets B (may be NULL). m->n must be >= 1. */
double hk_eb_estimate(const struct hk_eb *t, const struct hk_moments *m, double *shrink);

/* ---- behaviours: what the agent misses more often than the team ---- */
struct hk_coach_miss {
    int behavior;     /* enum hk_behavior */
    int64_t missed;   /* ticked "no" (:sn) + the comment said missing (:tn) */
    int64_t evidence; /* missed + ticked "yes" (:sy) + the comment said done (:tp) */
    double rate, team_rate;
    double excess; /* missed - team_rate * evidence: misses beyond the team's habit */
    double z;      /* excess / sqrt(evidence team_rate (1 - team_rate)); 0 when undefined */
};
/* Fills out[0..HK_BEH_COUNT) for the agent's counts against the team's, sorted by excess,
 * largest first. */
void hk_coach_misses(const struct hk_rollup_counts *agent, const struct hk_rollup_counts *team,
                     struct hk_coach_miss out[HK_BEH_COUNT]);
/* The suggested focus: the behaviour missed most beyond the team's rate when that is clear
 * (z >= 2: the data's answer), else the dimension's behaviour with the largest positive
 * excess, else the dimension's first behaviour (felt_heard: listened_actively,
 * did_not_interrupt, was_patient; felt_valued: apologized, showed_concern,
 * acknowledged_feelings, offered_goodwill; advocacy: offered_goodwill, showed_concern,
 * apologized; ease: made_no_assumptions, listened_actively, was_patient).
 * *from_data is false only for the last case. misses as hk_coach_misses wrote them. */
int hk_coach_focus(int dim, const struct hk_coach_miss misses[HK_BEH_COUNT], bool *from_data);

/* ---- the queue ---- */
struct hk_coach_agent {
    const char *id;
    size_t id_len;
    const char *team; /* NULL: no team (compared with everyone) */
    size_t team_len;
    struct hk_rollup_counts c; /* window sums of the agent */
};

struct hk_coach_opts {
    int64_t min_n;     /* agents with fewer surveys are "not enough data" */
    double tau2_floor; /* e.g. 1e-4 on the 0..1 scale (a between-agent sd of 0.01) */
};

struct hk_coach_item {
    size_t agent;   /* index into the agents */
    const char *id; /* the agent's id (agents[agent].id) */
    size_t id_len;
    int dim;     /* enum hk_coach_dim */
    bool stated; /* felt_heard / felt_valued from stated answers (else text) */
    double gain; /* (level - estimate) * n */
    int64_t n;   /* the agent's surveys in the window */
    int64_t dim_n;
    double raw, estimate, level, shrink; /* 0..1 scale */
    int focus;                           /* enum hk_behavior */
    bool focus_from_data;
    struct hk_coach_miss misses[HK_BEH_COUNT];
    const char *scenario; /* into the agent_scenario key, or NULL */
    size_t scenario_len;
};

/* Ranks agents: for each agent with n >= min_n and each dimension, the EB estimate within
 * the agent's team (teamless agents: within everyone) and gain = (level - estimate) * n; one
 * item per agent for its largest gain, kept only when that gain is > 0, best first (ties by
 * id). felt_heard / felt_valued use stated answers when all agents together have at least
 * min_n of them, else text scores. The scenario is the agent_scenario group (keys
 * "agent|scenario" in cells, may be NULL) where (scenario mean - agent's mean there) x
 * surveys there is largest and positive, with at least 3 answers; baseline the scenario
 * groups (may be NULL). items needs room for nagents; too_few (room for nagents) gets the
 * indexes of agents below min_n, in input order. Returns 0 or HK_ERR_NOMEM. */
int hk_coaching_rank(const struct hk_coach_agent *agents, size_t nagents,
                     const struct hk_rollup_window *cells, const struct hk_rollup_window *scenarios,
                     const struct hk_coach_opts *opts, struct hk_coach_item *items, size_t *nitems,
                     size_t *too_few, size_t *ntoo_few);

#endif
