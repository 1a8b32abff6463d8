/* Tokenizer: validates UTF-8, case-folds (utf8proc, with an ASCII fast path) and splits a
 * comment into words, numbers, emoticons, emoji and clause/sentence boundaries, keeping the
 * byte span of each token in the original text. Knows nothing of lexicons or scores. */
#include "scorer_internal.h"

#include "hearken/err.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

enum cls { C_OTHER, C_SPACE, C_NL, C_LOWER, C_UPPER, C_DIGIT, C_APOS, C_HYPHEN, C_STOP, C_CLAUSE };

static const uint8_t cls_of[128] = {
    ['\t'] = C_SPACE,        ['\r'] = C_SPACE, ['\v'] = C_SPACE,        ['\f'] = C_SPACE,
    [' '] = C_SPACE,         ['\n'] = C_NL,    ['a' ... 'z'] = C_LOWER, ['A' ... 'Z'] = C_UPPER,
    ['0' ... '9'] = C_DIGIT, ['\''] = C_APOS,  ['-'] = C_HYPHEN,        ['.'] = C_STOP,
    ['!'] = C_STOP,          ['?'] = C_STOP,   [','] = C_CLAUSE,        [';'] = C_CLAUSE,
    [':'] = C_CLAUSE,        ['('] = C_CLAUSE, [')'] = C_CLAUSE,        ['['] = C_CLAUSE,
    [']'] = C_CLAUSE,        ['{'] = C_CLAUSE, ['}'] = C_CLAUSE,
};

void an_tokens_init(struct an_tokens *t)
{
    memset(t, 0, sizeof *t);
}

void an_tokens_free(struct an_tokens *t)
{
    free(t->v);
    free(t->fold);
    memset(t, 0, sizeof *t);
}

bool an_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        if (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if ((w & 0x8080808080808080ull) == 0) {
                i += 8;
                continue;
            }
        }
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + n > len)
            return false;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n;
    }
    return true;
}

/* Length of the leading run of 8-byte blocks that are all ASCII (a multiple of 8, or len): the
 * full validator only runs from there, and on most lines not at all. */
static size_t ascii_prefix(const char *s, size_t len)
{
    size_t i = 0;
    for (; i + 32 <= len; i += 32) {
        uint64_t a, b, c, d;
        memcpy(&a, s + i, 8);
        memcpy(&b, s + i + 8, 8);
        memcpy(&c, s + i + 16, 8);
        memcpy(&d, s + i + 24, 8);
        if ((a | b | c | d) & 0x8080808080808080ull)
            break;
    }
    for (; i + 8 <= len; i += 8) {
        uint64_t a;
        memcpy(&a, s + i, 8);
        if (a & 0x8080808080808080ull)
            return i;
    }
    for (size_t k = i; k < len; k++)
        if ((unsigned char)s[k] >= 0x80)
            return i;
    return len;
}

/* Decodes one code point of already validated UTF-8. */
static inline uint32_t decode(const unsigned char *s, size_t *n)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *n = 1;
        return c;
    }
    if (c < 0xE0) {
        *n = 2;
        return (uint32_t)(c & 0x1F) << 6 | (s[1] & 0x3F);
    }
    if (c < 0xF0) {
        *n = 3;
        return (uint32_t)(c & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
    }
    *n = 4;
    return (uint32_t)(c & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
           (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
}

static inline size_t encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static bool is_word_cp(uint32_t cp)
{
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_NO);
}

/* Pictographs the lexicon may score: symbols, dingbats, the emoji planes. */
static bool is_emoji_cp(uint32_t cp)
{
    if (cp >= 0x1F000 && cp <= 0x1FAFF)
        return !(cp >= 0x1F3FB && cp <= 0x1F3FF); /* skin tones modify, not mean */
    if ((cp >= 0x2600 && cp <= 0x27BF) || (cp >= 0x2B00 && cp <= 0x2BFF) ||
        (cp >= 0x2190 && cp <= 0x21FF) || (cp >= 0x2300 && cp <= 0x23FF) || cp == 0x2665)
        return true;
    return utf8proc_category((utf8proc_int32_t)cp) == UTF8PROC_CATEGORY_SO;
}

static bool is_modifier_cp(uint32_t cp)
{
    return cp == 0xFE0F || cp == 0xFE0E || cp == 0x200D || cp == 0x20E3 ||
           (cp >= 0x1F3FB && cp <= 0x1F3FF);
}

static inline bool is_alnum_at(const char *s, size_t len, size_t i)
{
    if (i >= len)
        return false;
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80)
        return cls_of[c] == C_LOWER || cls_of[c] == C_UPPER || cls_of[c] == C_DIGIT;
    size_t n;
    return is_word_cp(decode((const unsigned char *)s + i, &n));
}

