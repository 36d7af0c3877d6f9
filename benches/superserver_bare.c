#define _GNU_SOURCE
/* The ceiling for a superserver's fork/exec path, for benches/superserver.sh: a bare
 * accept + posix_spawn loop with nothing else (no limits, no logging, no reaping).
 *
 *   superserver_bare PORT PROGRAM        (listens on 127.0.0.1:PORT)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s PORT PROGRAM\n", argv[0]);
        return 2;
    }
    signal(SIGCHLD, SIG_IGN); /* the kernel reaps */
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1]))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, SOMAXCONN) < 0) {
        perror("listen");
        return 1;
    }
    char *args[] = {argv[2], NULL};
    for (;;) {
        int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) continue;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, c, 0);
        posix_spawn_file_actions_adddup2(&fa, c, 1);
        posix_spawn_file_actions_adddup2(&fa, c, 2);
        pid_t pid;
        posix_spawn(&pid, argv[2], &fa, NULL, args, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(c);
    }
}
