/* The comment scorer: tokens -> stem cache -> longest lexicon match -> rules (negation scope,
 * boosters, contrast, emphasis) -> per-dimension sums normalised to [-1, 1], plus the cues that
 * explain them and their SPEC section 5 JSON line. Pure: no I/O, no Redis. */
#include "scorer_internal.h"

#include "hearken/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rule constants; lexicons/README.md explains each with an example. */
#define NEG_SCOPE            4       /* words a negator reaches, unless the clause ends first */
#define NEG_FACTOR           (-0.74) /* "didn't listen": the cue flips and weakens */
#define COMMA_KEEPS_NEGATION 0   /* 1: a comma would not end a negation (lists); measured worse */
#define BOOST_SCOPE          3   /* words between a booster and the cue it modifies */
#define BOOST_STEP           0.2 /* multiplier = 1 + 0.2 x booster weight */
#define BOOST_MAX            2.5 /* bounds of stacked boosters */
#define BOOST_MIN            0.2
#define CAPS_FACTOR          1.35 /* ALL CAPS cue in a comment that is not all caps */
#define ELONG_FACTOR         1.15 /* "soooo good" */
#define BANG_STEP            0.2  /* per '!' in the sentence, up to 4 */
#define BEFORE_CONTRAST      0.5  /* cues before "but" */
#define AFTER_CONTRAST       1.5  /* cues after "but", or after an "although" clause */
#define CONCEDE_FACTOR       0.5  /* cues inside an "although" clause */
#define FOCUS_TO_SENTIMENT   0.4 /* a focused cue with no sentiment entry still colours sentiment */
#define ALPHA_SENTIMENT      15.0 /* x / sqrt(x^2 + alpha) */
#define ALPHA_FOCUS          6.0

#define CACHE_SLOTS     (1u << 16)
#define CACHE_MAX_WORDS (CACHE_SLOTS / 2)
#define CACHE_ARENA     (1u << 20)

struct cache_slot {
    uint64_t w8;   /* the word's first 8 bytes, zero padded: most words compare in one go */
    uint32_t lk;   /* length << 8 | token kind; 0 = empty */
    uint32_t off;  /* the word in the scorer's arena */
    uint32_t key;  /* AN_KEY_NONE: known not to match */
    uint32_t root; /* the trie node of the word alone: 0 when no phrase starts with it */
    uint8_t flags; /* AN_TF_ELONG */
    uint8_t match; /* enum an_tok_match */
};

struct an_scorer {
    const struct an_lexicon *lex;
    struct an_stemmer *st;
    struct an_tokens toks;
    struct cache_slot *slots;
    size_t nwords;
    char *words;
    size_t wlen;
    bool stem_all; /* testing: stem every word, prefilter off */
    struct an_cue *cues;
    float *feed; /* per cue: share of its weight added to sentiment */
    size_t ncues, ccues;
    uint8_t *follow; /* per key id: 1 when it is a later word of some phrase */
};

/* Names with their lengths: the JSON writer copies them without strlen. */
#define DIM_NAME(s)                                                                                \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }
static const struct {
    const char *s;
    uint8_t n;
} cue_dim_names[AN_DIM_COUNT + HK_BEH_COUNT] = {
    DIM_NAME("sentiment"),
    DIM_NAME("felt_heard"),
    DIM_NAME("felt_valued"),
    DIM_NAME("advocacy"),
    DIM_NAME("ease"),
    DIM_NAME("behaviors.apologized"),
    DIM_NAME("behaviors.acknowledged_feelings"),
    DIM_NAME("behaviors.showed_concern"),
    DIM_NAME("behaviors.offered_goodwill"),
    DIM_NAME("behaviors.calm_tone"),
    DIM_NAME("behaviors.listened_actively"),
    DIM_NAME("behaviors.used_my_name"),
    DIM_NAME("behaviors.did_not_interrupt"),
    DIM_NAME("behaviors.was_patient"),
    DIM_NAME("behaviors.made_no_assumptions"),
};

const char *an_cue_dim_name(int dim)
{
    if (dim < 0 || dim >= AN_DIM_COUNT + HK_BEH_COUNT)
        return "unknown";
    return cue_dim_names[dim].s;
}