static inline bool boundary_before(const char *s, size_t i)
{
    unsigned char p = i ? (unsigned char)s[i - 1] : ' ';
    return p < 0x80 && (cls_of[p] == C_SPACE || cls_of[p] == C_NL);
}

static inline bool boundary_after(const char *s, size_t len, size_t i)
{
    return !is_alnum_at(s, len, i);
}

static bool is_mouth(char c)
{
    return c && strchr(")(][DPpOo|/\\*@$}{", c) != NULL;
}

/* Length of an emoticon starting at i, 0 if none. *norm gets its normalised form (nose dropped,
 * repeated mouth collapsed). */
static size_t emoticon_at(const char *s, size_t len, size_t i, char *norm, size_t *nlen)
{
    size_t j = i;
    *nlen = 0;
    /* hearts: <3 </3, also HTML-escaped &lt;3 */
    if (s[j] == '<' || (len - j >= 5 && memcmp(s + j, "&lt;", 4) == 0)) {
        j += s[j] == '<' ? 1 : 4;
        bool broken = j < len && s[j] == '/';
        if (broken)
            j++;
        if (j < len && s[j] == '3') {
            while (j < len && s[j] == '3')
                j++;
            if (boundary_after(s, len, j)) {
                memcpy(norm, broken ? "</3" : "<3", broken ? 3 : 2);
                *nlen = broken ? 3 : 2;
                return j - i;
            }
        }
        return 0;
    }
    if (s[j] == ':' || s[j] == ';' || s[j] == '=') {
        char eyes = s[j++];
        bool tear = j < len && s[j] == '\'';
        if (tear)
            j++;
        if (j < len && (s[j] == '-' || s[j] == '^') && j + 1 < len && is_mouth(s[j + 1]))
            j++;
        if (j >= len || !is_mouth(s[j]))
            return 0;
        char mouth = s[j];
        if (mouth == '/' && j + 1 < len && s[j + 1] == '/')
            return 0; /* "://" */
        while (j < len && s[j] == mouth)
            j++;
        if (!boundary_after(s, len, j))
            return 0;
        if (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9' && (mouth == 'D' || mouth == 'P'))
            return 0; /* "10:D..." is not a face */
        norm[(*nlen)++] = eyes;
        if (tear)
            norm[(*nlen)++] = '\'';
        norm[(*nlen)++] = mouth;
        return j - i;
    }
    if (!boundary_before(s, i))
        return 0;
    /* reversed faces "(:" "):" "D:" need spaces on both sides */
    if (strchr("()[]", s[j]) && j + 1 < len && (s[j + 1] == ':' || s[j + 1] == ';') &&
        (j + 2 == len || cls_of[(unsigned char)s[j + 2] & 0x7F] == C_SPACE)) {
        norm[0] = s[j];
        norm[1] = s[j + 1];
        *nlen = 2;
        return 2;
    }
    /* ^_^ -_- >_< T_T o_O ^^ */
    if (j + 1 < len && strchr("^-><ToOxX;", s[j])) {
        size_t k = j + 1;
        if (s[k] == '_' || s[k] == '.')
            k++;
        else if (s[j] != '^')
            return 0;
        if (k < len && strchr("^-><ToOxX;", s[k]) && boundary_after(s, len, k + 1)) {
            size_t n = k + 1 - i;
            memcpy(norm, s + i, n);
            *nlen = n;
            return n;
        }
    }
    return 0;
}

static const bool sym_tab[256] = {
    ['!'] = 1, ['"'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1,  ['('] = 1, [')'] = 1,
    ['*'] = 1, ['+'] = 1, [','] = 1, ['.'] = 1, ['/'] = 1, [':'] = 1,  [';'] = 1, ['<'] = 1,
    ['='] = 1, ['>'] = 1, ['?'] = 1, ['@'] = 1, ['['] = 1, ['\\'] = 1, [']'] = 1, ['^'] = 1,
    ['_'] = 1, ['`'] = 1, ['{'] = 1, ['|'] = 1, ['}'] = 1, ['~'] = 1,
};

static inline bool is_sym(unsigned char c)
{
    return c < 0x80 && sym_tab[c];
}

static inline unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

void an_emotes_free(struct an_emotes *em)
{
    free(em->v);
    memset(em, 0, sizeof *em);
}

bool an_emote_literal(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n < 2 || n > 48)
        return false;
    bool sym = false;
    for (size_t i = 0; i < n; i++) {
        if (u[i] == ' ' || u[i] == '\t')
            return false;
        sym |= is_sym(u[i]);
    }
    if (!sym)
        return false;
    if (u[0] < 0x80 && cls_of[u[0]] >= C_LOWER && cls_of[u[0]] <= C_DIGIT)
        return is_sym(u[1]) && u[1] != '.' && u[1] != ',';
    return true;
}

int an_emotes_add(struct an_emotes *em, const char *s, size_t n)
{
    if (em->n == 0) {
        em->cap = 64;
        em->v = calloc(em->cap, sizeof *em->v);
        if (!em->v)
            return HK_ERR_NOMEM;
        em->n = 1; /* the root */
    }
    uint32_t node = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = lower((unsigned char)s[i]);
        uint32_t c = em->v[node].child;
        while (c && em->v[c].byte != b)
            c = em->v[c].next;
        if (!c) {
            if (em->n == em->cap) {
                struct an_emote_node *nv = realloc(em->v, em->cap * 2 * sizeof *nv);
                if (!nv)
                    return HK_ERR_NOMEM;
                em->v = nv;
                em->cap *= 2;
            }
            c = (uint32_t)em->n++;
            em->v[c].byte = b;
            em->v[c].term = 0;
            em->v[c].child = 0;
            em->v[c].next = em->v[node].child;
            em->v[node].child = c;
        }
        node = c;
    }
    em->v[node].term = 1;
    em->first[lower((unsigned char)s[0])] = 1;
    return 0;
}

