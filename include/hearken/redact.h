/* Redaction of personal data in free text before it is stored: e-mail addresses become
 * "[email]", card-like numbers (13-19 digits, spaces or dashes between, Luhn-valid) "[card]",
 * phone-like numbers "[phone]". Pure; errs toward redacting (a long order number may go too).
 *
 * Phone-like: a '+' then 7-15 digits; or 10-15 digits; or 7 digits written 3+4 with one
 * space, dash or dot ("555-1234"); digits may be grouped by single spaces, dashes, dots and
 * one pair of parentheses; a number touching a letter or digit is left alone. */
#ifndef HEARKEN_REDACT_H
#define HEARKEN_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#include "hearken/buf.h"

struct hk_redact_counts {
    unsigned email, phone, card;
};

/* Appends the redacted copy of text (len bytes, UTF-8) to out. When out->max would be passed
 * (a replacement can be a byte longer than a tiny address), the copy is cut at the last whole
 * UTF-8 character that fits. counts may be NULL. Returns 0 or HK_ERR_NOMEM. */
int hk_redact(const char *text, size_t len, struct hk_buf *out, struct hk_redact_counts *counts);

/* The Luhn check over the digits of s (other bytes are skipped), exposed for tests. */
bool hk_luhn_valid(const char *s, size_t len);

#endif
