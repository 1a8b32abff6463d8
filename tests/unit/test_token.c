/* Signed link tokens: a round trip, and every way a customer (or anyone holding a link) could
 * try to get a different answer out of one: forged or truncated signatures, tampered payloads,
 * unknown or retired key ids, expiry, bad base64; plus key rotation and key-list parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hearken/err.h"
#include "hearken/token.h"

#define NOW     1795600000LL
#define SECRET1 "test-link-secret-0123456789abcdef0123456789"
#define SECRET2 "another-secret-for-rotation-0123456789abcdef"

/* payload signed by hand, as another implementation (the integration test) would. */
static const char *raw_token(const char *secret, const char *payload, char out[2048])
{
    unsigned char mac[32];
    unsigned int maclen = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)payload, strlen(payload),
         mac, &maclen);
    size_t n = hk_base64url_encode((const unsigned char *)payload, strlen(payload), out, 1500);
    out[n++] = '.';
    hk_base64url_encode(mac, maclen, out + n, 2048 - n);
    return out;
}

static struct hk_link sample(void)
{
    struct hk_link l;
    memset(&l, 0, sizeof l);
    snprintf(l.interaction_id, sizeof l.interaction_id, "call-2026-000123");
    snprintf(l.agent_id, sizeof l.agent_id, "agent-17");
    snprintf(l.team_id, sizeof l.team_id, "team-b");
    snprintf(l.scenario, sizeof l.scenario, "billing_error");
    snprintf(l.channel, sizeof l.channel, "voice");
    snprintf(l.language, sizeof l.language, "en-GB");
    l.expires_at = NOW + 3600;
    return l;
}

static void keys(struct hk_token_keys *k, const char *csv)
{
    char err[160];
    int rc = hk_token_keys_parse(k, csv, err, sizeof err);
    if (rc)
        fail_msg("keys %s: %s", csv, err);
}

/* A freshly signed token for l under csv's first key, as a malloc'd string. */
static char *mint(const char *csv, const struct hk_link *l)
{
    struct hk_token_keys k;
    struct hk_buf b;
    keys(&k, csv);
    hk_buf_init(&b, 4096);
    assert_int_equal(hk_token_sign(&k, l, &b), 0);
    hk_token_keys_free(&k);
    return b.data;
}

static int verify(const char *csv, const char *tok, int64_t now, struct hk_link *out)
{
    struct hk_token_keys k;
    keys(&k, csv);
    int rc = hk_token_verify(&k, tok, strlen(tok), now, out);
    hk_token_keys_free(&k);
    return rc;
}

