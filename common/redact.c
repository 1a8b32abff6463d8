/* Redaction of e-mail addresses, card numbers and phone numbers in comments (see
 * include/hearken/redact.h). Two passes: e-mail spans first (so digits inside an address stay
 * part of it), then numbers in the text between them. Pure, byte-oriented, UTF-8 safe: only
 * ASCII bytes are ever matched, and bytes >= 0x80 count as word boundaries (CJK text has no
 * spaces around a number). */
#include "hearken/redact.h"
#include "hearken/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GROUPS_MAX 24

struct span {
    size_t start, end;
};

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(unsigned char c)
{
    return is_digit(c) || is_alpha(c);
}

static bool local_char(unsigned char c)
{
    return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static bool domain_char(unsigned char c)
{
    return is_alnum(c) || c == '.' || c == '-';
}

bool hk_luhn_valid(const char *s, size_t len)
{
    unsigned sum = 0, n = 0;
    for (size_t i = len; i-- > 0;) {
        unsigned char c = (unsigned char)s[i];
        if (!is_digit(c))
            continue;
        unsigned d = c - '0';
        if (n++ % 2 == 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return n > 0 && sum % 10 == 0;
}

/* The address around the '@' at 'at', not starting before 'floor'. */
static bool email_at(const unsigned char *t, size_t len, size_t at, size_t floor, struct span *sp)
{
    size_t s = at;
    while (s > floor && local_char(t[s - 1]))
        s--;
    while (s < at && t[s] == '.') /* "see.john@x.com" keeps no leading dots, "x .j@" neither */
        s++;
    if (s == at)
        return false;
    size_t e = at + 1;
    while (e < len && domain_char(t[e]))
        e++;
    while (e > at + 1 && (t[e - 1] == '.' || t[e - 1] == '-'))
        e--;
    if (e == at + 1 || !is_alnum(t[at + 1]))
        return false;
    /* the last label: a top-level domain of two or more letters */
    size_t dot = e;
    while (dot > at + 1 && t[dot - 1] != '.')
        dot--;
    if (dot == at + 1 || e - dot < 2)
        return false;
    for (size_t i = dot; i < e; i++)
        if (!is_alpha(t[i]))
            return false;
    sp->start = s;
    sp->end = e;
    return true;
}

/* A run of digits starting at i: '+' or '(' may lead, single spaces, dashes and dots (and one
 * pair of parentheses) may group. Fills the end of each digit group. */
struct run {
    size_t end; /* after the last digit (or ')') */
    unsigned digits;
    size_t ngroups;
    size_t group_end[GROUPS_MAX];
    unsigned group_digits[GROUPS_MAX]; /* digits up to and including the group */
    bool plus, paren, dot;
};

static bool sep_char(unsigned char c)
{
    return c == ' ' || c == '-' || c == '.';
}

static void scan_run(const unsigned char *t, size_t i, size_t stop, struct run *r)
{
    memset(r, 0, sizeof *r);
    size_t j = i;
    if (t[j] == '+') {
        r->plus = true;
        j++;
    }
    bool open = false, in_group = false;
    while (j < stop) {
        unsigned char c = t[j];
        if (is_digit(c)) {
            r->digits++;
            in_group = true;
            j++;
            r->end = j;
            continue;
        }
        if (in_group) { /* a group just ended */
            if (r->ngroups == GROUPS_MAX)
                break;
            r->group_end[r->ngroups] = j;
            r->group_digits[r->ngroups++] = r->digits;
            in_group = false;
        }
        unsigned char next = j + 1 < stop ? t[j + 1] : 0;
        if (c == '(' && !r->paren && is_digit(next) &&
            (j == i || t[j - 1] == ' ' || t[j - 1] == '+')) {
            open = r->paren = true;
            j++;
        } else if (c == ')' && open && is_digit(t[j - 1]) &&
                   (is_digit(next) || next == ' ' || next == '-')) {
            open = false;
            j++;
            if (next == ' ' || next == '-') {
                if (j + 1 >= stop || !is_digit(t[j + 1]))
                    break;
                j++;
            }
        } else if (sep_char(c) && j > i && is_digit(t[j - 1]) &&
                   (is_digit(next) || (next == '(' && !r->paren && c == ' '))) {
            r->dot |= c == '.';
            j++;
        } else {
            break;
        }
    }
    if (in_group && r->ngroups < GROUPS_MAX) {
        r->group_end[r->ngroups] = j;
        r->group_digits[r->ngroups++] = r->digits;
    }
    if (open) /* an unclosed '(' was not part of a phone number */
        r->paren = false;
}

/* The longest run prefix of whole groups that is a card number, as its end; 0 when none. */
static size_t card_prefix(const unsigned char *t, size_t i, const struct run *r)
{
    if (r->plus || r->paren)
        return 0;
    for (size_t g = r->ngroups; g-- > 0;) {
        unsigned d = r->group_digits[g];
        if (d < 13)
            break;
        if (d > 19)
            continue;
        bool plain = true; /* cards are grouped by spaces or dashes only */
        for (size_t k = i; k < r->group_end[g]; k++)
            if (t[k] == '.')
                plain = false;
        if (plain && hk_luhn_valid((const char *)t + i, r->group_end[g] - i))
            return r->group_end[g];
    }
    return 0;
}

static bool date_like(const struct run *r)
{
    if (r->ngroups < 3 || r->plus || r->paren)
        return false;
    unsigned a = r->group_digits[0], b = r->group_digits[1] - a, c = r->group_digits[2] - a - b;
    return (a == 4 && b == 2 && c == 2) || (a == 2 && b == 2 && c == 4);
}

static bool phone_like(const struct run *r)
{
    if (r->plus)
        return r->digits >= 7 && r->digits <= 15;
    if (r->digits >= 10 && r->digits <= 15)
        return !date_like(r);
    return r->digits == 7 && r->ngroups == 2 && r->group_digits[0] == 3 && !r->paren;
}

static int put(struct hk_buf *b, const void *p, size_t n)
{
    return hk_buf_append(b, p, n);
}

int hk_redact(const char *text, size_t len, struct hk_buf *out, struct hk_redact_counts *counts)
{
    const unsigned char *t = (const unsigned char *)text;
    struct hk_redact_counts c = {0, 0, 0};
    struct span *emails = NULL;
    size_t nemails = 0, cap = 0;
    struct hk_buf tmp;
    int rc = 0;
    hk_buf_init(&tmp, len + len / 2 + 64); /* a replacement outgrows its text by a byte at most */

    size_t floor = 0;
    for (size_t i = 0; i < len; i++) {
        struct span sp;
        if (t[i] != '@' || !email_at(t, len, i, floor, &sp))
            continue;
        if (nemails == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct span *p = realloc(emails, ncap * sizeof *p);
            if (!p) {
                rc = HK_ERR_NOMEM;
                goto out_free;
            }
            emails = p;
            cap = ncap;
        }
        emails[nemails++] = sp;
        floor = sp.end;
        i = sp.end - 1;
    }

    size_t i = 0, next_email = 0;
    while (i < len && !rc) {
        size_t stop = next_email < nemails ? emails[next_email].start : len;
        if (i == stop) {
            rc = put(&tmp, "[email]", 7);
            c.email++;
            i = emails[next_email++].end;
            continue;
        }
        unsigned char ch = t[i];
        bool starts =
            is_digit(ch) || ((ch == '+' || ch == '(') && i + 1 < stop && is_digit(t[i + 1]));
        if (starts && (i == 0 || !is_alnum(t[i - 1]))) {
            struct run r;
            scan_run(t, i, stop, &r);
            size_t after = r.end;
            bool bounded = after >= len || !is_alnum(t[after]);
            size_t card = card_prefix(t, i, &r);
            if (card && (card == r.end ? bounded : true)) {
                rc = put(&tmp, "[card]", 6);
                c.card++;
                i = card;
                continue;
            }
            if (bounded && phone_like(&r)) {
                rc = put(&tmp, "[phone]", 7);
                c.phone++;
                i = r.end;
                continue;
            }
            /* not personal: copy the whole run so its tail is not taken for a new number */
            size_t end = r.end > i ? r.end : i + 1;
            rc = put(&tmp, t + i, end - i);
            i = end;
            continue;
        }
        rc = put(&tmp, t + i, 1);
        i++;
    }
    if (rc)
        goto out_free;

    size_t room = out->max > out->len ? out->max - out->len : 0;
    size_t n = tmp.len;
    if (n > room) {
        n = room;
        while (n > 0 && ((unsigned char)tmp.data[n] & 0xC0) == 0x80) /* keep whole characters */
            n--;
    }
    rc = put(out, tmp.data ? tmp.data : "", n);
    if (!rc && counts)
        *counts = c;

out_free:
    free(emails);
    hk_buf_free(&tmp);
    return rc;
}
