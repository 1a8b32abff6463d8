/* Table-driven configuration (include/hearken/config.h): defaults, then HEARKEN_* environment,
 * then --flags, each value checked against its bounds as it is set. Knows nothing about any
 * program's options; the tables live with the programs. */
#include "hearken/config.h"
#include "hearken/err.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return HK_ERR_INVALID;
}

/* Decimal integer with nothing after it; "" and overflow are errors. */
static int parse_ll(const char *v, long long *out, const char **rest)
{
    if (!*v || isspace((unsigned char)*v))
        return HK_ERR_INVALID;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v)
        return HK_ERR_INVALID;
    if (rest)
        *rest = end;
    else if (*end)
        return HK_ERR_INVALID;
    *out = x;
    return 0;
}

/* "65536", "64k", "64KiB", "8m", "1g" (binary multiples). */
static int parse_size(const char *v, long long *out)
{
    long long x;
    const char *rest;
    if (parse_ll(v, &x, &rest) || x < 0)
        return HK_ERR_INVALID;
    long long mult = 1;
    switch (tolower((unsigned char)*rest)) {
    case 'k':
        mult = 1024LL;
        break;
    case 'm':
        mult = 1024LL * 1024;
        break;
    case 'g':
        mult = 1024LL * 1024 * 1024;
        break;
    }
    if (mult > 1) {
        rest++;
        if (*rest == 'i' || *rest == 'I')
            rest++;
    }
    if (*rest == 'b' || *rest == 'B')
        rest++;
    if (*rest)
        return HK_ERR_INVALID;
    if (x > LLONG_MAX / mult)
        return HK_ERR_INVALID;
    *out = x * mult;
    return 0;
}

static const char *type_hint(enum hk_cfg_type t)
{
    switch (t) {
    case HK_CFG_STR:
        return "text";
    case HK_CFG_INT:
        return "integer";
    case HK_CFG_BOOL:
        return "true|false";
    case HK_CFG_SIZE:
        return "size";
    }
    return "?";
}

/* Sets one option from text; where says where the text came from, for the message. */
static int set_value(const struct hk_cfg_opt *o, void *dst, const char *v, const char *where,
                     char *err, size_t errlen)
{
    char *field = (char *)dst + o->offset;
    switch (o->type) {
    case HK_CFG_STR: {
        size_t n = strlen(v);
        if (o->max > 0 && n > (size_t)o->max) {
            set_err(err, errlen, "%s: must be at most %lld characters (got %zu)", where, o->max, n);
            return HK_ERR_INVALID;
        }
        if (o->min > 0 && n < (size_t)o->min) {
            set_err(err, errlen, "%s: must be at least %lld characters", where, o->min);
            return HK_ERR_INVALID;
        }
        char *copy = strdup(v);
        if (!copy) {
            set_err(err, errlen, "%s: out of memory", where);
            return HK_ERR_NOMEM;
        }
        char **slot = (char **)(void *)field;
        free(*slot);
        *slot = copy;
        return 0;
    }
    case HK_CFG_BOOL: {
        bool b;
        if (parse_bool(v, &b)) {
            set_err(err, errlen, "%s: must be true or false (got \"%.40s\")", where, v);
            return HK_ERR_INVALID;
        }
        *(bool *)(void *)field = b;
        return 0;
    }
    case HK_CFG_INT:
    case HK_CFG_SIZE: {
        long long x;
        int rc = o->type == HK_CFG_INT ? parse_ll(v, &x, NULL) : parse_size(v, &x);
        if (rc || x < o->min || x > o->max) {
            if (o->type == HK_CFG_SIZE)
                set_err(err, errlen,
                        "%s: must be a size from %lld to %lld bytes (suffix k, m, g allowed; "
                        "got \"%.40s\")",
                        where, o->min, o->max, v);
            else
                set_err(err, errlen, "%s: must be an integer from %lld to %lld (got \"%.40s\")",
                        where, o->min, o->max, v);
            return HK_ERR_INVALID;
        }
        if (o->type == HK_CFG_INT)
            *(long long *)(void *)field = x;
        else
            *(size_t *)(void *)field = (size_t)x;
        return 0;
    }
    }
    return HK_ERR_INVALID;
}