static void test_round_trip(void **state)
{
    (void)state;
    struct hk_link l = sample(), out;
    char *tok = mint("k1:" SECRET1, &l);
    assert_non_null(strchr(tok, '.'));
    for (const char *p = tok; *p; p++) /* URL-safe as it is */
        assert_non_null(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.", *p));
    assert_int_equal(verify("k1:" SECRET1, tok, NOW, &out), 0);
    assert_string_equal(out.kid, "k1");
    assert_string_equal(out.interaction_id, "call-2026-000123");
    assert_string_equal(out.agent_id, "agent-17");
    assert_string_equal(out.team_id, "team-b");
    assert_string_equal(out.scenario, "billing_error");
    assert_string_equal(out.channel, "voice");
    assert_string_equal(out.language, "en-GB");
    assert_int_equal(out.expires_at, NOW + 3600);

    /* optional fields may be empty */
    l.team_id[0] = l.channel[0] = '\0';
    free(tok);
    tok = mint("k1:" SECRET1, &l);
    assert_int_equal(verify("k1:" SECRET1, tok, NOW, &out), 0);
    assert_string_equal(out.team_id, "");
    assert_string_equal(out.channel, "");
    free(tok);
}

static void test_forged_signature(void **state)
{
    (void)state;
    struct hk_link l = sample(), out;
    char *tok = mint("k1:" SECRET1, &l);
    /* the same payload signed with another secret under the same kid */
    char *forged = mint("k1:" SECRET2, &l);
    assert_int_equal(verify("k1:" SECRET1, forged, NOW, &out), HK_ERR_INVALID);
    assert_string_equal(out.agent_id, ""); /* nothing of a forged token is handed out */
    /* every single-character change of the signature fails */
    char *dot = strchr(tok, '.');
    for (char *p = dot + 1; *p; p++) {
        char keep = *p;
        *p = keep == 'A' ? 'B' : 'A';
        assert_int_equal(verify("k1:" SECRET1, tok, NOW, &out), HK_ERR_INVALID);
        *p = keep;
    }
    assert_int_equal(verify("k1:" SECRET1, tok, NOW, &out), 0);
    free(tok);
    free(forged);
}

static void test_payload_tampering(void **state)
{
    (void)state;
    struct hk_link l = sample(), out;
    char *tok = mint("k1:" SECRET1, &l);
    char *dot = strchr(tok, '.');

    /* a different agent, re-encoded, with the original signature */
    char payload[512], enc[800], tampered[1200];
    long n =
        hk_base64url_decode(tok, (size_t)(dot - tok), (unsigned char *)payload, sizeof payload - 1);
    assert_true(n > 0);
    payload[n] = '\0';
    char *agent = strstr(payload, "agent-17");
    assert_non_null(agent);
    agent[7] = '9';
    hk_base64url_encode((unsigned char *)payload, (size_t)n, enc, sizeof enc);
    snprintf(tampered, sizeof tampered, "%s%s", enc, dot);
    assert_int_equal(verify("k1:" SECRET1, tampered, NOW, &out), HK_ERR_INVALID);

    /* a later expiry */
    n = hk_base64url_decode(tok, (size_t)(dot - tok), (unsigned char *)payload, sizeof payload - 1);
    payload[n - 1] = payload[n - 1] == '9' ? '8' : '9';
    hk_base64url_encode((unsigned char *)payload, (size_t)n, enc, sizeof enc);
    snprintf(tampered, sizeof tampered, "%s%s", enc, dot);
    assert_int_equal(verify("k1:" SECRET1, tampered, NOW, &out), HK_ERR_INVALID);

    /* every single-character change of the encoded payload fails */
    for (char *p = tok; p < dot; p++) {
        char keep = *p;
        *p = keep == 'A' ? 'B' : 'A';
        int rc = verify("k1:" SECRET1, tok, NOW, &out);
        /* the kid may change to one that does not exist: that is NOT_FOUND, never success */
        assert_true(rc == HK_ERR_INVALID || rc == HK_ERR_NOT_FOUND);
        *p = keep;
    }
    free(tok);
}

static void test_wrong_kid(void **state)
{
    (void)state;
    struct hk_link l = sample(), out;
    char *tok = mint("k1:" SECRET1, &l);
    assert_int_equal(verify("k2:" SECRET1, tok, NOW, &out), HK_ERR_NOT_FOUND);
    /* the right secret under another name does not help either */
    assert_int_equal(verify("k9:" SECRET2 ",k2:" SECRET1, tok, NOW, &out), HK_ERR_NOT_FOUND);
    /* no keys at all */
    struct hk_token_keys none;
    keys(&none, "");
    assert_int_equal(none.n, 0);
    assert_int_equal(hk_token_verify(&none, tok, strlen(tok), NOW, &out), HK_ERR_NOT_FOUND);
    struct hk_buf b;
    hk_buf_init(&b, 4096);
    assert_int_equal(hk_token_sign(&none, &l, &b), HK_ERR_NOT_FOUND);
    hk_buf_free(&b);
    free(tok);
}

static void test_expired(void **state)
{
    (void)state;
    struct hk_link l = sample(), out;
    char *tok = mint("k1:" SECRET1, &l);
    assert_int_equal(verify("k1:" SECRET1, tok, NOW + 3599, &out), 0);
    assert_int_equal(verify("k1:" SECRET1, tok, NOW + 3600, &out), HK_ERR_EXPIRED);
    /* an expired link still says which language to apologise in */
    assert_string_equal(out.language, "en-GB");
    assert_int_equal(verify("k1:" SECRET1, tok, NOW + 86400 * 365, &out), HK_ERR_EXPIRED);
    /* expired and forged: forged wins, nothing is read */
    char *forged = mint("k1:" SECRET2, &l);
    assert_int_equal(verify("k1:" SECRET1, forged, NOW + 7200, &out), HK_ERR_INVALID);
    assert_string_equal(out.language, "");
    free(forged);
    free(tok);
}

static void test_truncated_and_malformed(void **state)
{
    (void)state;
    struct hk_link l = sample(), out;
    char *tok = mint("k1:" SECRET1, &l);
    size_t len = strlen(tok);
    struct hk_token_keys k;
    keys(&k, "k1:" SECRET1);
    for (size_t n = 0; n < len; n++) { /* every prefix */
        int rc = hk_token_verify(&k, tok, n, NOW, &out);
        assert_true(rc == HK_ERR_INVALID || rc == HK_ERR_NOT_FOUND);
    }
    const char *bad[] = {
        "",
        ".",
        "abc",
        "abc.",
        ".abc",
        "a.b.c",
        "!!!!.AAAA",
        "MXxrMXxh.AAAA", /* "1|k1|a" and a short signature */
        "MXxrMQ==.AAAA", /* padding is not base64url */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = hk_token_verify(&k, bad[i], strlen(bad[i]), NOW, &out);
        if (rc != HK_ERR_INVALID)
            fail_msg("\"%s\": rc %d", bad[i], rc);
    }
    /* a token with a character outside base64url in the signature */
    char *dot = strchr(tok, '.');
    dot[3] = '+';
    assert_int_equal(hk_token_verify(&k, tok, len, NOW, &out), HK_ERR_INVALID);
    dot[3] = '/';
    assert_int_equal(hk_token_verify(&k, tok, len, NOW, &out), HK_ERR_INVALID);
    /* too long: refused before decoding */
    char *huge = malloc(HK_TOKEN_MAX + 2);
    memset(huge, 'A', HK_TOKEN_MAX + 1);
    huge[HK_TOKEN_MAX + 1] = '\0';
    huge[10] = '.';
    assert_int_equal(hk_token_verify(&k, huge, strlen(huge), NOW, &out), HK_ERR_INVALID);
    free(huge);
    hk_token_keys_free(&k);
    free(tok);
}

/* A validly signed payload of the wrong shape is still refused (wrong version, fields). */
static void test_signed_but_wrong_shape(void **state)
{
    (void)state;
    struct hk_token_keys k;
    keys(&k, "k1:" SECRET1);
    struct hk_link out;
    struct hk_link l = sample();
    /* a pipe inside a field cannot be signed */
    struct hk_buf b;
    hk_buf_init(&b, 4096);
    snprintf(l.agent_id, sizeof l.agent_id, "a|b");
    assert_int_equal(hk_token_sign(&k, &l, &b), HK_ERR_INVALID);
    l = sample();
    l.expires_at = 0;
    assert_int_equal(hk_token_sign(&k, &l, &b), HK_ERR_INVALID);
    l = sample();
    l.interaction_id[0] = '\0';
    assert_int_equal(hk_token_sign(&k, &l, &b), HK_ERR_INVALID);
    assert_int_equal(b.len, 0);
    hk_buf_free(&b);

    /* hand-signed payloads: the documented format opens, other shapes do not */
    char tok[2048];
    assert_int_equal(verify("k1:" SECRET1,
                            raw_token(SECRET1, "1|k1|call-1|agent-1||other||en|1795603600", tok),
                            NOW, &out),
                     0);
    assert_string_equal(out.interaction_id, "call-1");
    assert_string_equal(out.scenario, "other");
    const char *shapes[] = {
        "2|k1|call-1|agent-1||other||en|1795603600",   /* unknown version */
        "1|k1|call-1|agent-1||other||en",              /* a field short */
        "1|k1|call-1|agent-1||other||en|1795603600|x", /* a field more */
        "1|k1||agent-1||other||en|1795603600",         /* no interaction */
        "1|k1|call-1|agent-1||other||en|17956036OO",   /* expiry not a number */
        "1|k1|call-1|agent-1||other||en|0",            /* expiry zero */
        "1|k1|call-1|agent-1||other|||1795603600",     /* no language */
        "12|k1|call-1|agent-1||other||en|1795603600",  /* version too long */
    };
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        int rc = verify("k1:" SECRET1, raw_token(SECRET1, shapes[i], tok), NOW, &out);
        if (rc != HK_ERR_INVALID)
            fail_msg("%s: rc %d", shapes[i], rc);
    }
    hk_token_keys_free(&k);
}

