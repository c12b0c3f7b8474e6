/* A list of NNG URLs given as one string: "tcp://a:1,tcp://b:2" names the front doors (or event
 * buses) of several cluster nodes. Clients, services, genesisctl and the gateway accept it
 * wherever they took one URL. */
#ifndef GN_URL_LIST_H
#define GN_URL_LIST_H

#include <stddef.h>

#define GN_MAX_URLS 16u /* nodes one caller talks to at most */

typedef struct gn_url_list {
    unsigned int n;
    char *urls[GN_MAX_URLS]; /* owned; each non-empty, spaces around it trimmed */
} gn_url_list;

/* Split text at the commas that start another URL (a comma followed by "<scheme>://"), so an
 * ipc:// path that contains a comma followed by anything else stays one URL. Returns 0, or -1
 * with why filled (an empty entry, more than GN_MAX_URLS, or out of memory) and *out empty. */
int gn_url_list_parse(gn_url_list *out, const char *text, char *why, size_t why_size);

/* Free the strings; the list is empty afterwards. Accepts an empty list. */
void gn_url_list_clear(gn_url_list *l);

#endif /* GN_URL_LIST_H */
