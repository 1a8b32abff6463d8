/* The Snowball seam: the only file that includes libstemmer.h. Turns one folded word into its
 * match key, the stem plus a suffix-guard tag, copying libstemmer's result at once (the
 * stemmer owns it). One an_stemmer per thread. */
#include "scorer_internal.h"

#include <libstemmer.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct an_stemmer {
    struct sb_stemmer *sb;
};

/* ISO 639-1 codes libstemmer does not know by themselves map to its names. */
static const char *const stem_alias[][2] = {
    {"en", "english"},   {"fr", "french"},     {"de", "german"},  {"es", "spanish"},
    {"it", "italian"},   {"pt", "portuguese"}, {"nl", "dutch"},   {"sv", "swedish"},
    {"no", "norwegian"}, {"da", "danish"},     {"fi", "finnish"}, {"ru", "russian"},
    {"hu", "hungarian"}, {"ro", "romanian"},   {"tr", "turkish"},
};

struct an_stemmer *an_stemmer_create(const char *lang)
{
    struct an_stemmer *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->sb = sb_stemmer_new(lang, "UTF_8");
    for (size_t i = 0; !st->sb && i < sizeof stem_alias / sizeof stem_alias[0]; i++)
        if (strcmp(lang, stem_alias[i][0]) == 0)
            st->sb = sb_stemmer_new(stem_alias[i][1], "UTF_8");
    if (!st->sb) {
        free(st);
        return NULL;
    }
    return st;
}

void an_stemmer_destroy(struct an_stemmer *st)
{
    if (!st)
        return;
    sb_stemmer_delete(st->sb);
    free(st);
}

static bool has_sub(const char *p, size_t n, const char *sub)
{
    size_t m = strlen(sub);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(p + i, sub, m) == 0)
            return true;
    return false;
}

/* The suffix guard: Snowball folds derivations whose meaning differs from their base
 * ("useful" -> "use", "wonderful" -> "wonder", "friendly" -> "friend", "likely" -> "like").
 * The letters the stemmer removed are classed, and words only match when the class agrees. */
static char suffix_tag(const char *word, size_t len, const char *stem, size_t slen)
{
    bool ly = len > 3 && word[len - 2] == 'l' && word[len - 1] == 'y';
    size_t p = 0;
    while (p < len && p < slen && word[p] == stem[p])
        p++;
    if (len - p >= 3 && has_sub(word + p, len - p, "ful"))
        return ly ? 'F' : 'f'; /* "awful" / "awfully" (a booster) / "use" */
    /* "-ly" adverbs are their own words ("terribly" vs "terrible", "hardly" vs "hard"); a stem
     * ending in "li" already keeps them apart ("really", "family") */
    if (ly &&
        !(slen >= 2 && stem[slen - 2] == 'l' && (stem[slen - 1] == 'i' || stem[slen - 1] == 'y')))
        return 'l';
    const char *r = word + p;
    size_t rn = len - p;
    if (rn < 2)
        return 0;
    if (has_sub(r, rn, "abl") || has_sub(r, rn, "ibl"))
        return 'a';
    if (has_sub(r, rn, "iv"))
        return 'v';
    if (has_sub(r, rn, "ness"))
        return 'n';
    return 0;
}

int an_stem_key(struct an_stemmer *st, const char *word, size_t len, char *out, size_t cap)
{
    if (len == 0 || len > AN_KEY_MAX - 3 || cap < AN_KEY_MAX)
        return -1;
    const sb_symbol *r = sb_stemmer_stem(st->sb, (const sb_symbol *)word, (int)len);
    if (!r)
        return -1;
    int n = sb_stemmer_length(st->sb);
    if (n <= 0 || (size_t)n > AN_KEY_MAX - 3)
        return -1;
    memcpy(out, r, (size_t)n);
    char tag = suffix_tag(word, len, out, (size_t)n);
    if (tag) {
        out[n++] = '\x01';
        out[n++] = tag;
    }
    return n;
}