static void test_rotation(void **state)
{
    (void)state;
    struct hk_link l = sample(), out;
    char *old = mint("k1:" SECRET1, &l);
    /* k2 is added in front: new links are signed with k2, old k1 links still open */
    char *fresh = mint("k2:" SECRET2 ",k1:" SECRET1, &l);
    assert_int_equal(verify("k2:" SECRET2 ",k1:" SECRET1, old, NOW, &out), 0);
    assert_string_equal(out.kid, "k1");
    assert_int_equal(verify("k2:" SECRET2 ",k1:" SECRET1, fresh, NOW, &out), 0);
    assert_string_equal(out.kid, "k2");
    /* k1 retired: its links are unknown, k2's still open */
    assert_int_equal(verify("k2:" SECRET2, old, NOW, &out), HK_ERR_NOT_FOUND);
    assert_int_equal(verify("k2:" SECRET2, fresh, NOW, &out), 0);
    free(old);
    free(fresh);
}

static void test_keys_parse(void **state)
{
    (void)state;
    struct hk_token_keys k;
    char err[160];
    assert_int_equal(hk_token_keys_parse(&k, " k1:" SECRET1 " , k2:" SECRET2 " ", err, sizeof err),
                     0);
    assert_int_equal(k.n, 2);
    assert_string_equal(k.key[0].kid, "k1");
    assert_int_equal(k.key[0].secret_len, strlen(SECRET1));
    hk_token_keys_free(&k);
    assert_int_equal(k.n, 0);
    const char *bad[] = {
        "k1:short",                   /* under 32 bytes */
        SECRET1,                      /* no kid */
        ":" SECRET1,                  /* empty kid */
        "k 1:" SECRET1,               /* bad kid character */
        "k1:" SECRET1 ",k1:" SECRET2, /* kid twice */
        "a-very-long-key-id-that-goes-past-32:" SECRET1,
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_int_equal(hk_token_keys_parse(&k, bad[i], err, sizeof err), HK_ERR_INVALID);
        assert_true(err[0] != '\0');
        assert_null(strstr(err, "0123456789abcdef")); /* a secret is never quoted */
        assert_int_equal(k.n, 0);
    }
}

