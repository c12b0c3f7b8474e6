/* Degradation modes (see mode.h). */
#include "base/assert.h"
#include "resilience/mode.h"

#include "genesis/message.h"
#include "genesis/resilience.h"

void gn_mode_init(gn_mode_state *m)
{
    m->current = m->computed = GENESIS_MODE_NORMAL;
    m->forced = GENESIS_MODE_AUTO;
    m->lower_since_ms = -1;
}

int gn_mode_target(const gn_mode_config *cfg, unsigned int unhealthy, unsigned int total)
{
    if (total == 0)
        return GENESIS_MODE_NORMAL;
    uint64_t pct100 = (uint64_t)unhealthy * 100; /* compare unhealthy/total > pct/100 exactly */
    if (pct100 > (uint64_t)cfg->emergency_pct * total)
        return GENESIS_MODE_EMERGENCY;
    if (pct100 > (uint64_t)cfg->safe_pct * total)
        return GENESIS_MODE_SAFE;
    return GENESIS_MODE_NORMAL;
}

bool gn_mode_update(gn_mode_state *m, const gn_mode_config *cfg, unsigned int unhealthy,
                    unsigned int total, int64_t now, int *from)
{
    int target = gn_mode_target(cfg, unhealthy, total);
    if (target > m->computed) {
        m->computed = target; /* worse: at once */
        m->lower_since_ms = -1;
    } else if (target < m->computed) {
        if (m->lower_since_ms < 0)
            m->lower_since_ms = now;
        if (now - m->lower_since_ms >= (int64_t)cfg->hold_ms) {
            m->computed = target; /* better for hold_ms: step down */
            m->lower_since_ms = -1;
        }
    } else {
        m->lower_since_ms = -1;
    }
    int next = m->forced != GENESIS_MODE_AUTO ? m->forced : m->computed;
    GN_ASSERT(next >= GENESIS_MODE_NORMAL && next <= GENESIS_MODE_EMERGENCY);
    *from = m->current;
    m->current = next;
    return next != *from;
}

bool gn_mode_force(gn_mode_state *m, int mode, int *from)
{
    m->forced = mode;
    int next = mode != GENESIS_MODE_AUTO ? mode : m->computed;
    GN_ASSERT(next >= GENESIS_MODE_NORMAL && next <= GENESIS_MODE_EMERGENCY);
    *from = m->current;
    m->current = next;
    return next != *from;
}

bool gn_mode_admits(int mode, int criticality)
{
    if (mode == GENESIS_MODE_EMERGENCY)
        return criticality == GENESIS_CRITICALITY_CRITICAL;
    if (mode == GENESIS_MODE_SAFE)
        return criticality != GENESIS_CRITICALITY_SHEDDABLE;
    return true;
}

bool gn_mode_allows_retry(int mode, int criticality)
{
    return mode == GENESIS_MODE_NORMAL || criticality == GENESIS_CRITICALITY_CRITICAL;
}
