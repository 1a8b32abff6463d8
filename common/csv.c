/* JSON tables to CSV (include/hearken/csv.h): flattening with jansson, RFC 4180 cells,
 * spreadsheet-formula neutralisation. Pure; no I/O. */
#include "hearken/csv.h"
#include "hearken/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int hk_csv_cell(struct hk_buf *out, const char *s, size_t len)
{
    bool quote = false;
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    bool neutralise = len && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
                              s[0] == '\t' || s[0] == '\r');
    int rc = quote ? hk_buf_append_char(out, '"') : 0;
    if (!rc && neutralise)
        rc = hk_buf_append_char(out, '\'');
    for (size_t i = 0; i < len && !rc; i++)
        rc = s[i] == '"' && quote ? hk_buf_append(out, "\"\"", 2) : hk_buf_append_char(out, s[i]);
    if (!rc && quote)
        rc = hk_buf_append_char(out, '"');
    return rc;
}

/* One flattened cell: its path and its text, and whether the text came from a JSON string. */
struct cell {
    char *path;
    struct hk_buf text;
    bool is_string;
};

struct row {
    struct cell *c;
    size_t n, cap;
};

static void row_free(struct row *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->c[i].path);
        hk_buf_free(&r->c[i].text);
    }
    free(r->c);
    r->c = NULL;
    r->n = r->cap = 0;
}

#define CELL_MAX ((size_t)1 << 20)

static struct cell *row_add(struct row *r, const char *prefix, const char *name)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        struct cell *c = realloc(r->c, cap * sizeof *c);
        if (!c)
            return NULL;
        r->c = c;
        r->cap = cap;
    }
    size_t pl = strlen(prefix), nl = strlen(name);
    char *path = malloc(pl + nl + 2);
    if (!path)
        return NULL;
    memcpy(path, prefix, pl);
    if (pl)
        path[pl++] = '.';
    memcpy(path + pl, name, nl + 1);
    struct cell *c = &r->c[r->n++];
    c->path = path;
    c->is_string = false;
    hk_buf_init(&c->text, CELL_MAX);
    return c;
}

static int scalar_text(struct hk_buf *b, const json_t *v, bool *is_string)
{
    *is_string = false;
    switch (json_typeof(v)) {
    case JSON_STRING:
        *is_string = true;
        return hk_buf_append(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return hk_buf_printf(b, "%lld", (long long)json_integer_value(v));
    case JSON_REAL:
        return hk_buf_append_json_num(b, json_real_value(v));
    case JSON_TRUE:
        return hk_buf_append_str(b, "true");
    case JSON_FALSE:
        return hk_buf_append_str(b, "false");
    default: /* null: an empty cell */
        return 0;
    }
}

static bool is_scalar(const json_t *v)
{
    return !json_is_object(v) && !json_is_array(v);
}

static int flatten(struct row *r, const char *prefix, const json_t *obj);

/* [lo, hi] (or a null interval) as the two cells NAME_lo and NAME_hi. */
static int interval(struct row *r, const char *prefix, const char *name, const json_t *lo,
                    const json_t *hi)
{
    static const char *const ends[2] = {"_lo", "_hi"};
    const json_t *v[2] = {lo, hi};
    for (size_t i = 0; i < 2; i++) {
        char nm[256];
        size_t nl = strlen(name);
        if (nl + 4 > sizeof nm)
            return HK_ERR_TOO_LARGE;
        memcpy(nm, name, nl);
        memcpy(nm + nl, ends[i], 4);
        struct cell *c = row_add(r, prefix, nm);
        if (!c)
            return HK_ERR_NOMEM;
        int rc = v[i] ? scalar_text(&c->text, v[i], &c->is_string) : 0;
        if (rc)
            return rc;
    }
    return 0;
}

static int flatten_value(struct row *r, const char *prefix, const char *name, const json_t *v)
{
    if (json_is_object(v)) {
        struct cell tmp = {0};
        size_t pl = strlen(prefix), nl = strlen(name);
        tmp.path = malloc(pl + nl + 2);
        if (!tmp.path)
            return HK_ERR_NOMEM;
        memcpy(tmp.path, prefix, pl);
        if (pl)
            tmp.path[pl++] = '.';
        memcpy(tmp.path + pl, name, nl + 1);
        int rc = flatten(r, tmp.path, v);
        free(tmp.path);
        return rc;
    }
    if (json_is_array(v)) {
        size_t n = json_array_size(v);
        bool scalars = true, numbers = n == 2;
        for (size_t i = 0; i < n; i++) {
            const json_t *e = json_array_get(v, i);
            scalars = scalars && is_scalar(e);
            numbers = numbers && (json_is_number(e) || json_is_null(e));
        }
        if (numbers)
            return interval(r, prefix, name, json_array_get(v, 0), json_array_get(v, 1));
        struct cell *c = row_add(r, prefix, name);
        if (!c)
            return HK_ERR_NOMEM;
        c->is_string = true;
        if (scalars) {
            for (size_t i = 0; i < n; i++) {
                bool str;
                int rc = i ? hk_buf_append_str(&c->text, "; ") : 0;
                if (!rc)
                    rc = scalar_text(&c->text, json_array_get(v, i), &str);
                if (rc)
                    return rc;
            }
            return 0;
        }
        char *js = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
        if (!js)
            return HK_ERR_NOMEM;
        int rc = hk_buf_append_str(&c->text, js);
        free(js);
        return rc;
    }
    size_t nl = strlen(name);
    if (json_is_null(v) && nl >= 4 && strcmp(name + nl - 4, "ci95") == 0)
        return interval(r, prefix, name, NULL, NULL); /* the same columns as a real one */
    struct cell *c = row_add(r, prefix, name);
    if (!c)
        return HK_ERR_NOMEM;
    return scalar_text(&c->text, v, &c->is_string);
}

static int flatten(struct row *r, const char *prefix, const json_t *obj)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        int rc = flatten_value(r, prefix, k, v);
        if (rc)
            return rc;
    }
    return 0;
}

