/* The survey form's texts per language: every collector/static/i18n/TAG.txt asset, read once at
 * start-up into a table of languages. English is complete and the fallback for keys another
 * language leaves out; adding a language is adding one file. */
#include "customer.h"

#include "assets.h"
#include "hearken/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define I18N_DIR     "i18n/"
#define I18N_EXT     ".txt"
#define LANGS_MAX    64
#define FALLBACK_TAG "en"

static const char *const text_keys[COL_T_COUNT] = {
    [COL_T_PAGE_TITLE] = "page_title",
    [COL_T_HEADING] = "heading",
    [COL_T_INTRO] = "intro",
    [COL_T_Q_NPS] = "q_nps",
    [COL_T_NPS_LOW] = "nps_low",
    [COL_T_NPS_HIGH] = "nps_high",
    [COL_T_Q_FELT_HEARD] = "q_felt_heard",
    [COL_T_Q_FELT_VALUED] = "q_felt_valued",
    [COL_T_AGREE_LOW] = "agree_low",
    [COL_T_AGREE_HIGH] = "agree_high",
    [COL_T_Q_CSAT] = "q_csat",
    [COL_T_CSAT_LOW] = "csat_low",
    [COL_T_CSAT_HIGH] = "csat_high",
    [COL_T_Q_CES] = "q_ces",
    [COL_T_Q_BEHAVIORS] = "q_behaviors",
    [COL_T_BEHAVIORS_HINT] = "behaviors_hint",
    [COL_T_BEH_FIRST + HK_BEH_APOLOGIZED] = "beh_apologized",
    [COL_T_BEH_FIRST + HK_BEH_ACKNOWLEDGED_FEELINGS] = "beh_acknowledged_feelings",
    [COL_T_BEH_FIRST + HK_BEH_SHOWED_CONCERN] = "beh_showed_concern",
    [COL_T_BEH_FIRST + HK_BEH_OFFERED_GOODWILL] = "beh_offered_goodwill",
    [COL_T_BEH_FIRST + HK_BEH_CALM_TONE] = "beh_calm_tone",
    [COL_T_BEH_FIRST + HK_BEH_LISTENED_ACTIVELY] = "beh_listened_actively",
    [COL_T_BEH_FIRST + HK_BEH_USED_MY_NAME] = "beh_used_my_name",
    [COL_T_BEH_FIRST + HK_BEH_DID_NOT_INTERRUPT] = "beh_did_not_interrupt",
    [COL_T_BEH_FIRST + HK_BEH_WAS_PATIENT] = "beh_was_patient",
    [COL_T_BEH_FIRST + HK_BEH_MADE_NO_ASSUMPTIONS] = "beh_made_no_assumptions",
    [COL_T_Q_COMMENT] = "q_comment",
    [COL_T_COMMENT_HINT] = "comment_hint",
    [COL_T_SUBMIT] = "submit",
    [COL_T_ERRORS_HEADING] = "errors_heading",
    [COL_T_ERR_CHOICE] = "err_choice",
    [COL_T_ERR_COMMENT_LONG] = "err_comment_long",
    [COL_T_ERR_COMMENT_TEXT] = "err_comment_text",
    [COL_T_ERR_EMPTY] = "err_empty",
    [COL_T_ERR_SAVE] = "err_save",
    [COL_T_ERR_GENERAL] = "err_general",
    [COL_T_THANKS_TITLE] = "thanks_title",
    [COL_T_THANKS_BODY] = "thanks_body",
    [COL_T_ANSWERED_TITLE] = "answered_title",
    [COL_T_ANSWERED_BODY] = "answered_body",
    [COL_T_EXPIRED_TITLE] = "expired_title",
    [COL_T_EXPIRED_BODY] = "expired_body",
    [COL_T_INVALID_TITLE] = "invalid_title",
    [COL_T_INVALID_BODY] = "invalid_body",
    [COL_T_UNKNOWN_TITLE] = "unknown_title",
    [COL_T_UNKNOWN_BODY] = "unknown_body",
    [COL_T_UNREADABLE_TITLE] = "unreadable_title",
    [COL_T_UNREADABLE_BODY] = "unreadable_body",
    [COL_T_LIMITED_TITLE] = "limited_title",
    [COL_T_LIMITED_BODY] = "limited_body",
    [COL_T_UNAVAILABLE_TITLE] = "unavailable_title",
    [COL_T_UNAVAILABLE_BODY] = "unavailable_body",
    [COL_T_TOO_LARGE_TITLE] = "too_large_title",
    [COL_T_TOO_LARGE_BODY] = "too_large_body",
    [COL_T_ERROR_TITLE] = "error_title",
    [COL_T_ERROR_BODY] = "error_body",
    [COL_T_BACK] = "back",
};

