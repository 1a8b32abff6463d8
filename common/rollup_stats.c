/* Statistics over rollup counters: NPS with its standard error, and means with 95% intervals
 * from exact integer sums. Pure functions, checked against hand computations in
 * tests/unit/test_rollup.c. */
#include "hearken/rollup.h"

#include <math.h>

/* t(0.975, df) for df = 1..29 (standard tables, 3 decimals). */
static const double t975[30] = {
    0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262,
    2.228, 2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093,
    2.086, 2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045,
};

double hk_stat_t95(int64_t n)
{
    if (n < 2)
        return 0;
    if (n >= 30)
        return 1.96;
    return t975[n - 1];
}

bool hk_stat_nps(int64_t p, int64_t pa, int64_t d, double *score, double *se)
{
    int64_t n = p + pa + d;
    if (n <= 0)
        return false;
    double fp = (double)p / (double)n, fd = (double)d / (double)n;
    double var = fp + fd - (fp - fd) * (fp - fd);
    *score = 100.0 * (double)(p - d) / (double)n;
    *se = 100.0 * sqrt((var > 0 ? var : 0) / (double)n);
    return true;
}

int hk_stat_mean_ci(int64_t n, int64_t sum, int64_t sumsq, double scale, double lo_bound,
                    double hi_bound, double *mean, double *lo, double *hi)
{
    if (n <= 0)
        return 0;
    *mean = (double)sum / scale / (double)n;
    if (n < 2)
        return 1;
    /* sample variance (n*sumsq - sum^2) / (n (n-1)), exact in 128 bits until the division */
    __int128 num = (__int128)n * sumsq - (__int128)sum * sum;
    if (num < 0)
        num = 0; /* only reachable with inconsistent counters */
    double var = (double)num / ((double)n * (double)(n - 1)) / (scale * scale);
    double half = hk_stat_t95(n) * sqrt(var / (double)n);
    *lo = *mean - half;
    *hi = *mean + half;
    if (*lo < lo_bound)
        *lo = lo_bound;
    if (*hi > hi_bound)
        *hi = hi_bound;
    return 2;
}
