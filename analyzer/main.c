/* hearken-analyzer: `score` and `lint` subcommands, otherwise the stream worker. */
#include "hearken/analyzer.h"

#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "score") == 0)
        return an_cmd_score(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "lint") == 0)
        return an_cmd_lint(argc - 1, argv + 1);
    return an_worker_main(argc, argv);
}