struct col_i18n {
    size_t n;
    struct col_lang lang[LANGS_MAX]; /* lang[0] is English */
    char *storage[LANGS_MAX];        /* each file's text, cut into NUL-terminated values */
};

static int key_index(const char *k, size_t n)
{
    for (int i = 0; i < COL_T_COUNT; i++)
        if (text_keys[i] && strlen(text_keys[i]) == n && memcmp(text_keys[i], k, n) == 0)
            return i;
    return -1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Parses one file's copy in place: "key = text" lines. */
static int parse_file(struct col_lang *l, char *text, const char *name, char *err, size_t errlen)
{
    int lineno = 0;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        char *p = line;
        while (is_space(*p))
            p++;
        if (*p && *p != '#') {
            char *eq = strchr(p, '=');
            if (!eq) {
                snprintf(err, errlen, "%s line %d: expected key = text", name, lineno);
                return HK_ERR_INVALID;
            }
            char *kend = eq;
            while (kend > p && is_space(kend[-1]))
                kend--;
            int k = key_index(p, (size_t)(kend - p));
            if (k < 0) {
                snprintf(err, errlen, "%s line %d: unknown key \"%.*s\"", name, lineno,
                         (int)(kend - p > 40 ? 40 : kend - p), p);
                return HK_ERR_INVALID;
            }
            if (l->text[k]) {
                snprintf(err, errlen, "%s line %d: \"%s\" is given twice", name, lineno,
                         text_keys[k]);
                return HK_ERR_INVALID;
            }
            char *v = eq + 1;
            while (is_space(*v))
                v++;
            char *vend = v + strlen(v);
            while (vend > v && is_space(vend[-1]))
                *--vend = '\0';
            if (!*v) {
                snprintf(err, errlen, "%s line %d: \"%s\" has no text", name, lineno, text_keys[k]);
                return HK_ERR_INVALID;
            }
            l->text[k] = v;
        }
        line = nl ? nl + 1 : NULL;
    }
    return 0;
}

void col_i18n_free(struct col_i18n *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->storage[i]);
    free(t);
}

struct col_i18n *col_i18n_load(char *err, size_t errlen)
{
    struct col_i18n *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* English first: it is the fallback the others are completed from */
    const struct col_asset *en = col_asset_find(I18N_DIR FALLBACK_TAG I18N_EXT);
    if (!en) {
        snprintf(err, errlen, "%s is missing", I18N_DIR FALLBACK_TAG I18N_EXT);
        goto out_free;
    }
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned long i = 0; i < col_nassets; i++) {
            const struct col_asset *a = &col_assets[i];
            size_t nlen = strlen(a->name), dl = strlen(I18N_DIR), el = strlen(I18N_EXT);
            if ((pass == 0) != (a == en) || nlen <= dl + el ||
                strncmp(a->name, I18N_DIR, dl) != 0 || strcmp(a->name + nlen - el, I18N_EXT) != 0)
                continue;
            size_t tl = nlen - dl - el;
            if (tl >= sizeof t->lang[0].tag || t->n == LANGS_MAX) {
                snprintf(err, errlen, "%s: language tag too long, or too many languages", a->name);
                goto out_free;
            }
            struct col_lang *l = &t->lang[t->n];
            memcpy(l->tag, a->name + dl, tl);
            l->tag[tl] = '\0';
            t->storage[t->n] = malloc(a->len + 1);
            if (!t->storage[t->n]) {
                snprintf(err, errlen, "out of memory");
                goto out_free;
            }
            memcpy(t->storage[t->n], a->data, a->len);
            t->storage[t->n][a->len] = '\0';
            t->n++;
            if (memchr(a->data, '\0', a->len)) {
                snprintf(err, errlen, "%s holds a NUL byte", a->name);
                goto out_free;
            }
            if (parse_file(l, t->storage[t->n - 1], a->name, err, errlen))
                goto out_free;
            for (int k = 0; k < COL_T_COUNT; k++) {
                if (l->text[k])
                    continue;
                if (pass == 0) {
                    snprintf(err, errlen, "%s: \"%s\" is missing (English must be complete)",
                             a->name, text_keys[k]);
                    goto out_free;
                }
                l->text[k] = t->lang[0].text[k];
            }
        }
    }
    return t;

out_free:
    col_i18n_free(t);
    return NULL;
}

const struct col_lang *col_i18n_find(const struct col_i18n *t, const char *tag)
{
    if (!t || t->n == 0)
        return NULL;
    if (!tag || !*tag)
        return &t->lang[0];
    for (size_t i = 0; i < t->n; i++)
        if (strcasecmp(t->lang[i].tag, tag) == 0)
            return &t->lang[i];
    size_t primary = strcspn(tag, "-");
    for (size_t i = 0; i < t->n; i++)
        if (strlen(t->lang[i].tag) == primary && strncasecmp(t->lang[i].tag, tag, primary) == 0)
            return &t->lang[i];
    return &t->lang[0];
}