/* Column list in first-seen order. */
struct columns {
    char **name;
    size_t n, cap;
};

static int column_add(struct columns *cols, const char *name)
{
    for (size_t i = 0; i < cols->n; i++)
        if (strcmp(cols->name[i], name) == 0)
            return 0;
    if (cols->n == cols->cap) {
        size_t cap = cols->cap ? cols->cap * 2 : 32;
        char **nm = realloc(cols->name, cap * sizeof *nm);
        if (!nm)
            return HK_ERR_NOMEM;
        cols->name = nm;
        cols->cap = cap;
    }
    size_t len = strlen(name);
    char *copy = malloc(len + 1);
    if (!copy)
        return HK_ERR_NOMEM;
    memcpy(copy, name, len + 1);
    cols->name[cols->n++] = copy;
    return 0;
}

int hk_csv_from_json(const char *json, size_t len, const char *rows_member, struct hk_buf *out)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    const json_t *rows = root ? json_object_get(root, rows_member) : NULL;
    if (!json_is_array(rows)) {
        json_decref(root);
        return HK_ERR_INVALID;
    }
    size_t nrows = json_array_size(rows);
    struct row *flat = calloc(nrows ? nrows : 1, sizeof *flat);
    struct columns cols = {0};
    int rc = flat ? 0 : HK_ERR_NOMEM;
    for (size_t i = 0; i < nrows && !rc; i++) {
        const json_t *o = json_array_get(rows, i);
        if (!json_is_object(o)) {
            rc = HK_ERR_INVALID;
            break;
        }
        rc = flatten(&flat[i], "", o);
        for (size_t j = 0; j < flat[i].n && !rc; j++)
            rc = column_add(&cols, flat[i].c[j].path);
    }
    for (size_t j = 0; j < cols.n && !rc; j++) {
        rc = j ? hk_buf_append_char(out, ',') : 0;
        if (!rc)
            rc = hk_csv_cell(out, cols.name[j], strlen(cols.name[j]));
    }
    if (!rc)
        rc = hk_buf_append(out, "\r\n", 2);
    for (size_t i = 0; i < nrows && !rc; i++) {
        for (size_t j = 0; j < cols.n && !rc; j++) {
            rc = j ? hk_buf_append_char(out, ',') : 0;
            for (size_t k = 0; k < flat[i].n && !rc; k++) {
                const struct cell *c = &flat[i].c[k];
                if (strcmp(c->path, cols.name[j]) != 0)
                    continue;
                const char *t = c->text.data ? c->text.data : "";
                if (c->is_string)
                    rc = hk_csv_cell(out, t, c->text.len);
                else
                    rc = hk_buf_append(out, t, c->text.len);
                break;
            }
        }
        if (!rc)
            rc = hk_buf_append(out, "\r\n", 2);
    }
    for (size_t i = 0; flat && i < nrows; i++)
        row_free(&flat[i]);
    free(flat);
    for (size_t j = 0; j < cols.n; j++)
        free(cols.name[j]);
    free(cols.name);
    json_decref(root);
    return rc;
}
