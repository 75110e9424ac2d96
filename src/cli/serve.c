/* serve.c — `chorus serve`: run the OpenAI-compatible speech server until SIGINT/SIGTERM. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#if CHORUS_WITH_SERVER
#include "request.h"
#include "server.h"
#include "wyoming.h"
#include "zeroconf.h"

static const char serve_usage[] =
    "usage: chorus serve [options]\n"
    "Serve OpenAI's speech API (POST /v1/audio/speech) and more over HTTP; see docs/server.md.\n"
    "\n"
    "  -H, --host ADDR          address to listen on (default 127.0.0.1; [server] host)\n"
    "  -p, --port N             port, 0 = any free one (default 8880; [server] port)\n"
    "  -k, --api-key KEY        accept 'Authorization: Bearer KEY' (repeatable). Other users\n"
    "                           can read a key given here in ps: prefer $CHORUS_API_KEY,\n"
    "                           --api-key-file or [server] api_key. A key is required to\n"
    "                           listen on a non-loopback address\n"
    "      --api-key-file FILE  read the key from the first line of FILE\n"
    "      --insecure           allow a non-loopback address without an API key (anyone who\n"
    "                           can reach it can use it)\n"
    "  -b, --backend NAME       backend for OpenAI model names (tts-1...): default from config\n"
    "  -j, --max-concurrent N   generations at once (default: [chorus] max_concurrent, else 4)\n"
    "      --max-queue N        requests waiting for a slot before 429 (default 32)\n"
    "      --queue-timeout MS   waiting longer than this gives 503 (default 30000)\n"
    "      --max-body BYTES     largest request body before 413 (default 1048576)\n"
    "      --max-input N        most characters of input per request (default 100000)\n"
    "      --max-buffered BYTES largest whole (\"stream\": false) reply (default 67108864)\n"
    "      --max-held BYTES     request bodies and unsent whole (\"stream\": false) replies held\n"
    "                           across all connections before 503 (default 268435456)\n"
    "      --request-timeout MS a request's headers and body must arrive within this\n"
    "                           (default 30000; also bounds idle keep-alive)\n"
    "      --stall-timeout MS   cut a response the client does not read for this long,\n"
    "                           freeing its generation slot (default 10000)\n"
    "      --max-client-conns N connections at once from one IP address (default 64)\n"
    "      --grace MS           on SIGINT/SIGTERM, let generations finish this long (default 10000)\n"
    "      --drain-delay MS     on SIGINT/SIGTERM, first answer /health 503 \"draining\" this long while still\n"
    "                           serving, so a load balancer stops routing here (default 0)\n"
    "      --port-file FILE     write the bound port to FILE once listening\n"
    "      --wyoming tcp://HOST:PORT  also serve Home Assistant's Wyoming protocol (port\n"
    "                           default 10200; [server] wyoming); no authentication: a\n"
    "                           non-loopback HOST needs --insecure\n"
    "      --wyoming-only       serve Wyoming alone, no HTTP\n"
    "      --wyoming-port-file FILE  write the bound Wyoming port to FILE\n"
    "      --zeroconf[=NAME]    announce the Wyoming server as _wyoming._tcp through the\n"
    "                           Avahi daemon (name default 'chorus'), so Home Assistant\n"
    "                           discovers it; without Avahi a warning, serving goes on\n"
    "      --open-listing       GET /v1/models, /v1/audio/models and /v1/audio/voices need no\n"
    "                           key (Open WebUI lists voices without one); speech stays keyed\n"
    "      --cors ORIGIN|*      let web pages from ORIGIN (or any) call the API: CORS headers\n"
    "                           on every answer, preflights answered without a key\n"
    "      --download-ttl SEC   keep \"return_download_link\" copies this long (default 3600,\n"
    "                           0 = no links; [server] download_max_bytes caps their disk)\n"
    "  -q, --quiet              no access log\n"
    "\n"
    "Configuration: the same keys in a [server] section of config.toml; OpenAI voice names map\n"
    "through [server.voices] (default backend) and [server.voices.BACKEND] tables.\n";

static int parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* A numeric setting from [server] when the flag did not give it. */
static int cfg_long(struct chorus_engine *e, const char *key, long lo, long hi, long *out) {
    const char *v = chorus_engine_config(e, "server", key);
    if (!v) return 0;
    if (parse_long(v, lo, hi, out) < 0) {
        cli_err("invalid [server] %s = %s in %s: use a whole number from %ld to %ld", key, v,
                chorus_engine_config_path(e) ? chorus_engine_config_path(e) : "the config", lo, hi);
        return -1;
    }
    return 0;
}

