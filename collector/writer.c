/* The collector's one Redis writer: HTTP threads validate a survey, queue it here and go on
 * serving other connections (the API's connection is suspended meanwhile); this thread sends
 * everything queued in one call of the batch ingest script (store.c), so many surveys share a
 * round trip and, with appendfsync always, one fsync, then hands each its outcome and resumes
 * its connection. It never answers HTTP itself: ingest.c does, once resumed. */
#include "col.h"

#include "hearken/err.h"
#include "hearken/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Surveys per script call: typically ~700 bytes each, so ~180 KiB a call, and the script holds
 * Redis for roughly 10 µs a survey. Large surveys (a comment can make one ~100 KiB of JSON) are
 * also capped by bytes, so one call never carries more than a few MiB. */
#define WRITER_BATCH_MAX   256
#define WRITER_BATCH_BYTES (4u << 20)

struct col_writer {
    const struct col_app *app;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job was queued, or stopping */
    pthread_cond_t done; /* a waiter's job has its outcome */
    struct col_job *head, *tail;
    bool stopping;
};

/* Gives job its outcome. After MHD_resume_connection the job belongs to the HTTP thread
 * again (it may be freed at once), so nothing touches it after that. */
static void finish(struct col_writer *w, struct col_job *job, const struct col_store_item *it)
{
    job->rc = it->rc;
    job->res = it->res;
    if (job->conn) {
        struct MHD_Connection *conn = job->conn;
        job->done = true;
        MHD_resume_connection(conn);
        return;
    }
    pthread_mutex_lock(&w->mu);
    job->done = true;
    pthread_cond_broadcast(&w->done);
    pthread_mutex_unlock(&w->mu);
}

static void *writer_main(void *arg)
{
    struct col_writer *w = arg;
    struct col_job *batch[WRITER_BATCH_MAX];
    struct col_store_item items[WRITER_BATCH_MAX];
    size_t largest = 0;
    for (;;) {
        size_t n = 0, bytes = 0;
        pthread_mutex_lock(&w->mu);
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->work, &w->mu);
        while (w->head && n < WRITER_BATCH_MAX && bytes < WRITER_BATCH_BYTES) {
            bytes += w->head->json.len;
            batch[n++] = w->head;
            w->head = w->head->next;
        }
        if (!w->head)
            w->tail = NULL;
        pthread_mutex_unlock(&w->mu);
        if (n == 0) /* stopping, and every queued survey answered */
            break;
        for (size_t i = 0; i < n; i++)
            items[i] = (struct col_store_item){
                .iid = batch[i]->iid, .json = batch[i]->json.data, .len = batch[i]->json.len};
        col_store_ingest_many(w->app, items, n);
        for (size_t i = 0; i < n; i++)
            finish(w, batch[i], &items[i]);
        if (n > largest) {
            largest = n;
            hk_log(HK_LOG_DEBUG, "writer_batch", "surveys=%zu", n);
        }
    }
    col_store_thread_close();
    return NULL;
}

struct col_writer *col_writer_start(const struct col_app *app, char *err, size_t errlen)
{
    struct col_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->app = app;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->done, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w)) {
        snprintf(err, errlen, "cannot start the Redis writer thread");
        pthread_cond_destroy(&w->done);
        pthread_cond_destroy(&w->work);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return NULL;
    }
    return w;
}

/* Appends job under w->mu; false once stopping. */
static bool enqueue_locked(struct col_writer *w, struct col_job *job)
{
    if (w->stopping)
        return false;
    job->next = NULL;
    job->done = false;
    if (w->tail)
        w->tail->next = job;
    else
        w->head = job;
    w->tail = job;
    pthread_cond_signal(&w->work);
    return true;
}

int col_writer_submit_suspend(struct col_writer *w, struct col_job *job)
{
    int rc = 0;
    pthread_mutex_lock(&w->mu);
    if (w->stopping) {
        rc = HK_ERR_UNAVAILABLE;
    } else {
        /* suspended before the writer can see the job, so its resume always comes after */
        MHD_suspend_connection(job->conn);
        enqueue_locked(w, job);
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int col_writer_submit_wait(struct col_writer *w, struct col_job *job)
{
    job->conn = NULL;
    pthread_mutex_lock(&w->mu);
    if (!enqueue_locked(w, job)) {
        pthread_mutex_unlock(&w->mu);
        return job->rc = HK_ERR_UNAVAILABLE;
    }
    while (!job->done) /* bounded: the writer answers every job, 503 after a Redis timeout */
        pthread_cond_wait(&w->done, &w->mu);
    pthread_mutex_unlock(&w->mu);
    return job->rc;
}

void col_writer_stop(struct col_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    bool was = w->stopping;
    w->stopping = true;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
    if (!was)
        pthread_join(w->thread, NULL);
}

void col_writer_destroy(struct col_writer *w)
{
    if (!w)
        return;
    col_writer_stop(w);
    pthread_cond_destroy(&w->done);
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
