/* What the read routes share: the from/to window, id-valued query parameters, and the choice
 * between a JSON answer and its CSV table (common/csv.c does the conversion). */
#include "col.h"

#include "hearken/csv.h"
#include "hearken/err.h"
#include "hearken/rollup.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DAY      86400LL
#define CSV_MAX  (64u << 20)
#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:@-"

/* YYYY-MM-DD → unix seconds at 00:00 UTC. */
static int parse_day(const char *s, int64_t *out)
{
    char full[32];
    if (strlen(s) != 10)
        return HK_ERR_INVALID;
    snprintf(full, sizeof full, "%sT00:00:00Z", s);
    return hk_rfc3339_parse(full, strlen(full), out);
}

static int answered(int rc)
{
    return rc < 0 ? rc : 1;
}

int col_window_or_respond(struct col_req *r, int default_days, int64_t *from, int64_t *to)
{
    const char *from_s = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "from");
    const char *to_s = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "to");
    *to = (int64_t)time(NULL) / DAY * DAY;
    if (to_s && *to_s && parse_day(to_s, to))
        return answered(col_respond_bad_param(r, "to", "must be a date like 2026-11-25"));
    *from = *to - (int64_t)(default_days - 1) * DAY;
    if (from_s && *from_s && parse_day(from_s, from))
        return answered(col_respond_bad_param(r, "from", "must be a date like 2026-11-25"));
    if (*to < *from)
        return answered(col_respond_bad_param(r, "to", "must not be before from"));
    if ((*to - *from) / DAY + 1 > HK_ROLLUP_MAX_DAYS)
        return answered(col_respond_bad_param(r, "from", "the window must be at most 366 days"));
    return 0;
}

const char *col_id_param(struct col_req *r, const char *name, bool *bad)
{
    const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
    if (!v || !*v)
        return NULL;
    size_t n = strlen(v);
    if (n > HK_ID_MAX || strspn(v, ID_CHARS) != n) {
        *bad = true;
        return NULL;
    }
    return v;
}

bool col_wants_csv(struct col_req *r)
{
    const char *f = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "format");
    if (f && *f)
        return strcasecmp(f, "csv") == 0;
    const char *accept = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Accept");
    return accept && strstr(accept, "text/csv") != NULL;
}

int col_respond_table(struct col_req *r, const struct hk_buf *json, const char *rows_member,
                      const char *name)
{
    if (!col_wants_csv(r))
        return col_respond_json(r, MHD_HTTP_OK, json->data ? json->data : "", json->len);
    struct hk_buf csv;
    hk_buf_init(&csv, CSV_MAX);
    int rc = hk_csv_from_json(json->data ? json->data : "", json->len, rows_member, &csv);
    if (rc) {
        hk_buf_free(&csv);
        return col_respond_error(r, rc == HK_ERR_INVALID ? HK_ERR_IO : rc, NULL, NULL);
    }
    char file[96];
    snprintf(file, sizeof file, "hearken-%s.csv", name);
    rc = col_respond_download(r, "text/csv; charset=utf-8; header=present", file,
                              csv.data ? csv.data : "", csv.len);
    hk_buf_free(&csv);
    return rc;
}