/* Write the port to path atomically without following anything planted there: a fresh file
 * from mkstemp (O_EXCL) beside it, renamed over it (rename replaces a symlink, not its target). */
static int write_port_file(const char *path, int port) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = mkstemp(tmp);
    if (fd < 0) return -1;
    char line[16];
    int n = snprintf(line, sizeof line, "%d\n", port);
    int ok = fchmod(fd, 0644) == 0 && write(fd, line, (size_t)n) == n;
    int e = errno;
    if (close(fd) != 0 && ok) ok = 0, e = errno;
    if (ok && rename(tmp, path) == 0) return 0;
    if (ok) e = errno;
    unlink(tmp);
    errno = e;
    return -1;
}

static void warn_insecure(const struct srv_options *o, size_t nkeys) {
    if (!o->insecure || nkeys || srv_host_is_loopback(o->host)) return;
    fprintf(stderr,
            "chorus serve: WARNING: --insecure: no API key, so anyone who can reach %s can make\n"
            "chorus serve: WARNING: this machine generate speech (and spend remote-backend credit).\n"
            "chorus serve: WARNING: set CHORUS_API_KEY or --api-key-file unless the network is trusted.\n",
            o->host);
}

static int loopback(const char *h) {
    return !strcmp(h, "localhost") || !strcmp(h, "::1") || !strncmp(h, "127.", 4);
}

/* --zeroconf: announce; a missing Avahi is a warning, not a failure. */
static void announce(const char *name, const char *host, int port, struct zc **zc) {
    char why[256];
    if (loopback(host))
        fprintf(stderr, "chorus serve: note: zeroconf announces a Wyoming server that listens on %s only: "
                        "other machines cannot connect; use --wyoming tcp://0.0.0.0:%d --insecure\n",
                host, port);
    *zc = zc_announce(name, port, why, sizeof why);
    if (!*zc) fprintf(stderr, "chorus serve: warning: %s; serving goes on without it\n", why);
}

/* --wyoming tcp://HOST:PORT (HOST may be [v6]; PORT defaults to 10200). */
static int start_wyoming(struct chorus_engine *e, const char *uri, const struct srv_options *so,
                         const char *port_file, struct wy_server **out, const char *zc_name,
                         struct zc **zc) {
    struct wy_options wo = {.port = 10200, .backend = so->default_backend};
    char host[256];
    const char *p = strncmp(uri, "tcp://", 6) == 0 ? uri + 6 : NULL;
    const char *colon = p ? (*p == '[' ? strstr(p, "]:") : strrchr(p, ':')) : NULL;
    const char *hend = colon ? colon + (*p == '[' ? 1 : 0) : p ? p + strlen(p) : NULL;
    long port = 10200;
    if (!p || (size_t)(hend - p) >= sizeof host ||
        (colon && parse_long(colon + (*p == '[' ? 2 : 1), 0, 65535, &port))) {
        cli_err("invalid --wyoming '%s': use tcp://HOST:PORT, e.g. tcp://127.0.0.1:10200", uri);
        return EXIT_USAGE;
    }
    snprintf(host, sizeof host, "%.*s", (int)(hend - p), p);
    if (host[0] == '[') memmove(host, host + 1, strlen(host)), host[strlen(host) - 1] = 0;
    if (!*host) snprintf(host, sizeof host, "127.0.0.1");
    if (!loopback(host) && !so->insecure) {
        cli_err("Wyoming has no authentication: listening on %s needs --insecure (keep it on a "
                "network you trust)", host);
        return EXIT_USAGE;
    }
    wo.host = host;
    wo.port = (int)port;
    char err[512] = "";
    int rc = wy_start(e, &wo, out, err, sizeof err);
    if (rc != CHORUS_OK) {
        cli_err("%s", err[0] ? err : chorus_strerror(rc));
        return 1;
    }
    int bracket = strchr(host, ':') != NULL;
    fprintf(stderr, "chorus serve: Wyoming on tcp://%s%s%s:%d\n", bracket ? "[" : "", host,
            bracket ? "]" : "", wy_port(*out));
    if (port_file) {
        if (write_port_file(port_file, wy_port(*out)) < 0) {
            cli_err("cannot write the port to %s: %s", port_file, strerror(errno));
            wy_stop(*out);
            *out = NULL;
            return 1;
        }
    }
    if (zc_name) announce(zc_name, host, wy_port(*out), zc);
    return 0;
}

