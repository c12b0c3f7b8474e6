/* mkdtemp-based scratch directories, removed recursively afterwards. */
#include "gt_tempdir.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gt_assert.h"

int gt_tempdir_make(char *buf, size_t size)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0' || strlen(base) > 40)
        base = "/tmp"; /* long TMPDIRs would push ipc paths past sun_path */
    int n = snprintf(buf, size, "%s/genesis-test-XXXXXX", base);
    if (n < 0 || (size_t)n >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkdtemp(buf) != NULL ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void gt_tempdir_remove(const char *path)
{
    if (path == NULL || path[0] == '\0')
        return;
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *gt_ipc_url(char *buf, size_t size, const char *dir, const char *name)
{
    int n = snprintf(buf, size, "ipc://%s/%s.ipc", dir, name);
    if (n < 0 || (size_t)n >= size)
        fail_msg("ipc url for %s/%s does not fit in %zu bytes", dir, name, size);
    return buf;
}
