/* The survey form's HTML and the short message pages around it (thank you, already answered,
 * link expired, ...). Plain HTML that works without JavaScript: fieldsets with legends,
 * labels bound to every control, styles from /static/form.css only (the CSP forbids inline
 * style and script). Every text and entry is escaped with hk_html_escape. */
#include "customer.h"

#include "hearken/err.h"
#include "hearken/html.h"

#include <stdio.h>
#include <string.h>

#define PUT(expr)                                                                                  \
    do {                                                                                           \
        if (!rc)                                                                                   \
            rc = (expr);                                                                           \
    } while (0)
#define LIT(s)  hk_buf_append_str(out, s)
#define TEXT(k) hk_html_escape_str(out, l->text[k])

/* One scale question and how its ends are named. */
struct scale {
    enum hk_answer answer;
    enum col_text question, low, high;
    const char *cols; /* the CSS class that lays the buttons out */
};

static const struct scale scales[] = {
    {HK_ANS_NPS, COL_T_Q_NPS, COL_T_NPS_LOW, COL_T_NPS_HIGH, "opts opts-11"},
    {HK_ANS_FELT_HEARD, COL_T_Q_FELT_HEARD, COL_T_AGREE_LOW, COL_T_AGREE_HIGH, "opts"},
    {HK_ANS_FELT_VALUED, COL_T_Q_FELT_VALUED, COL_T_AGREE_LOW, COL_T_AGREE_HIGH, "opts"},
    {HK_ANS_CSAT, COL_T_Q_CSAT, COL_T_CSAT_LOW, COL_T_CSAT_HIGH, "opts"},
    {HK_ANS_CES, COL_T_Q_CES, COL_T_AGREE_LOW, COL_T_AGREE_HIGH, "opts opts-7"},
};

void col_form_view_init(struct col_form_view *v)
{
    memset(v, 0, sizeof *v);
    for (int i = 0; i < HK_ANS_COUNT; i++)
        v->answers[i] = -1;
    for (int i = 0; i < COL_SLOT_COUNT; i++)
        v->error[i] = COL_T_NONE;
    v->top_error = COL_T_NONE;
}

static int head(const struct col_lang *l, struct hk_buf *out, enum col_text title)
{
    int rc = 0;
    PUT(LIT("<!doctype html>\n<html lang=\""));
    PUT(hk_html_escape_str(out, l->tag));
    PUT(LIT("\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta name=\"robots\" content=\"noindex, nofollow\">\n<title>"));
    PUT(TEXT(title));
    PUT(LIT("</title>\n<link rel=\"stylesheet\" href=\"/static/form.css\">\n</head>\n<body>\n"
            "<main>\n"));
    return rc;
}

static int tail(struct hk_buf *out)
{
    return LIT("</main>\n</body>\n</html>\n");
}

/* The id of the first control of a slot, for the error summary's links. */
static void slot_anchor(int slot, char *dst, size_t size)
{
    if (slot < HK_ANS_COUNT)
        snprintf(dst, size, "%s-%d", hk_answer_names[slot], hk_answer_min[slot]);
    else if (slot == COL_SLOT_COMMENT)
        snprintf(dst, size, "comment");
    else
        snprintf(dst, size, "b-%s", hk_behavior_names[0]);
}

static int summary(const struct col_lang *l, const struct col_form_view *v, struct hk_buf *out)
{
    int rc = 0;
    bool any = v->top_error != COL_T_NONE;
    for (int i = 0; i < COL_SLOT_COUNT; i++)
        any |= v->error[i] != COL_T_NONE;
    if (!any)
        return 0;
    PUT(LIT("<div class=\"summary\" role=\"alert\" id=\"errors\">\n<h2>"));
    PUT(TEXT(COL_T_ERRORS_HEADING));
    PUT(LIT("</h2>\n<ul>\n"));
    if (v->top_error != COL_T_NONE) {
        PUT(LIT("<li>"));
        PUT(TEXT(v->top_error));
        PUT(LIT("</li>\n"));
    }
    for (int i = 0; i < COL_SLOT_COUNT; i++) {
        if (v->error[i] == COL_T_NONE)
            continue;
        char anchor[48];
        slot_anchor(i, anchor, sizeof anchor);
        PUT(hk_buf_printf(out, "<li><a href=\"#%s\">", anchor));
        PUT(TEXT(v->error[i]));
        PUT(LIT("</a></li>\n"));
    }
    PUT(LIT("</ul>\n</div>\n"));
    return rc;
}

static int field_error(const struct col_lang *l, const char *id, enum col_text e,
                       struct hk_buf *out)
{
    int rc = 0;
    if (e == COL_T_NONE)
        return 0;
    PUT(hk_buf_printf(out, "<p class=\"err\" id=\"%s-err\">", id));
    PUT(TEXT(e));
    PUT(LIT("</p>\n"));
    return rc;
}

