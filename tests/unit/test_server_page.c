/* test_server_page.c — the page served at GET / is exactly src/server/page.html (page.c is
 * generated from it by src/server/page_gen.py) and holds what the page needs. */
#include "server/page.c"

#include "test.h"

TEST(page_matches_source) {
    const char *data = getenv("CHORUS_TEST_DATA");
    CHECK(data);
    char path[4096];
    snprintf(path, sizeof path, "%s/../../src/server/page.html", data);
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f, "cannot open %s", path);
    static char buf[1 << 17];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    CHECK_MSG(n == strlen(srv_page_html) && !memcmp(buf, srv_page_html, n),
              "page.c is stale: run python3 src/server/page_gen.py");
}

TEST(page_uses_the_api) {
    const char *need[] = {"/v1/backends", "/v1/audio/voices", "/v1/audio/speech/captioned",
                          "/v1/audio/speech", "Authorization", "id=\"go\"", "chorusStats"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        CHECK_MSG(strstr(srv_page_html, need[i]), "the page lacks %s", need[i]);
}

int main(void) {
    RUN(page_matches_source);
    RUN(page_uses_the_api);
    return test_summary();
}
