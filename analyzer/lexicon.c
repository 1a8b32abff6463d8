/* Lexicon loading and linting: reads lexicons/LANG (dimension files, behaviour files,
 * negators, boosters, contrast words, an optional VADER/AFINN file), stems every phrase with
 * the text's stemmer and compiles them into a trie keyed by stem ids. Read-only afterwards. */
#include "scorer_internal.h"

#include "hearken/err.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PHRASE  AN_MAX_PHRASE
#define ARENA_BLOCK (64 * 1024)

const char *const an_dim_names[AN_DIM_COUNT] = {"sentiment", "felt_heard", "felt_valued",
                                                "advocacy", "ease"};

/* One parsed line before merging. */
struct raw {
    uint32_t node;
    uint16_t dim;
    uint16_t file; /* index into loader.files */
    uint32_t line;
    float weight;
    float sum; /* external duplicates are averaged */
    uint32_t count;
    const char *text;
    bool dead; /* replaced by a later entry */
};

struct loader {
    struct an_lexicon *lex;
    struct an_stemmer *st;
    struct an_tokens toks;
    struct raw *raws;
    size_t nraws, craws;
    /* (node, dim) -> raws index + 1 */
    uint64_t *dkey;
    uint32_t *dval;
    size_t dslots, dcount;
    char **files;
    size_t nfiles;
    FILE *report; /* lint mode when set */
    int findings;
    char *err;
    size_t errlen;
    bool failed;
    /* words repeat across files: folded word -> match key, so each is stemmed once */
    struct stem_memo *memo;
    size_t memo_slots, memo_n;
    char *memo_bytes;
    size_t memo_len, memo_cap;
};

struct stem_memo {
    uint64_t h;
    uint32_t off; /* word then key in memo_bytes */
    uint8_t wlen, klen;
    bool used;
};

/* an_stem_key through the loader's memo; same result, the stemmer runs once per word. */
static int memo_stem_key(struct loader *L, const char *w, size_t n, char *key, size_t cap)
{
    if (n > 255 || cap < AN_KEY_MAX)
        return an_stem_key(L->st, w, n, key, cap);
    if ((L->memo_n + 1) * 2 >= L->memo_slots) {
        size_t ns = L->memo_slots ? L->memo_slots * 2 : 8192;
        struct stem_memo *m = calloc(ns, sizeof *m);
        if (!m)
            return an_stem_key(L->st, w, n, key, cap);
        for (size_t i = 0; i < L->memo_slots; i++) {
            if (!L->memo[i].used)
                continue;
            size_t j = (size_t)L->memo[i].h & (ns - 1);
            while (m[j].used)
                j = (j + 1) & (ns - 1);
            m[j] = L->memo[i];
        }
        free(L->memo);
        L->memo = m;
        L->memo_slots = ns;
    }
    uint64_t h = hk_hash_bytes(w, n);
    size_t mask = L->memo_slots - 1, i = (size_t)h & mask;
    for (; L->memo[i].used; i = (i + 1) & mask) {
        const struct stem_memo *m = &L->memo[i];
        if (m->h == h && m->wlen == n && memcmp(L->memo_bytes + m->off, w, n) == 0) {
            memcpy(key, L->memo_bytes + m->off + n, m->klen);
            return m->klen ? m->klen : -1;
        }
    }
    int kl = an_stem_key(L->st, w, n, key, cap);
    size_t need = n + (kl > 0 ? (size_t)kl : 0);
    if (L->memo_len + need > L->memo_cap) {
        size_t nc = L->memo_cap ? L->memo_cap * 2 : 65536;
        while (nc < L->memo_len + need)
            nc *= 2;
        char *b = realloc(L->memo_bytes, nc);
        if (!b)
            return kl;
        L->memo_bytes = b;
        L->memo_cap = nc;
    }
    struct stem_memo *m = &L->memo[i];
    m->h = h;
    m->off = (uint32_t)L->memo_len;
    m->wlen = (uint8_t)n;
    m->klen = (uint8_t)(kl > 0 ? kl : 0);
    m->used = true;
    memcpy(L->memo_bytes + L->memo_len, w, n);
    if (kl > 0)
        memcpy(L->memo_bytes + L->memo_len + n, key, (size_t)kl);
    L->memo_len += need;
    L->memo_n++;
    return kl;
}

