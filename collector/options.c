/* The collector's option table (flags and HEARKEN_* environment) and the read-only state built
 * from it before the daemon starts: parsed Redis URL, scenarios, key digests, key names. */
#include "col.h"

#include "hearken/err.h"
#include "hearken/log.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPT(field) offsetof(struct col_config, field)

const struct hk_cfg_opt col_options[] = {
    {"listen", "HEARKEN_LISTEN", HK_CFG_STR, "127.0.0.1:8080", 1, 300, OPT(listen),
     "host:port to listen on ([::1]:8080 for IPv6)"},
    {"redis-url", "HEARKEN_REDIS_URL", HK_CFG_STR, "redis://127.0.0.1:6379", 9, 600, OPT(redis_url),
     "redis://[:password@]host:port[/db]"},
    {"ingest-keys", "HEARKEN_INGEST_KEYS", HK_CFG_STR, NULL, 0, 100000, OPT(ingest_keys),
     "comma-separated bearer keys for POST /v1/surveys (prefer the environment)"},
    {"manager-keys", "HEARKEN_MANAGER_KEYS", HK_CFG_STR, NULL, 0, 100000, OPT(manager_keys),
     "comma-separated bearer keys for the read API (prefer the environment)"},
    {"prefix", "HEARKEN_PREFIX", HK_CFG_STR, "hearken:", 0, COL_PREFIX_MAX, OPT(prefix),
     "Redis key prefix, so several deployments can share one Redis"},
    {"link-secret", "HEARKEN_LINK_SECRET", HK_CFG_STR, NULL, 0, 1000, OPT(link_secret),
     "secret for signed survey links (prefer the environment)"},
    {"scenarios", "HEARKEN_SCENARIOS", HK_CFG_STR,
     "billing_error,service_interruption,product_quality,cancellation_return,tech_support,"
     "complaint_escalation,other",
     1, 10000, OPT(scenarios), "comma-separated scenario names a survey may carry"},
    {"max-body", "HEARKEN_MAX_BODY", HK_CFG_SIZE, "64k", 1024, 64LL << 20, OPT(max_body),
     "largest body for one survey or a form post"},
    {"max-batch-body", "HEARKEN_MAX_BATCH_BODY", HK_CFG_SIZE, "8m", 1024, 1LL << 30,
     OPT(max_batch_body), "largest body for a batch import"},
    {"threads", "HEARKEN_THREADS", HK_CFG_INT, "0", 0, 256, OPT(threads),
     "HTTP worker threads (0: one per CPU)"},
    {"connection-limit", "HEARKEN_CONNECTION_LIMIT", HK_CFG_INT, "4096", 1, 1000000,
     OPT(connection_limit), "open connections at most (beyond it new ones are closed)"},
    {"per-ip-limit", "HEARKEN_PER_IP_LIMIT", HK_CFG_INT, "1024", 0, 1000000, OPT(per_ip_limit),
     "open connections per client address (0: no limit, e.g. behind a load balancer)"},
    {"timeout", "HEARKEN_TIMEOUT", HK_CFG_INT, "30", 1, 3600, OPT(timeout),
     "seconds a connection may stay idle"},
    {"connection-memory", "HEARKEN_CONNECTION_MEMORY", HK_CFG_SIZE, "16k", 8192, 1LL << 20,
     OPT(connection_memory), "memory per connection for headers and read buffers"},
    {"max-backlog", "HEARKEN_MAX_BACKLOG", HK_CFG_INT, "1000000", 0, 1000000000000LL,
     OPT(max_backlog),
     "refuse surveys (503) while this many stream entries wait for analyzers (0: no limit)"},
    {"redis-timeout-ms", "HEARKEN_REDIS_TIMEOUT_MS", HK_CFG_INT, "2000", 50, 60000,
     OPT(redis_timeout_ms), "Redis connect, read and write timeout"},
    {"drain-timeout", "HEARKEN_DRAIN_TIMEOUT", HK_CFG_INT, "10", 0, 600, OPT(drain_timeout),
     "seconds to let in-flight requests finish on SIGTERM"},
    {"log-level", "HEARKEN_LOG_LEVEL", HK_CFG_STR, "info", 1, 10, OPT(log_level),
     "debug, info, warn or error"},
};
const size_t col_noptions = sizeof col_options / sizeof col_options[0];

