#include "alignment/plot.h"

#include "models/json_util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else fputc(*s, f);
    }
}

sea_status sea_plot_svg(const char *path, const char *title, const char *xlabel, const char *ylabel,
                        const sea_plot_series *series, int n_series)
{
    double x0 = INFINITY, x1 = -INFINITY, y0 = 0, y1 = 1;   /* win rates live in [0, 1] */
    for (int s = 0; s < n_series; s++)
        for (int i = 0; i < series[s].n; i++) {
            x0 = fmin(x0, series[s].x[i]);
            x1 = fmax(x1, series[s].x[i]);
            double lo = series[s].y[i] - (series[s].err ? series[s].err[i] : 0);
            double hi = series[s].y[i] + (series[s].err ? series[s].err[i] : 0);
            y0 = fmin(y0, lo);
            y1 = fmax(y1, hi);
        }
    if (!(x1 > x0)) {
        x0 = 0;
        x1 = x1 > 0 ? x1 : 1;
    }
    const double W = 720, H = 440, L = 70, R = 170, T = 40, B = 60;
    const double pw = W - L - R, ph = H - T - B;
#define PX(x) (L + ((x) - x0) / (x1 - x0) * pw)
#define PY(y) (T + (1 - ((y) - y0) / (y1 - y0)) * ph)
    sea_atomic_file af;   /* written whole or not at all: a reader never sees half a plot */
    SEA_TRY(sea_error_context(sea_atomic_open(path, &af), "plot"));
    FILE *f = af.fp;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"12\">\n", W, H);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n<text x=\"%.0f\" y=\"24\" font-size=\"15\">", L);
    xml_text(f, title);
    fprintf(f, "</text>\n");
    /* grid and ticks */
    for (int i = 0; i <= 5; i++) {
        double yv = y0 + (y1 - y0) * i / 5, xv = x0 + (x1 - x0) * i / 5;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", L, PY(yv), L + pw, PY(yv));
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.2f</text>\n", L - 6, PY(yv) + 4, yv);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", PX(xv), T, PX(xv), T + ph);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>\n", PX(xv), T + ph + 18, xv);
    }
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"black\"/>\n", L, T, pw, ph);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", L + pw / 2, H - 16);
    xml_text(f, xlabel);
    fprintf(f, "</text>\n<text transform=\"translate(18 %.1f) rotate(-90)\" text-anchor=\"middle\">", T + ph / 2);
    xml_text(f, ylabel);
    fprintf(f, "</text>\n");
    for (int s = 0; s < n_series; s++) {
        const sea_plot_series *sr = &series[s];
        const char *col = colors[s % 6];
        if (sr->err && sr->n > 0) {
            fprintf(f, "<polygon fill=\"%s\" fill-opacity=\"0.18\" stroke=\"none\" points=\"", col);
            for (int i = 0; i < sr->n; i++) fprintf(f, "%.1f,%.1f ", PX(sr->x[i]), PY(sr->y[i] + sr->err[i]));
            for (int i = sr->n - 1; i >= 0; i--) fprintf(f, "%.1f,%.1f ", PX(sr->x[i]), PY(sr->y[i] - sr->err[i]));
            fprintf(f, "\"/>\n");
        }
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", col);
        for (int i = 0; i < sr->n; i++) fprintf(f, "%.1f,%.1f ", PX(sr->x[i]), PY(sr->y[i]));
        fprintf(f, "\"/>\n");
        for (int i = 0; i < sr->n; i++)
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n", PX(sr->x[i]), PY(sr->y[i]), col);
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"3\"/>\n", W - R + 12,
                T + 14 + 20.0 * s, W - R + 36, T + 14 + 20.0 * s, col);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">", W - R + 42, T + 18 + 20.0 * s);
        xml_text(f, sr->name);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "</svg>\n");
#undef PX
#undef PY
    return sea_error_context(sea_atomic_commit(&af), "plot");
}
