/* Fuzz target: signed survey links (hk_token_verify, hk_token_sign, base64url). Byte 0 picks
 * the mode; the rest is the input.
 *   even: the rest is a token as a customer's browser would send it; verify must refuse it
 *         unless it is genuinely signed, and a verified link holds fields that re-sign to the
 *         very same token.
 *   odd:  the rest, split on '|', fills a link (interaction, agent, team, scenario, channel,
 *         language, expiry); a link that signs must verify to the same fields, and the token
 *         with any one byte changed (position from the input) must not verify to other fields.
 * Also: base64url decode is canonical (encode(decode(s)) == s) and encode/decode round-trip. */
#include "fuzz.h"

#include "hearken/buf.h"
#include "hearken/err.h"
#include "hearken/token.h"

#include <string.h>

#define NOW 1795000000LL

static struct hk_token_keys keys;

static void init(void)
{
    char err[256];
    /* two keys: the first signs, both verify (rotation) */
    int rc = hk_token_keys_parse(&keys,
                                 "k2026:0123456789abcdef0123456789abcdef,"
                                 "old-key_1:fedcba9876543210fedcba9876543210fedcba98",
                                 err, sizeof err);
    if (rc)
        fprintf(stderr, "fuzz_token: keys: %s\n", err);
    CHECK(rc == 0 && keys.n == 2);
}

static bool same_link(const struct hk_link *a, const struct hk_link *b)
{
    return strcmp(a->interaction_id, b->interaction_id) == 0 &&
           strcmp(a->agent_id, b->agent_id) == 0 && strcmp(a->team_id, b->team_id) == 0 &&
           strcmp(a->scenario, b->scenario) == 0 && strcmp(a->channel, b->channel) == 0 &&
           strcmp(a->language, b->language) == 0 && a->expires_at == b->expires_at;
}

static void check_base64(const uint8_t *data, size_t size)
{
    if (size > 1024)
        return;
    unsigned char dec[1024];
    char enc[1400];
    long n = hk_base64url_decode((const char *)data, size, dec, sizeof dec);
    if (n >= 0) {
        size_t m = hk_base64url_encode(dec, (size_t)n, enc, sizeof enc);
        CHECK(m == size && memcmp(enc, data, size) == 0); /* one token, one spelling */
    }
    size_t m = hk_base64url_encode(data, size, enc, sizeof enc);
    CHECK(m > 0 || size == 0);
    CHECK(hk_base64url_decode(enc, m, dec, sizeof dec) == (long)size);
    CHECK(memcmp(dec, data, size) == 0);
}

static void copy_field(char *dst, size_t size, const char *s, size_t n)
{
    if (n >= size)
        n = size - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static void mode_sign(const char *in, size_t len, uint8_t flip)
{
    struct hk_link l, v;
    memset(&l, 0, sizeof l);
    const char *f[7] = {0};
    size_t fl[7] = {0}, nf = 0;
    const char *p = in, *end = in + len;
    while (nf < 7) {
        const char *bar = memchr(p, '|', (size_t)(end - p));
        f[nf] = p;
        fl[nf++] = (size_t)((bar ? bar : end) - p);
        if (!bar)
            break;
        p = bar + 1;
    }
    if (nf < 7)
        return;
    /* NUL bytes would cut the C strings short; the sign path works on C strings */
    copy_field(l.interaction_id, sizeof l.interaction_id, f[0], fl[0]);
    copy_field(l.agent_id, sizeof l.agent_id, f[1], fl[1]);
    copy_field(l.team_id, sizeof l.team_id, f[2], fl[2]);
    copy_field(l.scenario, sizeof l.scenario, f[3], fl[3]);
    copy_field(l.channel, sizeof l.channel, f[4], fl[4]);
    copy_field(l.language, sizeof l.language, f[5], fl[5]);
    l.expires_at = 0;
    for (size_t i = 0; i < fl[6] && i < 18; i++)
        if (f[6][i] >= '0' && f[6][i] <= '9')
            l.expires_at = l.expires_at * 10 + (f[6][i] - '0');

    struct hk_buf tok;
    hk_buf_init(&tok, 1u << 16);
    int rc = hk_token_sign(&keys, &l, &tok);
    CHECK(rc == 0 || rc == HK_ERR_INVALID);
    if (rc) {
        hk_buf_free(&tok);
        return;
    }
    rc = hk_token_verify(&keys, tok.data, tok.len, NOW, &v);
    if (tok.len > HK_TOKEN_MAX) {
        CHECK(rc == HK_ERR_INVALID); /* signed, but longer than verify accepts */
    } else {
        if (rc && rc != HK_ERR_EXPIRED)
            fprintf(stderr, "own token refused (%d): %s\n", rc, tok.data);
        CHECK(rc == 0 || rc == HK_ERR_EXPIRED);
        CHECK(rc == (NOW >= l.expires_at ? HK_ERR_EXPIRED : 0));
        CHECK(same_link(&l, &v));
        CHECK(strcmp(v.kid, keys.key[0].kid) == 0);

        /* one changed byte: never a different link */
        size_t at = flip % tok.len;
        char was = tok.data[at];
        tok.data[at] = (char)(was ^ (flip | 1));
        struct hk_link w;
        rc = hk_token_verify(&keys, tok.data, tok.len, NOW, &w);
        CHECK(rc != 0 || same_link(&l, &w));
        CHECK(rc == 0 || rc == HK_ERR_INVALID || rc == HK_ERR_NOT_FOUND || rc == HK_ERR_EXPIRED);
    }
    hk_buf_free(&tok);
}

static void mode_verify(const char *in, size_t len)
{
    struct hk_link v;
    int rc = hk_token_verify(&keys, in, len, NOW, &v);
    CHECK(rc == 0 || rc == HK_ERR_INVALID || rc == HK_ERR_NOT_FOUND || rc == HK_ERR_EXPIRED);
    if (rc == 0 || rc == HK_ERR_EXPIRED) {
        /* only a genuinely signed token gets here (the seeds hold some): its fields are sound,
         * and under the signing key it re-signs to exactly the same bytes */
        CHECK(v.interaction_id[0] && v.agent_id[0] && v.scenario[0] && v.language[0]);
        CHECK(v.expires_at > 0);
        CHECK(rc == (NOW >= v.expires_at ? HK_ERR_EXPIRED : 0));
        if (strcmp(v.kid, keys.key[0].kid) == 0) {
            struct hk_buf tok;
            hk_buf_init(&tok, 1u << 16);
            CHECK(hk_token_sign(&keys, &v, &tok) == 0);
            CHECK(tok.len == len && memcmp(tok.data, in, len) == 0);
            hk_buf_free(&tok);
        }
        return;
    }
    CHECK(v.interaction_id[0] == '\0' && v.expires_at == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!keys.n)
        init();
    if (size < 1 || size > 8192)
        return 0;
    check_base64(data + 1, size - 1);
    if (data[0] & 1)
        mode_sign((const char *)data + 1, size - 1, data[0]);
    else
        mode_verify((const char *)data + 1, size - 1);
    return 0;
}
