/* Fuzz target: hk_config_parse with argv built from the input split on NUL bytes. First byte:
 * bit 0 allows positional arguments (npos given), bit 1 sets one HEARKEN_FUZZ_* variable (bits
 * 2-3 pick it) to the first segment, so defaults, environment and flags all meet. The table
 * covers every option type with tight, wide and absent bounds. Invariants: refusals carry a
 * message; on success every field is inside its bounds; positionals are the caller's own
 * argv strings, NULL-terminated after the last one. */
#include "fuzz.h"

#include "hearken/config.h"
#include "hearken/err.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct cfg {
    char *listen, *secret, *name;
    long long count, port, small_int;
    bool verbose, no_cache;
    size_t max_body, small;
};

#define OPT(f) offsetof(struct cfg, f)
static const struct hk_cfg_opt opts[] = {
    {"listen", "HEARKEN_FUZZ_LISTEN", HK_CFG_STR, "127.0.0.1:8080", 1, 300, OPT(listen), "h:p"},
    {"secret", NULL, HK_CFG_STR, NULL, 0, 0, OPT(secret), "no bounds"},
    {"name", NULL, HK_CFG_STR, "", 0, 8, OPT(name), "short"},
    {"count", "HEARKEN_FUZZ_COUNT", HK_CFG_INT, "0", LLONG_MIN, LLONG_MAX, OPT(count), "any"},
    {"port", NULL, HK_CFG_INT, "8080", 1, 65535, OPT(port), "port"},
    {"n", NULL, HK_CFG_INT, NULL, -5, 5, OPT(small_int), "tiny"},
    {"verbose", NULL, HK_CFG_BOOL, "false", 0, 1, OPT(verbose), "bool"},
    {"no-cache", NULL, HK_CFG_BOOL, NULL, 0, 1, OPT(no_cache), "a bool named no-*"},
    {"max-body", "HEARKEN_FUZZ_MAX_BODY", HK_CFG_SIZE, "64k", 0, LLONG_MAX, OPT(max_body), "sz"},
    {"small", NULL, HK_CFG_SIZE, "1k", 1024, 64LL << 20, OPT(small), "size"},
};
#define NOPTS (sizeof opts / sizeof opts[0])
static const char *const envs[] = {"HEARKEN_FUZZ_LISTEN", "HEARKEN_FUZZ_COUNT",
                                   "HEARKEN_FUZZ_MAX_BODY", "HEARKEN_FUZZ_LISTEN"};

#define MAX_ARGS 64

static void check_bounds(const struct cfg *c)
{
    for (size_t i = 0; i < NOPTS; i++) {
        const struct hk_cfg_opt *o = &opts[i];
        const char *f = (const char *)c + o->offset;
        switch (o->type) {
        case HK_CFG_STR: {
            const char *s = *(char *const *)(const void *)f;
            if (!s) {
                CHECK(o->def == NULL);
                break;
            }
            size_t n = strlen(s);
            CHECK(o->max <= 0 || n <= (size_t)o->max);
            CHECK(o->min <= 0 || n >= (size_t)o->min);
            break;
        }
        case HK_CFG_INT: {
            long long v = *(const long long *)(const void *)f;
            CHECK(v >= o->min && v <= o->max);
            break;
        }
        case HK_CFG_SIZE: {
            size_t v = *(const size_t *)(const void *)f;
            CHECK(v >= (size_t)o->min && v <= (size_t)o->max);
            break;
        }
        case HK_CFG_BOOL: {
            unsigned char b;
            memcpy(&b, f, 1);
            CHECK(b <= 1);
            break;
        }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        /* --help prints the usage to stdout: keep libFuzzer's output readable */
        CHECK(freopen("/dev/null", "w", stdout) != NULL);
        init = true;
    }
    if (size < 1 || size > 8192)
        return 0;
    bool allow_pos = data[0] & 1;
    bool use_env = data[0] & 2;
    const char *env = envs[(data[0] >> 2) & 3];

    char *argv[MAX_ARGS + 2], *orig[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = strdup("fuzz_config");
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    bool env_done = !use_env;
    while (p <= end && argc <= MAX_ARGS) {
        const char *nul = memchr(p, '\0', (size_t)(end - p));
        const char *e = nul ? nul : end;
        char *seg = strndup(p, (size_t)(e - p)); /* exact size: over-reads show */
        CHECK(seg != NULL);
        p = e + 1;
        if (!env_done) { /* the first segment is the environment value */
            CHECK(setenv(env, seg, 1) == 0);
            free(seg);
            env_done = true;
            continue;
        }
        argv[argc++] = seg;
    }
    argv[argc] = NULL;
    CHECK(argv[0] != NULL);
    memcpy(orig, argv, (size_t)(argc + 1) * sizeof *argv);

    struct cfg c;
    memset(&c, 0, sizeof c); /* options without a default keep the caller's value */
    char err[256];
    err[0] = '\0';
    int npos = -1;
    int rc = hk_config_parse(opts, NOPTS, &c, argc, argv, allow_pos ? &npos : NULL, err,
                             sizeof err);
    CHECK(rc == 0 || rc == 1 || rc == HK_ERR_INVALID || rc == HK_ERR_NOMEM);
    if (rc == HK_ERR_INVALID)
        CHECK(err[0] != '\0');
    if (rc == 0) {
        check_bounds(&c);
        if (allow_pos) {
            CHECK(npos >= 0 && npos < argc);
            if (1 + npos < argc)
                CHECK(argv[1 + npos] == NULL);
            for (int i = 1; i <= npos; i++) {
                bool mine = false;
                for (int k = 1; k < argc; k++)
                    mine |= argv[i] == orig[k];
                CHECK(mine);
            }
        }
    }
    hk_config_free(opts, NOPTS, &c); /* safe after any result: strings start NULL */
    if (use_env)
        unsetenv(env);
    for (int i = 0; i < argc; i++)
        free(orig[i]);
    return 0;
}
