/* Files under collector/static, compiled into the collector by cmake/embed_assets.cmake: the
 * survey form's CSS and its texts per language. Read-only, static lifetime; data is followed
 * by a NUL byte not counted in len, so text assets can be read as strings. */
#ifndef HEARKEN_COLLECTOR_ASSETS_H
#define HEARKEN_COLLECTOR_ASSETS_H

#include <stddef.h>

struct col_asset {
    const char *name; /* path under collector/static: "form.css", "i18n/en.txt" */
    const unsigned char *data;
    size_t len;
};

extern const struct col_asset col_assets[]; /* ends with a {NULL, NULL, 0} entry */
extern const unsigned long col_nassets;

/* The asset called name (exact path), or NULL. */
const struct col_asset *col_asset_find(const char *name);

#endif
