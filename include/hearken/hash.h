/* One hash for short byte strings (words, Redis keys) shared by the scorer's tables and the
 * rollup accumulator: eight bytes a step, then a final mix so low and high bits both depend on
 * every byte. Not for untrusted adversarial keys (no seed). */
#ifndef HEARKEN_HASH_H
#define HEARKEN_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t hk_hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL ^ len;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
        h ^= h >> 29;
        s += 8;
        len -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, len);
    h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ULL;
    return h ^ (h >> 32);
}

#endif
