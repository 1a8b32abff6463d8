/* Fuzz target: `hearken-analyzer score` end to end (an_cmd_score): line framing, the flat-object
 * fast path, the jansson fallback, per-line languages and the output writer, with the small
 * lexicon in tests/fuzz/lexicon (en and fr; loading the full one per input would be too slow).
 * The input becomes stdin and stdout goes to a temp file. Invariants: exit status 0; exactly one
 * output line per input line; each output line is a JSON object with an "id" and either an
 * "error" string or scores with every dimension in [-1, 1]. */
#include "fuzz.h"

#include "hearken/analyzer.h"

#include <jansson.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

static char in_path[256], out_path[256];

static void cleanup(void)
{
    unlink(in_path);
    unlink(out_path);
}

static void init(void)
{
    const char *tmp = getenv("TMPDIR");
    tmp = tmp && *tmp ? tmp : "/tmp";
    snprintf(in_path, sizeof in_path, "%s/hearken-fuzz-in-XXXXXX", tmp);
    snprintf(out_path, sizeof out_path, "%s/hearken-fuzz-out-XXXXXX", tmp);
    int a = mkstemp(in_path), b = mkstemp(out_path);
    CHECK(a >= 0 && b >= 0);
    close(a);
    close(b);
    atexit(cleanup);
}

static void check_line(const char *line, size_t n)
{
    json_error_t je;
    json_t *j = json_loadb(line, n, JSON_ALLOW_NUL, &je);
    if (!j)
        fprintf(stderr, "output line is not JSON (%s): %.*s\n", je.text, (int)n, line);
    CHECK(j != NULL && json_is_object(j));
    CHECK(json_object_get(j, "id") != NULL);
    json_t *err = json_object_get(j, "error");
    if (err) {
        CHECK(json_is_string(err));
    } else {
        static const char *const dims[] = {"sentiment", "felt_heard", "felt_valued", "advocacy",
                                           "ease"};
        for (size_t d = 0; d < sizeof dims / sizeof *dims; d++) {
            json_t *v = json_object_get(j, dims[d]);
            CHECK(v != NULL);
            CHECK(d > 0 || json_is_number(v)); /* sentiment is never null */
            if (json_is_number(v))
                CHECK(json_number_value(v) >= -1.0 && json_number_value(v) <= 1.0);
        }
        CHECK(json_is_array(json_object_get(j, "cues")));
    }
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!in_path[0])
        init();
    if (size > 65536)
        return 0;
    FILE *f = fopen(in_path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(data, 1, size, f) == size);
    CHECK(fclose(f) == 0);
    CHECK(freopen(in_path, "rb", stdin) != NULL);
    CHECK(freopen(out_path, "wb", stdout) != NULL);

    char *argv[] = {"score", "--lexicons", HK_SOURCE_DIR "/tests/fuzz/lexicon", "--lang", "en",
                    NULL};
    int status = an_cmd_score(5, argv);
    CHECK(fflush(stdout) == 0);
    CHECK(status == 0);

    size_t lines = 0;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (size && data[size - 1] != '\n')
        lines++; /* a last line without its newline still counts */

    f = fopen(out_path, "rb");
    CHECK(f != NULL);
    char *out = NULL;
    size_t olen = 0, cap = 0, got;
    do {
        if (olen == cap) {
            cap = cap ? cap * 2 : 65536;
            out = realloc(out, cap);
            CHECK(out != NULL);
        }
        got = fread(out + olen, 1, cap - olen, f);
        olen += got;
    } while (got > 0);
    fclose(f);

    size_t seen = 0;
    for (size_t pos = 0; pos < olen;) {
        char *nl = memchr(out + pos, '\n', olen - pos);
        CHECK(nl != NULL); /* every output line ends with a newline */
        check_line(out + pos, (size_t)(nl - (out + pos)));
        seen++;
        pos = (size_t)(nl - out) + 1;
    }
    if (seen != lines)
        fprintf(stderr, "%zu input lines, %zu output lines\n", lines, seen);
    CHECK(seen == lines);
    free(out);
    return 0;
}
