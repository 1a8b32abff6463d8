/* Fuzz target: the comment scorer on arbitrary bytes, with the shipped English lexicon
 * (HK_SOURCE_DIR/lexicons, loaded once). Invariants: every dimension in [-1, 1] (sentiment always
 * present, absent ones 0); behaviours in {-1, 0, 1}; every cue's span inside the input with a
 * finite weight and a known dimension; an_score_to_json writes valid JSON with one cue object per
 * cue; scoring the same text twice gives the same JSON (the stem cache changes nothing). */
#include "fuzz.h"

#include "hearken/buf.h"
#include "hearken/err.h"
#include "hearken/score.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

static struct an_scorer *scorer;

static void init(void)
{
    char err[512];
    const char *dir = getenv("HEARKEN_LEXICONS");
    if (!dir || !*dir)
        dir = HK_SOURCE_DIR "/lexicons";
    struct an_lexicon *lex = an_lexicon_load(dir, "en", err, sizeof err);
    if (!lex) {
        fprintf(stderr, "fuzz_score: cannot load %s/en: %s\n", dir, err);
        abort();
    }
    scorer = an_scorer_create(lex); /* lexicon and scorer live for the whole process */
    CHECK(scorer != NULL);
}

static void check_score(const struct an_score *sc, size_t len)
{
    CHECK(sc->has[AN_DIM_SENTIMENT]);
    for (int d = 0; d < AN_DIM_COUNT; d++) {
        CHECK(isfinite(sc->dim[d]));
        CHECK(sc->dim[d] >= -1.0 && sc->dim[d] <= 1.0);
        CHECK(sc->has[d] || sc->dim[d] == 0.0);
    }
    for (int b = 0; b < HK_BEH_COUNT; b++)
        CHECK(sc->behavior[b] >= -1 && sc->behavior[b] <= 1);
    CHECK(sc->ncues == 0 || sc->cues != NULL);
    for (size_t c = 0; c < sc->ncues; c++) {
        const struct an_cue *cue = &sc->cues[c];
        CHECK(cue->start <= len && cue->len <= len - cue->start);
        CHECK(cue->len > 0);
        CHECK(cue->entry != NULL);
        CHECK(cue->dim >= 0 && cue->dim < AN_DIM_COUNT + HK_BEH_COUNT);
        CHECK(an_cue_dim_name(cue->dim) != NULL);
        CHECK(isfinite(cue->weight));
    }
}

static void check_json(const struct an_score *sc, const struct hk_buf *b)
{
    json_error_t je;
    json_t *j = json_loadb(b->data, b->len, JSON_ALLOW_NUL, &je); /* \u0000 is valid JSON */
    if (!j)
        fprintf(stderr, "score JSON invalid at %d: %s\n%s\n", je.position, je.text, b->data);
    CHECK(j != NULL);
    json_t *cues = json_object_get(j, "cues");
    CHECK(json_is_array(cues) && json_array_size(cues) == sc->ncues);
    for (size_t c = 0; c < sc->ncues; c++) {
        /* the printed cue says what the scorer used: same span, same weight to 4 decimals */
        const struct an_cue *cue = &sc->cues[c];
        json_t *o = json_array_get(cues, c);
        json_t *span = json_object_get(o, "span");
        CHECK(json_is_integer(json_array_get(span, 0)) && json_is_integer(json_array_get(span, 1)));
        CHECK(json_integer_value(json_array_get(span, 0)) == cue->start);
        CHECK(json_integer_value(json_array_get(span, 1)) == cue->len);
        json_t *w = json_object_get(o, "weight");
        CHECK(json_is_number(w));
        double got = json_number_value(w), want = cue->weight;
        if (fabs(got - want) > 1e-4 * (1 + fabs(want)))
            fprintf(stderr, "cue %zu weight printed %.17g, scored %.17g\n", c, got, want);
        CHECK(fabs(got - want) <= 1e-4 * (1 + fabs(want)));
    }
    for (int d = 0; d < AN_DIM_COUNT; d++) {
        json_t *v = json_object_get(j, an_dim_names[d]);
        CHECK(v != NULL);
        CHECK(sc->has[d] ? json_is_number(v) : json_is_null(v));
        if (json_is_number(v))
            CHECK(json_number_value(v) >= -1.0 && json_number_value(v) <= 1.0);
    }
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!scorer)
        init();
    const char *text = (const char *)data;
    struct an_score sc;
    int rc = an_scorer_score(scorer, text, size, &sc);
    CHECK(rc == 0 || rc == HK_ERR_INVALID);
    check_score(&sc, size);
    if (rc) {
        CHECK(sc.ncues == 0 && sc.dim[AN_DIM_SENTIMENT] == 0.0);
        return 0;
    }

    /* the id is JSON-escaped like the text; odd sizes use a hostile one */
    static const char id[] = "id-\"<&>\\\x01";
    struct hk_buf j1, j2;
    hk_buf_init(&j1, 64u << 20);
    hk_buf_init(&j2, 64u << 20);
    CHECK(an_score_to_json(&sc, text, size, size & 1 ? id : NULL, size & 1 ? sizeof id - 1 : 0,
                           &j1) == 0);
    check_json(&sc, &j1);

    CHECK(an_scorer_score(scorer, text, size, &sc) == 0);
    CHECK(an_score_to_json(&sc, text, size, size & 1 ? id : NULL, size & 1 ? sizeof id - 1 : 0,
                           &j2) == 0);
    if (j1.len != j2.len || memcmp(j1.data, j2.data, j1.len) != 0)
        fprintf(stderr, "second score differs:\n  %s\n  %s\n", j1.data, j2.data);
    CHECK(j1.len == j2.len && memcmp(j1.data, j2.data, j1.len) == 0);
    hk_buf_free(&j1);
    hk_buf_free(&j2);
    return 0;
}
