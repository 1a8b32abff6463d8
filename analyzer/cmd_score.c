/* `hearken-analyzer score` (stdin comments -> SPEC section 5 JSON lines) and
 * `hearken-analyzer lint` (lexicon checks). Flags, line framing, JSON input with jansson and
 * batched output; the scoring itself lives in score.c. */
#include "hearken/analyzer.h"
#include "hearken/buf.h"
#include "hearken/err.h"
#include "hearken/score.h"
#include "scorer_internal.h" /* an_utf8_valid */

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE  (1u << 20)
#define OUT_FLUSH (1u << 20)
#define MAX_LANGS 8

struct opts {
    const char *lexicons;
    const char *lang;
    struct an_lexicon_opts lex;
};

struct lang_slot {
    char lang[16];
    struct an_lexicon *lex; /* NULL: failed to load, err says why */
    struct an_scorer *scorer;
    char err[256];
};

struct run {
    struct opts o;
    struct lang_slot langs[MAX_LANGS];
    size_t nlangs;
    struct hk_buf out;
    struct an_score sc;
};

static void usage(FILE *f, const char *cmd)
{
    fprintf(f,
            "usage: hearken-analyzer %s [--lexicons DIR] [--lang LANG]%s\n"
            "  --lexicons DIR   lexicon folder (default $HEARKEN_LEXICONS, else ./lexicons)\n"
            "  --lang LANG      language of comments without one (default en)\n",
            cmd,
            strcmp(cmd, "score") == 0
                ? " [--external FILE --external-format vader|afinn [--external-replace]]"
                : "");
    if (strcmp(cmd, "score") == 0)
        fprintf(f, "  --external FILE  add a general-sentiment lexicon in VADER or AFINN format\n"
                   "  --external-format vader|afinn\n"
                   "  --external-replace  use it instead of sentiment*.tsv, not on top of them\n"
                   "Reads one comment a line (JSON {\"comment\":…,\"id\":…,\"language\":…} or "
                   "plain text), writes one JSON line each.\n");
}

/* Returns 0, 1 for --help, or 2 on a usage error. */
static int parse_opts(int argc, char **argv, struct opts *o, bool score)
{
    const char *env = getenv("HEARKEN_LEXICONS");
    o->lexicons = env && *env ? env : "lexicons";
    o->lang = "en";
    memset(&o->lex, 0, sizeof o->lex);
    const char *fmt = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout, argv[0]);
            return 1;
        } else if (strcmp(a, "--lexicons") == 0 && v) {
            o->lexicons = v;
            i++;
        } else if (strcmp(a, "--lang") == 0 && v) {
            o->lang = v;
            i++;
        } else if (score && strcmp(a, "--external") == 0 && v) {
            o->lex.external = v;
            i++;
        } else if (score && strcmp(a, "--external-format") == 0 && v) {
            fmt = v;
            i++;
        } else if (score && strcmp(a, "--external-replace") == 0) {
            o->lex.external_replace = true;
        } else {
            fprintf(stderr, "hearken-analyzer %s: unknown or incomplete option '%s'\n", argv[0], a);
            usage(stderr, argv[0]);
            return 2;
        }
    }
    if (o->lex.external) {
        if (!fmt || (strcmp(fmt, "vader") != 0 && strcmp(fmt, "afinn") != 0)) {
            fprintf(stderr,
                    "hearken-analyzer %s: --external needs --external-format "
                    "vader|afinn\n",
                    argv[0]);
            return 2;
        }
        o->lex.external_format = strcmp(fmt, "vader") == 0 ? AN_EXT_VADER : AN_EXT_AFINN;
    } else if (fmt) {
        fprintf(stderr, "hearken-analyzer %s: --external-format without --external\n", argv[0]);
        return 2;
    }
    return 0;
}

