/* The worker's set of loaded lexicons, one per language, loaded lazily and shared read-only
 * by the worker threads. SIGHUP builds a new set and swaps it in between batches; a set is
 * freed when the last thread lets go of it (reference counted). Private to analyzer/worker*.c. */
#ifndef HEARKEN_ANALYZER_WORKER_LEX_H
#define HEARKEN_ANALYZER_WORKER_LEX_H

#include <stdbool.h>
#include <stddef.h>

#define AN_LANGS_MAX     32
#define AN_LANG_FALLBACK "en"

struct an_lexicon;
struct an_lexset;

/* Loads the fallback language and each of langs (may be NULL/0). NULL with the reason in err
 * when any of them fails. The new set holds one reference. */
struct an_lexset *an_lexset_create(const char *dir, const char *const *langs, size_t nlangs,
                                   char *err, size_t errlen);
void an_lexset_ref(struct an_lexset *set);
/* Drops one reference; frees the set (and its lexicons) with the last. NULL is fine. */
void an_lexset_unref(struct an_lexset *set);

/* The slot of lang's lexicon in this set (0 is the fallback), loading it on first use.
 * A language that cannot be loaded falls back to slot 0 (logged once per set). */
int an_lexset_slot(struct an_lexset *set, const char *lang);
const struct an_lexicon *an_lexset_lexicon(struct an_lexset *set, int slot);
/* The languages that loaded (for a reload to load the same ones); returns how many. */
size_t an_lexset_langs(struct an_lexset *set, char out[][8], size_t max);

/* Normalises a survey's language tag to a lexicon folder name: "en-GB" -> "en", "PT_br" ->
 * "pt". Anything that is not 2-3 ASCII letters (before - or _) becomes the fallback, so a
 * tag can never name a path outside the lexicon folder. out has room for 8 bytes. */
void an_lang_normalize(const char *tag, char out[8]);

#endif
