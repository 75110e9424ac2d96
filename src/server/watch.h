/*
 * watch.h — deadlines for every connection of `chorus serve`, enforced by one reaper thread.
 *
 * libmicrohttpd's own timeout is an idle timeout: a client that trickles a byte every few seconds
 * (slowloris) or a client that stops reading a response holds its connection (and a generation
 * slot) for as long as it likes. Each connection is watched through three phases:
 *
 *   RECEIVING  from accept (or the end of the previous request) until the whole request is in:
 *              it must arrive within request_timeout_ms (headers and body together);
 *   WORKING    the handler runs (queue wait, generation before the first byte): no deadline here,
 *              the handler itself watches for a client that leaves;
 *   RESPONDING the response is queued: it must make progress (the server pulls more output, or
 *              the kernel's send queue shrinks) at least every stall_timeout_ms, unless the server
 *              itself is waiting for audio.
 *
 * A connection past its deadline is shut down (shutdown(2) on its socket, which libmicrohttpd
 * then closes, running the response's cleanup: the stream is cancelled and its slot freed).
 */
#ifndef CHORUS_SERVER_WATCH_H
#define CHORUS_SERVER_WATCH_H

#include <microhttpd.h>

struct srv;
struct srv_conn;

enum { SRV_PHASE_RECEIVING = 0, SRV_PHASE_WORKING, SRV_PHASE_RESPONDING };

/** MHD_OPTION_NOTIFY_CONNECTION callback (cls: the struct srv). */
void srv_watch_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                      enum MHD_ConnectionNotificationCode code);
/** Start and stop the reaper thread. Start returns 0, or -1 if the thread cannot start. */
int srv_watch_start(struct srv *s);
void srv_watch_stop(struct srv *s);

/** The watch of a connection, or NULL. */
struct srv_conn *srv_watch_of(struct MHD_Connection *c);
/** Enter a phase (restarting its clock). NULL is a no-op. */
void srv_watch_phase(struct srv_conn *w, int phase);
/** Around a pull of response output: time spent waiting for audio is not a stall. */
void srv_watch_pull_begin(struct srv_conn *w);
void srv_watch_pull_end(struct srv_conn *w);

#endif
