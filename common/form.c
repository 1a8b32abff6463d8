/* Strict application/x-www-form-urlencoded decoding (see include/hearken/form.h). A browser
 * never sends what is refused here, so refusing it whole is safer than guessing. */
#include "hearken/form.h"
#include "hearken/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long hk_form_unescape(const char *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '+') {
            out[o++] = ' ';
        } else if (c == '%') {
            if (len - i < 3)
                return -1;
            int hi = hex_value((unsigned char)in[i + 1]), lo = hex_value((unsigned char)in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    return (long)o;
}

/* A field name for an error message: printable ASCII, at most 40 bytes. */
static void set_err(struct hk_field_error *e, const char *code, const char *name, size_t n,
                    const char *message)
{
    if (!e)
        return;
    snprintf(e->code, sizeof e->code, "%s", code);
    size_t k = 0;
    for (size_t i = 0; i < n && i < 40 && k + 1 < sizeof e->field; i++) {
        unsigned char c = (unsigned char)name[i];
        e->field[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    e->field[k] = '\0';
    snprintf(e->message, sizeof e->message, "%s", message);
}

void hk_form_fields_free(struct hk_form_field *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(fields[i].value);
        fields[i].value = NULL;
        fields[i].len = 0;
    }
}

const struct hk_form_field *hk_form_get(const struct hk_form_field *fields, size_t n,
                                        const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    return NULL;
}

int hk_form_decode(const char *body, size_t len, struct hk_form_field *fields, size_t n,
                   struct hk_field_error *err)
{
    int rc = 0;
    char *name = NULL;
    if (err)
        memset(err, 0, sizeof *err);
    const char *p = body, *end = body + len;
    while (len && p <= end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (stop == p) {
            set_err(err, "invalid_encoding", "", 0, "empty field in the form body");
            rc = HK_ERR_INVALID;
            goto out_free;
        }
        if (!eq) {
            set_err(err, "invalid_encoding", p, (size_t)(stop - p), "field without a value");
            rc = HK_ERR_INVALID;
            goto out_free;
        }
        size_t nlen = (size_t)(eq - p), vlen = (size_t)(stop - eq - 1);
        name = malloc(nlen + 1);
        if (!name) {
            rc = HK_ERR_NOMEM;
            goto out_free;
        }
        long dn = hk_form_unescape(p, nlen, name);
        if (dn <= 0) {
            set_err(err, "invalid_encoding", p, nlen, "malformed field name");
            rc = HK_ERR_INVALID;
            goto out_free;
        }
        struct hk_form_field *f = NULL;
        for (size_t i = 0; i < n && !f; i++)
            if (strlen(fields[i].name) == (size_t)dn &&
                memcmp(fields[i].name, name, (size_t)dn) == 0)
                f = &fields[i];
        if (!f) {
            set_err(err, "unknown_field", name, (size_t)dn, "is not a field of this form");
            rc = HK_ERR_INVALID;
            goto out_free;
        }
        if (f->value) {
            set_err(err, "duplicate_field", name, (size_t)dn, "was sent more than once");
            rc = HK_ERR_INVALID;
            goto out_free;
        }
        free(name);
        name = NULL;
        f->value = malloc(vlen + 1);
        if (!f->value) {
            rc = HK_ERR_NOMEM;
            goto out_free;
        }
        long dv = hk_form_unescape(eq + 1, vlen, f->value);
        if (dv < 0) {
            set_err(err, "invalid_encoding", f->name, strlen(f->name), "malformed %-escape");
            rc = HK_ERR_INVALID;
            goto out_free;
        }
        f->len = (size_t)dv;
        if (!amp)
            break;
        p = amp + 1;
        if (p == end) { /* a trailing '&' is an empty pair too */
            set_err(err, "invalid_encoding", "", 0, "empty field in the form body");
            rc = HK_ERR_INVALID;
            goto out_free;
        }
    }
    return 0;

out_free:
    free(name);
    hk_form_fields_free(fields, n);
    return rc;
}
