/* Growable capped buffer (see include/hearken/buf.h). Never drops bytes silently:
 * every append either succeeds whole or returns an error and changes nothing. */
#include "hearken/buf.h"
#include "hearken/err.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hk_buf_init(struct hk_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void hk_buf_free(struct hk_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void hk_buf_reset(struct hk_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int hk_buf_reserve(struct hk_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return HK_ERR_TOO_LARGE;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = realloc(b->data, cap);
    if (!p)
        return HK_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int hk_buf_append(struct hk_buf *b, const void *p, size_t n)
{
    int rc = hk_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int hk_buf_append_str(struct hk_buf *b, const char *s)
{
    return hk_buf_append(b, s, strlen(s));
}

int hk_buf_append_char(struct hk_buf *b, char c)
{
    return hk_buf_append(b, &c, 1);
}

int hk_buf_vprintf(struct hk_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return HK_ERR_INVALID;
    if ((size_t)n < sizeof small)
        return hk_buf_append(b, small, (size_t)n);
    int rc = hk_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int hk_buf_printf(struct hk_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = hk_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int hk_buf_append_json_str(struct hk_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t start_len = b->len;
    int rc = hk_buf_append_char(b, '"');
    size_t run = 0; /* bytes copied verbatim in one go */
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[6];
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            /* < > & escaped too, so JSON embedded in HTML cannot close a tag */
            u[0] = '\\';
            u[1] = 'u';
            u[2] = '0';
            u[3] = '0';
            u[4] = hex[c >> 4];
            u[5] = hex[c & 15];
            rc = hk_buf_append(b, s + i - run, run);
            run = 0;
            if (!rc)
                rc = hk_buf_append(b, u, 6);
            continue;
        }
        if (esc) {
            rc = hk_buf_append(b, s + i - run, run);
            run = 0;
            if (!rc)
                rc = hk_buf_append_str(b, esc);
            continue;
        }
        run++;
    }
    if (!rc)
        rc = hk_buf_append(b, s + n - run, run);
    if (!rc)
        rc = hk_buf_append_char(b, '"');
    if (rc) {
        b->len = start_len;
        if (b->data)
            b->data[b->len] = '\0';
    }
    return rc;
}

int hk_buf_append_json_num(struct hk_buf *b, double v)
{
    if (!isfinite(v))
        return hk_buf_append_str(b, "null");
    if (fabs(v) < 1e15 && v == (double)(long long)v)
        return hk_buf_printf(b, "%lld", (long long)v);
    char tmp[32];
    /* %.17g round-trips; try shorter first so 0.1 prints as 0.1 */
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v || prec == 17)
            break;
    }
    return hk_buf_append_str(b, tmp);
}

int hk_buf_append_json_ci95(struct hk_buf *b, bool have, double lo, double hi)
{
    if (!have)
        return hk_buf_append_str(b, ",\"ci95\":null");
    size_t start = b->len;
    int rc = hk_buf_append_str(b, ",\"ci95\":[");
    if (!rc)
        rc = hk_buf_append_json_num(b, lo);
    if (!rc)
        rc = hk_buf_append_char(b, ',');
    if (!rc)
        rc = hk_buf_append_json_num(b, hi);
    if (!rc)
        rc = hk_buf_append_char(b, ']');
    if (rc) { /* whole or nothing, like every append */
        b->len = start;
        if (b->data)
            b->data[start] = '\0';
    }
    return rc;
}
