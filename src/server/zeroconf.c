/* zeroconf.c — `_wyoming._tcp` through Avahi (zeroconf.h). Avahi's threaded poll runs the
 * client; its callbacks add the service once the daemon runs, pick another name on a collision
 * ("chorus #2", Avahi's rule) and say on stderr when the announcement fails. */
#include "zeroconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if CHORUS_WITH_AVAHI

#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/thread-watch.h>

#define ZC_TYPE "_wyoming._tcp"

struct zc {
    AvahiThreadedPoll *poll;
    AvahiClient *client;
    AvahiEntryGroup *group;
    char *name; /* avahi_malloc'ed */
    int port;
};

static void add_service(struct zc *z, AvahiClient *c);

static void on_group(AvahiEntryGroup *g, AvahiEntryGroupState st, void *ud) {
    struct zc *z = ud;
    if (st == AVAHI_ENTRY_GROUP_ESTABLISHED) {
        fprintf(stderr, "chorus serve: Wyoming announced over zeroconf as '%s' (%s)\n", z->name, ZC_TYPE);
    } else if (st == AVAHI_ENTRY_GROUP_COLLISION) {
        char *n = avahi_alternative_service_name(z->name);
        avahi_free(z->name);
        z->name = n;
        avahi_entry_group_reset(g);
        add_service(z, avahi_entry_group_get_client(g));
    } else if (st == AVAHI_ENTRY_GROUP_FAILURE) {
        fprintf(stderr, "chorus serve: warning: zeroconf announcement failed: %s; serving goes on\n",
                avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(g))));
    }
}

static void add_service(struct zc *z, AvahiClient *c) {
    if (!z->name) return;
    if (!z->group && !(z->group = avahi_entry_group_new(c, on_group, z))) goto fail;
    if (!avahi_entry_group_is_empty(z->group)) return;
    for (;;) {
        int r = avahi_entry_group_add_service(z->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, 0,
                                              z->name, ZC_TYPE, NULL, NULL, (uint16_t)z->port, NULL);
        if (r == AVAHI_ERR_COLLISION) { /* a local service has the name: take the next one */
            char *n = avahi_alternative_service_name(z->name);
            avahi_free(z->name);
            z->name = n;
            if (n) continue;
        }
        if (r < 0 || avahi_entry_group_commit(z->group) < 0) goto fail;
        return;
    }
fail:
    fprintf(stderr, "chorus serve: warning: cannot announce over zeroconf: %s; serving goes on\n",
            avahi_strerror(avahi_client_errno(c)));
}

static void on_client(AvahiClient *c, AvahiClientState st, void *ud) {
    struct zc *z = ud;
    if (st == AVAHI_CLIENT_S_RUNNING) add_service(z, c);
    else if ((st == AVAHI_CLIENT_S_COLLISION || st == AVAHI_CLIENT_S_REGISTERING) && z->group)
        avahi_entry_group_reset(z->group); /* the host name changes: added again when running */
}

struct zc *zc_announce(const char *name, int port, char *why, size_t cap) {
    struct zc *z = calloc(1, sizeof *z);
    int err = AVAHI_ERR_NO_MEMORY;
    if (!z || !(z->poll = avahi_threaded_poll_new()) || !(z->name = avahi_strdup(name))) goto fail;
    z->port = port;
    z->client = avahi_client_new(avahi_threaded_poll_get(z->poll), 0, on_client, z, &err);
    if (!z->client || avahi_threaded_poll_start(z->poll) < 0) goto fail;
    return z;
fail:
    snprintf(why, cap, "zeroconf: cannot reach the Avahi daemon (%s); start avahi-daemon (it needs D-Bus)",
             avahi_strerror(err));
    zc_stop(z);
    return NULL;
}

void zc_stop(struct zc *z) {
    if (!z) return;
    if (z->poll) avahi_threaded_poll_stop(z->poll);
    if (z->client) avahi_client_free(z->client); /* frees the group: the service is withdrawn */
    if (z->poll) avahi_threaded_poll_free(z->poll);
    avahi_free(z->name);
    free(z);
}

#else /* !CHORUS_WITH_AVAHI */

struct zc *zc_announce(const char *name, int port, char *why, size_t cap) {
    (void)name;
    (void)port;
    snprintf(why, cap, "this chorus was built without Avahi (CHORUS_WITH_AVAHI=OFF): no zeroconf announcement");
    return NULL;
}

void zc_stop(struct zc *z) {
    (void)z;
}

#endif
