/* CSV export of the read API's tables (SPEC section 6): RFC 4180 quoting, and cells that a
 * spreadsheet would run as a formula (= + - @, tab, CR first) neutralised with a leading
 * apostrophe. The caller's out buffer owns what is written. */
#ifndef HEARKEN_CSV_H
#define HEARKEN_CSV_H

#include <stddef.h>

#include "hearken/buf.h"

/* One cell from text: quoted when it holds a comma, quote, CR or LF (quotes doubled);
 * neutralised when it starts with = + - @ TAB or CR. */
int hk_csv_cell(struct hk_buf *out, const char *s, size_t len);

/* The rows of one JSON answer as CSV: rows_member names the top-level array of objects
 * ("groups", "points", "rows", "items"). Columns are the rows' flattened member paths in
 * first-seen order ("nps.score", "felt_heard.stated.mean"); a two-number array becomes
 * PATH_lo and PATH_hi ("ci95_lo"; a null "…ci95" gives the same two empty cells); other arrays of
 * scalars are joined with "; ", arrays of objects kept as compact JSON; null is an empty cell.
 * Numbers are never neutralised (a negative number stays a number); strings always are. Lines end
 * in CRLF. HK_ERR_INVALID when json is not an object with that array, else 0 or a buffer error. */
int hk_csv_from_json(const char *json, size_t len, const char *rows_member, struct hk_buf *out);

#endif
