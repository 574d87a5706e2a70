/*
 * The echo benchmark's independent load client (bench/README.md, "Echo (loopback)"): a closed loop over
 * N TCP connections to 127.0.0.1, one message in flight per connection, written in C on epoll so that
 * no figure depends on a client built with Bobbin or the JVM.
 *
 *   echo_client --port P --connections C [--size 64] [--warmup-ms 3000] [--window-ms 8000]
 *               [--server-pid PID] [--clk-tck 100]
 *
 * Design. All connections are opened up front (blocking connect, then TCP_NODELAY and O_NONBLOCK) and
 * served by one thread with one level-triggered epoll set. Each connection sends a message of `size`
 * bytes: an 8-byte little-endian sequence number, then bytes that depend on the connection, the sequence
 * number and the position, so a lost, duplicated, reordered or corrupted byte is caught. When the whole
 * echo has arrived and matches, the round trip is counted (and its latency, send to last byte, recorded)
 * if it ended inside the measured window, and the next message goes out. A partial write waits for
 * EPOLLOUT. A connection that fails (EOF, reset, wrong byte) counts as one error and is closed. At the
 * end every connection shuts down its sending side and reads until the server closes, so that no
 * connection ends in a reset.
 *
 * Phases: warm-up, then the window, bounded by two samples of CPU ticks from /proc: the server's
 * (utime + stime of /proc/<pid>/stat), this process's, and the machine's (the aggregate cpu line of
 * /proc/stat). The latency histogram has 128 linear sub-buckets per power of two of nanoseconds (under
 * 1 % error). all_served_ms is the time from the first message to the first echo of the last connection
 * to get one (NaN if some connection got none): how long a server, busy with the connections it already
 * serves, takes to accept and answer them all. Output: one line, the same RESULT key=value format as the Java client (EchoClientMain),
 * so the driver (EchoBench) reads either. Exit status 0 when every connection echoed every message
 * correctly, 1 otherwise, 2 for bad arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define SUB_BITS 7                      /* 128 sub-buckets per power of two */
#define SUB_COUNT (1 << SUB_BITS)
#define BUCKETS (64 * SUB_COUNT)
#define EPOLL_BATCH 256
#define EPOLL_TIMEOUT_MS 100
#define CONNECT_TIMEOUT_S 5
#define DRAIN_TIMEOUT_MS 2000            /* bounds the clean close at the end */

enum phase { WARMUP, MEASURE, STOP };

struct conn {
    int fd;
    uint64_t seq;
    uint64_t sent_at;       /* ns, when the current message's first byte was written */
    int written;            /* bytes of the current message written */
    int received;           /* bytes of its echo received */
    int alive;
    unsigned char *out;     /* the current message */
};

static uint64_t hist[BUCKETS];
static uint64_t hist_total, hist_max;
static long errors;
static char first_error[256];

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static int bucket_of(uint64_t v) {
    if (v < SUB_COUNT) return (int) v;
    int exp = 63 - __builtin_clzll(v);                    /* >= SUB_BITS */
    int shift = exp - SUB_BITS;
    return ((shift + 1) << SUB_BITS) | (int) ((v >> shift) & (SUB_COUNT - 1));
}

/* The middle of a bucket's range of values. */
static double bucket_value(int b) {
    if (b < SUB_COUNT) return b;
    int shift = (b >> SUB_BITS) - 1;
    uint64_t low = ((uint64_t) (SUB_COUNT | (b & (SUB_COUNT - 1)))) << shift;
    return (double) low + ((double) (1ull << shift) - 1) / 2.0;
}

static void record(uint64_t ns) {
    hist[bucket_of(ns)]++;
    hist_total++;
    if (ns > hist_max) hist_max = ns;
}

static double percentile_us(double pct) {
    if (hist_total == 0) return NAN;
    uint64_t target = (uint64_t) (pct / 100.0 * (double) hist_total + 0.5);
    if (target < 1) target = 1;
    uint64_t seen = 0;
    for (int b = 0; b < BUCKETS; b++) {
        seen += hist[b];
        if (seen >= target) return bucket_value(b) / 1e3;
    }
    return (double) hist_max / 1e3;
}