static char *arena_dup(struct an_lexicon *lex, const char *s, size_t n)
{
    if (n + 1 > lex->arena_left) {
        size_t sz = n + 1 > ARENA_BLOCK ? n + 1 : ARENA_BLOCK;
        char **nb = realloc(lex->blocks, (lex->nblocks + 1) * sizeof *nb);
        if (!nb)
            return NULL;
        lex->blocks = nb;
        char *b = malloc(sz);
        if (!b)
            return NULL;
        lex->blocks[lex->nblocks++] = b;
        lex->arena = b;
        lex->arena_left = sz;
    }
    char *p = lex->arena;
    memcpy(p, s, n);
    p[n] = '\0';
    lex->arena += n + 1;
    lex->arena_left -= n + 1;
    return p;
}

uint32_t an_lexicon_key_find(const struct an_lexicon *lex, const char *key, size_t len)
{
    if (!lex->key_slots)
        return AN_KEY_NONE;
    uint64_t h = hk_hash_bytes(key, len);
    size_t mask = lex->key_slots - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint32_t id = lex->key_slot[i];
        if (!id)
            return AN_KEY_NONE;
        if (lex->key_hash[i] == h && strlen(lex->keys[id]) == len &&
            memcmp(lex->keys[id], key, len) == 0)
            return id;
    }
}

static int key_grow(struct an_lexicon *lex)
{
    size_t ns = lex->key_slots ? lex->key_slots * 2 : 1024;
    uint32_t *slot = calloc(ns, sizeof *slot);
    uint64_t *hash = calloc(ns, sizeof *hash);
    char **keys = realloc(lex->keys, (ns / 2 + 1) * sizeof *keys);
    if (!slot || !hash || !keys) {
        free(slot);
        free(hash);
        if (keys)
            lex->keys = keys;
        return HK_ERR_NOMEM;
    }
    lex->keys = keys;
    for (size_t i = 0; i < lex->key_slots; i++) {
        if (!lex->key_slot[i])
            continue;
        size_t j = (size_t)lex->key_hash[i] & (ns - 1);
        while (slot[j])
            j = (j + 1) & (ns - 1);
        slot[j] = lex->key_slot[i];
        hash[j] = lex->key_hash[i];
    }
    free(lex->key_slot);
    free(lex->key_hash);
    lex->key_slot = slot;
    lex->key_hash = hash;
    lex->key_slots = ns;
    return 0;
}

/* Interns a key; returns its id (from 1) or AN_KEY_NONE on out of memory. */
static uint32_t key_intern(struct an_lexicon *lex, const char *key, size_t len)
{
    uint32_t id = an_lexicon_key_find(lex, key, len);
    if (id != AN_KEY_NONE)
        return id;
    if ((lex->nkeys + 1) * 2 >= lex->key_slots && key_grow(lex))
        return AN_KEY_NONE;
    char *copy = arena_dup(lex, key, len);
    if (!copy)
        return AN_KEY_NONE;
    id = (uint32_t)++lex->nkeys;
    lex->keys[id] = copy;
    uint64_t h = hk_hash_bytes(key, len);
    size_t mask = lex->key_slots - 1, i = (size_t)h & mask;
    while (lex->key_slot[i])
        i = (i + 1) & mask;
    lex->key_slot[i] = id;
    lex->key_hash[i] = h;
    return id;
}

static int pre_put(struct an_lexicon *lex, uint64_t v)
{
    size_t mask = lex->pre_slots - 1;
    for (size_t i = an_pre_index(v & ~11ull, mask);; i = (i + 1) & mask) {
        if (lex->pre[i] == 0) {
            lex->pre[i] = v;
            lex->npre++;
            return 0;
        }
        if ((lex->pre[i] & ~11ull) == (v & ~11ull)) {
            lex->pre[i] |= v & 11;
            return 0;
        }
    }
}

/* Adds what every word of a word key's stem starts with (an_stem_fixed_prefix) to the stem
 * prefilter: each prefix of its fixed bytes, the whole marked as enough (bit 0) when the rest
 * of the word may be suffixes; when a follow byte is required, the whole is marked as enough
 * only for a word that ends there (bit 1) and each fixed bytes + follow byte as enough (bit 3:
 * the follow byte starts the suffixes). */