int col_keys_parse(struct col_keys *k, const char *csv)
{
    k->n = 0;
    k->digest = NULL;
    if (!csv)
        return 0;
    size_t max = 1;
    for (const char *p = csv; *p; p++)
        max += *p == ',';
    k->digest = calloc(max, sizeof *k->digest);
    if (!k->digest)
        return HK_ERR_NOMEM;
    const char *p = csv;
    for (;;) {
        const char *start = p;
        while (*p && *p != ',')
            p++;
        const char *end = p;
        while (start < end && (*start == ' ' || *start == '\t'))
            start++;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (end > start)
            SHA256((const unsigned char *)start, (size_t)(end - start), k->digest[k->n++]);
        if (!*p)
            break;
        p++;
    }
    return 0;
}

void col_keys_free(struct col_keys *k)
{
    if (k->digest)
        OPENSSL_cleanse(k->digest, k->n * sizeof *k->digest);
    free(k->digest);
    k->digest = NULL;
    k->n = 0;
}

bool col_keys_match(const struct col_keys *k, const char *key, size_t len)
{
    unsigned char d[32];
    SHA256((const unsigned char *)key, len, d);
    int hit = 0;
    for (size_t i = 0; i < k->n; i++) /* no early exit: the time says nothing about which */
        hit |= CRYPTO_memcmp(d, k->digest[i], sizeof d) == 0;
    return hit != 0;
}

/* The prefix ends up inside Redis key names and log lines: printable ASCII, no spaces. */
static bool prefix_valid(const char *p)
{
    for (; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return false;
    return true;
}

int col_app_init(struct col_app *app, int argc, char **argv, char *err, size_t errlen)
{
    char why[160];
    memset(app, 0, sizeof *app);
    int rc = hk_config_parse(col_options, col_noptions, &app->cfg, argc, argv, NULL, err, errlen);
    if (rc)
        return rc;
    if (hk_log_level_parse(app->cfg.log_level) < 0) {
        snprintf(err, errlen, "--log-level: must be debug, info, warn or error");
        return HK_ERR_INVALID;
    }
    if (hk_redis_url_parse(app->cfg.redis_url, &app->redis, why, sizeof why)) {
        snprintf(err, errlen, "--redis-url (HEARKEN_REDIS_URL): %s", why);
        return HK_ERR_INVALID;
    }
    if (hk_scenarios_parse(&app->scenarios, app->cfg.scenarios, why, sizeof why)) {
        snprintf(err, errlen, "--scenarios (HEARKEN_SCENARIOS): %s", why);
        return HK_ERR_INVALID;
    }
    if (!prefix_valid(app->cfg.prefix)) {
        snprintf(err, errlen, "--prefix (HEARKEN_PREFIX): must be printable ASCII without spaces");
        return HK_ERR_INVALID;
    }
    snprintf(app->prefix, sizeof app->prefix, "%s", app->cfg.prefix);
    snprintf(app->stream_key, sizeof app->stream_key, "%ssurveys", app->prefix);
    if (col_keys_parse(&app->ingest_keys, app->cfg.ingest_keys) ||
        col_keys_parse(&app->manager_keys, app->cfg.manager_keys)) {
        snprintf(err, errlen, "out of memory");
        return HK_ERR_NOMEM;
    }
    return 0;
}

void col_app_free(struct col_app *app)
{
    col_keys_free(&app->ingest_keys);
    col_keys_free(&app->manager_keys);
    /* keys and secrets should not linger in freed memory */
    if (app->cfg.ingest_keys)
        OPENSSL_cleanse(app->cfg.ingest_keys, strlen(app->cfg.ingest_keys));
    if (app->cfg.manager_keys)
        OPENSSL_cleanse(app->cfg.manager_keys, strlen(app->cfg.manager_keys));
    if (app->cfg.link_secret)
        OPENSSL_cleanse(app->cfg.link_secret, strlen(app->cfg.link_secret));
    hk_config_free(col_options, col_noptions, &app->cfg);
}