/* The key from the first line of path (trailing white space removed) into buf. */
static int read_key_file(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_err("cannot read the API key file %s: %s", path, strerror(errno));
        return -1;
    }
    int ok = fgets(buf, (int)cap, f) != NULL;
    fclose(f);
    size_t n = ok ? strlen(buf) : 0;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        buf[--n] = 0;
    if (!n) {
        cli_err("the API key file %s is empty: put the key on its first line", path);
        return -1;
    }
    return 0;
}

/* "*" or scheme://host[:port] with nothing that could split a header. */
static int cors_origin_check(const char *v) {
    if (!strcmp(v, "*")) return 0;
    if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) return -1;
    if (strlen(v) > 255) return -1;
    for (const char *p = v; *p; p++)
        if (*p <= ' ' || *p == 0x7f || *p == ',' || *p == '"') return -1;
    return 0;
}

/* The client-compatibility settings: flags first, then [server] open_listing, cors,
 * download_ttl, download_max_bytes. */
static int serve_client_options(struct chorus_engine *e, struct srv_options *o, int open_listing,
                                long dl_ttl, long dl_max) {
    const char *v = chorus_engine_config(e, "server", "open_listing");
    if (open_listing < 0 && v) {
        if (strcmp(v, "true") && strcmp(v, "false")) {
            cli_err("invalid [server] open_listing = %s: use true or false", v);
            return -1;
        }
        open_listing = !strcmp(v, "true");
    }
    o->open_listing = open_listing > 0;
    if (!o->cors_origin && (v = chorus_engine_config(e, "server", "cors")) && *v) {
        if (cors_origin_check(v)) {
            cli_err("invalid [server] cors = %s: give \"*\" or an origin such as https://app.example", v);
            return -1;
        }
        o->cors_origin = v;
    }
    if (dl_ttl < 0 && cfg_long(e, "download_ttl", 0, 7L * 86400, &dl_ttl)) return -1;
    if (dl_ttl >= 0) o->download_ttl_s = (int)dl_ttl;
    if (cfg_long(e, "download_max_bytes", 0, 1L << 40, &dl_max)) return -1;
    if (dl_max >= 0) o->download_max_bytes = (size_t)dl_max;
    return 0;
}

