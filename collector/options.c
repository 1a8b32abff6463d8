/* The collector's option table (flags and HEARKEN_* environment) and the read-only state built
 * from it before the daemon starts: parsed Redis URL, scenarios, key digests, key names. */
#include "col.h"

#include "customer.h"

#include "hearken/err.h"
#include "hearken/log.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
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
    {"link-secret", "HEARKEN_LINK_SECRET", HK_CFG_STR, NULL, 0, 8000, OPT(link_secret),
     "kid:secret[,kid:secret...] signing survey links: the first signs, all verify (rotation); "
     "secrets of 32 to 256 bytes (prefer the environment)"},
    {"public-url", "HEARKEN_PUBLIC_URL", HK_CFG_STR, NULL, 0, 400, OPT(public_url),
     "base of minted survey links, e.g. https://feedback.example.com (default: http://LISTEN)"},
    {"redact", "HEARKEN_REDACT", HK_CFG_BOOL, "true", 0, 0, OPT(redact),
     "replace e-mails, phone and card numbers in comments by [email] [phone] [card] before "
     "storing (--no-redact: keep comments as sent)"},
    {"form-rate", "HEARKEN_FORM_RATE", HK_CFG_INT, "60", 0, 6000000, OPT(form_rate),
     "requests per minute per client address to /s/ (the survey form; 0: no limit)"},
    {"form-burst", "HEARKEN_FORM_BURST", HK_CFG_INT, "20", 1, 1000000, OPT(form_burst),
     "requests a client address may make to /s/ at once before --form-rate applies"},
    {"links-rate", "HEARKEN_LINKS_RATE", HK_CFG_INT, "6000", 0, 6000000, OPT(links_rate),
     "requests per minute per client address to POST /v1/links (0: no limit)"},
    {"links-burst", "HEARKEN_LINKS_BURST", HK_CFG_INT, "600", 1, 1000000, OPT(links_burst),
     "requests a client address may make to POST /v1/links at once"},
    {"client-ip-header", "HEARKEN_CLIENT_IP_HEADER", HK_CFG_STR, NULL, 0, 64, OPT(client_ip_header),
     "behind a proxy: header whose last address is the client's, for rate limits "
     "(e.g. X-Forwarded-For; only when the proxy sets it)"},
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
    {"dashboard-dir", "HEARKEN_DASHBOARD_DIR", HK_CFG_STR, NULL, 0, 1000, OPT(dashboard_dir),
     "folder with the dashboard's node_modules (npm ci there installs the chart library; "
     "default: collector/dashboard of the source tree it was built from)"},
};
const size_t col_noptions = sizeof col_options / sizeof col_options[0];

/* OpenSSL 3's one-shot SHA256() looks the algorithm up on every call (~6,000 instructions, a
 * lock); fetched once (then only read, by every thread), each key check only hashes. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static void digest(const char *key, size_t len, unsigned char d[32])
{
    pthread_once(&sha256_once, sha256_fetch);
    if (!sha256_md || !EVP_Digest(key, len, d, NULL, sha256_md, NULL))
        SHA256((const unsigned char *)key, len, d);
}

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
            digest(start, (size_t)(end - start), k->digest[k->n++]);
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
    digest(key, len, d);
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

/* The base URL of minted links: http(s)://host[:port][/path], kept without a trailing '/'. */
static int public_url_set(struct col_app *app, char *err, size_t errlen)
{
    const char *u = app->cfg.public_url;
    char dflt[sizeof app->public_url];
    if (!u || !*u) {
        snprintf(dflt, sizeof dflt, "http://%s", app->cfg.listen);
        u = dflt;
    }
    size_t n = strlen(u);
    while (n && u[n - 1] == '/')
        n--;
    bool scheme = strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0;
    size_t host = strncmp(u, "https://", 8) == 0 ? 8 : 7;
    if (!scheme || n <= host || n >= sizeof app->public_url) {
        snprintf(err, errlen, "--public-url (HEARKEN_PUBLIC_URL): expected http(s)://host[/path]");
        return HK_ERR_INVALID;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u[i];
        if (c <= 0x20 || c >= 0x7f || strchr("\"<>\\^`{|}?#", c)) {
            snprintf(err, errlen,
                     "--public-url (HEARKEN_PUBLIC_URL): no spaces, quotes, query or fragment");
            return HK_ERR_INVALID;
        }
    }
    memcpy(app->public_url, u, n);
    app->public_url[n] = '\0';
    return 0;
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
    if (hk_token_keys_parse(&app->link_keys, app->cfg.link_secret, why, sizeof why)) {
        snprintf(err, errlen, "--link-secret (HEARKEN_LINK_SECRET): %s", why);
        return HK_ERR_INVALID;
    }
    if ((rc = public_url_set(app, err, errlen)))
        return rc;
    if ((app->cfg.form_rate &&
         !(app->form_limiter = col_ratelimit_create(app->cfg.form_rate, app->cfg.form_burst))) ||
        (app->cfg.links_rate &&
         !(app->links_limiter = col_ratelimit_create(app->cfg.links_rate, app->cfg.links_burst)))) {
        snprintf(err, errlen, "out of memory");
        return HK_ERR_NOMEM;
    }
    if (!(app->i18n = col_i18n_load(why, sizeof why))) {
        snprintf(err, errlen, "survey form texts: %s", why);
        return HK_ERR_INVALID;
    }
    return 0;
}

void col_app_free(struct col_app *app)
{
    col_keys_free(&app->ingest_keys);
    col_keys_free(&app->manager_keys);
    hk_token_keys_free(&app->link_keys);
    col_ratelimit_destroy(app->form_limiter);
    col_ratelimit_destroy(app->links_limiter);
    col_i18n_free(app->i18n);
    /* keys and secrets should not linger in freed memory */
    if (app->cfg.ingest_keys)
        OPENSSL_cleanse(app->cfg.ingest_keys, strlen(app->cfg.ingest_keys));
    if (app->cfg.manager_keys)
        OPENSSL_cleanse(app->cfg.manager_keys, strlen(app->cfg.manager_keys));
    if (app->cfg.link_secret)
        OPENSSL_cleanse(app->cfg.link_secret, strlen(app->cfg.link_secret));
    hk_config_free(col_options, col_noptions, &app->cfg);
}