struct an_scorer *an_scorer_create(const struct an_lexicon *lex)
{
    struct an_scorer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->lex = lex;
    an_tokens_init(&s->toks);
    s->st = an_stemmer_create(lex->lang);
    s->slots = calloc(CACHE_SLOTS, sizeof *s->slots);
    s->words = malloc(CACHE_ARENA + 16);
    s->ccues = 64;
    s->cues = malloc(s->ccues * sizeof *s->cues);
    s->feed = malloc(s->ccues * sizeof *s->feed);
    s->follow = calloc(lex->nkeys + 2, 1);
    if (!s->st || !s->slots || !s->words || !s->cues || !s->feed || !s->follow) {
        an_scorer_destroy(s);
        return NULL;
    }
    for (size_t e = 0; e < lex->edge_slots; e++) {
        uint64_t k = lex->edges[e].k;
        uint32_t key = (uint32_t)k;
        if (k >> 32 && key <= lex->nkeys + 1)
            s->follow[key] = 1;
    }
    return s;
}

void an_scorer_destroy(struct an_scorer *s)
{
    if (!s)
        return;
    an_stemmer_destroy(s->st);
    an_tokens_free(&s->toks);
    free(s->slots);
    free(s->words);
    free(s->cues);
    free(s->feed);
    free(s->follow);
    free(s);
}

/* ---- stem cache: folded word bytes -> lexicon key id; the stemmer runs once per word ---- */

void an_scorer_stem_all(struct an_scorer *s, bool on)
{
    s->stem_all = on;
}

/* The key of one word form; the stemmer runs only when the prefilter lets it. */
static uint32_t stem_lookup(struct an_scorer *s, const char *w, size_t n)
{
    char key[AN_KEY_MAX + 2];
    if (!s->stem_all && !an_lexicon_may_stem(s->lex, w, n))
        return AN_KEY_NONE;
    int kl = an_stem_key(s->st, w, n, key, sizeof key);
    return kl > 0 ? an_lexicon_key_find(s->lex, key, (size_t)kl) : AN_KEY_NONE;
}

static uint32_t resolve_word(struct an_scorer *s, const char *w, size_t n, bool elong)
{
    uint32_t id = stem_lookup(s, w, n);
    if (id != AN_KEY_NONE || !elong || n >= AN_KEY_MAX)
        return id;
    /* "soooo goooood": squeeze runs to two letters, then to one */
    for (size_t keep = 2; keep >= 1 && id == AN_KEY_NONE; keep--) {
        char sq[AN_KEY_MAX];
        size_t m = 0, run = 0;
        for (size_t i = 0; i < n; i++) {
            run = (i && w[i] == w[i - 1]) ? run + 1 : 0;
            if (run < keep)
                sq[m++] = w[i];
        }
        id = stem_lookup(s, sq, m);
    }
    return id;
}

/* Up to 8 bytes of p as an integer; p must have 8 readable bytes (buffers are padded). */
static inline uint64_t load8(const char *p, size_t n)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return n >= 8 ? w : w & ((1ull << (8 * n)) - 1);
}

/* A word's cache entry: key, trie root and what they allow (an_tok_match). */
static uint8_t match_of(const struct an_scorer *s, uint32_t key, uint32_t root)
{
    uint8_t m = 0;
    if (root) {
        const struct an_node *nd = &s->lex->nodes[root];
        if (nd->n || nd->func || nd->blocker)
            m |= AN_TM_LIVE;
    }
    if (key != AN_KEY_NONE && key <= s->lex->nkeys + 1 && s->follow[key])
        m |= AN_TM_FOLLOW;
    return m;
}

/* A cache miss: stem (or look up) the token and remember it in slot i. */
static __attribute__((noinline)) void token_miss(struct an_scorer *s, struct an_token *t,
                                                 const char *f, size_t n, uint64_t w8, uint32_t lk,
                                                 size_t i, uint64_t h)
{
    uint32_t id;
    uint8_t flags = 0;
    if (t->kind == AN_TOK_WORD) {
        if (an_word_elongated(f, n))
            flags = AN_TF_ELONG;
        id = resolve_word(s, f, n, flags != 0);
    } else {
        char key[260];
        key[0] = '\x02';
        memcpy(key + 1, f, n);
        id = an_lexicon_key_find(s->lex, key, n + 1);
    }
    size_t mask = CACHE_SLOTS - 1;
    if (s->nwords >= CACHE_MAX_WORDS || s->wlen + n > CACHE_ARENA) {
        /* full: start over rather than grow without bound */
        memset(s->slots, 0, CACHE_SLOTS * sizeof *s->slots);
        s->nwords = 0;
        s->wlen = 0;
        for (i = (size_t)(h >> 48) & mask; s->slots[i].lk; i = (i + 1) & mask)
            ;
    }
    struct cache_slot *c = &s->slots[i];
    memcpy(s->words + s->wlen, f, n);
    c->w8 = w8;
    c->lk = lk;
    c->off = (uint32_t)s->wlen;
    c->key = id;
    c->root = id == AN_KEY_NONE ? 0 : an_lexicon_child(s->lex, 0, id);
    c->flags = flags;
    c->match = match_of(s, id, c->root);
    s->wlen += n;
    s->nwords++;
    t->key = id;
    t->root = c->root;
    t->flags |= flags;
    t->match = c->match;
}