/* Longest literal emoticon at i, honouring word boundaries; 0 if none. */
static size_t emote_match(const struct an_emotes *em, const char *s, size_t len, size_t i)
{
    if (!em || em->n == 0)
        return 0;
    const unsigned char *u = (const unsigned char *)s;
    uint32_t node = 0;
    size_t best = 0;
    for (size_t j = i; j < len; j++) {
        unsigned char b = lower(u[j]);
        uint32_t c = em->v[node].child;
        while (c && em->v[c].byte != b)
            c = em->v[c].next;
        if (!c)
            break;
        node = c;
        if (em->v[c].term && (j + 1 == len || (u[j + 1] & 0xC0) != 0x80)) {
            bool word_end = u[j] < 0x80 && cls_of[u[j]] >= C_LOWER && cls_of[u[j]] <= C_DIGIT;
            if (!word_end || !is_alnum_at(s, len, j + 1))
                best = j + 1 - i;
        }
    }
    if (best && strchr("([{<", u[i]) && !boundary_before(s, i))
        return 0; /* "(ok):" is not a face */
    return best;
}

static int reserve(struct an_tokens *t, size_t len)
{
    size_t ntok = len + 8;
    if (ntok > t->cap) {
        struct an_token *v = realloc(t->v, ntok * sizeof *v);
        if (!v)
            return HK_ERR_NOMEM;
        t->v = v;
        t->cap = ntok;
    }
    size_t nfold = len * 6 + 64; /* + padding: the scorer reads 8 bytes at a time */
    if (nfold > t->fcap) {
        char *f = realloc(t->fold, nfold);
        if (!f)
            return HK_ERR_NOMEM;
        t->fold = f;
        t->fcap = nfold;
    }
    return 0;
}

