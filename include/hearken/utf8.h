/* Strict UTF-8 checks shared by every layer that takes text from outside: no overlong forms,
 * no surrogates, nothing above U+10FFFF. Pure functions, no allocation. */
#ifndef HEARKEN_UTF8_H
#define HEARKEN_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1-4) of the well-formed sequence at s, with n > 0 bytes left; 0 when it is not one. */
size_t hk_utf8_seq(const unsigned char *s, size_t n);
/* True when all n bytes are well-formed UTF-8. */
bool hk_utf8_valid(const char *s, size_t n);

#endif