static int pre_add(struct an_lexicon *lex, struct an_stemmer *st, const char *stem, size_t n)
{
    char follow[4];
    size_t nf = 0;
    size_t f = an_stem_fixed_prefix(st, stem, n, follow, &nf);
    if (f == 0) {
        lex->pre_all = true;
        return 0;
    }
    if ((lex->npre + f + nf) * 2 >= lex->pre_slots) {
        size_t ns = lex->pre_slots ? lex->pre_slots : 4096;
        while ((lex->npre + f + nf) * 2 >= ns)
            ns *= 2;
        uint64_t *old = lex->pre;
        size_t olds = lex->pre_slots;
        lex->pre = calloc(ns, sizeof *lex->pre);
        if (!lex->pre) {
            lex->pre = old;
            return HK_ERR_NOMEM;
        }
        lex->pre_slots = ns;
        lex->npre = 0;
        for (size_t i = 0; i < olds; i++)
            if (old[i])
                pre_put(lex, old[i]);
        free(old);
    }
    uint64_t h = AN_PRE_SEED;
    for (size_t k = 0; k < f; k++) {
        h = an_pre_step(h, (unsigned char)stem[k]);
        uint64_t mark = k + 1 < f ? 0 : nf ? 2 : 3;
        pre_put(lex, (h & ~15ull) | 4 | mark);
    }
    for (size_t k = 0; k < nf; k++) {
        uint64_t hf = an_pre_step(h, (unsigned char)follow[k]);
        pre_put(lex, (hf & ~15ull) | 8 | 4 | 3);
    }
    return 0;
}

static int edge_put(struct an_lexicon *lex, uint32_t parent, uint32_t key, uint32_t child)
{
    if ((lex->nedges + 1) * 2 >= lex->edge_slots) {
        size_t ns = lex->edge_slots ? lex->edge_slots * 2 : 1024;
        struct an_edge *e = calloc(ns, sizeof *e);
        if (!e)
            return HK_ERR_NOMEM;
        for (size_t i = 0; i < lex->edge_slots; i++) {
            if (!lex->edges[i].k)
                continue;
            uint64_t h = lex->edges[i].k * 0x9E3779B97F4A7C15ull;
            size_t j = (size_t)(h >> 40) & (ns - 1);
            while (e[j].k)
                j = (j + 1) & (ns - 1);
            e[j] = lex->edges[i];
        }
        free(lex->edges);
        lex->edges = e;
        lex->edge_slots = ns;
    }
    uint64_t k = (uint64_t)parent << 32 | key;
    uint64_t h = k * 0x9E3779B97F4A7C15ull;
    size_t mask = lex->edge_slots - 1, i = (size_t)(h >> 40) & mask;
    while (lex->edges[i].k)
        i = (i + 1) & mask;
    lex->edges[i].k = k;
    lex->edges[i].child = child;
    lex->nedges++;
    return 0;
}

static uint32_t node_new(struct an_lexicon *lex, uint8_t ntok)
{
    if (lex->nnodes == lex->cnodes) {
        size_t cap = lex->cnodes ? lex->cnodes * 2 : 256;
        struct an_node *n = realloc(lex->nodes, cap * sizeof *n);
        if (!n)
            return 0;
        lex->nodes = n;
        lex->cnodes = cap;
    }
    struct an_node *n = &lex->nodes[lex->nnodes];
    memset(n, 0, sizeof *n);
    n->ntok = ntok;
    return (uint32_t)lex->nnodes++;
}

void an_lexicon_destroy(struct an_lexicon *lex)
{
    if (!lex)
        return;
    for (size_t i = 0; i < lex->nblocks; i++)
        free(lex->blocks[i]);
    free(lex->blocks);
    free(lex->keys);
    free(lex->key_slot);
    free(lex->key_hash);
    free(lex->nodes);
    free(lex->edges);
    free(lex->entries);
    free(lex->pre);
    an_emotes_free(&lex->emotes);
    free(lex);
}

const char *an_lexicon_lang(const struct an_lexicon *lex)
{
    return lex->lang;
}

size_t an_lexicon_size(const struct an_lexicon *lex)
{
    return lex->nentries;
}

/* ---- reporting ---- */

__attribute__((format(printf, 4, 5))) static void finding(struct loader *L, const char *file,
                                                          size_t line, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    L->findings++;
    if (L->report) {
        if (line)
            fprintf(L->report, "%s:%zu: %s\n", file, line, msg);
        else
            fprintf(L->report, "%s: %s\n", file, msg);
        return;
    }
    if (!L->failed && L->err && L->errlen) {
        if (line)
            snprintf(L->err, L->errlen, "%s:%zu: %s", file, line, msg);
        else
            snprintf(L->err, L->errlen, "%s: %s", file, msg);
    }
    L->failed = true;
}