static inline struct an_token *push(struct an_tokens *t, size_t start, size_t len, uint8_t kind)
{
    struct an_token *k = &t->v[t->n++];
    k->start = (uint32_t)start;
    k->len = (uint32_t)len;
    k->fold = (uint32_t)t->flen;
    k->flen = 0;
    k->kind = kind;
    k->flags = 0;
    k->bangs = 0;
    k->match = 0;
    k->key = AN_KEY_NONE;
    k->root = 0;
    k->num = k->den = 0;
    return k;
}

static void push_boundary(struct an_tokens *t, size_t start, size_t len, uint8_t flag,
                          unsigned bangs)
{
    if (t->n && t->v[t->n - 1].kind == AN_TOK_PUNCT) {
        struct an_token *prev = &t->v[t->n - 1];
        if (!(flag & AN_TF_COMMA))
            prev->flags &= (uint8_t)~AN_TF_COMMA;
        prev->flags |= flag & (uint8_t)~AN_TF_COMMA;
        unsigned b = prev->bangs + bangs;
        prev->bangs = (uint8_t)(b > 255 ? 255 : b);
        prev->len = (uint32_t)(start + len - prev->start);
        return;
    }
    struct an_token *k = push(t, start, len, AN_TOK_PUNCT);
    k->flags = flag;
    k->bangs = (uint8_t)(bangs > 255 ? 255 : bangs);
}

static void append_fold(struct an_tokens *t, struct an_token *k, const char *s, size_t n)
{
    k->fold = (uint32_t)t->flen;
    memcpy(t->fold + t->flen, s, n);
    t->flen += n;
    k->flen = (uint32_t)n;
}

/* Splits clitics off a folded word: "didn't" -> "did" "n't", "i'll" -> "i" "will". apos_o and
 * apos_f are the offsets of the word's last apostrophe in the original and folded text. */
static void split_clitic(struct an_tokens *t, size_t apos_o, size_t apos_f)
{
    struct an_token *w = &t->v[t->n - 1];
    const char *f = t->fold;
    size_t wend_f = w->fold + w->flen, wend_o = w->start + w->len;
    if (apos_f + 2 == wend_f && f[apos_f + 1] == 't' && apos_f >= w->fold + 2 &&
        f[apos_f - 1] == 'n') {
        size_t bl = apos_f - 1 - w->fold;
        static const char *const irregular[][2] = {
            {"ca", "can"}, {"wo", "will"}, {"sha", "shall"}, {"ai", "is"}};
        const char *base = NULL;
        for (size_t i = 0; i < 4; i++)
            if (strlen(irregular[i][0]) == bl && memcmp(f + w->fold, irregular[i][0], bl) == 0)
                base = irregular[i][1];
        w->len = (uint32_t)(apos_o - 1 - w->start);
        w->flen = (uint32_t)bl;
        if (base)
            append_fold(t, w, base, strlen(base));
        struct an_token *k = push(t, apos_o - 1, wend_o - (apos_o - 1), AN_TOK_WORD);
        k->flags = AN_TF_NEG | (w->flags & AN_TF_CAPS);
        append_fold(t, k, "n't", 3);
        return;
    }
    static const char *const clitic[][2] = {
        {"ll", "will"}, {"ve", "have"}, {"re", "are"}, {"m", "am"}, {"d", "would"}};
    size_t cl = wend_f - apos_f - 1;
    for (size_t i = 0; i < 5; i++) {
        if (strlen(clitic[i][0]) != cl || memcmp(f + apos_f + 1, clitic[i][0], cl) != 0)
            continue;
        if (apos_f == w->fold)
            return;
        w->len = (uint32_t)(apos_o - w->start);
        w->flen = (uint32_t)(apos_f - w->fold);
        struct an_token *k = push(t, apos_o, wend_o - apos_o, AN_TOK_WORD);
        append_fold(t, k, clitic[i][1], strlen(clitic[i][1]));
        return;
    }
}