/* Sets key, root, match (and AN_TF_ELONG) of one token through the stem cache. */
static inline void token_key(struct an_scorer *s, struct an_token *t)
{
    const char *f = s->toks.fold + t->fold;
    size_t n = t->flen;
    if (n == 0 || n > 255) {
        t->key = AN_KEY_NONE;
        return;
    }
    uint64_t w8 = load8(f, n);
    uint32_t lk = (uint32_t)n << 8 | t->kind;
    uint64_t h = (w8 ^ lk) * 0x9E3779B97F4A7C15ull;
    for (size_t k = 8; k < n; k += 8)
        h = (h ^ (h >> 29) ^ load8(f + k, n - k)) * 0xBF58476D1CE4E5B9ull;
    size_t mask = CACHE_SLOTS - 1;
    size_t i = (size_t)(h >> 48) & mask;
    for (;; i = (i + 1) & mask) {
        const struct cache_slot *c = &s->slots[i];
        if (c->w8 == w8 && c->lk == lk &&
            (n <= 8 || memcmp(s->words + c->off + 8, f + 8, n - 8) == 0)) {
            t->key = c->key;
            t->root = c->root;
            t->flags |= c->flags;
            t->match = c->match;
            return;
        }
        if (!c->lk)
            break;
    }
    token_miss(s, t, f, n, w8, lk, i, h);
}

/* ---- rules ---- */

struct pass {
    struct an_scorer *s;
    const char *text;
    int shouting; /* every word is in caps, so caps carry no emphasis; -1 not known yet */
    /* negation */
    int neg_left;
    size_t neg_from; /* first token the negation reaches */
    bool neg_used;
    uint32_t neg_node, neg_i, neg_j; /* the negator, for its fallback entries */
    /* boosters */
    double boost;
    int boost_left;
    size_t boost_from;
    bool boost_used;
    uint32_t boost_node, boost_i, boost_j;
    /* contrast */
    size_t sent_cue, prev_sent_cue; /* first cue of this / the previous sentence */
    size_t sent_tok;                /* first token of this sentence */
    double after;                   /* 1.5 after "but" */
    double concede;                 /* 0.5 inside an "although" clause */
    bool concede_initial;
    /* phrase coverage: a dimension does not match again inside its own longer phrase */
    size_t covered[AN_DIM_COUNT + HK_BEH_COUNT];
    size_t func_covered;
};

static int cue_push(struct an_scorer *s, uint32_t start, uint32_t len, const char *entry, int dim,
                    double w, bool negated, float feed)
{
    if (s->ncues == s->ccues) {
        size_t nc = s->ccues * 2;
        struct an_cue *c = realloc(s->cues, nc * sizeof *c);
        if (!c)
            return HK_ERR_NOMEM;
        s->cues = c;
        float *f = realloc(s->feed, nc * sizeof *f);
        if (!f)
            return HK_ERR_NOMEM;
        s->feed = f;
        s->ccues = nc;
    }
    struct an_cue *c = &s->cues[s->ncues];
    c->start = start;
    c->len = len;
    c->entry = entry;
    c->dim = dim;
    c->weight = w;
    c->negated = negated;
    s->feed[s->ncues] = feed;
    s->ncues++;
    return 0;
}

/* Is the whole comment in capitals? Then capitals emphasise nothing. Asked only when a
 * scoring word is in capitals, and answered once per comment. */
static bool shouting(const struct pass *P)
{
    struct pass *p = (struct pass *)P;
    if (p->shouting < 0) {
        const struct an_token *tv = p->s->toks.v;
        p->shouting = 1;
        for (size_t k = 0; k < p->s->toks.n && p->shouting; k++)
            if (tv[k].kind == AN_TOK_WORD && tv[k].len >= 2 &&
                !an_word_caps(p->text + tv[k].start, tv[k].len))
                p->shouting = 0;
    }
    return p->shouting > 0;
}

