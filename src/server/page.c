/* page.c — the static web page served at GET / (filled in below). */
#include "server/server.h"

const char srv_page_html[] = "<!doctype html><title>chorus</title><p>chorus speech server</p>\n";