/* Reads a number at i ("12", "3.5", "1,000", "7/10"); returns the end offset. */
static size_t scan_number(const char *s, size_t len, size_t i, struct an_tokens *t)
{
    size_t start = i;
    double v = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        v = v * 10 + (s[i++] - '0');
    if (i + 1 < len && (s[i] == '.' || s[i] == ',') && s[i + 1] >= '0' && s[i + 1] <= '9') {
        bool comma = s[i] == ',';
        i++;
        double scale = 0.1;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (comma)
                v = v * 10 + (s[i] - '0');
            else {
                v += scale * (s[i] - '0');
                scale /= 10;
            }
            i++;
        }
    }
    double den = 0;
    if (i + 1 < len && s[i] == '/' && s[i + 1] >= '0' && s[i + 1] <= '9') {
        size_t j = i + 1;
        while (j < len && s[j] >= '0' && s[j] <= '9' && den < 1e6)
            den = den * 10 + (s[j++] - '0');
        i = j;
    }
    struct an_token *k = push(t, start, i - start, AN_TOK_NUM);
    memcpy(t->fold + t->flen, s + start, i - start);
    t->flen += i - start;
    k->flen = (uint32_t)(i - start);
    k->num = (float)v;
    k->den = (float)den;
    if ((den == 5 || den == 10 || den == 100) && v <= den)
        k->flags |= AN_TF_RATING;
    return i;
}

/* ASCII letters and digits folded, 0 for anything else (and for every byte >= 0x80): the
 * fast path of scan_word. */