/* The multiplier of the span i..j from the rules active here: contrast, caps, elongation,
 * negation and any booster. */
static double span_mult(const struct pass *P, size_t i, size_t j, bool negate, double mult)
{
    const struct an_token *tv = P->s->toks.v;
    double m = mult * P->after * P->concede;
    uint8_t fl = 0;
    bool caps = false;
    for (size_t k = i; k <= j; k++) {
        fl |= tv[k].flags;
        caps =
            caps || (tv[k].kind == AN_TOK_WORD && an_word_caps(P->text + tv[k].start, tv[k].len));
    }
    if (caps && !shouting(P))
        m *= CAPS_FACTOR;
    if (fl & AN_TF_ELONG)
        m *= ELONG_FACTOR;
    if (negate)
        m *= NEG_FACTOR;
    return m;
}

/* The strongest focused cue in cues[c0..] speaks for sentiment when no sentiment cue does. */
static void feed_sentiment(struct an_scorer *s, size_t c0)
{
    size_t best = SIZE_MAX;
    double bw = 0;
    for (size_t c = c0; c < s->ncues; c++) {
        int d = s->cues[c].dim;
        if (d == AN_DIM_SENTIMENT)
            return;
        if (d < AN_DIM_COUNT && fabs(s->cues[c].weight) > bw) {
            bw = fabs(s->cues[c].weight);
            best = c;
        }
    }
    if (best != SIZE_MAX)
        s->feed[best] = (float)FOCUS_TO_SENTIMENT;
}

/* Emits every entry of node for tokens i..j (a function word's own entries, see flush_neg). */
static int emit_node(struct pass *P, uint32_t node, size_t i, size_t j, bool negate, double mult)
{
    struct an_scorer *s = P->s;
    const struct an_lexicon *lex = s->lex;
    const struct an_node *nd = &lex->nodes[node];
    const struct an_token *tv = s->toks.v;
    uint32_t start = tv[i].start, len = tv[j].start + tv[j].len - tv[i].start;
    double m = span_mult(P, i, j, negate, mult);
    size_t c0 = s->ncues;
    for (uint32_t e = 0; e < nd->n; e++) {
        const struct an_entry *en = &lex->entries[nd->first + e];
        if (en->weight == 0)
            continue;
        int rc = cue_push(s, start, len, en->text, en->dim, en->weight * m, negate, 0.0f);
        if (rc)
            return rc;
    }
    feed_sentiment(s, c0);
    return 0;
}

/* A negator or booster that is also a scored word ("no", "super") scores as a word only when
 * it modified nothing. */
static int flush_neg(struct pass *P)
{
    int rc = 0;
    if (P->neg_left && !P->neg_used && P->s->lex->nodes[P->neg_node].n)
        rc = emit_node(P, P->neg_node, P->neg_i, P->neg_j, false, 1.0);
    P->neg_left = 0;
    return rc;
}

static int flush_boost(struct pass *P)
{
    int rc = 0;
    if (P->boost_left && !P->boost_used && P->s->lex->nodes[P->boost_node].n)
        rc = emit_node(P, P->boost_node, P->boost_i, P->boost_j, false, 1.0);
    P->boost_left = 0;
    P->boost = 1.0;
    return rc;
}

static void scale_cues(struct an_scorer *s, size_t from, double f)
{
    for (size_t c = from; c < s->ncues; c++)
        s->cues[c].weight *= f;
}

static int end_clause(struct pass *P)
{
    int rc = flush_neg(P);
    if (!rc)
        rc = flush_boost(P);
    if (P->concede != 1.0) {
        P->concede = 1.0;
        if (P->concede_initial)
            P->after = AFTER_CONTRAST;
    }
    return rc;
}

static int end_sentence(struct pass *P, unsigned bangs, size_t next_tok)
{
    int rc = end_clause(P);
    if (bangs)
        scale_cues(P->s, P->sent_cue, 1.0 + BANG_STEP * (bangs > 4 ? 4 : bangs));
    P->prev_sent_cue = P->sent_cue;
    P->sent_cue = P->s->ncues;
    P->sent_tok = next_tok;
    P->after = 1.0;
    P->concede_initial = false;
    return rc;
}

