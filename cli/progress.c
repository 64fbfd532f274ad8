/* Progress bar on stderr (see progress.h). */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>

#define BAR_WIDTH 30
#define REDRAW_MS 100

int cli_progress_init(cli_progress *p, int enabled, size_t total)
{
    p->enabled = enabled && total > 0;
    p->total = total;
    p->done = 0;
    p->last_ms = 0;
    p->shown = 0;
    p->fraction = NULL;
    if (!p->enabled) return 0;
    p->fraction = calloc(total, sizeof *p->fraction);
    if (!p->fraction) {
        p->enabled = 0;
        return TVK_ENOMEM;
    }
    return 0;
}

void cli_progress_free(cli_progress *p)
{
    cli_progress_clear(p);
    free(p->fraction);
    p->fraction = NULL;
    p->enabled = 0;
}

static void draw(cli_progress *p, const tvk_progress *pr)
{
    double sum = 0;
    for (size_t i = 0; i < p->total; i++)
        sum += p->fraction[i];
    double share = sum / (double)p->total;
    int fill = (int)(share * BAR_WIDTH + 0.5);
    char bar[BAR_WIDTH + 1];
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < fill ? '=' : ' ';
    bar[BAR_WIDTH] = '\0';
    fprintf(stderr, "\r\033[K[%s] %3d%%", bar, (int)(share * 100));
    if (p->total > 1) fprintf(stderr, "  %zu/%zu done", p->done, p->total);
    if (pr) {
        fprintf(stderr, "  %.40s %zu", pr->symbol ? pr->symbol : "", pr->bars);
        if (pr->target) fprintf(stderr, "/%zu", pr->target);
        fprintf(stderr, " bars");
    }
    fflush(stderr);
    p->shown = 1;
}

void cli_progress_cb(void *user, const tvk_progress *pr)
{
    cli_progress_slot *s = user;
    cli_progress *p = s->p;
    if (!p->enabled || s->index >= p->total) return;
    double f = pr->fraction;
    p->fraction[s->index] = f < 0 ? 0 : f > 1 ? 1 : f;
    int64_t now = tvk_now_ms();
    if (p->shown && now - p->last_ms < REDRAW_MS) return;
    p->last_ms = now;
    draw(p, pr);
}

void cli_progress_done(cli_progress *p, size_t index)
{
    if (!p->enabled || index >= p->total) return;
    p->fraction[index] = 1;
    p->done++;
}

void cli_progress_clear(cli_progress *p)
{
    if (!p->enabled || !p->shown) return;
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
    p->shown = 0;
}
