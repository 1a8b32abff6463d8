/* The option table: defaults, then environment, then flags; every type and bound; messages
 * that name the option and its bound; and the Redis URL and log-level parsers that start-up
 * relies on. Also the collector's own table, parsed as the program does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../../collector/col.h"
#include "hearken/config.h"
#include "hearken/err.h"
#include "hearken/log.h"
#include "hearken/redis.h"

struct conf {
    char *name;
    char *secret;
    long long port;
    bool verbose;
    size_t body;
};

static const struct hk_cfg_opt opts[] = {
    {"name", "HKTEST_NAME", HK_CFG_STR, "default-name", 0, 20, offsetof(struct conf, name),
     "a name"},
    {"secret", "HKTEST_SECRET", HK_CFG_STR, NULL, 0, 100, offsetof(struct conf, secret),
     "no default"},
    {"port", "HKTEST_PORT", HK_CFG_INT, "8080", 1, 65535, offsetof(struct conf, port), "a port"},
    {"verbose", "HKTEST_VERBOSE", HK_CFG_BOOL, "false", 0, 1, offsetof(struct conf, verbose),
     "chatty"},
    {"body", "HKTEST_BODY", HK_CFG_SIZE, "64k", 1024, 8 << 20, offsetof(struct conf, body),
     "a size"},
};
#define NOPTS (sizeof opts / sizeof opts[0])

static void clear_env(void)
{
    unsetenv("HKTEST_NAME");
    unsetenv("HKTEST_SECRET");
    unsetenv("HKTEST_PORT");
    unsetenv("HKTEST_VERBOSE");
    unsetenv("HKTEST_BODY");
}

/* Parses a NULL-terminated list of arguments (after the program name). */
static int parse(struct conf *c, char *err, int *npos, char **args)
{
    static char *argv[32];
    int argc = 0;
    argv[argc++] = "prog";
    for (; *args; args++)
        argv[argc++] = *args;
    argv[argc] = NULL;
    memset(c, 0, sizeof *c);
    err[0] = '\0';
    return hk_config_parse(opts, NOPTS, c, argc, argv, npos, err, 256);
}

static void test_defaults(void **state)
{
    (void)state;
    clear_env();
    struct conf c;
    char err[256];
    char *args[] = {NULL};
    assert_int_equal(parse(&c, err, NULL, args), 0);
    assert_string_equal(c.name, "default-name");
    assert_null(c.secret);
    assert_int_equal(c.port, 8080);
    assert_false(c.verbose);
    assert_int_equal(c.body, 64 * 1024);
    hk_config_free(opts, NOPTS, &c);
    assert_null(c.name);
}

static void test_env_then_flags(void **state)
{
    (void)state;
    clear_env();
    setenv("HKTEST_PORT", "9000", 1);
    setenv("HKTEST_NAME", "from-env", 1);
    setenv("HKTEST_VERBOSE", "yes", 1);
    struct conf c;
    char err[256];
    char *args[] = {"--port", "9100", NULL};
    assert_int_equal(parse(&c, err, NULL, args), 0);
    assert_int_equal(c.port, 9100); /* flag beats env */
    assert_string_equal(c.name, "from-env");
    assert_true(c.verbose);
    hk_config_free(opts, NOPTS, &c);

    char *args2[] = {"--name=flag", "--no-verbose", NULL};
    assert_int_equal(parse(&c, err, NULL, args2), 0);
    assert_string_equal(c.name, "flag");
    assert_false(c.verbose);
    assert_int_equal(c.port, 9000);
    hk_config_free(opts, NOPTS, &c);
    clear_env();
}

static void test_bool_forms(void **state)
{
    (void)state;
    clear_env();
    struct conf c;
    char err[256];
    const char *yes[] = {"--verbose", "--verbose=1", "--verbose=true", "--verbose=ON"};
    for (size_t i = 0; i < 4; i++) {
        char *args[] = {(char *)yes[i], NULL};
        assert_int_equal(parse(&c, err, NULL, args), 0);
        assert_true(c.verbose);
        hk_config_free(opts, NOPTS, &c);
    }
    char *bad[] = {"--verbose=maybe", NULL};
    assert_int_equal(parse(&c, err, NULL, bad), HK_ERR_INVALID);
    assert_non_null(strstr(err, "--verbose"));
    hk_config_free(opts, NOPTS, &c);
}

