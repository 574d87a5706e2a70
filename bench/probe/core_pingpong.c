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

static _Alignas(128) atomic_long flag;   /* alone on its line (and the adjacent one) */
static long rounds;
static int cpu_b;

static int pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    return pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static void *answer(void *unused) {
    (void) unused;
    if (pin(cpu_b) != 0) { perror("core_pingpong: pin"); exit(1); }
    for (long i = 0; i < rounds; i++) {
        while (atomic_load_explicit(&flag, memory_order_acquire) != 2 * i + 1) { }
        atomic_store_explicit(&flag, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

int main(int argc, char **argv) {
    rounds = argc > 1 ? atol(argv[1]) : 300000;
    if (rounds < 1) { fprintf(stderr, "usage: core_pingpong [round trips >= 1]\n"); return 2; }
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) { perror("core_pingpong: affinity"); return 1; }
    int cpus[2], n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < 2; c++) if (CPU_ISSET(c, &allowed)) cpus[n++] = c;
    if (n < 2) { fprintf(stderr, "core_pingpong: needs two CPUs, this process may use %d\n", n); return 1; }
    cpu_b = cpus[1];
    if (pin(cpus[0]) != 0) { perror("core_pingpong: pin"); return 1; }
    pthread_t t;
    if (pthread_create(&t, NULL, answer, NULL) != 0) { perror("core_pingpong: thread"); return 1; }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < rounds; i++) {
        atomic_store_explicit(&flag, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&flag, memory_order_acquire) != 2 * i + 2) { }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    pthread_join(t, NULL);
    double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / rounds;
    printf("%.1f\n", ns);
    return 0;
}
