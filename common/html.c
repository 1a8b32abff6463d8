/* HTML escaping (see include/hearken/html.h): one function so every page escapes the same way,
 * and every page stays valid UTF-8 whatever bytes a client sent. */
#include "hearken/html.h"

#include <stdbool.h>
#include <string.h>

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

/* Length of the well-formed UTF-8 sequence at s (n bytes left), or 0 when it is not one
 * (overlong forms, surrogates and code points past U+10FFFF are not). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    unsigned cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        cp = c & 0x1Fu;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        cp = c & 0x0Fu;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        cp = c & 0x07u;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n <= need)
        return 0;
    for (size_t k = 1; k <= need; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need + 1;
}

int hk_html_escape(struct hk_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t start = b->len;
    int rc = 0;
    size_t run = 0; /* bytes since the last one that needed escaping, copied in one append */
    for (size_t i = 0; i < n && !rc;) {
        const char *rep;
        size_t step = 1;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        case '\0':
            rep = "";
            break;
        default:
            step = utf8_seq(u + i, n - i);
            if (step) {
                run += step;
                i += step;
                continue;
            }
            rep = REPLACEMENT;
            step = 1;
            break;
        }
        if (run)
            rc = hk_buf_append(b, s + i - run, run);
        run = 0;
        if (!rc)
            rc = hk_buf_append_str(b, rep);
        i += step;
    }
    if (!rc && run)
        rc = hk_buf_append(b, s + n - run, run);
    if (rc) {
        b->len = start;
        if (b->data)
            b->data[start] = '\0';
    }
    return rc;
}

int hk_html_escape_str(struct hk_buf *b, const char *s)
{
    return hk_html_escape(b, s, strlen(s));
}
