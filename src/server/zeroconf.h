/* zeroconf.h — announce the Wyoming server as `_wyoming._tcp` over mDNS through the Avahi daemon
 * (libavahi-client), the way Home Assistant discovers Wyoming services (its wyoming integration
 * lists `_wyoming._tcp.local.` in manifest.json; OHF-Voice/wyoming's wyoming/zeroconf.py
 * announces the same type). Optional: built with CHORUS_WITH_AVAHI. */
#ifndef CHORUS_SERVER_ZEROCONF_H
#define CHORUS_SERVER_ZEROCONF_H

#include <stddef.h>

struct zc;

/** Announce `name` on `port` from a thread of Avahi's. NULL with a one-line reason in `why`
 *  when it cannot (no Avahi daemon or D-Bus, built without Avahi): serving goes on without. */
struct zc *zc_announce(const char *name, int port, char *why, size_t cap);
/** Withdraw the announcement and stop. NULL is a no-op. */
void zc_stop(struct zc *z);

#endif
