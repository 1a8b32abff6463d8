/* Error codes shared by every layer. Functions return 0 or a negative HK_ERR_*;
 * only collector/http.c maps them to HTTP statuses. */
#ifndef HEARKEN_ERR_H
#define HEARKEN_ERR_H

enum hk_err {
    HK_OK = 0,
    HK_ERR_NOMEM = -1,       /* allocation failed */
    HK_ERR_TOO_LARGE = -2,   /* a cap was exceeded */
    HK_ERR_INVALID = -3,     /* input failed validation */
    HK_ERR_DUPLICATE = -4,   /* already stored (one survey per interaction) */
    HK_ERR_UNAVAILABLE = -5, /* Redis unreachable or refusing work */
    HK_ERR_NOT_FOUND = -6,
    HK_ERR_IO = -7,          /* file or socket error */
    HK_ERR_AUTH = -8,
    HK_ERR_BUSY = -9,        /* backlog over its limit */
    HK_ERR_EXPIRED = -10,    /* a signed link past its expiry */
    HK_ERR_LIMITED = -11,    /* a client over its rate limit */
};

/* A short, stable name for logs: "invalid", "duplicate", ... */
const char *hk_err_name(int err);

#endif
