/* The customer's side of the collector: the survey form's texts per language (i18n.c), its
 * pages (form_page.c), the per-address rate limit (ratelimit.c) and the embedded static files
 * (assets.c). Routes live in links.c, survey_form.c and batch.c.
 *
 * Ownership: struct col_i18n and struct col_ratelimit are built once by col_app_init and
 * freed by col_app_free; a struct col_lang points into its col_i18n. */
#ifndef HEARKEN_COLLECTOR_CUSTOMER_H
#define HEARKEN_COLLECTOR_CUSTOMER_H

#include "col.h"

#include <stdbool.h>
#include <stdint.h>

/* Keys of collector/static/i18n/LANG.txt, in the order of text_keys[] in i18n.c. */
enum col_text {
    COL_T_PAGE_TITLE,
    COL_T_HEADING,
    COL_T_INTRO,
    COL_T_Q_NPS,
    COL_T_NPS_LOW,
    COL_T_NPS_HIGH,
    COL_T_Q_FELT_HEARD,
    COL_T_Q_FELT_VALUED,
    COL_T_AGREE_LOW,
    COL_T_AGREE_HIGH,
    COL_T_Q_CSAT,
    COL_T_CSAT_LOW,
    COL_T_CSAT_HIGH,
    COL_T_Q_CES,
    COL_T_Q_BEHAVIORS,
    COL_T_BEHAVIORS_HINT,
    COL_T_BEH_FIRST, /* one per behaviour, in enum hk_behavior order */
    COL_T_Q_COMMENT = COL_T_BEH_FIRST + HK_BEH_COUNT,
    COL_T_COMMENT_HINT,
    COL_T_SUBMIT,
    COL_T_ERRORS_HEADING,
    COL_T_ERR_CHOICE,
    COL_T_ERR_COMMENT_LONG,
    COL_T_ERR_COMMENT_TEXT,
    COL_T_ERR_EMPTY,
    COL_T_ERR_SAVE,
    COL_T_ERR_GENERAL,
    COL_T_THANKS_TITLE,
    COL_T_THANKS_BODY,
    COL_T_ANSWERED_TITLE,
    COL_T_ANSWERED_BODY,
    COL_T_EXPIRED_TITLE,
    COL_T_EXPIRED_BODY,
    COL_T_INVALID_TITLE,
    COL_T_INVALID_BODY,
    COL_T_UNKNOWN_TITLE,
    COL_T_UNKNOWN_BODY,
    COL_T_UNREADABLE_TITLE,
    COL_T_UNREADABLE_BODY,
    COL_T_LIMITED_TITLE,
    COL_T_LIMITED_BODY,
    COL_T_UNAVAILABLE_TITLE,
    COL_T_UNAVAILABLE_BODY,
    COL_T_TOO_LARGE_TITLE,
    COL_T_TOO_LARGE_BODY,
    COL_T_ERROR_TITLE,
    COL_T_ERROR_BODY,
    COL_T_BACK,
    COL_T_COUNT,
    COL_T_NONE = -1
};

struct col_lang {
    char tag[16]; /* as the file is named: "en", "de", "pt-BR" */
    const char *text[COL_T_COUNT];
};

/* ---- i18n.c ---- */

/* Reads every i18n/TAG.txt asset. English must hold every key; other languages may leave keys
 * out (English is used) but not add unknown ones. NULL with the reason in err. */
struct col_i18n *col_i18n_load(char *err, size_t errlen);
void col_i18n_free(struct col_i18n *t);
/* The language for a link's tag: exact (case-insensitive), then its primary subtag, then
 * English. Never NULL once loaded; t may be NULL in tests (then NULL). */
const struct col_lang *col_i18n_find(const struct col_i18n *t, const char *tag);

/* ---- form_page.c ---- */

/* What the form shows: the customer's entries when it comes back with errors. */
enum col_form_slot { COL_SLOT_COMMENT = HK_ANS_COUNT, COL_SLOT_BEHAVIORS, COL_SLOT_COUNT };
struct col_form_view {
    int answers[HK_ANS_COUNT]; /* -1: none chosen */
    bool ticked[HK_BEH_COUNT];
    const char *comment; /* NULL or comment_len bytes */
    size_t comment_len;
    enum col_text error[COL_SLOT_COUNT]; /* next to each question; COL_T_NONE */
    enum col_text top_error;             /* above the form; COL_T_NONE */
};
void col_form_view_init(struct col_form_view *v);
int col_form_page(const struct col_lang *l, const struct col_form_view *v, struct hk_buf *out);
/* A page with a title and a sentence (thank you, already answered, link expired, ...);
 * back: a link to the form again. */
int col_message_page(const struct col_lang *l, enum col_text title, enum col_text body, bool back,
                     struct hk_buf *out);

/* ---- ratelimit.c ---- */

/* A token bucket per client address in a fixed-size table (striped locks): per_minute
 * requests refill, burst at most at once. When the table is full the least recently seen
 * address of a set gives its slot up (it starts again with a full bucket). */
struct col_ratelimit *col_ratelimit_create(long long per_minute, long long burst);
void col_ratelimit_destroy(struct col_ratelimit *rl);
/* true: go on. false: over the limit, *retry_after_s says when one request is back. */
bool col_ratelimit_take(struct col_ratelimit *rl, const unsigned char key[16], uint64_t now_ns,
                        unsigned *retry_after_s);
/* The client's address as a 16-byte key: IPv4 as ::ffff:a.b.c.d, IPv6 cut to its /64 (one
 * host's share). header: when not NULL/empty, its last comma-separated address wins. */
void col_client_key(struct MHD_Connection *c, const char *header, unsigned char key[16]);

#endif
