/* An external judge program as the oracle.
 *
 * Protocol (one JSON object per line, UTF-8):
 *   sea -> judge stdin:   {"id": 7, "prompt": "...", "response": "..."}
 *   judge stdout -> sea:  {"id": 7, "score": 1.25}
 * Requests are sent one at a time and each answer is awaited (timeout per answer), so a judge
 * may be a simple read-a-line/print-a-line loop with no buffering worries beyond flushing.
 * The program is started once (/bin/sh -c COMMAND) and kept for the whole run. A judge that
 * exits, closes its output, times out, or answers anything but the expected object gives
 * SEA_ERR_EXTERNAL naming the command and what it said; the process is then reaped and the
 * oracle refuses further use (the caller's checkpoint and log stay as they were). Pipes are
 * socketpairs so writes to a dead judge fail with EPIPE instead of raising SIGPIPE (a library
 * must not touch the process's signal handling). */
#include "alignment/oracle.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

typedef struct judge {
    char *command;
    pid_t pid;
    int fd;            /* our end of the socketpair: write requests, read answers */
    double timeout_s;
    bool broken;
    char *rbuf;        /* bytes read but not yet consumed */
    size_t rlen, rcap;
    int64_t next_id;
} judge;

static void judge_stop(judge *j)
{
    if (j->fd >= 0) close(j->fd);
    j->fd = -1;
    if (j->pid > 0) {
        int status;
        if (j->broken) kill(-j->pid, SIGKILL);   /* misbehaved: no grace period */
        /* give it a moment to exit on EOF, then insist */
        for (int i = 0; i < 20; i++) {
            if (waitpid(j->pid, &status, WNOHANG) == j->pid) {
                j->pid = 0;
                return;
            }
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        kill(-j->pid, SIGKILL);   /* its own process group: children (e.g. a `sleep`) too */
        waitpid(j->pid, &status, 0);
        j->pid = 0;
    }
}

static void judge_free(void *ctx)
{
    judge *j = ctx;
    if (!j) return;
    judge_stop(j);
    free(j->command);
    free(j->rbuf);
    free(j);
}

static sea_status judge_fail(judge *j, const char *fmt, const char *detail)
{
    char what[600];
    snprintf(what, sizeof what, fmt, detail ? detail : "");
    int status = 0;
    char exitinfo[96] = "";
    /* a judge that closed its output is usually exiting: give it 200 ms to report why */
    bool reaped = false;
    for (int i = 0; i < 40 && j->pid > 0 && !reaped; i++) {
        reaped = waitpid(j->pid, &status, WNOHANG) == j->pid;
        if (!reaped) {
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (reaped) {
        if (WIFEXITED(status)) snprintf(exitinfo, sizeof exitinfo, " (judge exited with status %d)", WEXITSTATUS(status));
        else if (WIFSIGNALED(status)) snprintf(exitinfo, sizeof exitinfo, " (judge killed by signal %d)", WTERMSIG(status));
        j->pid = 0;
    }
    j->broken = true;
    judge_stop(j);
    return sea_error(SEA_ERR_EXTERNAL, "judge '%s': %s%s", j->command, what, exitinfo);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static sea_status send_all(judge *j, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = send(j->fd, buf, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return judge_fail(j, "writing a request failed: %s", strerror(errno));
        }
        buf += w;
        n -= (size_t)w;
    }
    return SEA_OK;
}

/* Read one line (without the newline) into *line (points into rbuf; valid until next read). */
static sea_status read_line(judge *j, char **line)
{
    double deadline = now_s() + j->timeout_s;
    for (;;) {
        char *nl = j->rlen ? memchr(j->rbuf, '\n', j->rlen) : NULL;
        if (nl) {
            *nl = '\0';
            *line = j->rbuf;
            return SEA_OK;
        }
        if (j->rlen > (1u << 20)) return judge_fail(j, "answer line longer than 1 MiB%s", "");
        double left = deadline - now_s();
        if (left <= 0) {
            char t[32];
            snprintf(t, sizeof t, "%.1f", j->timeout_s);
            return judge_fail(j, "no answer within %s s", t);
        }
        struct pollfd pfd = {.fd = j->fd, .events = POLLIN};
        int r = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;   /* timeout is re-checked above */
        if (j->rcap - j->rlen < 4096) {
            size_t nc = j->rcap ? j->rcap * 2 : 8192;
            char *nb = realloc(j->rbuf, nc);
            if (!nb) return sea_error(SEA_ERR_OOM, "judge: read buffer");
            j->rbuf = nb;
            j->rcap = nc;
        }
        ssize_t got = recv(j->fd, j->rbuf + j->rlen, j->rcap - j->rlen - 1, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return judge_fail(j, "reading an answer failed: %s", strerror(errno));
        if (got == 0) return judge_fail(j, "closed its output before answering%s", "");
        j->rlen += (size_t)got;
    }
}

static void consume_line(judge *j)
{
    char *end = j->rbuf + strlen(j->rbuf) + 1;   /* the NUL that replaced '\n' */
    size_t used = (size_t)(end - j->rbuf);
    memmove(j->rbuf, end, j->rlen - used);
    j->rlen -= used;
}

bool sea_judge_answer_parse(const char *line, int64_t id, double *score, char *why, size_t why_n)
{
    cJSON *obj = cJSON_Parse(line);
    const cJSON *jid = cJSON_GetObjectItemCaseSensitive(obj, "id"), *jsc = cJSON_GetObjectItemCaseSensitive(obj, "score");
    const char *bad = NULL;
    if (!cJSON_IsObject(obj)) bad = "answered something that is not a JSON object";
    /* compared as doubles: ids stay below 2^53, and a huge or fractional "id" is no cast's UB */
    else if (!cJSON_IsNumber(jid) || jid->valuedouble != (double)id)
        bad = "answer has a missing or wrong \"id\" (expected the request's id)";
    else if (!cJSON_IsNumber(jsc) || !isfinite(jsc->valuedouble))
        bad = "answer has no finite numeric \"score\"";
    else
        *score = jsc->valuedouble;
    cJSON_Delete(obj);
    if (bad) snprintf(why, why_n, "%s: '%.150s'", bad, line);
    return !bad;
}

static sea_status judge_score(void *ctx, int n, const char *const *prompts, const char *const *responses,
                              double *scores, int *n_done)
{
    judge *j = ctx;
    *n_done = 0;
    if (j->broken || j->fd < 0)
        return sea_error(SEA_ERR_EXTERNAL, "judge '%s': not running (failed earlier)", j->command);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    sea_status st = SEA_OK;
    for (int i = 0; i < n && !st; i++) {
        int64_t id = j->next_id++;
        char head[64];
        snprintf(head, sizeof head, "{\"id\":%lld,\"prompt\":", (long long)id);
        len = 0;
        if (cap < 256) {
            cap = 256;
            char *nb = realloc(buf, cap);
            if (!nb) { st = sea_error(SEA_ERR_OOM, "judge request"); break; }
            buf = nb;
        }
        strcpy(buf, head);
        len = strlen(head);
        st = sea_json_escape(prompts[i], &buf, &len, &cap);
        if (!st) {
            const char *mid = ",\"response\":";
            size_t need = len + strlen(mid) + 1;
            if (need > cap) {
                char *nb = realloc(buf, need * 2);
                if (!nb) { st = sea_error(SEA_ERR_OOM, "judge request"); break; }
                buf = nb;
                cap = need * 2;
            }
            strcpy(buf + len, mid);
            len += strlen(mid);
            st = sea_json_escape(responses[i], &buf, &len, &cap);
        }
        if (!st) {
            if (len + 3 > cap) {
                char *nb = realloc(buf, len + 3);
                if (!nb) { st = sea_error(SEA_ERR_OOM, "judge request"); break; }
                buf = nb;
                cap = len + 3;
            }
            buf[len++] = '}';
            buf[len++] = '\n';
            buf[len] = '\0';
            st = send_all(j, buf, len);
        }
        char *line = NULL;
        if (!st) st = read_line(j, &line);
        if (st) break;
        char why[300];
        if (!sea_judge_answer_parse(line, id, &scores[i], why, sizeof why)) st = judge_fail(j, "%s", why);
        if (!st) {
            consume_line(j);
            *n_done = i + 1;
        }
    }
    free(buf);
    return st;
}

static const sea_oracle_vtable judge_vt = {"judge", judge_score, judge_free};

sea_status sea_oracle_judge_open(const char *command, double timeout_s, void **ctx, const sea_oracle_vtable **vt)
{
    if (!command || !*command) return sea_error(SEA_ERR_INVALID, "--oracle judge: empty command");
    judge *j = calloc(1, sizeof *j);
    if (!j) return sea_error(SEA_ERR_OOM, "judge");
    j->fd = -1;
    j->timeout_s = timeout_s;
    j->command = strdup(command);
    int sv[2];
    if (!j->command || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        judge_free(j);
        return sea_error(SEA_ERR_EXTERNAL, "judge '%s': socketpair: %s", command, strerror(errno));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    char *argv[] = {"/bin/sh", "-c", j->command, NULL};
    int rc = posix_spawn(&j->pid, "/bin/sh", &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(sv[1]);
    j->fd = sv[0];
    if (rc != 0) {
        j->pid = 0;
        judge_free(j);
        return sea_error(SEA_ERR_EXTERNAL, "judge '%s': cannot start /bin/sh: %s", command, strerror(rc));
    }
    *ctx = j;
    *vt = &judge_vt;
    return SEA_OK;
}
