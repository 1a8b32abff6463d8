/* Private seams of the comment scorer, shared by tokenize.c, stem.c, lexicon.c and score.c:
 * the token stream, the Snowball wrapper (stem.c is the only libstemmer user) and the
 * compiled lexicon layout. Nothing outside analyzer/ includes this header. */
#ifndef HEARKEN_ANALYZER_SCORER_INTERNAL_H
#define HEARKEN_ANALYZER_SCORER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hearken/hash.h"
#include "hearken/score.h"

/* ---- tokens (tokenize.c) ---- */

enum an_tok_kind {
    AN_TOK_WORD,     /* letters, digits mixed in, internal apostrophes; folded */
    AN_TOK_NUM,      /* 12, 3.5, 10/10 (num/den set) */
    AN_TOK_EMOTICON, /* :) :-( <3 ... kept as written */
    AN_TOK_EMOJI,    /* one pictographic code point, modifiers dropped */
    AN_TOK_PUNCT,    /* a boundary: clause (, ; : ( ) dash) or sentence (. ! ? newline) */
};

enum an_tok_flag {
    AN_TF_CAPS = 1 << 0,   /* ALL CAPS word of two letters or more (an_word_caps, on demand) */
    AN_TF_CLAUSE = 1 << 1, /* PUNCT: ends a clause */
    AN_TF_SENT = 1 << 2,   /* PUNCT: ends a sentence */
    AN_TF_ELONG = 1 << 3,  /* a letter repeated three times or more ("soooo"), set by the scorer */
    AN_TF_NEG = 1 << 4,    /* the "n't" split off a contraction */
    AN_TF_RATING = 1 << 5, /* NUM: a "7/10" style rating */
    AN_TF_COMMA = 1 << 6,  /* PUNCT: the boundary is only a comma (lists: "lacks charm, wit") */
};

struct an_token {
    uint32_t start, len; /* bytes of the original text */
    uint32_t fold, flen; /* folded form in an_tokens.fold */
    uint8_t kind, flags;
    uint8_t bangs;  /* PUNCT: '!' in the run; */
    uint8_t match;  /* enum an_tok_match, set with key */
    uint32_t key;   /* lexicon key id, AN_KEY_NONE when it matches nothing */
    uint32_t root;  /* trie node of this word alone (0: none); set with key */
    float num, den; /* NUM only */
};

/* What the scorer's stem cache knows of a word's key, so most words are passed over with one
 * test: does a phrase that scores (or a function word) start here, can it be a later word of a
 * phrase? */
enum an_tok_match {
    AN_TM_LIVE = 1 << 0,   /* root has entries, a function or a blocker */
    AN_TM_FOLLOW = 1 << 1, /* key is the second or later word of some phrase */
};

#define AN_KEY_NONE UINT32_MAX

struct an_tokens {
    struct an_token *v;
    size_t n, cap;
    char *fold; /* folded bytes of every token, not NUL-separated */
    size_t flen, fcap;
};

/* Emoticons the lexicon lists literally (":-)", "(^_^)", "¯\\_(ツ)_/¯"): a byte trie the
 * tokenizer tries before its built-in face patterns. ASCII letters are matched lower-cased. */
struct an_emote_node {
    uint32_t child, next; /* first child, next sibling; 0 = none (0 is the root) */
    uint8_t byte, term;
};
struct an_emotes {
    struct an_emote_node *v;
    size_t n, cap;
    uint8_t first[256]; /* bytes an emoticon can start with (lower-cased) */
};
void an_emotes_free(struct an_emotes *em);
int an_emotes_add(struct an_emotes *em, const char *s, size_t n);
/* True when a lexicon phrase should be matched as one literal emoticon. */
bool an_emote_literal(const char *s, size_t n);

void an_tokens_init(struct an_tokens *t);
void an_tokens_free(struct an_tokens *t);
/* Validates UTF-8 and splits text into tokens; returns 0, HK_ERR_INVALID or HK_ERR_NOMEM. */
int an_tokenize(const char *text, size_t len, const struct an_emotes *em, struct an_tokens *out);
/* True when text is valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). */
bool an_utf8_valid(const char *s, size_t len);
/* ALL CAPS: two letters or more, none lower-case ("NOT", "ÉCHEC"; not "I", not "OK'd"). */
bool an_word_caps(const char *w, size_t n);
/* "soooo": a letter three times in a row (checked once per word, on a stem-cache miss). */
bool an_word_elongated(const char *w, size_t n);

/* ---- stemming (stem.c) ---- */

struct an_stemmer;
/* lang: a Snowball name or ISO code ("en", "english"); NULL when unknown. */
struct an_stemmer *an_stemmer_create(const char *lang);
void an_stemmer_destroy(struct an_stemmer *st);
/* Writes the match key of one folded word into out (cap bytes): its Snowball stem plus a
 * suffix-guard tag (see lexicons/README.md). Returns the key length, or -1 when the word is
 * too long or the stemmer failed. */
int an_stem_key(struct an_stemmer *st, const char *word, size_t len, char *out, size_t cap);

/* How many leading bytes of stem every word of 3 bytes or more with that stem starts with
 * (0: unknown, any word may have it); when *nfollow > 0 (up to 4) the next byte of such a
 * word is one of follow[]. Lets the scorer skip the stemmer for words that cannot reach the
 * lexicon; Snowball leaves words of 1 or 2 bytes as they are. */
