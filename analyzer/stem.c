/* The Snowball seam: the only file that includes libstemmer.h. Turns one folded word into its
 * match key, the stem plus a suffix-guard tag, copying libstemmer's result at once (the
 * stemmer owns it). One an_stemmer per thread. */
#include "scorer_internal.h"

#include <libstemmer.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct an_stemmer {
    struct sb_stemmer *sb;
    bool english; /* an_stem_fixed_prefix knows the English algorithm's rewrites */
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
    st->english =
        strcmp(lang, "en") == 0 || strcmp(lang, "english") == 0 || strcmp(lang, "eng") == 0;
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
    if (st->english && len <= 2) { /* Snowball English leaves these as they are */
        memcpy(out, word, len);
        return (int)len;
    }
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

static bool sb_vowel(char c)
{
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
}

/* Every string Snowball English deletes or rewrites away, as it appears in a word (steps 0 to 5,
 * the y/i forms of step 2, a few spares); an_stem_tail_ok reads a word's tail as a chain of
 * them. More strings only make the prefilter let more words through. */
static const char *const sb_suffixes[] = {
    "'",     "'s",      "'s'",     "s",     "es",     "ies",    "ied",    "sses",    "ed",
    "edly",  "ing",     "ingly",   "eed",   "eedly",  "y",      "tional", "enci",    "ency",
    "anci",  "ancy",    "abli",    "ably",  "entli",  "ently",  "izer",   "ization", "ational",
    "ation", "ator",    "alism",   "aliti", "ality",  "alli",   "ally",   "fulness", "ousli",
    "ously", "ousness", "iveness", "iviti", "ivity",  "biliti", "bility", "bli",     "bly",
    "ogi",   "ogy",     "fulli",   "fully", "lessli", "lessly", "li",     "ly",      "alize",
    "icate", "iciti",   "icity",   "ical",  "ful",    "ness",   "ative",  "al",      "ance",
    "ence",  "er",      "ic",      "able",  "ible",   "ant",    "ement",  "ment",    "ent",
    "ism",   "ate",     "iti",     "ity",   "ous",    "ive",    "ize",    "ion",     "e",
    "l",     "ist",     "ogist",   "at",    "iz",     "bl",     "or",
};

/* sb_suffixes as a byte trie over 'a'..'z' and '\'', built once: node 0 is the root, 0 in
 * next[] is no edge. */
#define SFX_NODES 512
#define SFX_SYMS  27
static uint16_t sfx_next[SFX_NODES][SFX_SYMS];
static bool sfx_end[SFX_NODES];
static pthread_once_t sfx_once = PTHREAD_ONCE_INIT;

static int sfx_sym(unsigned char c)
{
    return c >= 'a' && c <= 'z' ? c - 'a' : c == '\'' ? 26 : -1;
}

static void sfx_build(void)
{
    size_t nodes = 1;
    for (size_t i = 0; i < sizeof sb_suffixes / sizeof sb_suffixes[0]; i++) {
        size_t node = 0;
        for (const char *c = sb_suffixes[i]; *c; c++) {
            int y = sfx_sym((unsigned char)*c);
            if (!sfx_next[node][y])
                sfx_next[node][y] = (uint16_t)nodes++;
            node = sfx_next[node][y];
        }
        sfx_end[node] = true;
    }
}

/* Can t[0..n) be what Snowball removed after a stem's fixed bytes? A chain of sb_suffixes with
 * up to AN_TAIL_ANY other bytes among them (the stem's rewritten last letters, an undoubled
 * consonant): ok[i] holds, per budget b, whether t[i..n) parses with b other bytes. */
bool an_stem_tail_ok(const char *t, size_t n)
{
    if (n == 0)
        return true;
    if (n > 40)
        return true;
    pthread_once(&sfx_once, sfx_build);
    uint8_t ok[41]; /* bit b: parses with at most b other bytes */
    ok[n] = (uint8_t)((1u << (AN_TAIL_ANY + 1)) - 1);
    for (size_t i = n; i-- > 0;) {
        unsigned char c = (unsigned char)t[i];
        if (c >= 0x80)
            return true; /* bytes of a letter Snowball does not know: no claim */
        uint8_t v = (uint8_t)(ok[i + 1] << 1);
        size_t node = 0;
        for (size_t j = i; j < n; j++) {
            int y = sfx_sym((unsigned char)t[j]);
            if (y < 0 || !(node = sfx_next[node][y]))
                break;
            if (sfx_end[node])
                v |= ok[j + 1];
        }
        ok[i] = (uint8_t)(v & ((1u << (AN_TAIL_ANY + 1)) - 1));
    }
    return ok[0] & (1u << AN_TAIL_ANY);
}

/* Snowball English only deletes suffixes, except for a few rewrites of the stem's last letters:
 * an "e" put back after a vowel ("hoping" -> "hope"; never in "be", "she"), "e" endings from
 * step 2 ("relational" -> "relate"), y -> i ("happy" -> "happi"), "bility" -> "ble"/"bl", and
 * the exceptions "dying" -> "die", "skies" -> "sky"; the first letter is never rewritten. So
 * every word of three bytes or more with this stem starts with the returned number of its
 * bytes, then (when *nfollow > 0) one of follow[]: a one-letter stem is all that is left of a
 * word after "'s" or, for a vowel, "-ing"/"-ed"; a stem without a vowel-consonant pair ("go",
 * "she") only loses "'s", "-s", "-ing", "-ed". Checked against 680,000 words and
 * inflections; tests/unit/test_score.c compares the scorer's output with and without the
 * filter this feeds. Other languages: 0, nothing is skipped. */
size_t an_stem_fixed_prefix(const struct an_stemmer *st, const char *stem, size_t n, char *follow,
                            size_t *nfollow)
{
    *nfollow = 0;
    if (!st->english || n == 0)
        return 0;
    if (n == 1) {
        follow[(*nfollow)++] = '\'';
        if (sb_vowel(stem[0])) {
            follow[(*nfollow)++] = 'i';
            follow[(*nfollow)++] = 'e';
        }
        return 1;
    }
    bool vowel_before = false; /* before the last letter */
    for (size_t i = 0; i + 1 < n; i++)
        vowel_before |= sb_vowel(stem[i]);
    size_t d = 0;
    char last = stem[n - 1];
    if ((n >= 3 && memcmp(stem + n - 3, "ble", 3) == 0) ||
        (n >= 2 && memcmp(stem + n - 2, "ie", 2) == 0))
        d = 2;
    else if ((last == 'e' && vowel_before) || last == 'i' ||
             (n >= 2 && memcmp(stem + n - 2, "bl", 2) == 0) ||
             (n == 3 && memcmp(stem, "sky", 3) == 0))
        d = 1;
    if (n <= d)
        return 1;
    /* No vowel followed by a consonant in the stem (y counted both ways): R1 of any longer word
     * starts after the stem, so only "'s", step 1a "-s" and step 1b "-ing"/"-ed" removed its tail.
     */
    bool r1 = false;
    for (size_t i = 0; i + 1 < n && !r1; i++)
        r1 = sb_vowel(stem[i]) && !(sb_vowel(stem[i + 1]) && stem[i + 1] != 'y');
    if (d == 0 && !r1) {
        memcpy(follow, "'sie", 4);
        *nfollow = 4;
    }
    return n - d;
}
