/* Fuzz target: hk_form_decode on arbitrary bodies, with the survey form's own fields (the five
 * answers, comment, the ten behaviours, as collector/survey_form.c names them). Invariants: a
 * refusal frees every value and names a printable field; an accepted body's values are
 * NUL-terminated at len; percent-encoding the decoded values and decoding again gives the same
 * values (round trip); hk_form_unescape never writes past len + 1 bytes. */
#include "fuzz.h"

#include "hearken/behavior.h"
#include "hearken/buf.h"
#include "hearken/err.h"
#include "hearken/form.h"
#include "hearken/survey.h"

#include <string.h>

#define NFIELDS (HK_ANS_COUNT + 1 + HK_BEH_COUNT)

static void fields_init(struct hk_form_field *f)
{
    for (int i = 0; i < HK_ANS_COUNT; i++)
        f[i] = (struct hk_form_field){.name = hk_answer_names[i]};
    f[HK_ANS_COUNT] = (struct hk_form_field){.name = "comment"};
    for (int b = 0; b < HK_BEH_COUNT; b++)
        f[HK_ANS_COUNT + 1 + b] = (struct hk_form_field){.name = hk_behavior_names[b]};
}

static void encode(struct hk_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            CHECK(hk_buf_append_char(b, (char)c) == 0);
        } else if (c == ' ') {
            CHECK(hk_buf_append_char(b, '+') == 0);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            CHECK(hk_buf_append(b, e, 3) == 0);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    if (size > (1u << 17))
        return 0;

    /* the unescaper alone, into a buffer of exactly len + 1 bytes */
    char *out = malloc(size + 1);
    CHECK(out != NULL);
    long un = hk_form_unescape(body, size, out);
    CHECK(un >= -1 && un <= (long)size);
    if (un >= 0)
        CHECK(out[un] == '\0');
    free(out);

    struct hk_form_field f[NFIELDS], g[NFIELDS];
    struct hk_field_error e;
    fields_init(f);
    int rc = hk_form_decode(body, size, f, NFIELDS, &e);
    CHECK(rc == 0 || rc == HK_ERR_INVALID || rc == HK_ERR_NOMEM);
    if (rc) {
        for (size_t i = 0; i < NFIELDS; i++)
            CHECK(f[i].value == NULL);
        if (rc == HK_ERR_INVALID) {
            CHECK(e.code[0] != '\0');
            CHECK(memchr(e.field, '\0', sizeof e.field) != NULL);
            for (const char *c = e.field; *c; c++)
                CHECK(*c >= 0x20 && *c < 0x7f);
        }
        return 0;
    }

    struct hk_buf again;
    hk_buf_init(&again, 1u << 20);
    for (size_t i = 0; i < NFIELDS; i++) {
        if (!f[i].value)
            continue;
        CHECK(f[i].value[f[i].len] == '\0');
        if (again.len)
            CHECK(hk_buf_append_char(&again, '&') == 0);
        encode(&again, f[i].name, strlen(f[i].name));
        CHECK(hk_buf_append_char(&again, '=') == 0);
        encode(&again, f[i].value, f[i].len);
    }
    fields_init(g);
    rc = hk_form_decode(again.data ? again.data : "", again.len, g, NFIELDS, &e);
    if (rc)
        fprintf(stderr, "re-encoded body refused: %s (%s %s)\n", again.data, e.field, e.message);
    CHECK(rc == 0);
    for (size_t i = 0; i < NFIELDS; i++) {
        CHECK(!f[i].value == !g[i].value);
        if (f[i].value)
            CHECK(f[i].len == g[i].len && memcmp(f[i].value, g[i].value, f[i].len) == 0);
    }
    const struct hk_form_field *c = hk_form_get(f, NFIELDS, "comment");
    CHECK(c == &f[HK_ANS_COUNT]);
    hk_buf_free(&again);
    hk_form_fields_free(f, NFIELDS);
    hk_form_fields_free(g, NFIELDS);
    return 0;
}
