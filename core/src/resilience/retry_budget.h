/* A per-component retry budget: gRPC's retry throttling shape. Tokens start at max; a failed
 * attempt takes one, a successful attempt gives back ratio_pct/100; a retry is allowed while
 * tokens > max/2. Kept in milli-tokens in one atomic, so recording never takes a lock. When
 * a policy change moves max, the fill fraction is kept (tokens scale with max). */
#ifndef GN_RETRY_BUDGET_H
#define GN_RETRY_BUDGET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "genesis/resilience.h"

typedef struct gn_retry_budget {
    atomic_int_fast64_t milli_tokens;
    atomic_uint max_tokens; /* the max milli_tokens was last scaled for */
} gn_retry_budget;

void gn_budget_init(gn_retry_budget *b, const genesis_policy *p);
void gn_budget_record(gn_retry_budget *b, const genesis_policy *p, bool failed);
bool gn_budget_allows_retry(gn_retry_budget *b, const genesis_policy *p);
/* Current tokens, in thousandths (for stats and tests). */
int64_t gn_budget_milli_tokens(gn_retry_budget *b);

#endif /* GN_RETRY_BUDGET_H */
