/* hearken-collector: reads the option table, starts the Redis writer and the HTTP daemon, makes
 * sure the consumer group exists (retrying while Redis is down, without refusing to start), and
 * on SIGTERM or SIGINT stops accepting, lets in-flight requests finish (queued surveys are
 * written and answered) and exits 0. */
#include "col.h"

#include "hearken/err.h"
#include "hearken/log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

int main(int argc, char **argv)
{
    static struct col_app app;
    char err[256];
    int rc = col_app_init(&app, argc, argv, err, sizeof err);
    if (rc == 1) {
        col_app_free(&app);
        return 0;
    }
    if (rc) {
        fprintf(stderr, "hearken-collector: %s\n", err);
        col_app_free(&app);
        return 2;
    }
    hk_log_init("collector", hk_log_level_parse(app.cfg.log_level));
    if (app.ingest_keys.n == 0)
        hk_log(HK_LOG_WARN, "config",
               "message=\"no HEARKEN_INGEST_KEYS: every POST /v1/surveys "
               "will be refused\"");
    if (app.link_keys.n == 0)
        hk_log(HK_LOG_WARN, "config",
               "message=\"no HEARKEN_LINK_SECRET: POST /v1/links answers 503 and no survey "
               "link opens\"");
    if (app.manager_keys.n == 0)
        hk_log(HK_LOG_WARN, "config",
               "message=\"no HEARKEN_MANAGER_KEYS: the read API will refuse every request\"");

    /* Block the stop signals before any thread starts, so only sigtimedwait below sees them;
     * ignore SIGPIPE, which a write to a Redis socket closed under us would raise. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    col_store_global_init();

    app.writer = col_writer_start(&app, err, sizeof err);
    struct col_server *srv = app.writer ? col_server_start(&app, err, sizeof err) : NULL;
    if (!srv) {
        hk_log(HK_LOG_ERROR, "start_failed", "reason=\"%s\"", err);
        col_writer_destroy(app.writer);
        col_app_free(&app);
        return 1;
    }

    /* The consumer group must exist before the first survey, even if no analyzer has started
     * yet; request threads also create it whenever they (re)connect. */
    bool group_ready = false;
    struct timespec tick = {1, 0};
    int sig;
    for (;;) {
        if (!group_ready && col_store_context(&app)) {
            group_ready = true;
            hk_log(HK_LOG_INFO, "redis_ready", "stream=%s group=%s", app.stream_key, COL_GROUP);
            col_store_thread_close();
        }
        sig = sigtimedwait(&stop, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT)
            break;
    }
    hk_log(HK_LOG_INFO, "stopping", "signal=%d drain_s=%lld", sig, app.cfg.drain_timeout);
    col_server_stop(srv, (int)app.cfg.drain_timeout * 1000);
    col_writer_destroy(app.writer);
    col_store_thread_close();
    col_app_free(&app);
    return 0;
}
