/* cli.h — the chorus tool's subcommands. The tool uses only the public API (chorus/chorus.h). */
#ifndef CHORUS_CLI_H
#define CHORUS_CLI_H

#include <stdio.h>

#include "chorus/chorus.h"

#define EXIT_USAGE 2

int cli_say(int argc, char **argv);
int cli_voices(int argc, char **argv);
int cli_backends(int argc, char **argv);
int cli_text(int argc, char **argv);
int cli_models(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_cache(int argc, char **argv);
int cli_book(int argc, char **argv);  /* book.c: chorus book */
int cli_voicelib(int argc, char **argv); /* voicelib.c: chorus voices add|rm|--cloned */

/* helpers shared by subcommands (main.c) */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Create the engine (config errors are printed). Returns NULL on failure. */
struct chorus_engine *cli_engine(void);
/** --pronunciations FILE: the dictionary cli_engine() gives the engine (NULL: the config's). */
extern const char *cli_pronunciations;
/* Read a whole stream into a NUL-terminated buffer; NULL on error (errno set). */
char *cli_read_all(FILE *f, size_t *len);

#endif
