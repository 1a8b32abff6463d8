/* Rollups (SPEC section 6): what one scored survey adds to the per-day counters, and the
 * read side that sums a window of days into the /v1/rollups answer.
 * Keys and field layout are documented in common/rollup.c. */
#ifndef HEARKEN_ROLLUP_H
#define HEARKEN_ROLLUP_H

#include <hiredis/hiredis.h>
#include <stdint.h>

#include "hearken/buf.h"

/* by: "all", "agent", "team", "scenario", "agent_scenario". */
int hk_rollup_by_parse(const char *s);
/* Sums days from_day..to_day (unix seconds at 00:00 UTC, inclusive) for one grouping and
 * appends the SPEC section 9 JSON to out. Returns 0, HK_ERR_UNAVAILABLE (Redis error),
 * HK_ERR_INVALID (window too long), HK_ERR_NOMEM/TOO_LARGE. */
int hk_rollups_query(redisContext *c, const char *prefix, int by, int64_t from_day,
                     int64_t to_day, struct hk_buf *out);

#endif