/* ---- phrases ---- */

/* Walks (creating) the trie path of a phrase; returns the node id or 0 with a finding. */
static uint32_t phrase_node(struct loader *L, const char *p, size_t n, const char *file,
                            size_t line)
{
    struct an_lexicon *lex = L->lex;
    if (an_utf8_valid(p, n) && an_emote_literal(p, n) && an_emotes_add(&lex->emotes, p, n)) {
        finding(L, file, line, "out of memory");
        return 0;
    }
    int rc = an_tokenize(p, n, &lex->emotes, &L->toks);
    if (rc == HK_ERR_INVALID) {
        finding(L, file, line, "invalid UTF-8");
        return 0;
    }
    if (rc) {
        finding(L, file, line, "out of memory");
        return 0;
    }
    if (L->toks.n == 0) {
        finding(L, file, line, "empty phrase");
        return 0;
    }
    if (L->toks.n > MAX_PHRASE) {
        finding(L, file, line, "phrase longer than %d tokens", MAX_PHRASE);
        return 0;
    }
    uint32_t node = 0;
    char key[AN_KEY_MAX + 2];
    for (size_t i = 0; i < L->toks.n; i++) {
        const struct an_token *t = &L->toks.v[i];
        const char *f = L->toks.fold + t->fold;
        int klen;
        if (t->kind == AN_TOK_PUNCT) {
            /* cannot match anything: a lint finding, but no reason to refuse the lexicon */
            if (L->report)
                finding(L, file, line, "punctuation inside a phrase ('%.*s')", (int)t->len,
                        p + t->start);
            return 0;
        }
        bool word = t->kind == AN_TOK_WORD;
        if (word) {
            klen = memo_stem_key(L, f, t->flen, key, sizeof key);
        } else {
            klen = t->flen + 1 < sizeof key ? (int)t->flen + 1 : -1;
            if (klen > 0) {
                key[0] = '\x02';
                memcpy(key + 1, f, t->flen);
            }
        }
        if (klen <= 0) {
            finding(L, file, line, "word too long");
            return 0;
        }
        size_t had = lex->nkeys;
        uint32_t id = key_intern(lex, key, (size_t)klen);
        if (id == AN_KEY_NONE) {
            finding(L, file, line, "out of memory");
            return 0;
        }
        if (word && lex->nkeys != had) {
            size_t slen = klen >= 2 && key[klen - 2] == '\x01' ? (size_t)klen - 2 : (size_t)klen;
            if (pre_add(lex, L->st, key, slen)) {
                finding(L, file, line, "out of memory");
                return 0;
            }
        }
        uint32_t child = lex->edge_slots ? an_lexicon_child(lex, node, id) : 0;
        if (!child) {
            child = node_new(lex, (uint8_t)(i + 1));
            if (!child || edge_put(lex, node, id, child)) {
                finding(L, file, line, "out of memory");
                return 0;
            }
            lex->nodes[node].has_children = 1;
        }
        node = child;
    }
    return node;
}

/* (node, dim) -> index of its live raw entry + 1, 0 when absent */
static uint32_t *dup_slot(struct loader *L, uint32_t node, uint16_t dim, bool *fresh)
{
    if ((L->dcount + 1) * 2 >= L->dslots) {
        size_t ns = L->dslots ? L->dslots * 2 : 4096;
        uint64_t *k = calloc(ns, sizeof *k);
        uint32_t *v = calloc(ns, sizeof *v);
        if (!k || !v) {
            free(k);
            free(v);
            return NULL;
        }
        for (size_t i = 0; i < L->dslots; i++) {
            if (!L->dval[i])
                continue;
            size_t j = (size_t)(L->dkey[i] * 0x9E3779B97F4A7C15ull >> 40) & (ns - 1);
            while (v[j])
                j = (j + 1) & (ns - 1);
            k[j] = L->dkey[i];
            v[j] = L->dval[i];
        }
        free(L->dkey);
        free(L->dval);
        L->dkey = k;
        L->dval = v;
        L->dslots = ns;
    }
    uint64_t key = (uint64_t)node << 16 | dim;
    size_t mask = L->dslots - 1;
    size_t i = (size_t)(key * 0x9E3779B97F4A7C15ull >> 40) & mask;
    while (L->dval[i] && L->dkey[i] != key)
        i = (i + 1) & mask;
    *fresh = L->dval[i] == 0;
    if (*fresh) {
        L->dkey[i] = key;
        L->dcount++;
    }
    return &L->dval[i];
}