/* "7/10", "2 stars": a rating is sentiment by itself. */
static int rating(struct pass *P, size_t i, size_t *last)
{
    const struct an_token *tv = P->s->toks.v;
    const struct an_token *t = &tv[i];
    double r = -1;
    *last = i;
    if (t->flags & AN_TF_RATING) {
        r = t->num / t->den;
    } else if (t->den == 0 && i + 3 < P->s->toks.n && tv[i + 1].kind == AN_TOK_WORD &&
               tv[i + 2].kind == AN_TOK_WORD && tv[i + 3].kind == AN_TOK_NUM &&
               (tv[i + 3].num == 5 || tv[i + 3].num == 10 || tv[i + 3].num == 100) &&
               t->num <= tv[i + 3].num && tv[i + 1].flen == 3 && tv[i + 2].flen == 2 &&
               memcmp(P->s->toks.fold + tv[i + 1].fold, "out", 3) == 0 &&
               memcmp(P->s->toks.fold + tv[i + 2].fold, "of", 2) == 0) {
        r = t->num / tv[i + 3].num; /* "9 out of 10" */
        *last = i + 3;
    } else if (t->den == 0 && t->num >= 0 && t->num <= 5 && i + 1 < P->s->toks.n &&
               tv[i + 1].kind == AN_TOK_WORD) {
        const char *f = P->s->toks.fold + tv[i + 1].fold;
        size_t n = tv[i + 1].flen;
        if ((n == 4 && memcmp(f, "star", 4) == 0) || (n == 5 && memcmp(f, "stars", 5) == 0)) {
            r = t->num / 5.0;
            *last = i + 1;
        }
    }
    if (r < 0)
        return 0;
    double w = 4.0 * (r - 0.6) / 0.4;
    w = w > 4 ? 4 : w < -4 ? -4 : w;
    if (w == 0)
        return 0;
    uint32_t start = t->start, len = tv[*last].start + tv[*last].len - t->start;
    return cue_push(P->s, start, len, "(rating)", AN_DIM_SENTIMENT, w * P->after * P->concede,
                    false, 0);
}

