/* Line plots as hand-written SVG: win rate (y) against oracle queries (x), one line per
 * series, with an optional ± band (standard error over seeds). No plotting library needed,
 * and the file opens in any browser. */
#ifndef SEA_ALIGNMENT_PLOT_H
#define SEA_ALIGNMENT_PLOT_H

#include "runtime/status.h"

typedef struct sea_plot_series {
    const char *name;
    int n;
    const double *x, *y;
    const double *err;   /* (n) half-width of the band, or NULL */
} sea_plot_series;

sea_status sea_plot_svg(const char *path, const char *title, const char *xlabel, const char *ylabel,
                        const sea_plot_series *series, int n_series);

#endif
