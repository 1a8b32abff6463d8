/* Signed survey links (SPEC section 3): a token carries an interaction's context (agent,
 * scenario, ...) and an expiry, signed with HMAC-SHA256 under a key id so secrets can rotate:
 * the first key signs, every key verifies. Pure: no I/O, the clock is a parameter.
 *
 * Token: base64url(payload) "." base64url(HMAC-SHA256(secret, payload)), no padding.
 * Payload v1: "1|kid|interaction_id|agent_id|team_id|scenario|channel|language|expires_at"
 * (expires_at in unix seconds; team_id and channel may be empty; no field may hold '|').
 *
 * Ownership: struct hk_token_keys holds copies of the secrets; hk_token_keys_free wipes them. */
#ifndef HEARKEN_TOKEN_H
#define HEARKEN_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "hearken/buf.h"
#include "hearken/survey.h"

#define HK_TOKEN_VERSION    '1'
#define HK_TOKEN_KEYS_MAX   16
#define HK_TOKEN_KID_MAX    32
#define HK_TOKEN_SECRET_MIN 32
#define HK_TOKEN_SECRET_MAX 256
#define HK_TOKEN_MAX        2048 /* longer input is refused before any decoding */

struct hk_token_key {
    char kid[HK_TOKEN_KID_MAX + 1];
    unsigned char secret[HK_TOKEN_SECRET_MAX];
    size_t secret_len;
};

struct hk_token_keys {
    size_t n;
    struct hk_token_key key[HK_TOKEN_KEYS_MAX];
};

/* What a link says about its interaction. */
struct hk_link {
    char kid[HK_TOKEN_KID_MAX + 1]; /* set by sign and verify */
    char interaction_id[HK_ID_MAX + 1];
    char agent_id[HK_ID_MAX + 1];
    char team_id[HK_ID_MAX + 1]; /* "" when absent */
    char scenario[HK_ID_MAX + 1];
    char channel[HK_ID_MAX + 1]; /* "" when absent */
    char language[16];
    int64_t expires_at; /* unix seconds */
};

/* "kid:secret,kid2:secret2": kid 1-32 of [A-Za-z0-9_-], secret 32-256 bytes without commas,
 * kids distinct. Returns 0 or HK_ERR_INVALID with a message that never quotes a secret. An
 * empty or NULL csv gives zero keys (links then cannot be minted nor opened). */
int hk_token_keys_parse(struct hk_token_keys *k, const char *csv, char *err, size_t errlen);
void hk_token_keys_free(struct hk_token_keys *k);

/* Appends the token for l signed with the first key (l->kid is ignored). HK_ERR_NOT_FOUND when
 * there is no key, HK_ERR_INVALID when a field holds '|' or is too long, HK_ERR_TOO_LARGE. */
int hk_token_sign(const struct hk_token_keys *k, const struct hk_link *l, struct hk_buf *out);

/* Checks tok (len bytes) and fills out. Returns 0; HK_ERR_INVALID for anything malformed,
 * truncated or forged (the signature is compared in constant time before any other field is
 * read); HK_ERR_NOT_FOUND for a key id no longer configured; HK_ERR_EXPIRED when
 * now >= expires_at (out is filled then, so a page can still speak the link's language). */
int hk_token_verify(const struct hk_token_keys *k, const char *tok, size_t len, int64_t now,
                    struct hk_link *out);

/* base64url without padding, exposed for tests. decode returns the length or -1 on any byte
 * outside the alphabet, padding, or an impossible length. */
size_t hk_base64url_encode(const unsigned char *in, size_t n, char *out, size_t outsize);
long hk_base64url_decode(const char *in, size_t n, unsigned char *out, size_t outsize);

#endif