static int run_rules(struct pass *P)
{
    struct an_scorer *s = P->s;
    const struct an_lexicon *lex = s->lex;
    const struct an_token *tv = s->toks.v;
    size_t n = s->toks.n;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const struct an_token *t = &tv[i];
        if (t->kind == AN_TOK_PUNCT) {
            if (t->flags & AN_TF_SENT)
                rc = end_sentence(P, t->bangs, i + 1);
            else if ((t->flags & AN_TF_COMMA) && COMMA_KEEPS_NEGATION)
                rc = flush_boost(P); /* "lacks charm, wit, meaning": the list stays negated */
            else
                rc = end_clause(P);
            continue;
        }
        if (t->kind == AN_TOK_WORD && !(t->match & AN_TM_LIVE) &&
            (!t->root || i + 1 >= n || !(tv[i + 1].match & AN_TM_FOLLOW))) {
            /* most words start no phrase, or only the first word of phrases the next word
             * cannot continue: only the reach of negators and boosters moves */
            if (P->neg_left && i >= P->neg_from && --P->neg_left == 0)
                rc = flush_neg(P);
            if (!rc && P->boost_left && i >= P->boost_from && --P->boost_left == 0)
                rc = flush_boost(P);
            continue;
        }
        /* every lexicon phrase that starts here, shortest first */
        uint32_t path[AN_MAX_PHRASE];
        size_t depth = 0;
        uint32_t node = t->root;
        while (node) {
            path[depth++] = node;
            size_t j = i + depth;
            if (!lex->nodes[node].has_children || depth == AN_MAX_PHRASE || j >= n ||
                tv[j].kind == AN_TOK_PUNCT || tv[j].key == AN_KEY_NONE)
                break;
            node = an_lexicon_child(lex, node, tv[j].key);
        }
        size_t fn_len = 0;
        for (size_t d = depth; d > 0 && !fn_len; d--)
            if (lex->nodes[path[d - 1]].func)
                fn_len = d;
        /* a face closes what came before it: ":D" is never negated, never boosted */
        bool face = t->kind == AN_TOK_EMOTICON || t->kind == AN_TOK_EMOJI;
        if (face && (P->neg_left || P->boost_left))
            rc = end_clause(P);
        bool negated = P->neg_left > 0 && i >= P->neg_from;
        bool boosted = P->boost_left > 0 && i >= P->boost_from;
        double mult = 1.0;
        if (boosted) /* "not very good" is milder than "not good" */
            mult = negated ? 1.0 / P->boost : P->boost;
        /* each dimension takes its longest phrase, unless a longer or equal function phrase
         * ("kind of", "not only") owns these words or an earlier phrase still covers them */
        size_t c0 = s->ncues;
        uint32_t taken = 0;
        for (size_t d = depth; d > fn_len && !rc; d--) {
            const struct an_node *nd = &lex->nodes[path[d - 1]];
            uint32_t start = t->start, len = tv[i + d - 1].start + tv[i + d - 1].len - start;
            double m = 0;
            for (uint32_t e = 0; e < nd->n && !rc; e++) {
                const struct an_entry *en = &lex->entries[nd->first + e];
                uint32_t bit = 1u << en->dim;
                if ((taken & bit) || i < P->covered[en->dim])
                    continue;
                taken |= bit;
                P->covered[en->dim] = i + d;
                if (en->weight == 0)
                    continue;
                if (m == 0)
                    m = span_mult(P, i, i + d - 1, negated, mult);
                rc = cue_push(s, start, len, en->text, en->dim, en->weight * m, negated, 0.0f);
            }
            if (nd->blocker) {
                taken = UINT32_MAX;
                for (size_t k = 0; k < AN_DIM_COUNT + HK_BEH_COUNT; k++)
                    if (P->covered[k] < i + d)
                        P->covered[k] = i + d;
            }
        }
        if (s->ncues > c0) {
            if (i >= P->covered[AN_DIM_SENTIMENT] || s->cues[c0].dim == AN_DIM_SENTIMENT)
                feed_sentiment(s, c0);
            if (negated)
                P->neg_used = true;
            if (boosted) {
                P->boost_used = true;
                P->boost_left = 0;
                P->boost = 1.0;
            }
        } else if (depth == 0 && t->kind == AN_TOK_NUM) {
            size_t last;
            rc = rating(P, i, &last);
            if (s->ncues > c0 && negated)
                s->cues[c0].negated = false; /* a rating is a fact, not negated */
        }
        if (rc)
            break;
        if (fn_len && i >= P->func_covered) {
            const struct an_node *fn = &lex->nodes[path[fn_len - 1]];
            P->func_covered = i + fn_len;
            switch (fn->func) {
            case AN_FN_NEGATOR:
                rc = flush_neg(P);
                P->neg_left = NEG_SCOPE;
                P->neg_from = i + fn_len;
                P->neg_used = false;
                P->neg_node = path[fn_len - 1];
                P->neg_i = (uint32_t)i;
                P->neg_j = (uint32_t)(i + fn_len - 1);
                break;
            case AN_FN_BOOSTER:
                if (P->boost_left && !P->boost_used && lex->nodes[P->boost_node].n)
                    rc = flush_boost(P); /* "damn damn damn": each one is a word */
                if (!P->boost_left || P->boost_used) {
                    P->boost = 1.0;
                    P->boost_used = false;
                    P->boost_node = path[fn_len - 1];
                    P->boost_i = (uint32_t)i;
                    P->boost_j = (uint32_t)(i + fn_len - 1);
                }
                P->boost *= 1.0 + BOOST_STEP * fn->fweight;
                /* "very very very ...": stacking stops at a sane bound */
                P->boost = P->boost > BOOST_MAX   ? BOOST_MAX
                           : P->boost < BOOST_MIN ? BOOST_MIN
                                                  : P->boost;
                P->boost_left = BOOST_SCOPE;
                P->boost_from = i + fn_len;
                break;
            case AN_FN_CONTRAST:
                rc = end_clause(P);
                /* "X. But Y": the contrast reaches back to the previous sentence */
                scale_cues(s, i == P->sent_tok ? P->prev_sent_cue : P->sent_cue, BEFORE_CONTRAST);
                P->after = AFTER_CONTRAST;
                break;
            case AN_FN_CLAUSE:
                rc = end_clause(P);
                break;
            case AN_FN_CONCEDE:
                rc = end_clause(P);
                P->concede = CONCEDE_FACTOR;
                P->concede_initial = i == P->sent_tok;
                break;
            default:
                break;
            }
        }
        if (!rc && P->neg_left && i >= P->neg_from && --P->neg_left == 0)
            rc = flush_neg(P);
        if (!rc && P->boost_left && i >= P->boost_from && --P->boost_left == 0)
            rc = flush_boost(P);
    }
    if (!rc)
        rc = end_sentence(P, 0, n);
    return rc;
}

static double squash(double x, double alpha)
{
    double v = x / sqrt(x * x + alpha);
    return v > 1 ? 1 : v < -1 ? -1 : v;
}

