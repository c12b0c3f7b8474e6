/* The in-flight limit of a component: max_concurrency, or the adaptive limit that follows its
 * latency when the policy enables one. */
#include "coordinator/coordinator_impl.h"

unsigned int gn_component_concurrency_limit(gn_component *comp, const genesis_policy *p)
{
    if (p->adaptive_concurrency == GN_CLIMIT_OFF)
        return p->max_concurrency;
    return gn_climit_limit(&comp->climit, p->max_concurrency);
}