static void test_sizes(void **state)
{
    (void)state;
    clear_env();
    struct conf c;
    char err[256];
    struct {
        const char *arg;
        size_t want;
    } ok[] = {{"--body=2048", 2048},  {"--body=4k", 4096},    {"--body=4KiB", 4096},
              {"--body=1m", 1 << 20}, {"--body=8M", 8 << 20}, {"--body=1024b", 1024}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char *args[] = {(char *)ok[i].arg, NULL};
        assert_int_equal(parse(&c, err, NULL, args), 0);
        assert_int_equal(c.body, ok[i].want);
        hk_config_free(opts, NOPTS, &c);
    }
    const char *bad[] = {"--body=9m", "--body=1000", "--body=4x",
                         "--body=",   "--body=-5",   "--body=k"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *args[] = {(char *)bad[i], NULL};
        assert_int_equal(parse(&c, err, NULL, args), HK_ERR_INVALID);
        assert_non_null(strstr(err, "--body"));
        assert_non_null(strstr(err, "1024"));
        assert_non_null(strstr(err, "8388608"));
        hk_config_free(opts, NOPTS, &c);
    }
}

static void test_int_bounds_message(void **state)
{
    (void)state;
    clear_env();
    struct conf c;
    char err[256];
    char *args[] = {"--port", "0", NULL};
    assert_int_equal(parse(&c, err, NULL, args), HK_ERR_INVALID);
    assert_string_equal(err, "--port: must be an integer from 1 to 65535 (got \"0\")");
    hk_config_free(opts, NOPTS, &c);

    const char *bad[] = {"70000", "12abc", "", " 5", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *a[] = {"--port", (char *)bad[i], NULL};
        assert_int_equal(parse(&c, err, NULL, a), HK_ERR_INVALID);
        assert_non_null(strstr(err, "65535"));
        hk_config_free(opts, NOPTS, &c);
    }

    setenv("HKTEST_PORT", "-1", 1);
    char *none[] = {NULL};
    assert_int_equal(parse(&c, err, NULL, none), HK_ERR_INVALID);
    assert_non_null(strstr(err, "HKTEST_PORT")); /* says where the bad value came from */
    hk_config_free(opts, NOPTS, &c);
    clear_env();
}

static void test_string_bound(void **state)
{
    (void)state;
    clear_env();
    struct conf c;
    char err[256];
    char *args[] = {"--name", "this-name-is-longer-than-twenty", NULL};
    assert_int_equal(parse(&c, err, NULL, args), HK_ERR_INVALID);
    assert_non_null(strstr(err, "--name"));
    assert_non_null(strstr(err, "20"));
    hk_config_free(opts, NOPTS, &c);
}

static void test_unknown_and_missing(void **state)
{
    (void)state;
    clear_env();
    struct conf c;
    char err[256];
    char *a1[] = {"--colour", "red", NULL};
    assert_int_equal(parse(&c, err, NULL, a1), HK_ERR_INVALID);
    assert_non_null(strstr(err, "--colour"));
    hk_config_free(opts, NOPTS, &c);

    char *a2[] = {"--port", NULL};
    assert_int_equal(parse(&c, err, NULL, a2), HK_ERR_INVALID);
    assert_non_null(strstr(err, "--port"));
    hk_config_free(opts, NOPTS, &c);

    char *a3[] = {"--no-port", NULL}; /* --no- only for booleans */
    assert_int_equal(parse(&c, err, NULL, a3), HK_ERR_INVALID);
    hk_config_free(opts, NOPTS, &c);
}

static void test_positional(void **state)
{
    (void)state;
    clear_env();
    struct conf c;
    char err[256];
    char *a1[] = {"file.txt", NULL};
    assert_int_equal(parse(&c, err, NULL, a1), HK_ERR_INVALID);
    assert_non_null(strstr(err, "file.txt"));
    hk_config_free(opts, NOPTS, &c);

    static char *argv[] = {"prog", "one", "--port", "81", "two", "--", "--three", NULL};
    int npos = -1;
    memset(&c, 0, sizeof c);
    assert_int_equal(hk_config_parse(opts, NOPTS, &c, 7, argv, &npos, err, sizeof err), 0);
    assert_int_equal(npos, 3);
    assert_string_equal(argv[1], "one");
    assert_string_equal(argv[2], "two");
    assert_string_equal(argv[3], "--three");
    assert_int_equal(c.port, 81);
    hk_config_free(opts, NOPTS, &c);
}

static void test_help(void **state)
{
    (void)state;
    clear_env();
    struct conf c;
    char err[256];
    char *args[] = {"--help", NULL};
    FILE *saved = stdout;
    stdout = fopen("/dev/null", "w");
    int rc = parse(&c, err, NULL, args);
    fclose(stdout);
    stdout = saved;
    assert_int_equal(rc, 1);
    hk_config_free(opts, NOPTS, &c);

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    hk_config_usage(f, "prog", opts, NOPTS);
    fclose(f);
    assert_non_null(strstr(text, "--port"));
    assert_non_null(strstr(text, "HKTEST_PORT"));
    assert_non_null(strstr(text, "1..65535"));
    assert_non_null(strstr(text, "default 8080"));
    free(text);
}

