/* The process_* metrics of the Prometheus client conventions (CPU, memory, file descriptors,
 * start time), read from /proc/self on Linux. */
#ifndef GW_PROCESS_METRICS_H
#define GW_PROCESS_METRICS_H

#include <stdio.h>

/* Append the process_* families to f; those /proc cannot tell are left out. */
void gw_process_metrics_render(FILE *f);

#endif /* GW_PROCESS_METRICS_H */
