/*
 * Cache-line round trip between two CPUs: two threads, pinned to the first two CPUs this process may
 * use, hand a counter back and forth through one cache line. Prints the mean round trip in nanoseconds.
 *
 * Why: on a virtual machine the host may place the two vCPUs on sibling hardware threads or on cores
 * that share a cache (a round trip of about 60 ns here) or farther apart (about 340 ns here), and may
 * move them while a benchmark runs. Every benchmark whose threads share data (a submitter and the
 * carriers, a hand-off pair) then runs in one of two modes, for Bobbin and the JDK alike, so the bench
 * scripts print this figure before and after their runs (bench/README.md, "The machine's two modes").
 *
 *   gcc -O2 -pthread -o core_pingpong core_pingpong.c && ./core_pingpong [round trips, default 300000]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* the flag alone on its 128 bytes (its line and the adjacent one the processor may fetch with it) */
static struct { _Alignas(128) atomic_long flag; char pad[128 - sizeof(atomic_long)]; } line;
static long rounds;

static void set_cpu(cpu_set_t *s, int cpu) {
    CPU_ZERO(s);
    CPU_SET(cpu, s);
}

/* The answering side: round 0 is a handshake before the clock starts, then rounds 1..rounds. */
static void *answer(void *unused) {
    (void) unused;
    for (long i = 0; i <= rounds; i++) {
        while (atomic_load_explicit(&line.flag, memory_order_acquire) != 2 * i + 1) { }
        atomic_store_explicit(&line.flag, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

static void bounce(long i) {
    atomic_store_explicit(&line.flag, 2 * i + 1, memory_order_release);
    while (atomic_load_explicit(&line.flag, memory_order_acquire) != 2 * i + 2) { }
}

int main(int argc, char **argv) {
    rounds = argc > 1 ? atol(argv[1]) : 300000;
    if (rounds < 1) { fprintf(stderr, "usage: core_pingpong [round trips >= 1]\n"); return 2; }
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) { perror("core_pingpong: affinity"); return 1; }
    int cpus[2], n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < 2; c++) if (CPU_ISSET(c, &allowed)) cpus[n++] = c;
    if (n < 2) { fprintf(stderr, "core_pingpong: needs two CPUs, this process may use %d\n", n); return 1; }
    cpu_set_t mine, theirs;
    set_cpu(&mine, cpus[0]);
    set_cpu(&theirs, cpus[1]);
    pthread_attr_t attr;   /* the answering thread starts on its own CPU, never behind this spinning one */
    if (pthread_attr_init(&attr) != 0 || pthread_attr_setaffinity_np(&attr, sizeof theirs, &theirs) != 0
            || pthread_setaffinity_np(pthread_self(), sizeof mine, &mine) != 0) {
        perror("core_pingpong: pin");
        return 1;
    }
    pthread_t t;
    if (pthread_create(&t, &attr, answer, NULL) != 0) { perror("core_pingpong: thread"); return 1; }
    bounce(0);             /* both threads running and the line warm before the clock starts */
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 1; i <= rounds; i++) bounce(i);
    clock_gettime(CLOCK_MONOTONIC, &b);
    pthread_join(t, NULL);
    double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / rounds;
    printf("%.1f\n", ns);
    return 0;
}
