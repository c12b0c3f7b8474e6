/* Injected faults (see fault.h). */
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "base/common.h"
#include "resilience/fault.h"
#include "base/objects.h"

void gn_fault_state_init(gn_fault_state *f)
{
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cv, NULL);
    genesis_fault_init(&f->fault, GENESIS_FAULT_VERSION);
    f->released = false;
    atomic_init(&f->on, false);
}

void gn_fault_state_destroy(gn_fault_state *f)
{
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->lock);
}

int gn_fault_validate(const genesis_fault *fault)
{
    if (fault->version != GENESIS_FAULT_VERSION)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "fault: unknown version %u", fault->version);
    if (!(fault->error_rate >= 0 && fault->error_rate <= 1))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "fault: error_rate must be between 0 and 1");
    if (fault->added_latency_ms > 3600000)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "fault: added_latency_ms must be <= 3600000");
    return GENESIS_OK;
}

bool gn_fault_set(gn_fault_state *f, const genesis_fault *fault)
{
    pthread_mutex_lock(&f->lock);
    if (fault != NULL)
        f->fault = *fault;
    else
        genesis_fault_init(&f->fault, GENESIS_FAULT_VERSION);
    bool on = f->fault.error_rate > 0 || f->fault.added_latency_ms > 0 || f->fault.hang != 0 ||
              f->fault.crash != 0;
    atomic_store(&f->on, on);
    pthread_cond_broadcast(&f->cv); /* a cleared hang releases its handlers */
    pthread_mutex_unlock(&f->lock);
    return on;
}

void gn_fault_release(gn_fault_state *f)
{
    pthread_mutex_lock(&f->lock);
    f->released = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->lock);
}

bool gn_fault_crashed(gn_fault_state *f)
{
    if (!gn_fault_on(f))
        return false;
    pthread_mutex_lock(&f->lock);
    bool crashed = f->fault.crash != 0;
    pthread_mutex_unlock(&f->lock);
    return crashed;
}

genesis_result *gn_fault_apply(gn_fault_state *f, const char *who, uint64_t random64,
                               bool crash_kills)
{
    pthread_mutex_lock(&f->lock);
    genesis_fault fault = f->fault;
    pthread_mutex_unlock(&f->lock);
    if (fault.crash) {
        if (crash_kills)
            kill(getpid(), SIGKILL); /* an injected crash of a whole service process */
        return gn_result_errorf(GENESIS_UNAVAILABLE, GENESIS_REASON_COMPONENT_DOWN,
                                "component '%s' is down (injected crash)", who);
    }
    if (fault.error_rate > 0 && (double)(random64 >> 11) * 0x1.0p-53 < fault.error_rate)
        return gn_result_errorf(GENESIS_UNAVAILABLE, GENESIS_REASON_HANDLER_ERROR,
                                "component '%s' failed (injected error)", who);
    if (fault.added_latency_ms > 0) {
        struct timespec ts = {.tv_sec = fault.added_latency_ms / 1000,
                              .tv_nsec = (long)(fault.added_latency_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }
    if (fault.hang) {
        pthread_mutex_lock(&f->lock);
        while (f->fault.hang && !f->released)
            pthread_cond_wait(&f->cv, &f->lock);
        pthread_mutex_unlock(&f->lock);
    }
    return NULL;
}