int an_scorer_score(struct an_scorer *s, const char *text, size_t len, struct an_score *out)
{
    memset(out, 0, sizeof *out);
    out->has[AN_DIM_SENTIMENT] = true;
    s->ncues = 0;
    out->cues = s->cues;
    int rc = an_tokenize(text, len, &s->lex->emotes, &s->toks);
    if (rc)
        return rc;
    struct an_token *tv = s->toks.v;
    for (size_t i = 0; i < s->toks.n; i++)
        if (tv[i].kind != AN_TOK_PUNCT)
            token_key(s, &tv[i]);
    struct pass P;
    memset(&P, 0, sizeof P);
    P.s = s;
    P.text = text;
    P.shouting = -1;
    P.boost = 1.0;
    P.after = 1.0;
    P.concede = 1.0;
    rc = run_rules(&P);
    if (rc) {
        s->ncues = 0;
        return rc;
    }
    double sum[AN_DIM_COUNT] = {0};
    double beh[HK_BEH_COUNT] = {0};
    bool seen_beh[HK_BEH_COUNT] = {0};
    for (size_t c = 0; c < s->ncues; c++) {
        const struct an_cue *cue = &s->cues[c];
        if (cue->dim < AN_DIM_COUNT) {
            sum[cue->dim] += cue->weight;
            out->has[cue->dim] = true;
            sum[AN_DIM_SENTIMENT] += s->feed[c] * cue->weight;
        } else {
            beh[cue->dim - AN_DIM_COUNT] += cue->weight;
            seen_beh[cue->dim - AN_DIM_COUNT] = true;
        }
    }
    for (int d = 0; d < AN_DIM_COUNT; d++)
        if (out->has[d])
            out->dim[d] = squash(sum[d], d == AN_DIM_SENTIMENT ? ALPHA_SENTIMENT : ALPHA_FOCUS);
    for (int b = 0; b < HK_BEH_COUNT; b++)
        if (seen_beh[b])
            out->behavior[b] = (int8_t)(beh[b] > 0 ? 1 : beh[b] < 0 ? -1 : 0);
    out->cues = s->cues;
    out->ncues = s->ncues;
    return 0;
}

/* ---- JSON ---- */

static char *put_uint(char *p, unsigned long long v)
{
    char tmp[24];
    int k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k)
        *p++ = tmp[--k];
    return p;
}

/* Four decimals, trailing zeros dropped: scores need no more and this is the hot path. */
static char *put_num(char *p, double v)
{
    if (!isfinite(v) || fabs(v) > 1e12) {
        memcpy(p, "null", 4);
        return p + 4;
    }
    double scaled = v * 10000.0;
    long long r = (long long)(scaled < 0 ? scaled - 0.5 : scaled + 0.5);
    if (r < 0) {
        *p++ = '-';
        r = -r;
    }
    unsigned long long u = (unsigned long long)r, ip = u / 10000;
    if (ip < 10)
        *p++ = (char)('0' + ip);
    else
        p = put_uint(p, ip);
    unsigned frac = (unsigned)(u % 10000);
    if (frac) {
        /* two digit pairs, trailing zeros dropped */
        static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                    "25262728293031323334353637383940414243444546474849"
                                    "50515253545556575859606162636465666768697071727374"
                                    "75767778798081828384858687888990919293949596979899";
        unsigned hi = frac / 100, lo = frac % 100;
        *p++ = '.';
        memcpy(p, pairs + 2 * hi, 2);
        if (lo) {
            memcpy(p + 2, pairs + 2 * lo, 2);
            p += lo % 10 ? 4 : 3;
        } else {
            p += hi % 10 ? 2 : 1;
        }
    }
    return p;
}

/* Escaped: '"', '\\', controls, and < > & so the JSON can sit inside HTML (as hk_buf does). */
static const uint8_t json_escape[256] = {
    [0 ... 0x1F] = 1, ['"'] = 1, ['\\'] = 1, ['<'] = 1, ['>'] = 1, ['&'] = 1,
};

static char *put_str(char *p, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    *p++ = '"';
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && !json_escape[(unsigned char)s[run]])
            run++;
        memcpy(p, s + i, run - i);
        p += run - i;
        if (run == n)
            break;
        unsigned char c = (unsigned char)s[run];
        i = run + 1;
        *p++ = '\\';
        switch (c) {
        case '"':
            *p++ = '"';
            break;
        case '\\':
            *p++ = '\\';
            break;
        case '\n':
            *p++ = 'n';
            break;
        case '\r':
            *p++ = 'r';
            break;
        case '\t':
            *p++ = 't';
            break;
        default:
            *p++ = 'u';
            *p++ = '0';
            *p++ = '0';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    *p++ = '"';
    return p;
}