int cli_serve(int argc, char **argv) {
    enum { OPT_INSECURE = 256, OPT_QUEUE, OPT_QTIMEOUT, OPT_BODY, OPT_INPUT, OPT_GRACE, OPT_PORTFILE,
           OPT_WYOMING, OPT_WYONLY, OPT_WYPORTFILE, OPT_ZEROCONF, OPT_OPEN_LISTING, OPT_CORS, OPT_DL_TTL,
           OPT_KEYFILE, OPT_HELD, OPT_REQTIMEOUT, OPT_STALL, OPT_CLIENTCONNS, OPT_BUFFERED, OPT_DRAIN };
    static const struct option opts[] = {
        {"host", required_argument, 0, 'H'},         {"port", required_argument, 0, 'p'},
        {"api-key", required_argument, 0, 'k'},      {"insecure", no_argument, 0, OPT_INSECURE},
        {"backend", required_argument, 0, 'b'},      {"max-concurrent", required_argument, 0, 'j'},
        {"max-queue", required_argument, 0, OPT_QUEUE}, {"queue-timeout", required_argument, 0, OPT_QTIMEOUT},
        {"max-body", required_argument, 0, OPT_BODY}, {"max-input", required_argument, 0, OPT_INPUT},
        {"grace", required_argument, 0, OPT_GRACE},  {"port-file", required_argument, 0, OPT_PORTFILE},
        {"drain-delay", required_argument, 0, OPT_DRAIN},
        {"wyoming", required_argument, 0, OPT_WYOMING}, {"wyoming-only", no_argument, 0, OPT_WYONLY},
        {"wyoming-port-file", required_argument, 0, OPT_WYPORTFILE},
        {"zeroconf", optional_argument, 0, OPT_ZEROCONF},
        {"quiet", no_argument, 0, 'q'},              {"help", no_argument, 0, 'h'},
        {"open-listing", no_argument, 0, OPT_OPEN_LISTING}, {"cors", required_argument, 0, OPT_CORS},
        {"download-ttl", required_argument, 0, OPT_DL_TTL},
        {"api-key-file", required_argument, 0, OPT_KEYFILE}, {"max-held", required_argument, 0, OPT_HELD},
        {"request-timeout", required_argument, 0, OPT_REQTIMEOUT},
        {"stall-timeout", required_argument, 0, OPT_STALL},
        {"max-client-conns", required_argument, 0, OPT_CLIENTCONNS},
        {"max-buffered", required_argument, 0, OPT_BUFFERED},
        {0, 0, 0, 0}};
    struct srv_options o = srv_options_default();
    const char *keys[65];
    size_t nkeys = 0;
    const char *host = NULL, *port_file = NULL, *wyoming = NULL, *wy_port_file = NULL;
    const char *key_file = NULL;
    static char file_key[1024];
    int wy_only = 0, argv_key = 0;
    const char *zc_name = NULL;
    struct zc *zc = NULL;
    long port = -1, maxc = -1, queue = -1, qtimeout = -1, body = -1, input = -1, grace = 10000, drain = 0;
    long dl_ttl = -1, dl_max = -1;
    long held = -1, reqto = -1, stall = -1, cconns = -1, buffered = -1;
    int open_listing = -1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "H:p:k:b:j:qh", opts, NULL)) != -1) {
        const char *what = NULL;
        switch (c) {
        case 'H': host = optarg; break;
        case 'p': if (parse_long(optarg, 0, 65535, &port)) what = "--port: use 0 to 65535"; break;
        case 'k':
            if (!*optarg) what = "--api-key: the key is empty";
            else if (nkeys == 64) what = "--api-key: at most 64 keys";
            else keys[nkeys++] = optarg, argv_key = 1;
            break;
        case OPT_KEYFILE: key_file = optarg; break;
        case OPT_HELD: if (parse_long(optarg, 1024, 1L << 40, &held)) what = "--max-held: use 1024 to 1099511627776 bytes"; break;
        case OPT_REQTIMEOUT: if (parse_long(optarg, 100, 3600000, &reqto)) what = "--request-timeout: use 100 to 3600000 ms"; break;
        case OPT_STALL: if (parse_long(optarg, 100, 3600000, &stall)) what = "--stall-timeout: use 100 to 3600000 ms"; break;
        case OPT_BUFFERED: if (parse_long(optarg, 1024, 1L << 32, &buffered)) what = "--max-buffered: use 1024 to 4294967296 bytes"; break;
        case OPT_CLIENTCONNS: if (parse_long(optarg, 1, 1024, &cconns)) what = "--max-client-conns: use 1 to 1024"; break;
        case OPT_INSECURE: o.insecure = 1; break;
        case 'b': o.default_backend = optarg; break;
        case 'j': if (parse_long(optarg, 1, 1024, &maxc)) what = "--max-concurrent: use 1 to 1024"; break;
        case OPT_QUEUE: if (parse_long(optarg, 0, 100000, &queue)) what = "--max-queue: use 0 to 100000"; break;
        case OPT_QTIMEOUT: if (parse_long(optarg, 1, 3600000, &qtimeout)) what = "--queue-timeout: use 1 to 3600000 ms"; break;
        case OPT_BODY: if (parse_long(optarg, 64, 1L << 30, &body)) what = "--max-body: use 64 to 1073741824 bytes"; break;
        case OPT_INPUT: if (parse_long(optarg, 1, 100000000, &input)) what = "--max-input: use 1 to 100000000"; break;
        case OPT_GRACE: if (parse_long(optarg, 0, 3600000, &grace)) what = "--grace: use 0 to 3600000 ms"; break;
        case OPT_DRAIN: if (parse_long(optarg, 0, 600000, &drain)) what = "--drain-delay: use 0 to 600000 ms"; break;
        case OPT_PORTFILE: port_file = optarg; break;
        case OPT_WYOMING: wyoming = optarg; break;
        case OPT_WYONLY: wy_only = 1; break;
        case OPT_WYPORTFILE: wy_port_file = optarg; break;
        case OPT_ZEROCONF:
            zc_name = optarg ? optarg : "chorus";
            if (!*zc_name || strlen(zc_name) > 63) what = "--zeroconf: a name of 1 to 63 bytes";
            break;
        case OPT_OPEN_LISTING: open_listing = 1; break;
        case OPT_CORS: if (cors_origin_check(optarg)) what = "--cors: give * or an origin such as https://app.example"; else o.cors_origin = optarg; break;
        case OPT_DL_TTL: if (parse_long(optarg, 0, 7L * 86400, &dl_ttl)) what = "--download-ttl: use 0 to 604800 seconds"; break;
        case 'q': o.access_log = 0; break;
        case 'h': fputs(serve_usage, stdout); return 0;
        default: cli_err("run 'chorus serve --help' for its options"); return EXIT_USAGE;
        }
        if (what) {
            cli_err("invalid %s (got '%s')", what, optarg);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_err("serve takes no arguments (got '%s'); see chorus serve --help", argv[optind]);
        return EXIT_USAGE;
    }

    /* signals go to this thread only: block them before any thread starts */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    srv_malloc_setup();

    struct chorus_engine *e = NULL;
    struct chorus_engine_options eo = chorus_engine_options_default();
    eo.max_concurrent = maxc > 0 ? (int)maxc : 0;
    char err[1024] = "";
    int rc = chorus_engine_create2(&e, &eo, err, sizeof err);
    if (rc != CHORUS_OK) {
        cli_err("%s", err[0] ? err : chorus_strerror(rc));
        return 1;
    }
    /* flags, then config */
    int status = 1;
    const char *v;
    o.host = host ? host : (v = chorus_engine_config(e, "server", "host")) ? v : o.host;
    if (port < 0 && cfg_long(e, "port", 0, 65535, &port)) goto out;
    if (port >= 0) o.port = (int)port;
    if (queue < 0 && cfg_long(e, "max_queue", 0, 100000, &queue)) goto out;
    if (queue >= 0) o.max_queue = (int)queue;
    if (qtimeout < 0 && cfg_long(e, "queue_timeout_ms", 1, 3600000, &qtimeout)) goto out;
    if (qtimeout > 0) o.queue_timeout_ms = (int)qtimeout;
    if (body < 0 && cfg_long(e, "max_body", 64, 1L << 30, &body)) goto out;
    if (body > 0) o.max_body = (size_t)body;
    if (input < 0 && cfg_long(e, "max_input_chars", 1, 100000000, &input)) goto out;
    if (input > 0) o.max_input_chars = (size_t)input;
    if (buffered < 0 && cfg_long(e, "max_buffered", 1024, 1L << 32, &buffered)) goto out;
    if (buffered > 0) o.max_buffered = (size_t)buffered;
    if (held < 0 && cfg_long(e, "max_held", 1024, 1L << 40, &held)) goto out;
    if (held > 0) o.max_held = (size_t)held;
    if (reqto < 0 && cfg_long(e, "request_timeout_ms", 100, 3600000, &reqto)) goto out;
    if (reqto > 0) o.request_timeout_ms = (int)reqto;
    if (stall < 0 && cfg_long(e, "stall_timeout_ms", 100, 3600000, &stall)) goto out;
    if (stall > 0) o.stall_timeout_ms = (int)stall;
    if (cconns < 0 && cfg_long(e, "max_client_conns", 1, 1024, &cconns)) goto out;
    if (cconns > 0) o.max_client_conns = (int)cconns;
    if (!o.default_backend) o.default_backend = chorus_engine_config(e, "server", "default_backend");
    if (key_file) {
        if (read_key_file(key_file, file_key, sizeof file_key) < 0) goto out;
        if (nkeys < 64) keys[nkeys++] = file_key;
    }
    if (argv_key)
        fprintf(stderr, "chorus serve: note: a key given with --api-key shows in ps to other users; prefer CHORUS_API_KEY or --api-key-file\n");
    if (nkeys == 0) {
        const char *k = getenv("CHORUS_API_KEY");
        if (k && *k) keys[nkeys++] = k;
        k = chorus_engine_config(e, "server", "api_key");
        if (k && *k) keys[nkeys++] = k;
    }
    if (serve_client_options(e, &o, open_listing, dl_ttl, dl_max)) goto out;
    o.api_keys = keys;
    o.n_api_keys = nkeys;
    o.max_concurrent = maxc > 0 ? (int)maxc : 0;

    struct srv *s = NULL;
    struct wy_server *wy = NULL;
    if (!wyoming) wyoming = chorus_engine_config(e, "server", "wyoming");
    if (wy_only && !wyoming) wyoming = "tcp://127.0.0.1:10200";
    if (zc_name && !wyoming) {
        cli_err("--zeroconf announces the Wyoming server: add --wyoming tcp://HOST:PORT");
        status = EXIT_USAGE;
        goto out;
    }
    if (wyoming && (status = start_wyoming(e, wyoming, &o, wy_port_file, &wy, zc_name, &zc)) != 0)
        goto out;
    status = 1;
    if (wy_only) goto wait;
    rc = srv_start(e, &o, &s, err, sizeof err);
    if (rc != CHORUS_OK) {
        cli_err("%s", err);
        status = rc == CHORUS_E_INVALID ? EXIT_USAGE : 1;
        goto out;
    }
    int p = srv_port(s);
    const char *h = o.host;
    int bracket = strchr(h, ':') != NULL;
    fprintf(stderr, "chorus serve: listening on http://%s%s%s:%d/ (%s; Ctrl-C stops)\n",
            bracket ? "[" : "", h, bracket ? "]" : "", p,
            nkeys ? "API key required" : "no API key");
    warn_insecure(&o, nkeys);
    if (port_file) {
        if (write_port_file(port_file, p) < 0) {
            cli_err("cannot write the port to %s: %s", port_file, strerror(errno));
            srv_stop(s, 0);
            goto out;
        }
    }
wait:;
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "chorus serve: %s received, stopping (running generations get %ld ms)\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM", grace);
    zc_stop(zc);
    zc = NULL;
    if (s && drain > 0) {
        srv_drain(s);
        fprintf(stderr, "chorus serve: draining for %ld ms (/health says so; requests still served)\n", drain);
        struct timespec ts = {drain / 1000, (drain % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
    }
    wy_stop(wy);
    wy = NULL;
    if (s) srv_stop(s, (int)grace);
    fprintf(stderr, "chorus serve: stopped\n");
    status = 0;
out:
    zc_stop(zc);
    wy_stop(wy);
    chorus_engine_destroy(e);
    return status;
}

#else /* built with CHORUS_WITH_SERVER=OFF */

int cli_serve(int argc, char **argv) {
    (void)argc;
    (void)argv;
    cli_err("this chorus was built without the server (CHORUS_WITH_SERVER=OFF, which drops "
            "libmicrohttpd): rebuild with cmake -DCHORUS_WITH_SERVER=ON to use `chorus serve`");
    return 1;
}

#endif
