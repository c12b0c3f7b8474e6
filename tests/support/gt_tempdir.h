/* Private temporary directories for ipc:// sockets and other files a test creates. */
#ifndef GT_TEMPDIR_H
#define GT_TEMPDIR_H

#include <stddef.h>

/* Create a new empty directory under $TMPDIR (or /tmp) named genesis-test-XXXXXX and copy its
 * path into buf. Returns 0 on success, -1 with errno set on failure. Keep the result short:
 * ipc:// paths must fit in sun_path (107 bytes). */
int gt_tempdir_make(char *buf, size_t size);

/* Remove the directory and everything inside it. Accepts NULL and "" (does nothing). */
void gt_tempdir_remove(const char *path);

/* Write "ipc://<dir>/<name>.ipc" into buf; returns buf. Aborts the test if it does not fit. */
char *gt_ipc_url(char *buf, size_t size, const char *dir, const char *name);

#endif /* GT_TEMPDIR_H */
