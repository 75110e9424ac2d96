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
/**
 * Strict numeric keys: unset gives `def` and CHORUS_OK; a value that is not a finite number
 * written in full ("four", inf, nan), not whole when `whole`, or outside [min, max] gives
 * CHORUS_E_CONFIG and "PATH:LINE: [section] key = 'value': use a whole number from MIN to
 * MAX" in err. Every numeric key the core reads is checked this way when the engine is created
 * (engine.c), so the lenient readers below only see values already checked.
 */
int chorus_config_number(const struct chorus_config *c, const char *section, const char *key,
                         double min, double max, int whole, double def, double *out, char *err,
                         size_t errlen);
/** Strict boolean key (chorus_parse_bool's spellings), same contract as chorus_config_number. */
int chorus_config_flag(const struct chorus_config *c, const char *section, const char *key,
                       int def, int *out, char *err, size_t errlen);
/** Lenient readers: the value parsed, or `def` when unset or not a valid number/boolean. */
double chorus_config_double(const struct chorus_config *c, const char *section, const char *key,
                            double def);
int chorus_config_bool(const struct chorus_config *c, const char *section, const char *key,
                       int def);
/** Iterate keys of a section: returns the i-th key/value or 0 past the end. */
int chorus_config_entry(const struct chorus_config *c, const char *section, size_t i,
                        const char **key, const char **value);

#endif
