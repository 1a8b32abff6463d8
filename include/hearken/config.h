/* Table-driven configuration: one table of name, default, bounds, env var and help per program
 * (like Fluent Bit's config_map). Defaults first, then HEARKEN_* environment, then --flags.
 * A bad value stops start-up with the option's name and its bound. */
#ifndef HEARKEN_CONFIG_H
#define HEARKEN_CONFIG_H

#include <stddef.h>
#include <stdio.h>

enum hk_cfg_type {
    HK_CFG_STR,  /* char * (malloc'd copy; free with hk_config_free) */
    HK_CFG_INT,  /* long long, bounds min..max */
    HK_CFG_BOOL, /* bool: true/false/1/0/yes/no/on/off */
    HK_CFG_SIZE, /* size_t, accepts suffixes k, m, g (binary), bounds min..max */
};

struct hk_cfg_opt {
    const char *name; /* flag without dashes: "listen" → --listen VALUE or --listen=VALUE */
    const char *env;  /* "HEARKEN_LISTEN", or NULL */
    enum hk_cfg_type type;
    const char *def; /* default as text; NULL for none (strings stay NULL) */
    long long min, max;
    size_t offset; /* offsetof(struct your_config, field) */
    const char *help;
};

/* Returns 0; 1 when --help was given (usage printed to stdout); HK_ERR_INVALID with a message
 * like "--port: must be from 1 to 65535 (got 0)" in err. Positional arguments (not starting
 * with --, or anything after a lone --) are kept in order: moved to argv[1..npos], right
 * after the program name, and their count stored in *npos — pass npos NULL to refuse them.
 * A bool option alone (--flag) means true; --no-flag means false. */
int hk_config_parse(const struct hk_cfg_opt *opts, size_t nopts, void *dst, int argc, char **argv,
                    int *npos, char *err, size_t errlen);
void hk_config_usage(FILE *f, const char *prog, const struct hk_cfg_opt *opts, size_t nopts);
/* Frees the HK_CFG_STR fields. */
void hk_config_free(const struct hk_cfg_opt *opts, size_t nopts, void *dst);

#endif