static void fail(struct conn *c, int epfd, const char *what) {
    errors++;
    if (first_error[0] == 0) snprintf(first_error, sizeof first_error, "connection %d: %s", c->fd, what);
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->alive = 0;
}

static unsigned char expected_byte(int index, uint64_t seq, int i) {
    return (unsigned char) (index * 31u + (unsigned) seq * 7u + (unsigned) i * 13u + 1u);
}

static void fill(struct conn *c, int index, int size) {
    for (int i = 0; i < 8; i++) c->out[i] = (unsigned char) (c->seq >> (8 * i));
    for (int i = 8; i < size; i++) c->out[i] = expected_byte(index, c->seq, i);
}

/* Writes what is left of the current message; 0 on success (possibly partial), -1 on error. */
static int send_rest(struct conn *c, int size, int epfd) {
    while (c->written < size) {
        ssize_t n = write(c->fd, c->out + c->written, (size_t) (size - c->written));
        if (n > 0) {
            c->written += (int) n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT };
            ev.data.ptr = c;
            epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
            return 0;
        } else {
            return -1;
        }
    }
    return 0;
}

static long long proc_ticks(const char *path) {   /* utime + stime of a /proc/<pid>/stat file, or -1 */
    char buf[4096];
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');                    /* the command name may hold spaces and ')' */
    if (!p) return -1;
    unsigned long long utime, stime;
    /* after ')': state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return -1;
    return (long long) (utime + stime);
}

static int machine_ticks(long long *busy, long long *total) {
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return -1;
    unsigned long long v[8];
    int ok = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (ok != 8) return -1;
    long long t = 0;
    for (int i = 0; i < 8; i++) t += (long long) v[i];
    *total = t;
    *busy = t - (long long) (v[3] + v[4]);          /* minus idle and iowait */
    return 0;
}

static void usage(const char *msg) {
    fprintf(stderr, "echo_client: %s\nusage: echo_client --port P --connections C [--size 64] [--warmup-ms 3000]"
                    " [--window-ms 8000] [--server-pid PID] [--clk-tck 100]\n", msg);
    exit(2);
}

static long long parse_num(const char *name, const char *s, long long min, long long max) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *s == 0 || *end != 0 || v < min || v > max) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s must be a whole number from %lld to %lld: '%s'", name, min, max, s);
        usage(msg);
    }
    return v;
}

