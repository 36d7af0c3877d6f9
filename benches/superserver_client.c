/* Connection-rate client for benches/superserver.sh.
 *
 *   superserver_client HOST PORT CONNECTIONS WORKERS
 *
 * Each worker process opens CONNECTIONS connections one after another; on each it
 * sends a short line, half-closes, reads until the server closes, and checks that the
 * line came back. Prints the connections per second over all workers (wall clock).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char line[] = "superserver bench\n";

static int one(const struct sockaddr_in *to) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return -1;
    if (connect(s, (const struct sockaddr *)to, sizeof *to) < 0) { close(s); return -1; }
    if (write(s, line, sizeof line - 1) != (ssize_t)(sizeof line - 1)) { close(s); return -1; }
    shutdown(s, SHUT_WR);
    char buf[256];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(s, buf + got, sizeof buf - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
        if (got == sizeof buf) break;
    }
    close(s);
    return (got == sizeof line - 1 && memcmp(buf, line, got) == 0) ? 0 : -1;
}

static int worker(const struct sockaddr_in *to, long count) {
    long failures = 0;
    for (long i = 0; i < count; i++)
        if (one(to) < 0) failures++;
    if (failures) fprintf(stderr, "worker %d: %ld of %ld connections failed\n", getpid(), failures, count);
    return failures ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s HOST PORT CONNECTIONS WORKERS\n", argv[0]);
        return 2;
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) { fprintf(stderr, "bad address\n"); return 2; }
    long count = atol(argv[3]);
    int workers = atoi(argv[4]);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int w = 0; w < workers; w++) {
        pid_t pid = fork();
        if (pid == 0) _exit(worker(&to, count));
        if (pid < 0) { perror("fork"); return 1; }
    }
    int failed = 0, status;
    while (wait(&status) > 0)
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%.0f\n", (double)count * workers / secs);
    return failed;
}
