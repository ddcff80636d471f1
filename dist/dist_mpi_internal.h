/* Shared by dist_mpi.c (world, groups, bounded waits, liveness pings) and dist_mpi_ops.c
 * (the collectives built on them). Not a public header. */
#ifndef SEA_DIST_MPI_INTERNAL_H
#define SEA_DIST_MPI_INTERNAL_H

#include <mpi.h>
#include <stdint.h>

#include "dist/dist.h"

#define SEA_DIST_TAG_XFER 7304 /* sea_dist_transfer, on the group's communicator */

/* Per process, shared by the world and its groups: a private duplicate of MPI_COMM_WORLD
 * that carries only liveness pings, and the pings in flight to each world rank. */
typedef struct sea_dist_ctl {
    MPI_Comm comm;
    int size;
    MPI_Request *ping_req, *pong_req; /* (size) outstanding ping to / pong from each rank */
    int *ping_buf, *pong_buf;         /* (size) their payloads (must outlive the requests) */
} sea_dist_ctl;

struct sea_dist {
    bool mpi;            /* the world, and MPI was initialized by us */
    bool group;          /* a sub-group: owns comm and world[] */
    MPI_Comm comm;
    int rank, size;
    int *world;          /* (size) world rank of each member */
    sea_dist_ctl *ctl;   /* NULL in a one-rank world */
    char name[32];       /* "" for the world, "learners", ... (messages) */
    double timeout_s;
    uint64_t seq;        /* collective counter: identical on every member */
};

double sea_dist_now(void);
sea_status sea_dist_mpi_fail(const sea_dist *d, const char *what, int rc);
/* Every member reports to member 0 before a collective, so member 0 can name the ranks that
 * never arrive. Increments d->seq. */
sea_status sea_dist_check_in(sea_dist *d, const char *what);
/* Wait for `req` with the deadline policy described in dist.h. peer >= 0: the wait depends on
 * that member only (point to point); -1: on the whole group (a collective). */
sea_status sea_dist_wait(sea_dist *d, MPI_Request *req, const char *what, int peer);

#endif
