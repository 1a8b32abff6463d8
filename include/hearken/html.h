/* HTML output helpers shared by every page the collector serves (survey form, dashboard):
 * whatever came from outside goes through hk_html_escape before it reaches a page. */
#ifndef HEARKEN_HTML_H
#define HEARKEN_HTML_H

#include <stddef.h>

#include "hearken/buf.h"

/* Appends s (n bytes) with & < > " ' escaped, safe in text and in quoted attribute values.
 * NUL bytes are dropped and each byte that is not part of well-formed UTF-8 becomes U+FFFD,
 * so a page stays valid UTF-8. Returns 0 or the hk_buf error (nothing appended then). */
int hk_html_escape(struct hk_buf *b, const char *s, size_t n);
/* The same for a NUL-terminated string. */
int hk_html_escape_str(struct hk_buf *b, const char *s);

#endif
