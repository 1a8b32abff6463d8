/* Signed survey link tokens (see include/hearken/token.h): key list parsing, base64url, HMAC-SHA256
 * signing and constant-time verification with OpenSSL libcrypto. Pure: the clock is a parameter,
 * nothing is logged (a token is as good as a password for its one survey). */
#include "hearken/token.h"
#include "hearken/err.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MAC_LEN     32
#define FIELDS      9
#define PAYLOAD_MAX 1024 /* 5 ids of 128, a kid, a language, a time and separators fit */

/* ---- keys ---- */

static bool kid_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

int hk_token_keys_parse(struct hk_token_keys *k, const char *csv, char *err, size_t errlen)
{
    memset(k, 0, sizeof *k);
    const char *p = csv ? csv : "";
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (end > start) {
            const char *colon = memchr(start, ':', (size_t)(end - start));
            size_t klen = colon ? (size_t)(colon - start) : 0;
            size_t n = k->n + 1;
            if (!colon || klen == 0 || klen > HK_TOKEN_KID_MAX) {
                snprintf(err, errlen,
                         "entry %zu: expected kid:secret with a kid of 1 to %d characters", n,
                         HK_TOKEN_KID_MAX);
                goto out_invalid;
            }
            for (size_t i = 0; i < klen; i++)
                if (!kid_char((unsigned char)start[i])) {
                    snprintf(err, errlen, "entry %zu: the kid may hold only A-Z a-z 0-9 _ -", n);
                    goto out_invalid;
                }
            size_t slen = (size_t)(end - colon - 1);
            if (slen < HK_TOKEN_SECRET_MIN || slen > HK_TOKEN_SECRET_MAX) {
                snprintf(err, errlen, "key \"%.*s\": the secret must be %d to %d bytes (got %zu)",
                         (int)klen, start, HK_TOKEN_SECRET_MIN, HK_TOKEN_SECRET_MAX, slen);
                goto out_invalid;
            }
            for (size_t i = 0; i < k->n; i++)
                if (strlen(k->key[i].kid) == klen && memcmp(k->key[i].kid, start, klen) == 0) {
                    snprintf(err, errlen, "key \"%.*s\" is listed twice", (int)klen, start);
                    goto out_invalid;
                }
            if (k->n == HK_TOKEN_KEYS_MAX) {
                snprintf(err, errlen, "at most %d keys", HK_TOKEN_KEYS_MAX);
                goto out_invalid;
            }
            struct hk_token_key *key = &k->key[k->n++];
            memcpy(key->kid, start, klen);
            key->kid[klen] = '\0';
            memcpy(key->secret, colon + 1, slen);
            key->secret_len = slen;
        }
        if (!*p)
            break;
        p++;
    }
    return 0;

out_invalid:
    hk_token_keys_free(k);
    return HK_ERR_INVALID;
}

void hk_token_keys_free(struct hk_token_keys *k)
{
    OPENSSL_cleanse(k, sizeof *k);
    k->n = 0;
}

static const struct hk_token_key *key_find(const struct hk_token_keys *k, const char *kid,
                                           size_t len)
{
    for (size_t i = 0; i < k->n; i++)
        if (strlen(k->key[i].kid) == len && memcmp(k->key[i].kid, kid, len) == 0)
            return &k->key[i];
    return NULL;
}

/* ---- base64url ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t hk_base64url_encode(const unsigned char *in, size_t n, char *out, size_t outsize)
{
    size_t need = n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
    if (outsize <= need)
        return 0;
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = b64[v >> 6 & 63];
        out[o++] = b64[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = b64[v >> 6 & 63];
    }
    out[o] = '\0';
    return o;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

long hk_base64url_decode(const char *in, size_t n, unsigned char *out, size_t outsize)
{
    if (n % 4 == 1)
        return -1;
    size_t need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    if (need > outsize)
        return -1;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6 | (unsigned)v) & 0xFFFFFFu;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits & 0xFFu);
        }
    }
    /* leftover bits must be zero: one token, one spelling */
    if (bits && (acc & ((1u << bits) - 1u)))
        return -1;
    return (long)o;
}

/* ---- sign and verify ---- */

static int mac(const struct hk_token_key *key, const unsigned char *payload, size_t len,
               unsigned char out[MAC_LEN])
{
    unsigned int outlen = 0;
    if (!HMAC(EVP_sha256(), key->secret, (int)key->secret_len, payload, len, out, &outlen) ||
        outlen != MAC_LEN)
        return HK_ERR_NOMEM;
    return 0;
}

static bool field_ok(const char *s, size_t max, bool required)
{
    size_t n = strnlen(s, max + 1);
    return n <= max && (n > 0 || !required) && !memchr(s, '|', n);
}

