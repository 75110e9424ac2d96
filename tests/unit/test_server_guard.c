/* test_server_guard.c — Host, Origin and Content-Type rules of a server without an API key
 * (src/server/guard.c). The hostile values are what a DNS-rebinding page and a cross-site form
 * send: a foreign host name in Host, a foreign or "null" Origin, text/plain and form bodies. */
#include "server/guard.c"
#include "server/request.c"
#include "test.h"

TEST(host_header) {
    CHECK(srv_guard_host_ok("127.0.0.1:8880"));
    CHECK(srv_guard_host_ok("127.0.0.1"));
    CHECK(srv_guard_host_ok("localhost:8880"));
    CHECK(srv_guard_host_ok("LocalHost"));
    CHECK(srv_guard_host_ok("tts.localhost:8880"));
    CHECK(srv_guard_host_ok("[::1]:8880"));
    CHECK(srv_guard_host_ok("192.168.1.20:8880")); /* an IP literal cannot be rebound */
    CHECK(srv_guard_host_ok(NULL));                 /* HTTP/1.0 sends none */
    CHECK(!srv_guard_host_ok("attacker.example:8880"));
    CHECK(!srv_guard_host_ok("localhost.attacker.example"));
    CHECK(!srv_guard_host_ok("127.0.0.1.nip.io"));
    CHECK(!srv_guard_host_ok("::1"));
    CHECK(!srv_guard_host_ok("localhost:80x"));
    CHECK(!srv_guard_host_ok(""));
    CHECK(!srv_guard_host_ok("a/b.localhost"));
}

TEST(origin_header) {
    CHECK(srv_guard_origin_ok(NULL, "127.0.0.1:8880", NULL, 0));
    CHECK(srv_guard_origin_ok("http://127.0.0.1:8880", "127.0.0.1:8880", NULL, 0));
    CHECK(srv_guard_origin_ok("http://localhost:3000", "127.0.0.1:8880", NULL, 0));
    CHECK(srv_guard_origin_ok("http://[::1]:8880", "[::1]:8880", NULL, 0));
    CHECK(srv_guard_origin_ok("http://192.168.1.20:8880", "192.168.1.20:8880", NULL, 0));
    CHECK(!srv_guard_origin_ok("https://attacker.example", "127.0.0.1:8880", NULL, 0));
    CHECK(!srv_guard_origin_ok("null", "127.0.0.1:8880", NULL, 0));
    CHECK(!srv_guard_origin_ok("file://", "127.0.0.1:8880", NULL, 0));
    CHECK(!srv_guard_origin_ok("http://192.168.1.20:8880", "127.0.0.1:8880", NULL, 0));
    /* the CORS opt-in */
    const char *const allow[] = {"https://app.example"};
    CHECK(srv_guard_origin_ok("https://app.example", "127.0.0.1:8880", allow, 1));
    CHECK(!srv_guard_origin_ok("https://other.example", "127.0.0.1:8880", allow, 1));
    const char *const any[] = {"*"};
    CHECK(srv_guard_origin_ok("https://other.example", "127.0.0.1:8880", any, 1));
}

TEST(json_content_type) {
    CHECK(srv_guard_json_type("application/json"));
    CHECK(srv_guard_json_type("Application/JSON; charset=utf-8"));
    CHECK(!srv_guard_json_type("text/plain"));
    CHECK(!srv_guard_json_type("application/x-www-form-urlencoded"));
    CHECK(!srv_guard_json_type("multipart/form-data; boundary=x"));
    CHECK(!srv_guard_json_type("application/jsonx"));
    CHECK(!srv_guard_json_type(NULL));
}

int main(void) {
    RUN(host_header);
    RUN(origin_header);
    RUN(json_content_type);
    return test_summary();
}