/* "en-GB" -> "en"; false when it cannot be a language code. */
static bool norm_lang(const char *in, size_t n, char out[16])
{
    size_t k = 0;
    for (size_t i = 0; i < n && in[i] != '-' && in[i] != '_'; i++) {
        char c = in[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c | 0x20);
        if (c < 'a' || c > 'z' || k >= 15)
            return false;
        out[k++] = c;
    }
    out[k] = '\0';
    return k > 0;
}

static struct lang_slot *lang_get(struct run *r, const char *lang)
{
    for (size_t i = 0; i < r->nlangs; i++)
        if (strcmp(r->langs[i].lang, lang) == 0)
            return &r->langs[i];
    if (r->nlangs == MAX_LANGS)
        return NULL;
    struct lang_slot *l = &r->langs[r->nlangs++];
    memset(l, 0, sizeof *l);
    snprintf(l->lang, sizeof l->lang, "%s", lang);
    l->lex = an_lexicon_load_opts(r->o.lexicons, lang, &r->o.lex, l->err, sizeof l->err);
    if (l->lex) {
        l->scorer = an_scorer_create(l->lex);
        if (!l->scorer) {
            snprintf(l->err, sizeof l->err, "out of memory");
            an_lexicon_destroy(l->lex);
            l->lex = NULL;
        }
    }
    return l;
}

static int flush_out(struct run *r)
{
    if (r->out.len && fwrite(r->out.data, 1, r->out.len, stdout) != r->out.len)
        return HK_ERR_IO;
    hk_buf_reset(&r->out);
    return 0;
}

static int put_error(struct run *r, const char *id, size_t idlen, const char *msg)
{
    int rc = hk_buf_append_str(&r->out, "{\"id\":");
    if (!rc)
        rc = hk_buf_append(&r->out, id, idlen);
    if (!rc)
        rc = hk_buf_append_str(&r->out, ",\"error\":");
    if (!rc)
        rc = hk_buf_append_json_str(&r->out, msg, strlen(msg));
    if (!rc)
        rc = hk_buf_append_str(&r->out, "}\n");
    return rc;
}

static int score_text(struct run *r, struct lang_slot *l, const char *text, size_t n,
                      const char *id, size_t idlen)
{
    int rc = an_scorer_score(l->scorer, text, n, &r->sc);
    if (rc == HK_ERR_INVALID)
        return put_error(r, id, idlen, "invalid UTF-8");
    if (rc == HK_ERR_TOO_LARGE)
        return put_error(r, id, idlen, "comment too long");
    if (rc)
        return rc;
    if (n > OUT_FLUSH && r->out.len && (rc = flush_out(r)) != 0)
        return rc; /* a long comment may need the whole output buffer */
    rc = an_score_to_json_raw_id(&r->sc, text, n, id, idlen, &r->out);
    if (rc == HK_ERR_TOO_LARGE)
        return put_error(r, id, idlen, "comment has too many cues to report");
    if (!rc)
        rc = hk_buf_append_char(&r->out, '\n');
    return rc;
}

/* ---- a fast path for the common flat object; anything unusual goes to jansson ---- */

struct flat_str {
    const char *p; /* the raw JSON token, quotes included for strings */
    size_t n;
    bool is_str;
};

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    return i;
}

/* A string without escapes or control characters, valid UTF-8: returns the index after its
 * closing quote, or 0 when the fast path cannot take it. */
static size_t flat_string(const char *s, size_t n, size_t i)
{
    size_t start = ++i;
    while (i < n && s[i] != '"') {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '\\')
            return 0;
        i++;
    }
    if (i >= n || !an_utf8_valid(s + start, i - start))
        return 0;
    return i + 1;
}

/* Parses {"id":..,"comment":"..","language":"..", other scalar members} when every value is an
 * escape-free string, a plain integer, true, false or null, and no key repeats. Returns false
 * to let jansson decide (and report errors) for anything else. */
