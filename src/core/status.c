#include "chorus/chorus.h"

const char *chorus_version(void) {
    return CHORUS_VERSION_STRING;
}

unsigned chorus_version_number(void) {
    return CHORUS_VERSION_NUMBER;
}

const char *chorus_strerror(int status) {
    switch (status) {
#define X(name, value, text)                                                                      \
    case (value):                                                                                 \
        return text;
        CHORUS_STATUS_LIST(X)
#undef X
    }
    return "unknown status";
}

const char *chorus_status_name(int status) {
    switch (status) {
#define X(name, value, text)                                                                      \
    case (value):                                                                                 \
        return #name;
        CHORUS_STATUS_LIST(X)
#undef X
    }
    return "UNKNOWN";
}