int main(int argc, char **argv) {
    long long port = -1, connections = -1, size = 64, warmup_ms = 3000, window_ms = 8000, server_pid = 0, clk_tck = 100;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) usage("every option needs a value");
        const char *v = argv[++i];
        if (!strcmp(a, "--port")) port = parse_num(a, v, 1, 65535);
        else if (!strcmp(a, "--connections")) connections = parse_num(a, v, 1, 100000);
        else if (!strcmp(a, "--size")) size = parse_num(a, v, 8, 65536);
        else if (!strcmp(a, "--warmup-ms")) warmup_ms = parse_num(a, v, 0, 600000);
        else if (!strcmp(a, "--window-ms")) window_ms = parse_num(a, v, 1, 600000);
        else if (!strcmp(a, "--server-pid")) server_pid = parse_num(a, v, 0, 1LL << 40);
        else if (!strcmp(a, "--clk-tck")) clk_tck = parse_num(a, v, 1, 1000000);
        else { char msg[160]; snprintf(msg, sizeof msg, "unknown option %s", a); usage(msg); }
    }
    if (port < 0 || connections < 0) usage("--port and --connections are required");

    int n = (int) connections, sz = (int) size;
    struct conn *conns = calloc((size_t) n, sizeof *conns);
    unsigned char *outbufs = malloc((size_t) n * (size_t) sz);
    unsigned char *in = malloc((size_t) sz);
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!conns || !outbufs || !in || epfd < 0) { perror("echo_client: setup"); return 1; }

    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = { .tv_sec = CONNECT_TIMEOUT_S };
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) { perror("echo_client: socket"); return 1; }
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);   /* bounds the blocking connect */
        if (connect(fd, (struct sockaddr *) &addr, sizeof addr) < 0) {
            fprintf(stderr, "echo_client: connect to 127.0.0.1:%lld (connection %d): %s\n", port, i, strerror(errno));
            return 1;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        conns[i] = (struct conn) { .fd = fd, .alive = 1, .out = outbufs + (size_t) i * (size_t) sz };
        struct epoll_event ev = { .events = EPOLLIN };
        ev.data.ptr = &conns[i];
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) { perror("echo_client: epoll_ctl"); return 1; }
    }

    char server_stat[64], self_stat[] = "/proc/self/stat";
    snprintf(server_stat, sizeof server_stat, "/proc/%lld/stat", server_pid);
    uint64_t start = now_ns(), last_first_echo = start;
    long served = 0;
    uint64_t measure_at = start + (uint64_t) warmup_ms * 1000000ull;
    uint64_t stop_at = measure_at + (uint64_t) window_ms * 1000000ull;
    enum phase phase = WARMUP;
    long long s0 = -1, s1 = -1, c0 = -1, c1 = -1, mb0 = 0, mt0 = 0, mb1 = 0, mt1 = 0;
    uint64_t t0 = 0, t1 = 0, round_trips = 0;
    int live = n;

    for (int i = 0; i < n; i++) {
        fill(&conns[i], i, sz);
        conns[i].sent_at = now_ns();
        if (send_rest(&conns[i], sz, epfd) < 0) { fail(&conns[i], epfd, strerror(errno)); live--; }
    }
    if (warmup_ms == 0) {
        phase = MEASURE;
        s0 = server_pid > 0 ? proc_ticks(server_stat) : -1;
        c0 = proc_ticks(self_stat);
        machine_ticks(&mb0, &mt0);
        t0 = now_ns();
    }

    struct epoll_event events[EPOLL_BATCH];
    while (phase != STOP && live > 0) {
        int ready = epoll_wait(epfd, events, EPOLL_BATCH, EPOLL_TIMEOUT_MS);
        if (ready < 0 && errno != EINTR) { perror("echo_client: epoll_wait"); return 1; }
        for (int e = 0; e < ready; e++) {
            struct conn *c = events[e].data.ptr;
            if (!c->alive) continue;
            int index = (int) (c - conns);
            if ((events[e].events & EPOLLOUT) && c->written < sz) {
                if (send_rest(c, sz, epfd) < 0) { fail(c, epfd, strerror(errno)); live--; continue; }
                if (c->written == sz) {
                    struct epoll_event ev = { .events = EPOLLIN };
                    ev.data.ptr = c;
                    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
                }
            }
            if (!(events[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
            ssize_t got = read(c->fd, in, (size_t) (sz - c->received));
            if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (got <= 0) { fail(c, epfd, got == 0 ? "closed by the server" : strerror(errno)); live--; continue; }
            if (c->received + got > c->written) { fail(c, epfd, "echoed bytes it was not sent"); live--; continue; }
            if (memcmp(in, c->out + c->received, (size_t) got) != 0) { fail(c, epfd, "wrong bytes echoed"); live--; continue; }
            c->received += (int) got;
            if (c->received < sz) continue;
            uint64_t now = now_ns();
            if (c->seq == 0) {
                served++;
                last_first_echo = now;
            }
            if (phase == MEASURE && now < stop_at) {
                record(now - c->sent_at);
                round_trips++;
            }
            c->seq++;
            c->written = 0;
            c->received = 0;
            fill(c, index, sz);
            c->sent_at = now;
            if (send_rest(c, sz, epfd) < 0) { fail(c, epfd, strerror(errno)); live--; }
        }
        uint64_t now = now_ns();
        if (phase == WARMUP && now >= measure_at) {
            s0 = server_pid > 0 ? proc_ticks(server_stat) : -1;
            c0 = proc_ticks(self_stat);
            machine_ticks(&mb0, &mt0);
            t0 = now_ns();
            phase = MEASURE;
            stop_at = t0 + (uint64_t) window_ms * 1000000ull;
        } else if (phase == MEASURE && now >= stop_at) {
            s1 = server_pid > 0 ? proc_ticks(server_stat) : -1;
            c1 = proc_ticks(self_stat);
            machine_ticks(&mb1, &mt1);
            t1 = now_ns();
            phase = STOP;
        }
    }
    if (phase != STOP) {          /* every connection failed before the window ended */
        s1 = server_pid > 0 ? proc_ticks(server_stat) : -1;
        c1 = proc_ticks(self_stat);
        machine_ticks(&mb1, &mt1);
        t1 = now_ns();
        if (t0 == 0) t0 = t1;
    }
    /*
     * End every connection cleanly: no more requests (shutdown of the sending side), read what is still
     * coming until the server closes its side, then close. Closing with unread bytes would send a reset,
     * which servers report as an error; the drain is bounded by DRAIN_TIMEOUT_MS.
     */
    int open_conns = 0;
    for (int i = 0; i < n; i++) {
        if (!conns[i].alive) continue;
        shutdown(conns[i].fd, SHUT_WR);
        struct epoll_event ev = { .events = EPOLLIN };
        ev.data.ptr = &conns[i];
        epoll_ctl(epfd, EPOLL_CTL_MOD, conns[i].fd, &ev);
        open_conns++;
    }
    uint64_t drain_until = now_ns() + (uint64_t) DRAIN_TIMEOUT_MS * 1000000ull;
    while (open_conns > 0 && now_ns() < drain_until) {
        int ready = epoll_wait(epfd, events, EPOLL_BATCH, EPOLL_TIMEOUT_MS);
        for (int e = 0; e < ready; e++) {
            struct conn *c = events[e].data.ptr;
            if (!c->alive) continue;
            ssize_t got = read(c->fd, in, (size_t) sz);
            if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (got <= 0) {                     /* the server closed its side (or reset it): done */
                epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                c->alive = 0;
                open_conns--;
            }
        }
    }
    for (int i = 0; i < n; i++) if (conns[i].alive) close(conns[i].fd);

    double seconds = (double) (t1 - t0) / 1e9;
    double tick_us = 1e6 / (double) clk_tck;
    double server_ticks = (s0 >= 0 && s1 >= 0) ? (double) (s1 - s0) : NAN;
    double client_ticks = (c0 >= 0 && c1 >= 0) ? (double) (c1 - c0) : NAN;
    double rt = (double) round_trips;
    printf("RESULT connections=%d size=%d client_threads=1 seconds=%.3f round_trips=%llu rt_per_s=%.1f"
           " p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f"
           " server_cpu_us_per_rt=%.3f client_cpu_us_per_rt=%.3f"
           " server_cores=%.3f client_cores=%.3f machine_busy_cores=%.3f errors=%ld all_served_ms=%.1f\n",
           n, sz, seconds, (unsigned long long) round_trips, seconds > 0 ? rt / seconds : NAN,
           percentile_us(50), percentile_us(99), percentile_us(99.9), hist_total ? (double) hist_max / 1e3 : NAN,
           rt > 0 ? server_ticks * tick_us / rt : NAN, rt > 0 ? client_ticks * tick_us / rt : NAN,
           seconds > 0 ? server_ticks / (double) clk_tck / seconds : NAN,
           seconds > 0 ? client_ticks / (double) clk_tck / seconds : NAN,
           seconds > 0 && mt1 > mt0 ? (double) (mb1 - mb0) / (double) clk_tck / seconds : NAN, errors,
           served == n ? (double) (last_first_echo - start) / 1e6 : NAN);
    fflush(stdout);
    if (errors > 0) {
        fprintf(stderr, "echo_client: %ld error(s); first: %s\n", errors, first_error);
        return 1;
    }
    return 0;
}
