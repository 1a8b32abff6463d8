/* The comment scorer (SPEC section 5): pure text in, scores out. Never touches Redis.
 *
 * Ownership: an an_lexicon is loaded once, read-only afterwards, and may be shared by
 * many threads. An an_scorer is per thread (it owns a Snowball stemmer, a stem cache and
 * scratch space); the cues in an an_score point into the scorer's scratch and stay valid
 * until the next an_scorer_score call on that scorer. */
#ifndef HEARKEN_SCORE_H
#define HEARKEN_SCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hearken/behavior.h"
#include "hearken/buf.h"

enum an_dim {
    AN_DIM_SENTIMENT,
    AN_DIM_FELT_HEARD,
    AN_DIM_FELT_VALUED,
    AN_DIM_ADVOCACY,
    AN_DIM_EASE,
    AN_DIM_COUNT
};

/* "sentiment", "felt_heard", "felt_valued", "advocacy", "ease" */
extern const char *const an_dim_names[AN_DIM_COUNT];

struct an_cue {
    uint32_t start, len; /* byte span in the original comment */
    const char *entry;   /* the lexicon entry as written in its file (owned by the lexicon) */
    int dim;             /* an an_dim, or AN_DIM_COUNT + behaviour index for behaviour cues */
    double weight;       /* after rules (negation, boosters, contrast, emphasis) */
    bool negated;
};

struct an_score {
    double dim[AN_DIM_COUNT]; /* each in [-1, 1] */
    bool has[AN_DIM_COUNT];   /* false: no evidence (JSON null); sentiment is always true */
    int8_t behavior[HK_BEH_COUNT]; /* +1 done, -1 missing or done badly, 0 not mentioned */
    const struct an_cue *cues;
    size_t ncues;
};

struct an_lexicon;
struct an_scorer;

/* Loads lexicons/LANG from dir (e.g. "lexicons", "en"). On failure returns NULL and
 * writes "file:line: why" into err. */
struct an_lexicon *an_lexicon_load(const char *dir, const char *lang, char *err, size_t errlen);
void an_lexicon_destroy(struct an_lexicon *lex);
const char *an_lexicon_lang(const struct an_lexicon *lex);

struct an_scorer *an_scorer_create(const struct an_lexicon *lex);
void an_scorer_destroy(struct an_scorer *s);

/* Scores one comment. Returns 0, or HK_ERR_INVALID for invalid UTF-8 (out is then zeroed
 * with sentiment 0). */
int an_scorer_score(struct an_scorer *s, const char *text, size_t len, struct an_score *out);

/* Appends the SPEC section 5 line for one scored comment:
 * {"id":…,"sentiment":…,"felt_heard":…|null,…,"behaviors":{…},"cues":[…]}. id may be NULL. */
int an_score_to_json(const struct an_score *sc, const char *text, size_t len, const char *id,
                     size_t id_len, struct hk_buf *out);

#endif
