/* A growable byte buffer with a mandatory cap, always NUL-terminated.
 * The buffer owns data; hk_buf_free releases it. Exceeding max returns HK_ERR_TOO_LARGE
 * and leaves the contents as they were. */
#ifndef HEARKEN_BUF_H
#define HEARKEN_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct hk_buf {
    char *data; /* NULL until the first append; always NUL-terminated after */
    size_t len, cap, max;
};

void hk_buf_init(struct hk_buf *b, size_t max);
void hk_buf_free(struct hk_buf *b);
void hk_buf_reset(struct hk_buf *b); /* len = 0, keeps the allocation */
int hk_buf_reserve(struct hk_buf *b, size_t extra);
int hk_buf_append(struct hk_buf *b, const void *p, size_t n);
int hk_buf_append_str(struct hk_buf *b, const char *s);
int hk_buf_append_char(struct hk_buf *b, char c);
int hk_buf_printf(struct hk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int hk_buf_vprintf(struct hk_buf *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal, quotes included; s must be valid UTF-8. */
int hk_buf_append_json_str(struct hk_buf *b, const char *s, size_t n);
/* Appends a double as JSON: shortest round-trip-safe form, "null" for non-finite. */
int hk_buf_append_json_num(struct hk_buf *b, double v);
/* Appends ,"ci95":[lo,hi] when have is true, else ,"ci95":null (a 95% interval member). */
int hk_buf_append_json_ci95(struct hk_buf *b, bool have, double lo, double hi);

#endif
