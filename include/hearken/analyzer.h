/* Entry points of hearken-analyzer's subcommands; analyzer/main.c dispatches to them.
 * Each takes argv with the subcommand name at argv[0] and returns the exit status. */
#ifndef HEARKEN_ANALYZER_H
#define HEARKEN_ANALYZER_H

int an_cmd_score(int argc, char **argv); /* analyzer/cmd_score.c */
int an_cmd_lint(int argc, char **argv);  /* analyzer/cmd_score.c */
int an_worker_main(int argc, char **argv); /* analyzer/worker.c */

#endif