static bool flat_object(const char *s, size_t n, struct flat_str *id, struct flat_str *comment,
                        struct flat_str *lang)
{
    struct flat_str keys[16];
    size_t nkeys = 0;
    size_t i = skip_ws(s, n, 0);
    if (i >= n || s[i] != '{')
        return false;
    i = skip_ws(s, n, i + 1);
    if (i < n && s[i] == '}')
        return skip_ws(s, n, i + 1) == n;
    for (;;) {
        if (i >= n || s[i] != '"' || nkeys == 16)
            return false;
        size_t ke = flat_string(s, n, i);
        if (!ke)
            return false;
        struct flat_str key = {s + i + 1, ke - i - 2, true};
        for (size_t k = 0; k < nkeys; k++)
            if (keys[k].n == key.n && memcmp(keys[k].p, key.p, key.n) == 0)
                return false;
        keys[nkeys++] = key;
        i = skip_ws(s, n, ke);
        if (i >= n || s[i] != ':')
            return false;
        i = skip_ws(s, n, i + 1);
        if (i >= n)
            return false;
        struct flat_str v = {s + i, 0, false};
        if (s[i] == '"') {
            size_t e = flat_string(s, n, i);
            if (!e)
                return false;
            v.n = e - i;
            v.is_str = true;
            i = e;
        } else if (s[i] == '-' || (s[i] >= '0' && s[i] <= '9')) {
            size_t j = i + (s[i] == '-');
            size_t d = j;
            while (j < n && s[j] >= '0' && s[j] <= '9')
                j++;
            /* plain integers only, as jansson would print them back: no "-0", no "01" */
            if (j == d || j - d > 15 || (s[d] == '0' && (j - d > 1 || d > i)))
                return false;
            if (j < n && (s[j] == '.' || s[j] == 'e' || s[j] == 'E'))
                return false;
            v.n = j - i;
            i = j;
        } else if (n - i >= 4 && memcmp(s + i, "null", 4) == 0) {
            v.n = 4;
            i += 4;
        } else if (n - i >= 4 && memcmp(s + i, "true", 4) == 0) {
            v.n = 4;
            i += 4;
        } else if (n - i >= 5 && memcmp(s + i, "false", 5) == 0) {
            v.n = 5;
            i += 5;
        } else {
            return false; /* objects, arrays, reals: jansson */
        }
        if (key.n == 2 && memcmp(key.p, "id", 2) == 0)
            *id = v;
        else if (key.n == 7 && memcmp(key.p, "comment", 7) == 0)
            *comment = v;
        else if (key.n == 8 && memcmp(key.p, "language", 8) == 0)
            *lang = v;
        i = skip_ws(s, n, i);
        if (i < n && s[i] == ',') {
            i = skip_ws(s, n, i + 1);
            continue;
        }
        return i < n && s[i] == '}' && skip_ws(s, n, i + 1) == n;
    }
}

static int handle_flat(struct run *r, struct lang_slot *deflt, const struct flat_str *jid,
                       const struct flat_str *jc, const struct flat_str *jl, const char *lineid,
                       size_t lineidlen)
{
    const char *id = lineid;
    size_t idlen = lineidlen;
    if (jid->p && !(jid->n == 4 && memcmp(jid->p, "null", 4) == 0)) {
        id = jid->p;
        idlen = jid->n;
    }
    if (!jc->p || !jc->is_str)
        return put_error(r, id, idlen, "missing \"comment\" (a string)");
    struct lang_slot *l = deflt;
    if (jl->p && jl->is_str) {
        char lang[16];
        if (!norm_lang(jl->p + 1, jl->n - 2, lang))
            return put_error(r, id, idlen, "bad \"language\"");
        l = lang_get(r, lang);
        if (!l || !l->lex) {
            char msg[320];
            snprintf(msg, sizeof msg, "no lexicon for language '%s'%s%s", lang, l ? ": " : "",
                     l ? l->err : "");
            return put_error(r, id, idlen, msg);
        }
    } else if (jl->p && !(jl->n == 4 && memcmp(jl->p, "null", 4) == 0)) {
        return put_error(r, id, idlen, "bad \"language\"");
    }
    return score_text(r, l, jc->p + 1, jc->n - 2, id, idlen);
}

