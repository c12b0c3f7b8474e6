/* The checkpointer's lifecycle: open the store and start the writer thread and the interval
 * timer; stop with a last sweep so a clean stop loses nothing; free. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkpoint/checkpointer_impl.h"

#define FINAL_SWEEP_WAIT_MS 5000u

int gn_checkpoint_open(const gn_ckpt_host *host, gn_checkpointer **out, char *why, size_t why_size)
{
    *out = NULL;
    gn_checkpointer *cp = calloc(1, sizeof(*cp));
    if (cp == NULL) {
        gn_ckpt_store_close(host->store); /* taken over, also on failure */
        snprintf(why, why_size, "checkpoints: out of memory");
        return GENESIS_RESOURCE_EXHAUSTED;
    }
    cp->host = *host;
    cp->interval_ms = host->interval_ms > 0 ? host->interval_ms : GN_DEFAULT_CHECKPOINT_INTERVAL_MS;
    pthread_mutex_init(&cp->store_lock, NULL);
    pthread_mutex_init(&cp->snap_lock, NULL);
    pthread_mutex_init(&cp->lock, NULL);
    pthread_cond_init(&cp->cv, NULL);
    gn_fifo_init(&cp->jobs);
    cp->sweep_task.run = gn_ckpt_sweep_run;
    cp->sweep_task.finish = gn_ckpt_sweep_finish;
    int rv = GENESIS_OK;
    if (host->store != NULL) {
        gn_ckpt_error err = {0};
        cp->store = host->store;
        cp->path = gn_strdup(host->store_path != NULL ? host->store_path : cp->store->ops->name);
        if (cp->path == NULL) {
            snprintf(why, why_size, "checkpoints: out of memory");
            rv = GENESIS_RESOURCE_EXHAUSTED;
        } else if (gn_ckpt_list(cp->store, gn_ckpt_seed_info, cp, &err) != GENESIS_OK) {
            gn_log(host->log, GENESIS_LOG_WARN, "checkpoints: cannot list the store: %s",
                   err.message);
        }
    } else if (host->store_path != NULL && host->store_path[0] != '\0') {
        gn_ckpt_sqlite_options so = {.keep = host->generations}; /* 0: the store's default */
        gn_ckpt_error err = {0};
        cp->path = gn_strdup(host->store_path);
        rv = cp->path != NULL ? gn_ckpt_store_open_sqlite(&cp->store, cp->path, &so, &err)
                              : GENESIS_RESOURCE_EXHAUSTED;
        if (rv == GENESIS_OK) {
            if (gn_ckpt_list(cp->store, gn_ckpt_seed_info, cp, &err) != GENESIS_OK)
                gn_log(host->log, GENESIS_LOG_WARN, "checkpoints: cannot list the store: %s",
                       err.message);
        } else {
            snprintf(why, why_size, "%s", cp->path != NULL ? err.message : "out of memory");
        }
    }
    if (rv == GENESIS_OK && nng_aio_alloc(&cp->timer, gn_ckpt_tick, cp) != 0) {
        snprintf(why, why_size, "checkpoints: cannot allocate the timer");
        rv = GENESIS_RESOURCE_EXHAUSTED;
    }
    if (rv == GENESIS_OK) {
        if (pthread_create(&cp->writer, NULL, gn_ckpt_writer_main, cp) != 0) {
            snprintf(why, why_size, "checkpoints: cannot start the writer thread");
            rv = GENESIS_RESOURCE_EXHAUSTED;
        } else {
            cp->writer_started = true;
        }
    }
    if (rv != GENESIS_OK) {
        cp->stopped = true;
        gn_checkpoint_free(cp);
        return rv;
    }
    if (cp->store != NULL && host->store != NULL) {
        nng_sleep_aio((nng_duration)cp->interval_ms, cp->timer);
        gn_log(host->log, GENESIS_LOG_INFO,
               "checkpoints: store %s (%s), every %u ms when changed, %u generations kept",
               cp->path, cp->store->ops->name, cp->interval_ms, cp->store->keep);
    } else if (cp->store != NULL) {
        nng_sleep_aio((nng_duration)cp->interval_ms, cp->timer);
        gn_log(host->log, GENESIS_LOG_INFO,
               "checkpoints: store %s (sqlite, WAL, synchronous=FULL), every %u ms when changed, "
               "%u generations kept",
               cp->path, cp->interval_ms, cp->store->keep);
    }
    *out = cp;
    return GENESIS_OK;
}

/* Wait (bounded) until no snapshot or write of the last sweep is still under way. */
static void wait_last_snapshots(gn_checkpointer *cp)
{
    int64_t give_up = gn_now_ms() + FINAL_SWEEP_WAIT_MS; /* a hung snapshot must not hold the
                                                           stop forever */
    pthread_mutex_lock(&cp->lock);
    for (;;) {
        bool busy = false;
        for (size_t i = 0; i < cp->n_infos && !busy; i++)
            busy = cp->infos[i].busy;
        if (!busy)
            break;
        if (gn_now_ms() > give_up) {
            gn_log(cp->host.log, GENESIS_LOG_WARN,
                   "checkpoints: the last snapshots did not finish in %u ms; stopping anyway",
                   FINAL_SWEEP_WAIT_MS);
            break;
        }
        pthread_mutex_unlock(&cp->lock);
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&cp->lock);
    }
    pthread_mutex_unlock(&cp->lock);
}

void gn_checkpoint_stop(gn_checkpointer *cp)
{
    if (cp == NULL)
        return;
    pthread_mutex_lock(&cp->lock);
    bool already = cp->stopped;
    cp->stopped = true;
    pthread_mutex_unlock(&cp->lock);
    if (already)
        return;
    nng_aio_stop(cp->timer);
    pthread_mutex_lock(&cp->lock);
    while (cp->sweeping)
        pthread_cond_wait(&cp->cv, &cp->lock);
    cp->sweeping = true; /* no timer sweep from now on */
    pthread_mutex_unlock(&cp->lock);
    /* A clean stop loses nothing: changed state is checkpointed once more. The snapshots run
     * on the components' lanes; their writes are queued before closing below, as long as
     * the lanes still run (the caller retires components afterwards). */
    if (cp->store != NULL) {
        gn_ckpt_sweep(cp);
        wait_last_snapshots(cp);
    }
    pthread_mutex_lock(&cp->lock);
    cp->closing = true;
    pthread_cond_broadcast(&cp->cv);
    pthread_mutex_unlock(&cp->lock);
    if (cp->writer_started)
        pthread_join(cp->writer, NULL);
}

void gn_checkpoint_free(gn_checkpointer *cp)
{
    if (cp == NULL)
        return;
    gn_checkpoint_stop(cp);
    nng_aio_free(cp->timer);
    gn_ckpt_store_close(cp->store);
    for (size_t i = 0; i < cp->n_infos; i++)
        free(cp->infos[i].id);
    free(cp->infos);
    free(cp->path);
    pthread_cond_destroy(&cp->cv);
    pthread_mutex_destroy(&cp->lock);
    pthread_mutex_destroy(&cp->snap_lock);
    pthread_mutex_destroy(&cp->store_lock);
    free(cp);
}