static const struct hk_cfg_opt *find_opt(const struct hk_cfg_opt *opts, size_t nopts,
                                         const char *name, size_t len)
{
    for (size_t i = 0; i < nopts; i++)
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

int hk_config_parse(const struct hk_cfg_opt *opts, size_t nopts, void *dst, int argc, char **argv,
                    int *npos, char *err, size_t errlen)
{
    char where[96];
    int rc;

    if (npos)
        *npos = 0;
    for (size_t i = 0; i < nopts; i++) {
        if (opts[i].type == HK_CFG_STR)
            *(char **)(void *)((char *)dst + opts[i].offset) = NULL;
        if (!opts[i].def)
            continue;
        snprintf(where, sizeof where, "--%s (default)", opts[i].name);
        if ((rc = set_value(&opts[i], dst, opts[i].def, where, err, errlen)))
            return rc;
    }
    for (size_t i = 0; i < nopts; i++) {
        const char *v = opts[i].env ? getenv(opts[i].env) : NULL;
        if (!v)
            continue;
        snprintf(where, sizeof where, "%s", opts[i].env);
        if ((rc = set_value(&opts[i], dst, v, where, err, errlen)))
            return rc;
    }

    int kept = 0;
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] != '-' || a[2] == '\0') {
            if (!only_pos && strcmp(a, "--") == 0) {
                only_pos = true;
                continue;
            }
            if (!npos) {
                set_err(err, errlen, "unexpected argument \"%.60s\" (options start with --)", a);
                return HK_ERR_INVALID;
            }
            argv[1 + kept++] = argv[i];
            continue;
        }
        a += 2;
        if (strcmp(a, "help") == 0) {
            hk_config_usage(stdout, argv[0], opts, nopts);
            return 1;
        }
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        const struct hk_cfg_opt *o = find_opt(opts, nopts, a, nlen);
        const char *v = eq ? eq + 1 : NULL;
        if (!o && !eq && nlen > 3 && strncmp(a, "no-", 3) == 0) {
            o = find_opt(opts, nopts, a + 3, nlen - 3);
            if (o && o->type == HK_CFG_BOOL)
                v = "false";
            else
                o = NULL;
        }
        if (!o) {
            set_err(err, errlen, "--%.*s: unknown option (see --help)",
                    (int)(nlen > 60 ? 60 : nlen), a);
            return HK_ERR_INVALID;
        }
        if (!v && o->type == HK_CFG_BOOL) {
            v = "true";
        } else if (!v) {
            if (i + 1 >= argc) {
                set_err(err, errlen, "--%s: needs a value (%s)", o->name, type_hint(o->type));
                return HK_ERR_INVALID;
            }
            v = argv[++i];
        }
        snprintf(where, sizeof where, "--%s", o->name);
        if ((rc = set_value(o, dst, v, where, err, errlen)))
            return rc;
    }
    if (npos) {
        *npos = kept;
        if (1 + kept < argc)
            argv[1 + kept] = NULL;
    }
    return 0;
}

void hk_config_usage(FILE *f, const char *prog, const struct hk_cfg_opt *opts, size_t nopts)
{
    fprintf(f, "usage: %s [--option value | --option=value]...\n", prog ? prog : "hearken");
    fprintf(f, "Each option is read from its default, then its environment variable, then the "
               "command line.\n\n");
    for (size_t i = 0; i < nopts; i++) {
        const struct hk_cfg_opt *o = &opts[i];
        fprintf(f, "  --%-20s %s\n", o->name, o->help ? o->help : "");
        fprintf(f, "  %-22s %s", "", type_hint(o->type));
        if (o->type == HK_CFG_INT || o->type == HK_CFG_SIZE)
            fprintf(f, " %lld..%lld", o->min, o->max);
        if (o->env)
            fprintf(f, ", env %s", o->env);
        fprintf(f, ", default %s\n", o->def ? (*o->def ? o->def : "\"\"") : "none");
    }
}

void hk_config_free(const struct hk_cfg_opt *opts, size_t nopts, void *dst)
{
    for (size_t i = 0; i < nopts; i++) {
        if (opts[i].type != HK_CFG_STR)
            continue;
        char **slot = (char **)(void *)((char *)dst + opts[i].offset);
        free(*slot);
        *slot = NULL;
    }
}
