/* GET /static/{name}: the files compiled in from collector/static (the form's CSS), by exact
 * name, with a content type from a short list; the form's texts (i18n/) are not served. */
#include "assets.h"
#include "col.h"

#include "hearken/err.h"

#include <string.h>

static const struct {
    const char *ext, *type;
} types[] = {
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
};

const struct col_asset *col_asset_find(const char *name)
{
    for (unsigned long i = 0; i < col_nassets; i++)
        if (strcmp(col_assets[i].name, name) == 0)
            return &col_assets[i];
    return NULL;
}

static const char *content_type(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        size_t e = strlen(types[i].ext);
        if (n > e && strcmp(name + n - e, types[i].ext) == 0)
            return types[i].type;
    }
    return NULL;
}

int col_static_or_respond(struct col_req *r)
{
    const char *name = r->path_arg ? r->path_arg : "";
    const struct col_asset *a = NULL;
    const char *type = content_type(name);
    if (type && strncmp(name, "i18n/", 5) != 0)
        a = col_asset_find(name);
    if (!a)
        return col_respond_error(r, HK_ERR_NOT_FOUND, NULL, NULL);
    return col_respond_text(r, MHD_HTTP_OK, type, (const char *)a->data, a->len);
}
