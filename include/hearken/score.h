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
#include <stdio.h>

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
    double dim[AN_DIM_COUNT];      /* each in [-1, 1] */
    bool has[AN_DIM_COUNT];        /* false: no evidence (JSON null); sentiment is always true */
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

/* An optional general-sentiment lexicon in another project's format, added to (or replacing)
 * the sentiment dimension. VADER: token<TAB>mean<TAB>sd<TAB>ratings (mean -4..+4 used as is);
 * AFINN: word-or-phrase<TAB>integer -5..+5 (scaled by 4/5). */
enum an_external_format { AN_EXT_NONE, AN_EXT_VADER, AN_EXT_AFINN };
struct an_lexicon_opts {
    const char *external;  /* path, or NULL */
    int external_format;   /* enum an_external_format */
    bool external_replace; /* true: skip sentiment*.tsv, the external file is the whole
                              sentiment lexicon; false: our files override it per entry */
};
/* an_lexicon_load with options; opts may be NULL. */
struct an_lexicon *an_lexicon_load_opts(const char *dir, const char *lang,
                                        const struct an_lexicon_opts *opts, char *err,
                                        size_t errlen);
/* Number of scored entries (all dimensions and behaviours) after stemming and merging. */
size_t an_lexicon_size(const struct an_lexicon *lex);
/* Checks dir/lang without stopping at the first problem: bad lines, duplicates after
 * stemming within a file, conflicting weights across files. Writes one "file:line: why"
 * line per finding to report; returns the number of findings (0 = clean), or a negative
 * HK_ERR_* when the folder cannot be read at all. */
int an_lexicon_lint(const char *dir, const char *lang, FILE *report);
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
/* The same, but id is already JSON text (a number, a quoted string, ...), copied verbatim. */
int an_score_to_json_raw_id(const struct an_score *sc, const char *text, size_t len,
                            const char *id_json, size_t id_json_len, struct hk_buf *out);
/* "sentiment".."ease", or "behaviors.apologized" etc. for an an_cue dim. */
const char *an_cue_dim_name(int dim);

#endif