size_t an_stem_fixed_prefix(const struct an_stemmer *st, const char *stem, size_t n, char *follow,
                            size_t *nfollow);

/* English: true when bytes t[0..n), following a stem's fixed prefix in a word, may be suffixes
 * Snowball removes (an over-approximation; false means that stem is impossible). */
bool an_stem_tail_ok(const char *t, size_t n);
#ifndef AN_TAIL_ANY
#define AN_TAIL_ANY 2
#endif

#define AN_KEY_MAX    96
#define AN_MAX_PHRASE 8

/* ---- compiled lexicon (lexicon.c) ---- */

enum an_func {
    AN_FN_NONE,
    AN_FN_NEGATOR,
    AN_FN_BOOSTER,  /* weight: >0 intensifies, <0 dampens */
    AN_FN_CONTRAST, /* "but": what follows weighs more, what came before less */
    AN_FN_CONCEDE,  /* "although": its own clause weighs less */
    AN_FN_CLAUSE,   /* "and": ends negation and booster scopes, weighs nothing */
};

struct an_entry {
    const char *text; /* as written in the file */
    float weight;
    uint16_t dim; /* an_dim, or AN_DIM_COUNT + behaviour */
};

struct an_node {
    uint32_t first, n; /* entries[first .. first+n) */
    float fweight;     /* booster weight */
    uint8_t func;      /* enum an_func */
    uint8_t ntok;
    uint8_t has_children;
    uint8_t blocker;   /* a weight-0 entry: its words mean nothing here, in any dimension */
    const char *ftext; /* function-word text as written */
};

struct an_edge {
    uint64_t k; /* parent << 32 | key; 0 = empty slot (parent 0 is root, key ids start at 1) */
    uint32_t child;
};

struct an_lexicon {
    char lang[16];
    /* key strings: open addressing table, ids from 1 */
    char **keys;
    uint32_t *key_slot; /* slot -> key id (0 = empty) */
    uint64_t *key_hash;
    size_t nkeys, key_slots;
    /* trie */
    struct an_node *nodes;
    size_t nnodes, cnodes;
    struct an_edge *edges;
    size_t nedges, edge_slots;
    struct an_entry *entries;
    size_t nentries;
    struct an_emotes emotes;
    /* stem prefilter: hashes (bit 2 set) of every prefix of each word key's fixed bytes
     * (an_stem_fixed_prefix); bit 0: a word starting so may stem to a key when the rest may be
     * suffixes (an_stem_tail_ok), bit 1: a word ending here may, bit 3: the last byte is a
     * follow byte, itself part of the suffixes (see pre_add, an_lexicon_may_stem) */
    uint64_t *pre;
    size_t npre, pre_slots;
    bool pre_all; /* some key has no fixed prefix: every word must be stemmed */
    /* strings (entry texts, key strings) */
    char **blocks;
    size_t nblocks;
    char *arena;
    size_t arena_left;
};

uint32_t an_lexicon_key_find(const struct an_lexicon *lex, const char *key, size_t len);

#define AN_PRE_SEED 0xCBF29CE484222325ull
static inline uint64_t an_pre_step(uint64_t h, unsigned char c)
{
    return (h ^ c) * 0x100000001B3ull;
}
static inline size_t an_pre_index(uint64_t h, size_t mask)
{
    return (size_t)(h ^ h >> 29 ^ h >> 47) & mask;
}

/* False when no prefix of the folded word is marked in the prefilter (an_stem_fixed_prefix)
 * with a rest that Snowball could have removed (an_stem_tail_ok), so its stem cannot be a
 * lexicon key and the stemmer need not run. A hash collision only answers true. Words of 1 or
 * 2 bytes are their own stem and always answer true. */
static inline bool an_lexicon_may_stem(const struct an_lexicon *lex, const char *w, size_t n)
{
    if (lex->pre_all || n <= 2)
        return true;
    if (!lex->pre_slots)
        return false;
    uint64_t h = AN_PRE_SEED;
    size_t mask = lex->pre_slots - 1;
    for (size_t k = 0; k < n; k++) {
        h = an_pre_step(h, (unsigned char)w[k]);
        uint64_t want = (h & ~15ull) | 4;
        for (size_t i = an_pre_index(want, mask);; i = (i + 1) & mask) {
            uint64_t v = lex->pre[i];
            if (v == 0)
                return false;
            if ((v & ~11ull) == want) {
                if ((v & 2) && k + 1 == n)
                    return true;
                if ((v & 1) && (an_stem_tail_ok(w + k + 1, n - k - 1) ||
                                ((v & 8) && an_stem_tail_ok(w + k, n - k))))
                    return true;
                break;
            }
        }
    }
    return false;
}

static inline uint32_t an_lexicon_child(const struct an_lexicon *lex, uint32_t parent, uint32_t key)
{
    uint64_t k = (uint64_t)parent << 32 | key;
    uint64_t h = k * 0x9E3779B97F4A7C15ull;
    size_t mask = lex->edge_slots - 1;
    for (size_t i = (size_t)(h >> 40) & mask;; i = (i + 1) & mask) {
        if (lex->edges[i].k == k)
            return lex->edges[i].child;
        if (lex->edges[i].k == 0)
            return 0;
    }
}

/* ---- scorer (score.c) ---- */

/* Tests only: stem every word, as if the lexicon's stem prefilter let everything through. */
void an_scorer_stem_all(struct an_scorer *s, bool on);

#endif