int hk_token_sign(const struct hk_token_keys *k, const struct hk_link *l, struct hk_buf *out)
{
    if (!k || k->n == 0)
        return HK_ERR_NOT_FOUND;
    const struct hk_token_key *key = &k->key[0];
    if (!field_ok(l->interaction_id, HK_ID_MAX, true) || !field_ok(l->agent_id, HK_ID_MAX, true) ||
        !field_ok(l->team_id, HK_ID_MAX, false) || !field_ok(l->scenario, HK_ID_MAX, true) ||
        !field_ok(l->channel, HK_ID_MAX, false) ||
        !field_ok(l->language, sizeof l->language - 1, true) || l->expires_at <= 0)
        return HK_ERR_INVALID;

    char payload[PAYLOAD_MAX];
    int n = snprintf(payload, sizeof payload, "%c|%s|%s|%s|%s|%s|%s|%s|%lld", HK_TOKEN_VERSION,
                     key->kid, l->interaction_id, l->agent_id, l->team_id, l->scenario, l->channel,
                     l->language, (long long)l->expires_at);
    if (n < 0 || (size_t)n >= sizeof payload)
        return HK_ERR_INVALID;
    unsigned char sig[MAC_LEN];
    int rc = mac(key, (const unsigned char *)payload, (size_t)n, sig);
    if (rc)
        return rc;
    char enc[PAYLOAD_MAX * 4 / 3 + 8], encsig[MAC_LEN * 4 / 3 + 8];
    hk_base64url_encode((const unsigned char *)payload, (size_t)n, enc, sizeof enc);
    hk_base64url_encode(sig, sizeof sig, encsig, sizeof encsig);
    size_t start = out->len;
    if ((rc = hk_buf_append_str(out, enc)) || (rc = hk_buf_append_char(out, '.')) ||
        (rc = hk_buf_append_str(out, encsig))) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return rc;
}

/* Copies field f (n bytes) into dst when it fits and is non-empty where required. */
static bool take(char *dst, size_t size, const char *f, size_t n, bool required)
{
    if (n >= size || (required && n == 0))
        return false;
    memcpy(dst, f, n);
    dst[n] = '\0';
    return true;
}

static bool parse_time(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > 18)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return v > 0;
}

int hk_token_verify(const struct hk_token_keys *k, const char *tok, size_t len, int64_t now,
                    struct hk_link *out)
{
    memset(out, 0, sizeof *out);
    if (!tok || len == 0 || len > HK_TOKEN_MAX)
        return HK_ERR_INVALID;
    const char *dot = memchr(tok, '.', len);
    if (!dot || dot == tok)
        return HK_ERR_INVALID;
    size_t plen = (size_t)(dot - tok), slen = len - plen - 1;

    unsigned char payload[PAYLOAD_MAX], sig[MAC_LEN + 3], want[MAC_LEN];
    long pn = hk_base64url_decode(tok, plen, payload, sizeof payload - 1);
    long sn = hk_base64url_decode(dot + 1, slen, sig, sizeof sig);
    if (pn < 4 || sn != MAC_LEN)
        return HK_ERR_INVALID;

    /* split; the fields are only trusted once the signature matched */
    const char *f[FIELDS];
    size_t fl[FIELDS], nf = 0;
    const char *p = (const char *)payload, *end = p + pn;
    while (nf < FIELDS) {
        const char *bar = memchr(p, '|', (size_t)(end - p));
        f[nf] = p;
        fl[nf] = (size_t)((bar ? bar : end) - p);
        nf++;
        if (!bar)
            break;
        p = bar + 1;
    }
    if (nf != FIELDS || f[FIELDS - 1] + fl[FIELDS - 1] != end || fl[0] != 1 ||
        f[0][0] != HK_TOKEN_VERSION)
        return HK_ERR_INVALID;
    const struct hk_token_key *key = key_find(k, f[1], fl[1]);
    if (!key)
        return HK_ERR_NOT_FOUND;
    int rc = mac(key, payload, (size_t)pn, want);
    if (rc)
        return rc;
    if (CRYPTO_memcmp(want, sig, MAC_LEN) != 0)
        return HK_ERR_INVALID;

    if (!take(out->kid, sizeof out->kid, f[1], fl[1], true) ||
        !take(out->interaction_id, sizeof out->interaction_id, f[2], fl[2], true) ||
        !take(out->agent_id, sizeof out->agent_id, f[3], fl[3], true) ||
        !take(out->team_id, sizeof out->team_id, f[4], fl[4], false) ||
        !take(out->scenario, sizeof out->scenario, f[5], fl[5], true) ||
        !take(out->channel, sizeof out->channel, f[6], fl[6], false) ||
        !take(out->language, sizeof out->language, f[7], fl[7], true) ||
        !parse_time(f[8], fl[8], &out->expires_at)) {
        memset(out, 0, sizeof *out);
        return HK_ERR_INVALID;
    }
    return now >= out->expires_at ? HK_ERR_EXPIRED : 0;
}