static void test_redis_url(void **state)
{
    (void)state;
    struct hk_redis_url u;
    char err[128];
    assert_int_equal(hk_redis_url_parse("redis://127.0.0.1:6379", &u, err, sizeof err), 0);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    assert_string_equal(u.password, "");

    assert_int_equal(hk_redis_url_parse("redis://:s3cr3t@localhost:16379/3", &u, err, sizeof err),
                     0);
    assert_string_equal(u.host, "localhost");
    assert_int_equal(u.port, 16379);
    assert_int_equal(u.db, 3);
    assert_string_equal(u.password, "s3cr3t");

    assert_int_equal(hk_redis_url_parse("redis://[::1]:7000/", &u, err, sizeof err), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 7000);
    assert_int_equal(hk_redis_url_parse("redis://example", &u, err, sizeof err), 0);
    assert_int_equal(u.port, 6379);

    const char *bad[] = {
        "http://127.0.0.1:6379", "redis://",         "redis://h:0",       "redis://h:65536",
        "redis://h:12x",         "redis://h:6379/x", "redis://pw@h:6379", "redis://bob:pw@h:6379",
        "redis://[::1:6379"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(hk_redis_url_parse(bad[i], &u, err, sizeof err), HK_ERR_INVALID);
        assert_true(err[0] != '\0');
    }
}

static void test_backoff(void **state)
{
    (void)state;
    for (int attempt = 0; attempt < 40; attempt++) {
        int d = hk_backoff_ms(attempt, 100, 5000);
        long long full = 100LL << (attempt < 20 ? attempt : 20);
        if (full > 5000)
            full = 5000;
        assert_true(d >= full / 2);
        assert_true(d <= full);
    }
}

static void test_log_level(void **state)
{
    (void)state;
    assert_int_equal(hk_log_level_parse("debug"), HK_LOG_DEBUG);
    assert_int_equal(hk_log_level_parse("INFO"), HK_LOG_INFO);
    assert_int_equal(hk_log_level_parse("warn"), HK_LOG_WARN);
    assert_int_equal(hk_log_level_parse("error"), HK_LOG_ERROR);
    assert_int_equal(hk_log_level_parse("loud"), -1);
    assert_int_equal(hk_log_level_parse(NULL), -1);
}

static void test_collector_table(void **state)
{
    (void)state;
    struct col_app app;
    char err[256];
    unsetenv("HEARKEN_MAX_BODY");
    setenv("HEARKEN_INGEST_KEYS", "k1, k2,,k3", 1);
    setenv("HEARKEN_PREFIX", "t1:", 1);
    static char *argv[] = {"hearken-collector", "--listen", "127.0.0.1:0", NULL};
    assert_int_equal(col_app_init(&app, 3, argv, err, sizeof err), 0);
    assert_int_equal(app.cfg.max_body, 64 * 1024);
    assert_int_equal(app.cfg.max_batch_body, 8 << 20);
    assert_string_equal(app.stream_key, "t1:surveys");
    assert_int_equal(app.redis.port, 6379);
    assert_int_equal(app.scenarios.n, 7);
    assert_int_equal(app.ingest_keys.n, 3);
    assert_true(col_keys_match(&app.ingest_keys, "k2", 2));
    assert_true(col_keys_match(&app.ingest_keys, "k3", 2));
    assert_false(col_keys_match(&app.ingest_keys, "k", 1));
    assert_false(col_keys_match(&app.ingest_keys, "k22", 3));
    assert_int_equal(app.manager_keys.n, 0);
    assert_false(col_keys_match(&app.manager_keys, "", 0));
    col_app_free(&app);

    setenv("HEARKEN_MAX_BODY", "0", 1);
    static char *argv2[] = {"hearken-collector", NULL};
    assert_int_equal(col_app_init(&app, 1, argv2, err, sizeof err), HK_ERR_INVALID);
    assert_non_null(strstr(err, "HEARKEN_MAX_BODY"));
    assert_non_null(strstr(err, "1024"));
    col_app_free(&app);
    unsetenv("HEARKEN_MAX_BODY");

    static char *argv3[] = {"hearken-collector", "--redis-url", "redis://h:99999", NULL};
    assert_int_equal(col_app_init(&app, 3, argv3, err, sizeof err), HK_ERR_INVALID);
    assert_non_null(strstr(err, "--redis-url"));
    col_app_free(&app);

    static char *argv4[] = {"hearken-collector", "--scenarios", "a,b,a", NULL};
    assert_int_equal(col_app_init(&app, 3, argv4, err, sizeof err), HK_ERR_INVALID);
    assert_non_null(strstr(err, "--scenarios"));
    col_app_free(&app);
    unsetenv("HEARKEN_INGEST_KEYS");
    unsetenv("HEARKEN_PREFIX");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_env_then_flags),
        cmocka_unit_test(test_bool_forms),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_int_bounds_message),
        cmocka_unit_test(test_string_bound),
        cmocka_unit_test(test_unknown_and_missing),
        cmocka_unit_test(test_positional),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_redis_url),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_log_level),
        cmocka_unit_test(test_collector_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