static void add_entry(struct loader *L, uint32_t node, uint16_t dim, float w, const char *text,
                      size_t tlen, uint16_t file, size_t line, bool external)
{
    bool fresh;
    uint32_t *slot = dup_slot(L, node, dim, &fresh);
    if (!slot) {
        finding(L, L->files[file], line, "out of memory");
        return;
    }
    if (!fresh) {
        struct raw *old = &L->raws[*slot - 1];
        if (external && old->file == file) {
            old->sum += w; /* inflections of one word in a foreign lexicon: their mean */
            old->count++;
            old->weight = old->sum / (float)old->count;
            return;
        }
        if (old->file == file && L->report)
            finding(L, L->files[file], line,
                    "duplicate after stemming: '%.*s' matches the same words as '%s' (line %u)",
                    (int)tlen, text, old->text, old->line);
        else if (L->report && old->weight * w < 0)
            finding(L, L->files[file], line,
                    "'%.*s' (%g) overrides %s:%u '%s' (%g) with the opposite sign", (int)tlen, text,
                    (double)w, L->files[old->file], old->line, old->text, (double)old->weight);
        old->dead = true;
    }
    if (L->nraws == L->craws) {
        size_t nc = L->craws ? L->craws * 2 : 1024;
        struct raw *r = realloc(L->raws, nc * sizeof *r);
        if (!r) {
            finding(L, L->files[file], line, "out of memory");
            return;
        }
        L->raws = r;
        L->craws = nc;
    }
    const char *copy = arena_dup(L->lex, text, tlen);
    if (!copy) {
        finding(L, L->files[file], line, "out of memory");
        return;
    }
    struct raw *r = &L->raws[L->nraws++];
    r->node = node;
    r->dim = dim;
    r->file = file;
    r->line = (uint32_t)line;
    r->weight = r->sum = w;
    r->count = 1;
    r->text = copy;
    r->dead = false;
    *slot = (uint32_t)L->nraws;
}

/* ---- files ---- */

enum file_kind { FK_DIM, FK_NEGATORS, FK_BOOSTERS, FK_CONTRAST, FK_VADER, FK_AFINN };

