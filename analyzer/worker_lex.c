/* The worker's lexicon set (see worker_lex.h): lazy per-language loading behind a mutex,
 * fallback to English, reference counting so a SIGHUP reload can swap sets while threads
 * finish their batch on the old one. */
#include "worker_lex.h"

#include "hearken/log.h"
#include "hearken/score.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lang_slot {
    char lang[8];
    struct an_lexicon *lex; /* NULL: failed to load, use slot 0 */
};

struct an_lexset {
    pthread_mutex_t mu; /* guards refs, n and slot contents */
    int refs;
    char *dir;
    size_t n;
    struct lang_slot slot[AN_LANGS_MAX];
};

void an_lang_normalize(const char *tag, char out[8])
{
    size_t n = 0;
    while (tag && tag[n] && tag[n] != '-' && tag[n] != '_' && n < 4) {
        char c = tag[n];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c < 'a' || c > 'z')
            break;
        out[n++] = c;
    }
    bool ends = tag && (tag[n] == '\0' || tag[n] == '-' || tag[n] == '_');
    if (n < 2 || n > 3 || !ends) {
        memcpy(out, AN_LANG_FALLBACK, sizeof AN_LANG_FALLBACK);
        return;
    }
    out[n] = '\0';
}

/* Loads lang into a new slot; caller holds mu or owns the set exclusively. */
static int slot_load(struct an_lexset *set, const char *lang, char *err, size_t errlen)
{
    struct lang_slot *s = &set->slot[set->n];
    memcpy(s->lang, lang, strlen(lang) + 1);
    s->lex = an_lexicon_load(set->dir, lang, err, errlen);
    set->n++;
    return s->lex ? (int)(set->n - 1) : -1;
}

struct an_lexset *an_lexset_create(const char *dir, const char *const *langs, size_t nlangs,
                                   char *err, size_t errlen)
{
    struct an_lexset *set = calloc(1, sizeof *set);
    if (!set) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    set->dir = strdup(dir);
    if (!set->dir || pthread_mutex_init(&set->mu, NULL) != 0) {
        free(set->dir);
        free(set);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    set->refs = 1;
    if (slot_load(set, AN_LANG_FALLBACK, err, errlen) < 0)
        goto out_unref;
    for (size_t i = 0; i < nlangs && set->n < AN_LANGS_MAX; i++) {
        char lang[8];
        an_lang_normalize(langs[i], lang);
        if (strcmp(lang, AN_LANG_FALLBACK) == 0)
            continue;
        if (slot_load(set, lang, err, errlen) < 0)
            goto out_unref;
    }
    return set;

out_unref:
    an_lexset_unref(set);
    return NULL;
}

void an_lexset_ref(struct an_lexset *set)
{
    pthread_mutex_lock(&set->mu);
    set->refs++;
    pthread_mutex_unlock(&set->mu);
}

void an_lexset_unref(struct an_lexset *set)
{
    if (!set)
        return;
    pthread_mutex_lock(&set->mu);
    int refs = --set->refs;
    pthread_mutex_unlock(&set->mu);
    if (refs > 0)
        return;
    for (size_t i = 0; i < set->n; i++)
        an_lexicon_destroy(set->slot[i].lex);
    pthread_mutex_destroy(&set->mu);
    free(set->dir);
    free(set);
}

int an_lexset_slot(struct an_lexset *set, const char *lang)
{
    char norm[8];
    an_lang_normalize(lang, norm);
    int slot = 0;
    pthread_mutex_lock(&set->mu);
    size_t i = 0;
    for (; i < set->n; i++)
        if (strcmp(set->slot[i].lang, norm) == 0)
            break;
    if (i < set->n) {
        slot = set->slot[i].lex ? (int)i : 0;
    } else if (set->n < AN_LANGS_MAX) {
        char err[256];
        int got = slot_load(set, norm, err, sizeof err);
        if (got < 0)
            hk_log(HK_LOG_WARN, "lexicon_fallback", "lang=%s fallback=%s reason=\"%s\"", norm,
                   AN_LANG_FALLBACK, err);
        else
            hk_log(HK_LOG_INFO, "lexicon_loaded", "lang=%s", norm);
        slot = got < 0 ? 0 : got;
    }
    pthread_mutex_unlock(&set->mu);
    return slot;
}

const struct an_lexicon *an_lexset_lexicon(struct an_lexset *set, int slot)
{
    pthread_mutex_lock(&set->mu);
    const struct an_lexicon *lex = set->slot[slot].lex;
    pthread_mutex_unlock(&set->mu);
    return lex;
}

size_t an_lexset_langs(struct an_lexset *set, char out[][8], size_t max)
{
    size_t k = 0;
    pthread_mutex_lock(&set->mu);
    for (size_t i = 0; i < set->n && k < max; i++)
        if (set->slot[i].lex)
            memcpy(out[k++], set->slot[i].lang, 8);
    pthread_mutex_unlock(&set->mu);
    return k;
}
