/*
 * log.h — the library's log. Lines go to the function set by chorus_set_log() (default stderr at
 * WARN or $CHORUS_LOG). Every message passes through the secret redactor first: values of
 * registered secrets (API keys, registered by the backends that read them) and anything that looks
 * like "Bearer xxx", "xi-api-key: xxx" or "api_key=xxx" are replaced by "[redacted]".
 */
#ifndef CHORUS_CORE_LOG_H
#define CHORUS_CORE_LOG_H

#include <stddef.h>

#include "chorus/chorus.h"

void chorus_log(enum chorus_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int chorus_log_enabled(enum chorus_log_level level);
/** Remember a secret so it is redacted wherever it would be printed (copied; process-wide). */
void chorus_secret_register(const char *secret);
/** Redact secrets and URL credentials (scheme://user:pass@) in s in place (result never
 *  longer than the input). */
void chorus_redact(char *s);

#define CHORUS_LOGE(...) chorus_log(CHORUS_LOG_ERROR, __VA_ARGS__)
#define CHORUS_LOGW(...) chorus_log(CHORUS_LOG_WARN, __VA_ARGS__)
#define CHORUS_LOGI(...) chorus_log(CHORUS_LOG_INFO, __VA_ARGS__)
#define CHORUS_LOGD(...) chorus_log(CHORUS_LOG_DEBUG, __VA_ARGS__)

#endif