static int read_file(const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? HK_ERR_NOT_FOUND : HK_ERR_IO;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (cap - n < 65536) {
            cap = cap ? cap * 2 : 131072;
            char *nb = realloc(buf, cap);
            if (!nb) {
                rc = HK_ERR_NOMEM;
                goto out_close;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f))
        rc = HK_ERR_IO;
out_close:
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

static bool parse_weight(const char *s, size_t n, double *out)
{
    char tmp[64];
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    while (n && (*s == ' ')) {
        s++;
        n--;
    }
    if (n == 0 || n >= sizeof tmp)
        return false;
    /* the usual "-1.5": digits / 10^k is one correctly rounded division, as strtod gives */
    static const double pow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10};
    size_t i = s[0] == '-' || s[0] == '+', digits = 0, frac = 0;
    uint64_t mant = 0;
    bool dot = false;
    for (; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            mant = mant * 10 + (uint64_t)(s[i] - '0');
            digits++;
            frac += dot;
        } else if (s[i] == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (i == n && digits && digits <= 15 && frac <= 10 && s[n - 1] != '.') {
        double v = (double)mant / pow10[frac];
        *out = s[0] == '-' ? -v : v;
        return true;
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    if (end != tmp + n || errno || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static uint16_t file_add(struct loader *L, const char *path)
{
    char **nf = realloc(L->files, (L->nfiles + 1) * sizeof *nf);
    if (!nf)
        return UINT16_MAX;
    L->files = nf;
    L->files[L->nfiles] = arena_dup(L->lex, path, strlen(path));
    if (!L->files[L->nfiles])
        return UINT16_MAX;
    return (uint16_t)L->nfiles++;
}

static void set_func(struct loader *L, uint32_t node, uint8_t func, float w, const char *text,
                     size_t tlen, const char *file, size_t line)
{
    struct an_node *n = &L->lex->nodes[node];
    if (n->func && L->report)
        finding(L, file, line, "'%.*s' is already a %s word ('%s')", (int)tlen, text,
                n->func == AN_FN_NEGATOR   ? "negator"
                : n->func == AN_FN_BOOSTER ? "booster"
                : n->func == AN_FN_CLAUSE  ? "clause"
                                           : "contrast",
                n->ftext);
    n->func = func;
    n->fweight = w;
    n->ftext = arena_dup(L->lex, text, tlen);
}

/* Loads one file; a missing file is fine unless required. */
static int load_file(struct loader *L, const char *path, enum file_kind kind, uint16_t dim,
                     bool required)
{
    char *data = NULL;
    size_t len = 0;
    int rc = read_file(path, &data, &len);
    if (rc == HK_ERR_NOT_FOUND && !required)
        return 0;
    if (rc) {
        finding(L, path, 0, "%s", rc == HK_ERR_NOT_FOUND ? "no such file" : "cannot read");
        return rc;
    }
    uint16_t file = file_add(L, path);
    if (file == UINT16_MAX) {
        free(data);
        finding(L, path, 0, "out of memory");
        return HK_ERR_NOMEM;
    }
    const char *fname = L->files[file];
    size_t lineno = 0;
    char *p = data, *end = data + len;
    while (p < end && !(L->failed && !L->report)) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        char *next = nl ? nl + 1 : end;
        lineno++;
        if (le > p && le[-1] == '\r')
            le--;
        size_t n = (size_t)(le - p);
        char *line = p;
        p = next;
        size_t lead = 0;
        while (lead < n && (line[lead] == ' ' || line[lead] == '\t'))
            lead++;
        if (lead == n || (line[lead] == '#' && kind != FK_VADER && kind != FK_AFINN))
            continue;
        if (!an_utf8_valid(line, n)) {
            finding(L, fname, lineno, "invalid UTF-8");
            continue;
        }
        char *tab = memchr(line, '\t', n);
        size_t plen = tab ? (size_t)(tab - line) : n;
        while (plen && line[plen - 1] == ' ')
            plen--;
        double w = 0;
        if (kind == FK_DIM || kind == FK_BOOSTERS || kind == FK_VADER || kind == FK_AFINN) {
            if (!tab) {
                finding(L, fname, lineno, "missing tab between phrase and weight");
                continue;
            }
            const char *ws = tab + 1;
            size_t wn = (size_t)(le - ws);
            if (kind == FK_VADER) {
                const char *t2 = memchr(ws, '\t', wn);
                if (t2)
                    wn = (size_t)(t2 - ws);
            }
            if (!parse_weight(ws, wn, &w)) {
                finding(L, fname, lineno, "bad weight '%.*s'", (int)(wn > 40 ? 40 : wn), ws);
                continue;
            }
            double lim = kind == FK_AFINN ? 5 : 4;
            if (w < -lim || w > lim) {
                finding(L, fname, lineno, "weight %g out of range -%g..+%g", w, lim, lim);
                continue;
            }
            if (kind == FK_AFINN)
                w *= 0.8;
        } else if (kind == FK_CONTRAST && tab) {
            size_t wn = (size_t)(le - tab - 1);
            if (wn == 7 && memcmp(tab + 1, "concede", 7) == 0)
                w = AN_FN_CONCEDE;
            else if (wn == 6 && memcmp(tab + 1, "clause", 6) == 0)
                w = AN_FN_CLAUSE;
            else if (wn == 5 && memcmp(tab + 1, "after", 5) == 0)
                w = AN_FN_CONTRAST;
            else {
                finding(L, fname, lineno, "contrast kind must be 'after', 'concede' or 'clause'");
                continue;
            }
        } else if (kind == FK_CONTRAST) {
            w = AN_FN_CONTRAST;
        } else if (tab) {
            finding(L, fname, lineno, "unexpected tab (negators.txt holds one phrase a line)");
            continue;
        }
        if (plen == 0) {
            finding(L, fname, lineno, "empty phrase");
            continue;
        }
        uint32_t node = phrase_node(L, line, plen, fname, lineno);
        if (!node)
            continue;
        switch (kind) {
        case FK_NEGATORS:
            set_func(L, node, AN_FN_NEGATOR, 0, line, plen, fname, lineno);
            break;
        case FK_BOOSTERS:
            set_func(L, node, AN_FN_BOOSTER, (float)w, line, plen, fname, lineno);
            break;
        case FK_CONTRAST:
            set_func(L, node, (uint8_t)w, 0, line, plen, fname, lineno);
            break;
        default:
            add_entry(L, node, dim, (float)w, line, plen, file, lineno,
                      kind == FK_VADER || kind == FK_AFINN);
        }
    }
    free(data);
    return 0;
}

/* dir + "/" + a + b into out; false when it does not fit. */
static bool join(char *out, size_t cap, const char *dir, const char *a, const char *b)
{
    int n = snprintf(out, cap, "%s/%s%s", dir, a, b);
    return n >= 0 && (size_t)n < cap;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* dir/DIM.tsv first, then dir/DIM.*.tsv in name order (a user's additions override). */
static void load_dimension(struct loader *L, const char *langdir, const char *name, uint16_t dim,
                           bool required)
{
    char path[4096];
    if (!join(path, sizeof path, langdir, name, ".tsv")) {
        finding(L, langdir, 0, "path too long");
        return;
    }
    load_file(L, path, FK_DIM, dim, required);
    DIR *d = opendir(langdir);
    if (!d)
        return;
    char *names[256];
    size_t nn = 0, plen = strlen(name);
    struct dirent *de;
    while ((de = readdir(d)) && nn < 256) {
        size_t n = strlen(de->d_name);
        if (n > plen + 5 && memcmp(de->d_name, name, plen) == 0 && de->d_name[plen] == '.' &&
            strcmp(de->d_name + n - 4, ".tsv") == 0) {
            names[nn] = strdup(de->d_name);
            if (names[nn])
                nn++;
        }
    }
    closedir(d);
    qsort(names, nn, sizeof names[0], cmp_str);
    for (size_t i = 0; i < nn; i++) {
        if (join(path, sizeof path, langdir, names[i], ""))
            load_file(L, path, FK_DIM, dim, true);
        free(names[i]);
    }
}

/* Lint: the same phrase in sentiment and a focused dimension, or in two focused dimensions,
 * with opposite signs is almost always a mistake. Behaviours are exempt ("sorry" is a
 * negative word and a positive behaviour). */
static void lint_conflicts(struct loader *L)
{
    for (size_t i = 0; i < L->nraws; i++) {
        const struct raw *a = &L->raws[i];
        if (a->dead || a->dim >= AN_DIM_COUNT || a->weight == 0)
            continue;
        for (size_t j = i + 1; j < L->nraws; j++) {
            const struct raw *b = &L->raws[j];
            if (b->dead || b->node != a->node || b->dim >= AN_DIM_COUNT || b->dim == a->dim ||
                b->weight == 0)
                continue;
            if ((a->weight > 0) != (b->weight > 0))
                finding(L, L->files[b->file], b->line, "'%s' is %g in %s but %g in %s:%u (%s)",
                        b->text, (double)b->weight, an_dim_names[b->dim], (double)a->weight,
                        L->files[a->file], a->line, an_dim_names[a->dim]);
        }
    }
}

/* Groups live entries by node so each node owns one contiguous run. */
static int compile(struct loader *L)
{
    struct an_lexicon *lex = L->lex;
    size_t live = 0;
    for (size_t i = 0; i < L->nraws; i++)
        live += !L->raws[i].dead;
    lex->entries = calloc(live ? live : 1, sizeof *lex->entries);
    if (!lex->entries)
        return HK_ERR_NOMEM;
    for (size_t i = 0; i < L->nraws; i++)
        if (!L->raws[i].dead)
            lex->nodes[L->raws[i].node].n++;
    uint32_t off = 0;
    for (size_t i = 0; i < lex->nnodes; i++) {
        lex->nodes[i].first = off;
        off += lex->nodes[i].n;
        lex->nodes[i].n = 0;
    }
    for (size_t i = 0; i < L->nraws; i++) {
        const struct raw *r = &L->raws[i];
        if (r->dead)
            continue;
        struct an_node *n = &lex->nodes[r->node];
        struct an_entry *e = &lex->entries[n->first + n->n++];
        e->text = r->text;
        e->weight = r->weight;
        e->dim = r->dim;
        if (r->weight == 0)
            n->blocker = 1;
    }
    lex->nentries = live;
    return 0;
}

static void loader_free(struct loader *L)
{
    an_stemmer_destroy(L->st);
    an_tokens_free(&L->toks);
    free(L->raws);
    free(L->dkey);
    free(L->dval);
    free(L->files);
    free(L->memo);
    free(L->memo_bytes);
}

static bool lang_ok(const char *lang)
{
    size_t n = strlen(lang);
    if (n == 0 || n >= 16)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((lang[i] >= 'a' && lang[i] <= 'z') || lang[i] == '_' || lang[i] == '-'))
            return false;
    return true;
}

static struct an_lexicon *build(const char *dir, const char *lang,
                                const struct an_lexicon_opts *opts, struct loader *L)
{
    char langdir[4096], path[4096];
    /* missing files load as empty (a language grows its lexicons); lint reports them */
    bool required = L->report != NULL;
    struct an_lexicon *lex = calloc(1, sizeof *lex);
    if (!lex) {
        finding(L, dir, 0, "out of memory");
        return NULL;
    }
    L->lex = lex;
    if (!lang_ok(lang)) {
        finding(L, lang, 0, "bad language code");
        goto out_free_lex;
    }
    snprintf(lex->lang, sizeof lex->lang, "%s", lang);
    L->st = an_stemmer_create(lang);
    if (!L->st) {
        finding(L, lang, 0, "no Snowball stemmer for this language");
        goto out_free_lex;
    }
    if (!join(langdir, sizeof langdir, dir, lang, "")) {
        finding(L, dir, 0, "path too long");
        goto out_free_lex;
    }
    DIR *d = opendir(langdir);
    if (!d) {
        finding(L, langdir, 0, "cannot open lexicon folder");
        goto out_free_lex;
    }
    closedir(d);
    if (node_new(lex, 0) != 0 || lex->nnodes != 1) { /* the root */
        finding(L, langdir, 0, "out of memory");
        goto out_free_lex;
    }
    bool ext = opts && opts->external && opts->external_format != AN_EXT_NONE;
    if (ext) {
        int rc = load_file(L, opts->external,
                           opts->external_format == AN_EXT_VADER ? FK_VADER : FK_AFINN,
                           AN_DIM_SENTIMENT, true);
        if (rc)
            goto out_free_lex;
    }
    if (!(ext && opts->external_replace))
        load_dimension(L, langdir, "sentiment", AN_DIM_SENTIMENT, required);
    for (uint16_t dim = 1; dim < AN_DIM_COUNT; dim++)
        load_dimension(L, langdir, an_dim_names[dim], dim, required);
    for (uint16_t b = 0; b < HK_BEH_COUNT; b++) {
        char name[64];
        snprintf(name, sizeof name, "behaviors/%s", hk_behavior_names[b]);
        if (join(path, sizeof path, langdir, name, ".tsv"))
            load_file(L, path, FK_DIM, (uint16_t)(AN_DIM_COUNT + b), required);
    }
    if (join(path, sizeof path, langdir, "negators.txt", ""))
        load_file(L, path, FK_NEGATORS, 0, required);
    if (join(path, sizeof path, langdir, "boosters.tsv", ""))
        load_file(L, path, FK_BOOSTERS, 0, required);
    if (join(path, sizeof path, langdir, "contrast.txt", ""))
        load_file(L, path, FK_CONTRAST, 0, required);
    if (L->failed && !L->report)
        goto out_free_lex;
    if (L->report) {
        lint_conflicts(L);
    }
    if (compile(L)) {
        finding(L, langdir, 0, "out of memory");
        goto out_free_lex;
    }
    return lex;
out_free_lex:
    an_lexicon_destroy(lex);
    L->lex = NULL;
    return NULL;
}

struct an_lexicon *an_lexicon_load_opts(const char *dir, const char *lang,
                                        const struct an_lexicon_opts *opts, char *err,
                                        size_t errlen)
{
    struct loader L;
    memset(&L, 0, sizeof L);
    an_tokens_init(&L.toks);
    L.err = err;
    L.errlen = errlen;
    if (err && errlen)
        err[0] = '\0';
    struct an_lexicon *lex = build(dir, lang, opts, &L);
    loader_free(&L);
    return lex;
}

struct an_lexicon *an_lexicon_load(const char *dir, const char *lang, char *err, size_t errlen)
{
    return an_lexicon_load_opts(dir, lang, NULL, err, errlen);
}

int an_lexicon_lint(const char *dir, const char *lang, FILE *report)
{
    struct loader L;
    memset(&L, 0, sizeof L);
    an_tokens_init(&L.toks);
    L.report = report;
    struct an_lexicon *lex = build(dir, lang, NULL, &L);
    int findings = L.findings;
    loader_free(&L);
    if (!lex && findings == 0)
        return HK_ERR_IO;
    an_lexicon_destroy(lex);
    return findings;
}
