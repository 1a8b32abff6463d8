/* The ten seed empathy behaviours (SPEC section 2), in one fixed order used everywhere:
 * survey ticks, text detection, rollup fields, impact and coaching. */
#ifndef HEARKEN_BEHAVIOR_H
#define HEARKEN_BEHAVIOR_H

#include <stddef.h>

enum hk_behavior {
    HK_BEH_APOLOGIZED,
    HK_BEH_ACKNOWLEDGED_FEELINGS,
    HK_BEH_SHOWED_CONCERN,
    HK_BEH_OFFERED_GOODWILL,
    HK_BEH_CALM_TONE,
    HK_BEH_LISTENED_ACTIVELY,
    HK_BEH_USED_MY_NAME,
    HK_BEH_DID_NOT_INTERRUPT,
    HK_BEH_WAS_PATIENT,
    HK_BEH_MADE_NO_ASSUMPTIONS,
    HK_BEH_COUNT
};

/* "apologized", "acknowledged_feelings", ... (static strings) */
extern const char *const hk_behavior_names[HK_BEH_COUNT];
/* Index of a name, or -1. */
int hk_behavior_find(const char *name, size_t len);

#endif