static const unsigned char ascii_fold[256] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5', ['6'] = '6',
    ['7'] = '7', ['8'] = '8', ['9'] = '9', ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd',
    ['e'] = 'e', ['f'] = 'f', ['g'] = 'g', ['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k',
    ['l'] = 'l', ['m'] = 'm', ['n'] = 'n', ['o'] = 'o', ['p'] = 'p', ['q'] = 'q', ['r'] = 'r',
    ['s'] = 's', ['t'] = 't', ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x', ['y'] = 'y',
    ['z'] = 'z', ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f',
    ['G'] = 'g', ['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k', ['L'] = 'l', ['M'] = 'm',
    ['N'] = 'n', ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r', ['S'] = 's', ['T'] = 't',
    ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y', ['Z'] = 'z',
};

/* The rest of a word after its ASCII run: apostrophes, non-ASCII letters, clitics. */
static __attribute__((noinline)) size_t scan_word_slow(const char *s, size_t len, size_t i,
                                                       struct an_tokens *t, struct an_token *k,
                                                       size_t o)
{
    const unsigned char *u = (const unsigned char *)s;
    char *out = t->fold + t->flen;
    size_t apos_o = 0, apos_f = 0;
    for (;;) {
        unsigned char f;
        while (i < len && (f = ascii_fold[u[i]]) != 0) {
            out[o++] = (char)f;
            i++;
        }
        if (i >= len)
            break;
        unsigned char c = u[i];
        if (c < 0x80) {
            if (c == '\'' && o > 0 && is_alnum_at(s, len, i + 1)) {
                apos_o = i;
                apos_f = t->flen + o;
                out[o++] = '\'';
                i++;
                continue;
            }
            break;
        }
        size_t n;
        uint32_t cp = decode(u + i, &n);
        if ((cp == 0x2019 || cp == 0x02BC) && o > 0 && is_alnum_at(s, len, i + n)) {
            apos_o = i;
            apos_f = t->flen + o;
            out[o++] = '\'';
            i += n;
        } else if (is_word_cp(cp)) {
            utf8proc_int32_t buf[8];
            int last = 0;
            utf8proc_ssize_t m =
                utf8proc_decompose_char((utf8proc_int32_t)cp, buf, 8, UTF8PROC_CASEFOLD, &last);
            if (m < 1 || m > 8) {
                memcpy(out + o, s + i, n);
                o += n;
            } else {
                for (utf8proc_ssize_t q = 0; q < m; q++)
                    o += encode((uint32_t)buf[q], out + o);
            }
            i += n;
        } else if (is_modifier_cp(cp) && cp != 0x200D) {
            i += n; /* a stray variation selector inside a word */
        } else {
            break;
        }
    }
    k->len = (uint32_t)(i - k->start);
    k->flen = (uint32_t)o;
    t->flen += o;
    if (apos_o)
        split_clitic(t, apos_o, apos_f);
    return i;
}

#define ONES8  0x0101010101010101ull
#define HIGHS8 0x8080808080808080ull

/* 0x80 in each byte of x (every byte below 0x80) that lies in [lo, hi]; no carry crosses a
 * byte because every sum stays below 0x100. */
static inline uint64_t swar_in(uint64_t x, unsigned lo, unsigned hi)
{
    return (x + ONES8 * (0x80u - lo)) & ~(x + ONES8 * (0x7Fu - hi)) & HIGHS8;
}

/* Eight bytes at once: how many leading bytes are ASCII letters (8: all of them), and those
 * bytes folded into *fold. Digits stop it too; the byte loop takes over for them. */
static inline size_t swar_letters8(uint64_t x, uint64_t *fold)
{
    uint64_t letter = swar_in((x & ~HIGHS8) | ONES8 * 0x20, 'a', 'z') & ~x;
    *fold = x | (letter & ~(x << 2)) >> 2; /* upper case: bit 5 clear, seen at bit 7 */
    uint64_t stop = ~letter & HIGHS8;
    return stop ? (size_t)__builtin_ctzll(stop) >> 3 : 8;
}

/* Reads a word at i: letters, marks and digits, with apostrophes inside. Case is looked at
 * later, and only for the few words that score (an_word_caps). ASCII runs go 8 bytes a step. */
static inline __attribute__((always_inline)) size_t scan_word(const char *s, size_t len, size_t i,
                                                              struct an_tokens *t)
{
    const unsigned char *u = (const unsigned char *)s;
    struct an_token *k = push(t, i, 0, AN_TOK_WORD);
    char *out = t->fold + t->flen; /* the fold buffer has room for 8 bytes past any word */
    size_t o = 0, m = 8;
    while (m == 8 && i + 8 <= len) {
        uint64_t x, f;
        memcpy(&x, u + i, 8);
        m = swar_letters8(x, &f);
        memcpy(out + o, &f, 8);
        o += m;
        i += m;
    }
    { /* the last bytes of the text, or digits */
        unsigned char f;
        while (i < len && (f = ascii_fold[u[i]]) != 0) {
            out[o++] = (char)f;
            i++;
        }
    }
    if (i < len && (u[i] >= 0x80 || u[i] == '\''))
        return scan_word_slow(s, len, i, t, k, o);
    k->len = (uint32_t)(i - k->start);
    k->flen = (uint32_t)o;
    t->flen += o;
    return i;
}

bool an_word_caps(const char *w, size_t n)
{
    const unsigned char *u = (const unsigned char *)w;
    size_t letters = 0;
    for (size_t i = 0; i < n;) {
        if (u[i] < 0x80) { /* ASCII: no table needed */
            if (u[i] >= 'a' && u[i] <= 'z')
                return false;
            letters += u[i] >= 'A' && u[i] <= 'Z';
            i++;
            continue;
        }
        size_t m;
        uint32_t cp = decode(u + i, &m);
        i += m;
        utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
        if (cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT)
            return false;
        letters += cat == UTF8PROC_CATEGORY_LU;
    }
    return letters >= 2;
}

bool an_word_elongated(const char *w, size_t n)
{
    for (size_t i = 2; i < n; i++)
        if (w[i] == w[i - 1] && w[i] == w[i - 2] && (unsigned char)w[i] >= 'a')
            return true;
    return false;
}

static bool starts_ci(const char *s, size_t len, size_t i, const char *p)
{
    size_t n = strlen(p);
    if (len - i < n)
        return false;
    for (size_t k = 0; k < n; k++)
        if ((s[i + k] | 0x20) != p[k])
            return false;
    return true;
}

static size_t skip_to_space(const char *s, size_t len, size_t i)
{
    while (i < len && !(s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* The top of the tokenizer loop: spaces, and letters that start a plain word ("h" and "w" may
 * start a link, so they take the long way). */
enum { F_OTHER, F_SPACE, F_WORD };
static const uint8_t fast_of[256] = {
    ['\t'] = F_SPACE,       ['\r'] = F_SPACE,       ['\v'] = F_SPACE,       ['\f'] = F_SPACE,
    [' '] = F_SPACE,        ['a' ... 'g'] = F_WORD, ['i' ... 'v'] = F_WORD, ['x' ... 'z'] = F_WORD,
    ['A' ... 'G'] = F_WORD, ['I' ... 'V'] = F_WORD, ['X' ... 'Z'] = F_WORD,
};

int an_tokenize(const char *s, size_t len, const struct an_emotes *em, struct an_tokens *t)
{
    t->n = 0;
    t->flen = 0;
    if (len > UINT32_MAX / 8)
        return HK_ERR_TOO_LARGE;
    size_t hi = ascii_prefix(s, len);
    if (hi < len && !an_utf8_valid(s + hi, len - hi))
        return HK_ERR_INVALID;
    int rc = reserve(t, len);
    if (rc)
        return rc;
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    char norm[16];
    size_t nlen;
    while (i < len) {
        unsigned char c = u[i];
        size_t el = 0;
        /* the common cases first: a space, a word that is just a word */
        uint8_t fa = fast_of[c];
        if (fa == F_SPACE) {
            i++;
            continue;
        }
        if (fa == F_WORD && (i + 1 >= len || !sym_tab[u[i + 1]])) {
            i = scan_word(s, len, i, t);
            continue;
        }
        if (c < 0x80) {
            uint8_t cl = cls_of[c];
            if (em && em->first[lower(c)] && cl != C_STOP &&
                (cl < C_LOWER || cl > C_DIGIT || (i + 1 < len && is_sym(u[i + 1])))) {
                el = emote_match(em, s, len, i);
                if (el) {
                    struct an_token *k = push(t, i, el, AN_TOK_EMOTICON);
                    k->fold = (uint32_t)t->flen;
                    for (size_t q = 0; q < el; q++)
                        t->fold[t->flen++] = (char)lower(u[i + q]);
                    k->flen = (uint32_t)el;
                    i += el;
                    continue;
                }
            }
            switch (cl) {
            case C_SPACE:
                i++;
                continue;
            case C_NL:
                push_boundary(t, i, 1, AN_TF_SENT, 0);
                i++;
                continue;
            case C_LOWER:
            case C_UPPER:
                if ((c == 'h' || c == 'H' || c == 'w' || c == 'W') &&
                    (starts_ci(s, len, i, "http://") || starts_ci(s, len, i, "https://") ||
                     starts_ci(s, len, i, "www."))) {
                    i = skip_to_space(s, len, i);
                    continue;
                }
                if (i + 1 < len && u[i + 1] == '_' && (el = emoticon_at(s, len, i, norm, &nlen)))
                    break; /* T_T o_O */
                i = scan_word(s, len, i, t);
                continue;
            case C_DIGIT:
                i = scan_number(s, len, i, t);
                continue;
            case C_STOP: {
                if (c == '.' && i + 1 < len && cls_of[u[i + 1] & 0x7F] <= C_UPPER &&
                    cls_of[u[i + 1] & 0x7F] >= C_LOWER) {
                    i++; /* "e.g", "U.S": not a sentence end */
                    continue;
                }
                size_t j = i, bangs = 0, dots = 0;
                while (j < len && cls_of[u[j] & 0x7F] == C_STOP && u[j] < 0x80) {
                    bangs += u[j] == '!';
                    dots += u[j] == '.';
                    j++;
                }
                bool ellipsis = dots >= 2 && dots == j - i;
                push_boundary(t, i, j - i, ellipsis ? AN_TF_CLAUSE : AN_TF_SENT, (unsigned)bangs);
                i = j;
                continue;
            }
            case C_HYPHEN:
                if ((i > 0 && cls_of[u[i - 1] & 0x7F] == C_SPACE && i + 1 < len &&
                     cls_of[u[i + 1] & 0x7F] == C_SPACE) ||
                    (i + 1 < len && u[i + 1] == '-')) {
                    size_t j = i;
                    while (j < len && u[j] == '-')
                        j++;
                    push_boundary(t, i, j - i, AN_TF_CLAUSE, 0);
                    i = j;
                    continue;
                }
                break;
            default:
                break;
            }
            if (!el)
                el = emoticon_at(s, len, i, norm, &nlen);
            if (el) {
                struct an_token *k = push(t, i, el, AN_TOK_EMOTICON);
                append_fold(t, k, norm, nlen);
                i += el;
                continue;
            }
            if (c == '@' && is_alnum_at(s, len, i + 1)) {
                i = skip_to_space(s, len, i); /* a handle names someone, it says nothing */
                continue;
            }
            if (c == '&' && (starts_ci(s, len, i, "&amp;") || starts_ci(s, len, i, "&gt;"))) {
                i += s[i + 1] == 'a' || s[i + 1] == 'A' ? 5 : 4;
                continue;
            }
            if (cls_of[c] == C_CLAUSE)
                push_boundary(t, i, 1, c == ',' ? AN_TF_CLAUSE | AN_TF_COMMA : AN_TF_CLAUSE, 0);
            i++;
            continue;
        }
        size_t n;
        uint32_t cp = decode(u + i, &n);
        if (em && em->first[c] && (el = emote_match(em, s, len, i)) > n) {
            struct an_token *k = push(t, i, el, AN_TOK_EMOTICON);
            append_fold(t, k, s + i, el);
            i += el;
        } else if (is_word_cp(cp)) {
            i = scan_word(s, len, i, t);
        } else if (is_modifier_cp(cp)) {
            i += n;
        } else if (is_emoji_cp(cp)) {
            struct an_token *k = push(t, i, n, AN_TOK_EMOJI);
            append_fold(t, k, s + i, n);
            i += n;
            while (i < len && u[i] >= 0x80) { /* swallow skin tones and selectors */
                size_t m;
                uint32_t next = decode(u + i, &m);
                if (!is_modifier_cp(next))
                    break;
                i += m;
                k->len += (uint32_t)m;
            }
        } else if (cp == 0x2026 || cp == 0x2013 || cp == 0x2014) {
            push_boundary(t, i, n, AN_TF_CLAUSE, 0);
            i += n;
        } else if (cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F || cp == 0x2028 || cp == 0x2029 ||
                   cp == 0x85) {
            push_boundary(t, i, n, AN_TF_SENT, cp == 0xFF01);
            i += n;
        } else {
            i += n;
        }
    }
    return 0;
}
