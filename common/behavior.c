/* Seed behaviour names (SPEC section 2); the order matches enum hk_behavior. */
#include "hearken/behavior.h"

#include <string.h>

const char *const hk_behavior_names[HK_BEH_COUNT] = {
    "apologized",        "acknowledged_feelings", "showed_concern", "offered_goodwill",
    "calm_tone",         "listened_actively",     "used_my_name",   "did_not_interrupt",
    "was_patient",       "made_no_assumptions",
};

int hk_behavior_find(const char *name, size_t len)
{
    for (int i = 0; i < HK_BEH_COUNT; i++)
        if (strlen(hk_behavior_names[i]) == len && memcmp(hk_behavior_names[i], name, len) == 0)
            return i;
    return -1;
}
