/* The retry budget (see retry_budget.h). */
#include "resilience/retry_budget.h"

void gn_budget_init(gn_retry_budget *b, const genesis_policy *p)
{
    atomic_init(&b->milli_tokens, (int_fast64_t)p->budget_max_tokens * 1000);
}

void gn_budget_record(gn_retry_budget *b, const genesis_policy *p, bool failed)
{
    int_fast64_t max = (int_fast64_t)p->budget_max_tokens * 1000;
    int_fast64_t delta = failed ? -1000 : (int_fast64_t)p->budget_token_ratio_pct * 10;
    int_fast64_t cur = atomic_load_explicit(&b->milli_tokens, memory_order_relaxed);
    int_fast64_t next;
    do {
        next = cur + delta;
        if (next < 0)
            next = 0;
        if (next > max) /* also clamps after a policy change lowered max */
            next = max;
        if (next == cur)
            return;
    } while (!atomic_compare_exchange_weak_explicit(&b->milli_tokens, &cur, next,
                                                    memory_order_relaxed, memory_order_relaxed));
}

bool gn_budget_allows_retry(gn_retry_budget *b, const genesis_policy *p)
{
    if (p->budget_max_tokens == 0)
        return true;
    int_fast64_t half = (int_fast64_t)p->budget_max_tokens * 500;
    return atomic_load_explicit(&b->milli_tokens, memory_order_relaxed) > half;
}

int64_t gn_budget_milli_tokens(gn_retry_budget *b)
{
    return atomic_load_explicit(&b->milli_tokens, memory_order_relaxed);
}