static char *put_mem(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

/* A string literal, its length known at compile time (so the copy is a few moves). */
#define put_lit(p, lit) (memcpy((p), "" lit, sizeof(lit) - 1), (p) + sizeof(lit) - 1)

/* ,"sentiment": ... and "behaviors.apologized" ...: written once, lengths at hand */
static const char *const dim_keys[AN_DIM_COUNT] = {
    ",\"sentiment\":", ",\"felt_heard\":", ",\"felt_valued\":", ",\"advocacy\":", ",\"ease\":"};
static const uint8_t dim_key_len[AN_DIM_COUNT] = {13, 14, 15, 12, 8};

static char *put_name(char *p, const char *s)
{
    return put_mem(p, s, strlen(s));
}

static int to_json(const struct an_score *sc, const char *text, size_t len, const char *id,
                   size_t id_len, bool id_raw, struct hk_buf *out)
{
    size_t need = 512 + id_len * 6;
    for (size_t c = 0; c < sc->ncues; c++) {
        const struct an_cue *cue = &sc->cues[c];
        if (cue->start > len || cue->len > len - cue->start)
            return HK_ERR_INVALID;
        need += 160 + 6 * ((size_t)cue->len + strlen(cue->entry));
    }
    int rc = hk_buf_reserve(out, need);
    if (rc)
        return rc;
    char *p = out->data + out->len;
    p = put_lit(p, "{\"id\":");
    if (!id)
        p = put_lit(p, "null");
    else if (id_raw) {
        memcpy(p, id, id_len);
        p += id_len;
    } else
        p = put_str(p, id, id_len);
    for (int d = 0; d < AN_DIM_COUNT; d++) {
        p = put_mem(p, dim_keys[d], dim_key_len[d]);
        p = sc->has[d] ? put_num(p, sc->dim[d]) : put_lit(p, "null");
    }
    p = put_lit(p, ",\"behaviors\":{");
    bool first = true;
    int8_t none[HK_BEH_COUNT] = {0};
    for (int b = memcmp(sc->behavior, none, sizeof none) ? 0 : HK_BEH_COUNT; b < HK_BEH_COUNT;
         b++) {
        if (!sc->behavior[b])
            continue;
        if (!first)
            *p++ = ',';
        first = false;
        *p++ = '"';
        p = put_name(p, hk_behavior_names[b]);
        p = sc->behavior[b] > 0 ? put_lit(p, "\":1") : put_lit(p, "\":-1");
    }
    p = put_lit(p, "},\"cues\":[");
    for (size_t c = 0; c < sc->ncues; c++) {
        const struct an_cue *cue = &sc->cues[c];
        if (c)
            *p++ = ',';
        p = put_lit(p, "{\"span\":[");
        p = put_uint(p, cue->start);
        *p++ = ',';
        p = put_uint(p, cue->len);
        p = put_lit(p, "],\"text\":");
        p = put_str(p, text + cue->start, cue->len);
        p = put_lit(p, ",\"entry\":");
        p = put_str(p, cue->entry, strlen(cue->entry));
        p = put_lit(p, ",\"dimension\":\"");
        if (cue->dim >= 0 && cue->dim < AN_DIM_COUNT + HK_BEH_COUNT)
            p = put_mem(p, cue_dim_names[cue->dim].s, cue_dim_names[cue->dim].n);
        else
            p = put_name(p, an_cue_dim_name(cue->dim));
        p = put_lit(p, "\",\"weight\":");
        p = put_num(p, cue->weight);
        p = cue->negated ? put_lit(p, ",\"negated\":true}") : put_lit(p, ",\"negated\":false}");
    }
    p = put_lit(p, "]}");
    out->len = (size_t)(p - out->data);
    out->data[out->len] = '\0';
    return 0;
}

int an_score_to_json(const struct an_score *sc, const char *text, size_t len, const char *id,
                     size_t id_len, struct hk_buf *out)
{
    return to_json(sc, text, len, id, id_len, false, out);
}

int an_score_to_json_raw_id(const struct an_score *sc, const char *text, size_t len,
                            const char *id_json, size_t id_json_len, struct hk_buf *out)
{
    return to_json(sc, text, len, id_json, id_json_len, true, out);
}