static void test_base64url(void **state)
{
    (void)state;
    /* RFC 4648 section 10 vectors, without padding */
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *enc[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    char out[32];
    unsigned char back[32];
    for (size_t i = 0; i < 7; i++) {
        size_t n =
            hk_base64url_encode((const unsigned char *)plain[i], strlen(plain[i]), out, sizeof out);
        assert_int_equal(n, strlen(enc[i]));
        assert_string_equal(out, enc[i]);
        long m = hk_base64url_decode(enc[i], strlen(enc[i]), back, sizeof back);
        assert_int_equal(m, (long)strlen(plain[i]));
        assert_memory_equal(back, plain[i], (size_t)m);
    }
    unsigned char bytes[] = {0xfb, 0xff, 0xbf};
    hk_base64url_encode(bytes, 3, out, sizeof out);
    assert_string_equal(out, "-_-_");
    assert_int_equal(hk_base64url_decode("+/+/", 4, back, sizeof back), -1);
    assert_int_equal(hk_base64url_decode("Z", 1, back, sizeof back), -1);  /* impossible length */
    assert_int_equal(hk_base64url_decode("Zh", 2, back, sizeof back), -1); /* non-zero tail bits */
    assert_int_equal(hk_base64url_decode("Zm9=", 4, back, sizeof back), -1);
    assert_int_equal(hk_base64url_decode("Zm9vYmFy", 8, back, 5), -1); /* does not fit */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_forged_signature),
        cmocka_unit_test(test_payload_tampering),
        cmocka_unit_test(test_wrong_kid),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_truncated_and_malformed),
        cmocka_unit_test(test_signed_but_wrong_shape),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_keys_parse),
        cmocka_unit_test(test_base64url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
