/* Names for error codes, for log lines. */
#include "hearken/err.h"

const char *hk_err_name(int err)
{
    switch (err) {
    case HK_OK:
        return "ok";
    case HK_ERR_NOMEM:
        return "nomem";
    case HK_ERR_TOO_LARGE:
        return "too_large";
    case HK_ERR_INVALID:
        return "invalid";
    case HK_ERR_DUPLICATE:
        return "duplicate";
    case HK_ERR_UNAVAILABLE:
        return "unavailable";
    case HK_ERR_NOT_FOUND:
        return "not_found";
    case HK_ERR_IO:
        return "io";
    case HK_ERR_AUTH:
        return "auth";
    case HK_ERR_BUSY:
        return "busy";
    case HK_ERR_EXPIRED:
        return "expired";
    case HK_ERR_LIMITED:
        return "limited";
    }
    return "unknown";
}
