/* Fuzz target: the lexicon loader (analyzer/lexicon.c) on arbitrary file content. The loader
 * only reads folders, so a small valid lexicon is written once to a private temp folder and
 * each input replaces one of its files; the rest of the input after the first byte is that
 * file's content. First byte: low 4 bits pick the file (ROLES below), bit 4 runs the linter
 * instead of the loader. After a successful load the input is scored with the new lexicon,
 * so odd phrases (emoticons, emoji, long multi-word entries) also exercise the matcher. */
#include "fuzz.h"

#include "hearken/buf.h"
#include "hearken/err.h"
#include "hearken/score.h"

#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct role {
    const char *file;     /* under LANG/, or the external file when ext != AN_EXT_NONE */
    const char *baseline; /* content outside this target's turn; NULL: absent */
    int ext;
};

static const struct role roles[] = {
    {"sentiment.tsv", "good\t2\nbad\t-2\n:)\t1.5\n", AN_EXT_NONE},
    {"felt_heard.tsv", "listened\t2.5\nheard me out\t3\n", AN_EXT_NONE},
    {"felt_valued.tsv", "valued\t2\n", AN_EXT_NONE},
    {"advocacy.tsv", "recommend\t3\n", AN_EXT_NONE},
    {"ease.tsv", "easy\t2\non hold\t-2\n", AN_EXT_NONE},
    {"ease.user.tsv", NULL, AN_EXT_NONE}, /* a user's additions, found by readdir */
    {"behaviors/apologized.tsv", "sorry\t2\n", AN_EXT_NONE},
    {"negators.txt", "not\nnever\nn't\n", AN_EXT_NONE},
    {"boosters.tsv", "very\t1.5\na bit\t-1.5\n", AN_EXT_NONE},
    {"contrast.txt", "but\nalthough\tconcede\nand\tclause\n", AN_EXT_NONE},
    {"external.vader", NULL, AN_EXT_VADER},
    {"external.afinn", NULL, AN_EXT_AFINN},
};
#define NROLES (sizeof roles / sizeof roles[0])

static const char *const other_behaviors[] = {
    "acknowledged_feelings", "showed_concern",    "offered_goodwill",
    "calm_tone",             "listened_actively", "used_my_name",
    "did_not_interrupt",     "was_patient",       "made_no_assumptions",
};

static char root[256];  /* the temp folder; lexicons live in root/en */
static FILE *devnull;

static void path_of(char *out, size_t cap, const struct role *r)
{
    if (r->ext != AN_EXT_NONE)
        snprintf(out, cap, "%s/%s", root, r->file);
    else
        snprintf(out, cap, "%s/en/%s", root, r->file);
}

static void write_file(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        CHECK(w > 0);
        c += w;
        n -= (size_t)w;
    }
    close(fd);
}

static void put_baseline(const struct role *r)
{
    char path[512];
    path_of(path, sizeof path, r);
    if (r->baseline)
        write_file(path, r->baseline, strlen(r->baseline));
    else
        unlink(path);
}

static void cleanup(void)
{
    char path[512];
    for (size_t i = 0; i < NROLES; i++) {
        path_of(path, sizeof path, &roles[i]);
        unlink(path);
    }
    for (size_t i = 0; i < sizeof other_behaviors / sizeof *other_behaviors; i++) {
        snprintf(path, sizeof path, "%s/en/behaviors/%s.tsv", root, other_behaviors[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/en/behaviors", root);
    rmdir(path);
    snprintf(path, sizeof path, "%s/en", root);
    rmdir(path);
    rmdir(root);
}

static void init(void)
{
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(root, sizeof root, "%s/hearken-fuzz-lexicon-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    CHECK(mkdtemp(root) != NULL);
    snprintf(path, sizeof path, "%s/en", root);
    CHECK(mkdir(path, 0700) == 0);
    snprintf(path, sizeof path, "%s/en/behaviors", root);
    CHECK(mkdir(path, 0700) == 0);
    for (size_t i = 0; i < NROLES; i++)
        put_baseline(&roles[i]);
    for (size_t i = 0; i < sizeof other_behaviors / sizeof *other_behaviors; i++) {
        snprintf(path, sizeof path, "%s/en/behaviors/%s.tsv", root, other_behaviors[i]);
        write_file(path, "", 0);
    }
    devnull = fopen("/dev/null", "w");
    CHECK(devnull != NULL);
    atexit(cleanup);

    /* the baseline itself must load and lint clean, or every input tests nothing */
    char err[512];
    struct an_lexicon *lex = an_lexicon_load(root, "en", err, sizeof err);
    if (!lex)
        fprintf(stderr, "fuzz_lexicon: baseline does not load: %s\n", err);
    CHECK(lex != NULL);
    an_lexicon_destroy(lex);
    CHECK(an_lexicon_lint(root, "en", devnull) == 0);
}

static void score_with(const struct an_lexicon *lex, const char *text, size_t len)
{
    struct an_scorer *s = an_scorer_create(lex);
    CHECK(s != NULL);
    static const char fixed[] = "Very good, but not sorry :) and I was on hold. NOT easy!!";
    struct an_score sc;
    struct hk_buf b;
    hk_buf_init(&b, 64u << 20);
    for (int k = 0; k < 2; k++) {
        const char *t = k ? text : fixed;
        size_t n = k ? len : sizeof fixed - 1;
        int rc = an_scorer_score(s, t, n, &sc);
        CHECK(rc == 0 || (k && rc == HK_ERR_INVALID));
        if (rc)
            continue;
        for (int d = 0; d < AN_DIM_COUNT; d++)
            CHECK(sc.dim[d] >= -1.0 && sc.dim[d] <= 1.0);
        for (size_t c = 0; c < sc.ncues; c++) {
            CHECK(sc.cues[c].start <= n && sc.cues[c].len <= n - sc.cues[c].start);
            CHECK(isfinite(sc.cues[c].weight));
        }
        hk_buf_reset(&b);
        CHECK(an_score_to_json(&sc, t, n, NULL, 0, &b) == 0);
    }
    hk_buf_free(&b);
    an_scorer_destroy(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!root[0])
        init();
    if (size < 1 || size > (1u << 20))
        return 0;
    const struct role *r = &roles[(data[0] & 0x0f) % NROLES];
    bool lint = data[0] & 0x10;
    const char *body = (const char *)data + 1;
    size_t blen = size - 1;

    char path[512];
    path_of(path, sizeof path, r);
    write_file(path, body, blen);

    struct an_lexicon_opts opts = {0};
    if (r->ext != AN_EXT_NONE) {
        opts.external = path;
        opts.external_format = r->ext;
        opts.external_replace = data[0] & 0x20;
    }
    if (lint) {
        int n = an_lexicon_lint(root, "en", devnull);
        CHECK(n >= 0);
    } else {
        char err[256];
        struct an_lexicon *lex = an_lexicon_load_opts(root, "en", &opts, err, sizeof err);
        if (lex) {
            CHECK(strcmp(an_lexicon_lang(lex), "en") == 0);
            score_with(lex, body, blen);
            an_lexicon_destroy(lex);
        } else {
            CHECK(memchr(err, '\0', sizeof err) != NULL && err[0] != '\0');
        }
    }
    put_baseline(r);
    return 0;
}