static int handle_json(struct run *r, struct lang_slot *deflt, const char *line, size_t n,
                       const char *lineid, size_t lineidlen)
{
    struct flat_str fid = {0}, fcomment = {0}, flang = {0};
    if (flat_object(line, n, &fid, &fcomment, &flang))
        return handle_flat(r, deflt, &fid, &fcomment, &flang, lineid, lineidlen);
    json_error_t jerr;
    json_t *root = json_loadb(line, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!root) {
        char msg[256];
        snprintf(msg, sizeof msg, "invalid JSON at column %d: %s", jerr.column, jerr.text);
        return put_error(r, lineid, lineidlen, msg);
    }
    int rc = 0;
    char *iddump = NULL;
    const char *id = lineid;
    size_t idlen = lineidlen;
    json_t *jid = json_object_get(root, "id");
    if (jid && !json_is_null(jid)) {
        iddump = json_dumps(jid, JSON_ENCODE_ANY | JSON_COMPACT);
        if (!iddump) {
            rc = HK_ERR_NOMEM;
            goto out_free_root;
        }
        id = iddump;
        idlen = strlen(iddump);
    }
    if (!json_is_object(root)) {
        rc = put_error(r, id, idlen, "not a JSON object");
        goto out_free_id;
    }
    json_t *jc = json_object_get(root, "comment");
    if (!json_is_string(jc)) {
        rc = put_error(r, id, idlen, "missing \"comment\" (a string)");
        goto out_free_id;
    }
    struct lang_slot *l = deflt;
    json_t *jl = json_object_get(root, "language");
    if (json_is_string(jl)) {
        char lang[16];
        if (!norm_lang(json_string_value(jl), json_string_length(jl), lang)) {
            rc = put_error(r, id, idlen, "bad \"language\"");
            goto out_free_id;
        }
        l = lang_get(r, lang);
        if (!l || !l->lex) {
            char msg[320];
            snprintf(msg, sizeof msg, "no lexicon for language '%s'%s%s", lang, l ? ": " : "",
                     l ? l->err : "");
            rc = put_error(r, id, idlen, msg);
            goto out_free_id;
        }
    } else if (jl && !json_is_null(jl)) {
        rc = put_error(r, id, idlen, "bad \"language\"");
        goto out_free_id;
    }
    rc = score_text(r, l, json_string_value(jc), json_string_length(jc), id, idlen);
out_free_id:
    free(iddump);
out_free_root:
    json_decref(root);
    return rc;
}

static int handle_line(struct run *r, struct lang_slot *deflt, const char *line, size_t n,
                       unsigned long long lineno)
{
    char lineid[24];
    int idlen = 0;
    char rev[24];
    do {
        rev[idlen++] = (char)('0' + lineno % 10);
        lineno /= 10;
    } while (lineno);
    for (int k = 0; k < idlen; k++)
        lineid[k] = rev[idlen - 1 - k];
    if (n && line[n - 1] == '\r')
        n--;
    size_t k = 0;
    while (k < n && (line[k] == ' ' || line[k] == '\t'))
        k++;
    if (k < n && line[k] == '{')
        return handle_json(r, deflt, line, n, lineid, (size_t)idlen);
    return score_text(r, deflt, line, n, lineid, (size_t)idlen);
}

static void run_free(struct run *r)
{
    for (size_t i = 0; i < r->nlangs; i++) {
        an_scorer_destroy(r->langs[i].scorer);
        an_lexicon_destroy(r->langs[i].lex);
    }
    hk_buf_free(&r->out);
}

