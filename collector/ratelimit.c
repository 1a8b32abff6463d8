/* A per-address token bucket for the public routes (/s/ and POST /v1/links): a fixed-size,
 * set-associative table, one mutex per set, so memory stays bounded whatever the number of
 * addresses and threads rarely meet on a lock. The address key never leaves this file. */
#include "customer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define SETS 1024 /* a power of two */
#define WAYS 4

struct slot {
    unsigned char key[16];
    bool used;
    double tokens;
    uint64_t seen_ns; /* last refill */
};

struct set {
    pthread_mutex_t lock;
    struct slot slot[WAYS];
};

struct col_ratelimit {
    double per_ns; /* tokens added per nanosecond */
    double burst;
    uint64_t seed; /* per process, so an outsider cannot aim at one set */
    struct set set[SETS];
};

struct col_ratelimit *col_ratelimit_create(long long per_minute, long long burst)
{
    if (per_minute <= 0 || burst <= 0)
        return NULL;
    struct col_ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    rl->per_ns = (double)per_minute / 60e9;
    rl->burst = (double)burst;
    rl->seed = col_now_ns() ^ (uint64_t)(uintptr_t)rl;
    for (size_t i = 0; i < SETS; i++)
        pthread_mutex_init(&rl->set[i].lock, NULL);
    return rl;
}

void col_ratelimit_destroy(struct col_ratelimit *rl)
{
    if (!rl)
        return;
    for (size_t i = 0; i < SETS; i++)
        pthread_mutex_destroy(&rl->set[i].lock);
    free(rl);
}

/* FNV-1a over the key, mixed with the seed. */
static size_t set_of(const struct col_ratelimit *rl, const unsigned char key[16])
{
    uint64_t h = 1469598103934665603ULL ^ rl->seed;
    for (int i = 0; i < 16; i++) {
        h ^= key[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 29;
    return (size_t)(h & (SETS - 1));
}

bool col_ratelimit_take(struct col_ratelimit *rl, const unsigned char key[16], uint64_t now_ns,
                        unsigned *retry_after_s)
{
    struct set *s = &rl->set[set_of(rl, key)];
    pthread_mutex_lock(&s->lock);
    struct slot *hit = NULL, *victim = &s->slot[0];
    for (int i = 0; i < WAYS && !hit; i++) {
        struct slot *sl = &s->slot[i];
        if (sl->used && memcmp(sl->key, key, 16) == 0)
            hit = sl;
        else if (!sl->used || (victim->used && sl->seen_ns < victim->seen_ns))
            victim = sl;
    }
    if (!hit) {
        hit = victim;
        memcpy(hit->key, key, 16);
        hit->used = true;
        hit->tokens = rl->burst;
        hit->seen_ns = now_ns;
    }
    if (now_ns > hit->seen_ns) {
        hit->tokens += (double)(now_ns - hit->seen_ns) * rl->per_ns;
        if (hit->tokens > rl->burst)
            hit->tokens = rl->burst;
        hit->seen_ns = now_ns;
    }
    bool ok = hit->tokens >= 1.0;
    if (ok)
        hit->tokens -= 1.0;
    else {
        double wait_s = (1.0 - hit->tokens) / rl->per_ns / 1e9;
        *retry_after_s = wait_s < 1.0 ? 1u : (unsigned)(wait_s + 0.999);
    }
    pthread_mutex_unlock(&s->lock);
    return ok;
}

/* The last comma-separated element of a forwarding header, as an address. */
static bool header_addr(const char *v, unsigned char key[16])
{
    const char *last = strrchr(v, ',');
    last = last ? last + 1 : v;
    while (*last == ' ' || *last == '\t')
        last++;
    char buf[64];
    size_t n = strcspn(last, " \t");
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, last, n);
    buf[n] = '\0';
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, buf, &a4) == 1) {
        memset(key, 0, 10);
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &a4, 4);
        return true;
    }
    if (inet_pton(AF_INET6, buf, &a6) == 1) {
        memcpy(key, &a6, 16);
        return true;
    }
    return false;
}

void col_client_key(struct MHD_Connection *c, const char *header, unsigned char key[16])
{
    memset(key, 0, 16);
    bool found = false;
    if (header && *header) {
        const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, header);
        found = v && header_addr(v, key);
    }
    if (!found) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const struct sockaddr *sa = ci ? ci->client_addr : NULL;
        if (sa && sa->sa_family == AF_INET) {
            const struct sockaddr_in *in = (const void *)sa;
            key[10] = key[11] = 0xff;
            memcpy(key + 12, &in->sin_addr, 4);
        } else if (sa && sa->sa_family == AF_INET6) {
            const struct sockaddr_in6 *in6 = (const void *)sa;
            memcpy(key, &in6->sin6_addr, 16);
        }
    }
    /* one IPv6 host usually holds a whole /64: limit the prefix, not each address */
    bool v4 = key[10] == 0xff && key[11] == 0xff && !memcmp(key, "\0\0\0\0\0\0\0\0\0\0", 10);
    if (!v4)
        memset(key + 8, 0, 8);
}

int col_ratelimit_or_respond(struct col_req *r, struct col_ratelimit *rl)
{
    if (!rl)
        return 0;
    unsigned char key[16];
    unsigned retry = 1;
    col_client_key(r->conn, r->app->cfg.client_ip_header, key);
    if (col_ratelimit_take(rl, key, col_now_ns(), &retry))
        return 0;
    col_metrics_count(COL_CNT_RATE_LIMITED);
    int rc = col_respond_limited(r, retry);
    return rc < 0 ? rc : 1;
}
