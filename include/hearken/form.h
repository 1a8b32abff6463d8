/* A strict application/x-www-form-urlencoded decoder (the survey form's POST body): the caller
 * names the fields it accepts; an unknown name, a repeated one, a pair without '=', an empty
 * pair or a malformed %-escape refuses the whole body. '+' decodes to a space. Pure.
 *
 * Ownership: each decoded value is malloc'd into fields[i].value (NUL-terminated, len bytes,
 * which may include NULs the caller must refuse); hk_form_fields_free releases them. */
#ifndef HEARKEN_FORM_H
#define HEARKEN_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "hearken/survey.h"

struct hk_form_field {
    const char *name; /* set by the caller */
    char *value;      /* NULL when the field was not sent */
    size_t len;
};

/* Decodes body (len bytes) into fields (n of them, names set, values NULL). Returns 0,
 * HK_ERR_INVALID with err->code "invalid_encoding", "unknown_field" or "duplicate_field" and
 * err->field naming the field (printable ASCII, shortened), or HK_ERR_NOMEM. Since a name
 * may come once, a body never holds more pairs than n. On error every value is freed. */
int hk_form_decode(const char *body, size_t len, struct hk_form_field *fields, size_t n,
                   struct hk_field_error *err);
void hk_form_fields_free(struct hk_form_field *fields, size_t n);

/* The field called name, or NULL. */
const struct hk_form_field *hk_form_get(const struct hk_form_field *fields, size_t n,
                                        const char *name);

/* Decodes one %-encoded component (with '+' as space) into out (at least len + 1 bytes).
 * Returns the decoded length, or -1 on a malformed escape. */
long hk_form_unescape(const char *in, size_t len, char *out);

#endif
