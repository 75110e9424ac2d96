/*
 * config.h — the engine's configuration: a TOML subset read from $CHORUS_CONFIG, else
 * $XDG_CONFIG_HOME/chorus/config.toml, else ~/.config/chorus/config.toml.
 *
 * Supported TOML: [section] and [dotted.section] headers, key = value with basic "strings"
 * (escapes \" \\ \n \t \uXXXX), 'literal strings', integers, floats, booleans, and flat arrays
 * (kept as their source text); # comments. Anything else is an error naming the line.
 * Keys are stored as written; look-ups are case-insensitive (the prior implementation mixed
 * cases: [app_tts] OPENAI_API_KEY_fallback).
 */
#ifndef CHORUS_CORE_CONFIG_H
#define CHORUS_CORE_CONFIG_H

#include <stddef.h>

struct chorus_config;

/** Parse TOML text. On error returns NULL and writes "path:line: what is wrong" into err. */
struct chorus_config *chorus_config_parse(const char *text, size_t len, const char *path,
                                          char *err, size_t errlen);
/** Load a file. A missing file gives an empty config when `optional`, else an error. */
struct chorus_config *chorus_config_load(const char *path, int optional, char *err,
                                         size_t errlen);
void chorus_config_free(struct chorus_config *c);

/** Value of key in section ("" or NULL section = top level); strings unquoted; NULL if unset. */
const char *chorus_config_get(const struct chorus_config *c, const char *section,
                              const char *key);
/**
 * First value found, in order: the environment variable `env` (if non-NULL and set, non-empty),
 * then each (section, key) pair of the NULL-terminated list `places`:
 *   const char *places[] = {"openai", "api_key", "api_settings.openai", "api_key", NULL};
 */
const char *chorus_config_find(const struct chorus_config *c, const char *env,
                               const char *const *places);
/** Numeric helpers: the value parsed, or `def` when unset or not a number. */
double chorus_config_double(const struct chorus_config *c, const char *section, const char *key,
                            double def);
int chorus_config_bool(const struct chorus_config *c, const char *section, const char *key,
                       int def);
/** Iterate keys of a section: returns the i-th key/value or 0 past the end. */
int chorus_config_entry(const struct chorus_config *c, const char *section, size_t i,
                        const char **key, const char **value);

#endif
