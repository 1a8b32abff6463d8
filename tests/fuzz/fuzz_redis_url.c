/* Fuzz target: hk_redis_url_parse on arbitrary text (up to the first NUL, as from the
 * environment). Invariants: a refusal says why; an accepted URL has a host, a port in 1..65535
 * and a db in 0..100000, all NUL-terminated within their fields; writing the parts back as a
 * URL parses to the same parts (round trip). */
#include "fuzz.h"

#include "hearken/err.h"
#include "hearken/redis.h"

#include <string.h>

static void check_parts(const struct hk_redis_url *u)
{
    CHECK(memchr(u->host, '\0', sizeof u->host) != NULL);
    CHECK(memchr(u->password, '\0', sizeof u->password) != NULL);
    CHECK(u->host[0] != '\0');
    CHECK(u->port >= 1 && u->port <= 65535);
    CHECK(u->db >= 0 && u->db <= 100000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *url = malloc(size + 1);
    CHECK(url != NULL);
    memcpy(url, data, size);
    url[size] = '\0';

    struct hk_redis_url u, u2;
    char err[128];
    err[0] = '\0';
    int rc = hk_redis_url_parse(url, &u, err, sizeof err);
    CHECK(rc == 0 || rc == HK_ERR_INVALID);
    if (rc) {
        CHECK(err[0] != '\0');
        free(url);
        return 0;
    }
    check_parts(&u);

    /* brackets when the host holds a colon or would itself open a bracketed host */
    bool br = strchr(u.host, ':') || u.host[0] == '[';
    char again[1024];
    int n = snprintf(again, sizeof again, "redis://%s%s%s%s%s%s:%d/%d", u.password[0] ? ":" : "",
                     u.password, u.password[0] ? "@" : "", br ? "[" : "", u.host, br ? "]" : "",
                     u.port, u.db);
    CHECK(n > 0 && (size_t)n < sizeof again);
    rc = hk_redis_url_parse(again, &u2, err, sizeof err);
    if (rc)
        fprintf(stderr, "rebuilt URL refused: %s: %s\n", again, err);
    CHECK(rc == 0);
    CHECK(strcmp(u.host, u2.host) == 0);
    CHECK(strcmp(u.password, u2.password) == 0);
    CHECK(u.port == u2.port && u.db == u2.db);
    free(url);
    return 0;
}
