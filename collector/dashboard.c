/* GET /dashboard and GET /dashboard/lib/{name}: the managers' page. The page, its script and
 * styles are compiled in from collector/static (dashboard.html, dashboard.js, dashboard.css)
 * and hold no data: the script asks for the manager key and calls the read API with it. The
 * chart library is not ours to compile in: `npm ci` in collector/dashboard installs it from
 * the lockfile at set-up time, and this file serves exactly the whitelisted files from that
 * node_modules (--dashboard-dir, default the source tree's collector/dashboard). */
#include "assets.h"
#include "col.h"

#include "hearken/err.h"
#include "hearken/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef HK_DASHBOARD_DIR_DEFAULT
#define HK_DASHBOARD_DIR_DEFAULT "collector/dashboard"
#endif
#define LIB_MAX (8u << 20)

/* The only files served from disk: URL name → path under the dashboard folder. */
static const struct {
    const char *name, *path;
} libs[] = {
    {"chart.umd.min.js", "node_modules/chart.js/dist/chart.umd.min.js"},
};

int col_dashboard_or_respond(struct col_req *r)
{
    const struct col_asset *a = col_asset_find("dashboard.html");
    if (!a)
        return col_respond_error(r, HK_ERR_NOT_FOUND, NULL, NULL);
    return col_respond_dashboard(r, (const char *)a->data, a->len);
}

int col_dashboard_lib_or_respond(struct col_req *r)
{
    const char *rel = NULL;
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++)
        if (strcmp(r->path_arg, libs[i].name) == 0)
            rel = libs[i].path;
    if (!rel)
        return col_respond_error(r, HK_ERR_NOT_FOUND, NULL, NULL);
    const char *dir = r->app->cfg.dashboard_dir && *r->app->cfg.dashboard_dir
                          ? r->app->cfg.dashboard_dir
                          : HK_DASHBOARD_DIR_DEFAULT;
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (n < 0 || (size_t)n >= sizeof path)
        return col_respond_error(r, HK_ERR_NOT_FOUND, NULL, NULL);
    FILE *f = fopen(path, "rb");
    if (!f) {
        hk_log(HK_LOG_WARN, "dashboard_lib_missing",
               "path=\"%s\" hint=\"run npm ci in collector/dashboard\"", path);
        return col_respond_error(r, HK_ERR_NOT_FOUND, NULL, NULL);
    }
    struct hk_buf b;
    hk_buf_init(&b, LIB_MAX);
    char chunk[65536];
    size_t got;
    int rc = 0;
    while (!rc && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = hk_buf_append(&b, chunk, got);
    if (!rc && ferror(f))
        rc = HK_ERR_IO;
    fclose(f);
    rc = rc ? col_respond_error(r, rc, NULL, NULL)
            : col_respond_text(r, MHD_HTTP_OK, "text/javascript; charset=utf-8",
                               b.data ? b.data : "", b.len);
    hk_buf_free(&b);
    return rc;
}