static int scale_question(const struct col_lang *l, const struct scale *q,
                          const struct col_form_view *v, struct hk_buf *out)
{
    int rc = 0;
    const char *name = hk_answer_names[q->answer];
    int lo = hk_answer_min[q->answer], hi = hk_answer_max[q->answer];
    enum col_text err = v->error[q->answer];
    if (err != COL_T_NONE)
        PUT(hk_buf_printf(out, "<fieldset class=\"q invalid\" aria-describedby=\"%s-err\">\n",
                          name));
    else
        PUT(LIT("<fieldset class=\"q\">\n"));
    PUT(LIT("<legend>"));
    PUT(TEXT(q->question));
    PUT(LIT("</legend>\n"));
    PUT(field_error(l, name, err, out));
    PUT(hk_buf_printf(out, "<div class=\"%s\">\n", q->cols));
    for (int x = lo; x <= hi; x++) {
        PUT(hk_buf_printf(out,
                          "<input type=\"radio\" id=\"%s-%d\" name=\"%s\" value=\"%d\"%s>"
                          "<label for=\"%s-%d\">%d",
                          name, x, name, x, v->answers[q->answer] == x ? " checked" : "", name, x,
                          x));
        if (x == lo || x == hi) { /* the ends' meaning, for screen readers on the button itself */
            PUT(LIT("<span class=\"vh\"> – "));
            PUT(TEXT(x == lo ? q->low : q->high));
            PUT(LIT("</span>"));
        }
        PUT(LIT("</label>\n"));
    }
    /* shown for sighted users; screen readers hear the same on the end buttons */
    PUT(hk_buf_printf(out, "</div>\n<p class=\"ends\" aria-hidden=\"true\"><span>%d = ", lo));
    PUT(TEXT(q->low));
    PUT(hk_buf_printf(out, "</span><span>%d = ", hi));
    PUT(TEXT(q->high));
    PUT(LIT("</span></p>\n</fieldset>\n"));
    return rc;
}

static int behaviours(const struct col_lang *l, const struct col_form_view *v, struct hk_buf *out)
{
    int rc = 0;
    enum col_text err = v->error[COL_SLOT_BEHAVIORS];
    PUT(hk_buf_printf(out, "<fieldset class=\"q%s\" aria-describedby=\"behaviors-hint\">\n<legend>",
                      err != COL_T_NONE ? " invalid" : ""));
    PUT(TEXT(COL_T_Q_BEHAVIORS));
    PUT(LIT("</legend>\n<p class=\"hint\" id=\"behaviors-hint\">"));
    PUT(TEXT(COL_T_BEHAVIORS_HINT));
    PUT(LIT("</p>\n"));
    PUT(field_error(l, "behaviors", err, out));
    for (int b = 0; b < HK_BEH_COUNT; b++) {
        const char *name = hk_behavior_names[b];
        PUT(hk_buf_printf(out,
                          "<div class=\"check\"><label for=\"b-%s\"><input type=\"checkbox\" "
                          "id=\"b-%s\" name=\"%s\" value=\"on\"%s>",
                          name, name, name, v->ticked[b] ? " checked" : ""));
        PUT(TEXT(COL_T_BEH_FIRST + b));
        PUT(LIT("</label></div>\n"));
    }
    PUT(LIT("</fieldset>\n"));
    return rc;
}

static int comment(const struct col_lang *l, const struct col_form_view *v, struct hk_buf *out)
{
    int rc = 0;
    enum col_text err = v->error[COL_SLOT_COMMENT];
    PUT(hk_buf_printf(out, "<div class=\"q%s\">\n<label for=\"comment\">",
                      err != COL_T_NONE ? " invalid" : ""));
    PUT(TEXT(COL_T_Q_COMMENT));
    PUT(LIT("</label>\n<p class=\"hint\" id=\"comment-hint\">"));
    PUT(TEXT(COL_T_COMMENT_HINT));
    PUT(LIT("</p>\n"));
    PUT(field_error(l, "comment", err, out));
    PUT(hk_buf_printf(out,
                      "<textarea id=\"comment\" name=\"comment\" rows=\"6\" maxlength=\"%d\" "
                      "aria-describedby=\"comment-hint%s\">\n",
                      HK_COMMENT_MAX, err != COL_T_NONE ? " comment-err" : ""));
    /* the newline above is eaten by the HTML parser, so a comment's own first one survives */
    if (v->comment)
        PUT(hk_html_escape(out, v->comment, v->comment_len));
    PUT(LIT("</textarea>\n</div>\n"));
    return rc;
}

int col_form_page(const struct col_lang *l, const struct col_form_view *v, struct hk_buf *out)
{
    int rc = head(l, out, COL_T_PAGE_TITLE);
    PUT(LIT("<h1>"));
    PUT(TEXT(COL_T_HEADING));
    PUT(LIT("</h1>\n<p class=\"intro\">"));
    PUT(TEXT(COL_T_INTRO));
    PUT(LIT("</p>\n"));
    PUT(summary(l, v, out));
    /* no action: the form posts back to its own address, the link itself */
    PUT(LIT("<form method=\"post\" accept-charset=\"utf-8\">\n"));
    for (size_t i = 0; i < sizeof scales / sizeof *scales; i++)
        PUT(scale_question(l, &scales[i], v, out));
    PUT(behaviours(l, v, out));
    PUT(comment(l, v, out));
    PUT(LIT("<button type=\"submit\">"));
    PUT(TEXT(COL_T_SUBMIT));
    PUT(LIT("</button>\n</form>\n"));
    PUT(tail(out));
    return rc;
}

int col_message_page(const struct col_lang *l, enum col_text title, enum col_text body, bool back,
                     struct hk_buf *out)
{
    int rc = head(l, out, title);
    PUT(LIT("<div class=\"message\">\n<h1>"));
    PUT(TEXT(title));
    PUT(LIT("</h1>\n<p>"));
    PUT(TEXT(body));
    PUT(LIT("</p>\n"));
    if (back) { /* an empty href is this very address: the link, opened again */
        PUT(LIT("<p><a href=\"\">"));
        PUT(TEXT(COL_T_BACK));
        PUT(LIT("</a></p>\n"));
    }
    PUT(LIT("</div>\n"));
    PUT(tail(out));
    return rc;
}