int an_cmd_score(int argc, char **argv)
{
    struct run r;
    memset(&r, 0, sizeof r);
    int prc = parse_opts(argc, argv, &r.o, true);
    if (prc)
        return prc == 1 ? 0 : 2;
    char lang[16];
    if (!norm_lang(r.o.lang, strlen(r.o.lang), lang)) {
        fprintf(stderr, "hearken-analyzer score: bad --lang '%s'\n", r.o.lang);
        return 2;
    }
    hk_buf_init(&r.out, (size_t)64 << 20);
    int status = 0;
    char *buf = NULL;
    struct lang_slot *deflt = lang_get(&r, lang);
    if (!deflt || !deflt->lex) {
        fprintf(stderr, "hearken-analyzer score: %s\n", deflt ? deflt->err : "out of memory");
        status = 2;
        goto out_free_run;
    }
    size_t cap = (size_t)4 << 20, len = 0;
    buf = malloc(cap);
    if (!buf) {
        status = 1;
        goto out_free_run;
    }
    unsigned long long lineno = 0;
    bool eof = false, skipping = false;
    while (!eof) {
        size_t got = fread(buf + len, 1, cap - len, stdin);
        if (got == 0) {
            if (ferror(stdin)) {
                fprintf(stderr, "hearken-analyzer score: cannot read stdin\n");
                status = 1;
                break;
            }
            eof = true;
        }
        len += got;
        size_t pos = 0;
        for (;;) {
            char *nl = memchr(buf + pos, '\n', len - pos);
            if (!nl && !(eof && pos < len))
                break;
            size_t end = nl ? (size_t)(nl - buf) : len;
            int rc = 0;
            if (skipping) {
                skipping = false; /* the tail of an over-long line */
            } else if (end - pos > MAX_LINE) {
                char id[24];
                int idlen = snprintf(id, sizeof id, "%llu", ++lineno);
                rc = put_error(&r, id, (size_t)idlen, "line too long");
            } else {
                lineno++;
                rc = handle_line(&r, deflt, buf + pos, end - pos, lineno);
            }
            pos = nl ? end + 1 : len;
            if (!rc && r.out.len >= OUT_FLUSH)
                rc = flush_out(&r);
            if (rc) {
                fprintf(stderr, "hearken-analyzer score: %s\n", hk_err_name(rc));
                status = 1;
                goto out_free_buf;
            }
        }
        memmove(buf, buf + pos, len - pos);
        len -= pos;
        if (len == cap) {
            if (cap < MAX_LINE * 2u) {
                char *nb = realloc(buf, cap * 2);
                if (!nb) {
                    status = 1;
                    goto out_free_buf;
                }
                buf = nb;
                cap *= 2;
            } else if (skipping) {
                len = 0;
            } else {
                char id[24];
                int idlen = snprintf(id, sizeof id, "%llu", ++lineno);
                put_error(&r, id, (size_t)idlen, "line too long");
                len = 0;
                skipping = true;
            }
        }
    }
    if (flush_out(&r) || fflush(stdout)) {
        fprintf(stderr, "hearken-analyzer score: cannot write stdout\n");
        status = 1;
    }
out_free_buf:
    free(buf);
out_free_run:
    run_free(&r);
    return status;
}

int an_cmd_lint(int argc, char **argv)
{
    struct opts o;
    int prc = parse_opts(argc, argv, &o, false);
    if (prc)
        return prc == 1 ? 0 : 2;
    char lang[16];
    if (!norm_lang(o.lang, strlen(o.lang), lang)) {
        fprintf(stderr, "hearken-analyzer lint: bad --lang '%s'\n", o.lang);
        return 2;
    }
    int n = an_lexicon_lint(o.lexicons, lang, stdout);
    fflush(stdout);
    if (n < 0) {
        fprintf(stderr, "hearken-analyzer lint: cannot read %s/%s\n", o.lexicons, lang);
        return 2;
    }
    if (n) {
        fprintf(stderr, "hearken-analyzer lint: %d problem%s in %s/%s\n", n, n == 1 ? "" : "s",
                o.lexicons, lang);
        return 1;
    }
    fprintf(stderr, "hearken-analyzer lint: %s/%s is clean\n", o.lexicons, lang);
    return 0;
}
