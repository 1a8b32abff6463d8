/* HTML escaping (see include/hearken/html.h): one function so every page escapes the same way,
 * and every page stays valid UTF-8 whatever bytes a client sent. */
#include "hearken/html.h"
#include "hearken/utf8.h"

#include <stdbool.h>
#include <string.h>

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

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
            step = hk_utf8_seq(u + i, n - i);
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
