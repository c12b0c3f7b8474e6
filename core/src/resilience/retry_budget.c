/* The retry budget (see retry_budget.h). */
#include "resilience/retry_budget.h"

void gn_budget_init(gn_retry_budget *b, const genesis_policy *p)
{
    atomic_init(&b->milli_tokens, (int_fast64_t)p->budget_max_tokens * 1000);
    atomic_init(&b->max_tokens, p->budget_max_tokens);
}

/* A policy change moved max: carry the fill fraction over (gRPC retry throttling does), so a
 * healthy component whose max grows keeps retrying instead of starting half empty. One
 * caller wins the max exchange and rescales; racing records land on either scale, which is
 * within one token of exact. */
static void follow_max(gn_retry_budget *b, unsigned int max)
{
    unsigned int old = atomic_load_explicit(&b->max_tokens, memory_order_relaxed);
    if (old == max || !atomic_compare_exchange_strong(&b->max_tokens, &old, max))
        return;
    int_fast64_t cur = atomic_load_explicit(&b->milli_tokens, memory_order_relaxed), next;
    do {
        /* From "no budget" (old 0) a budget starts full. */
        next = old == 0 ? (int_fast64_t)max * 1000 : cur * (int_fast64_t)max / (int_fast64_t)old;
    } while (!atomic_compare_exchange_weak_explicit(&b->milli_tokens, &cur, next,
                                                    memory_order_relaxed, memory_order_relaxed));
}

void gn_budget_record(gn_retry_budget *b, const genesis_policy *p, bool failed)
{
    follow_max(b, p->budget_max_tokens);
    int_fast64_t max = (int_fast64_t)p->budget_max_tokens * 1000;
    int_fast64_t delta = failed ? -1000 : (int_fast64_t)p->budget_token_ratio_pct * 10;
    int_fast64_t cur = atomic_load_explicit(&b->milli_tokens, memory_order_relaxed);
    int_fast64_t next;
    do {
        next = cur + delta;
        if (next < 0)
            next = 0;
        if (next > max) /* also clamps after a racing rescale */
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
    follow_max(b, p->budget_max_tokens);
    int_fast64_t half = (int_fast64_t)p->budget_max_tokens * 500;
    return atomic_load_explicit(&b->milli_tokens, memory_order_relaxed) > half;
}

int64_t gn_budget_milli_tokens(gn_retry_budget *b)
{
    return atomic_load_explicit(&b->milli_tokens, memory_order_relaxed);
}
