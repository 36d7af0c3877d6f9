/* cat without libc, for benches/superserver.sh (x86-64 Linux): copies stdin to stdout
 * until end of file, then exits. With no dynamic loader and no libc start-up, starting
 * it costs little beyond the exec itself, so the superserver's own cost shows.
 *
 *   cc -O2 -static -nostdlib -fno-stack-protector -o tinycat superserver_tinycat.c
 */
static long sys3(long n, long a, long b, long c) {
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}
void _start(void) {
    static char buf[4096];
    long n;
    while ((n = sys3(0, 0, (long)buf, sizeof buf)) > 0)
        for (long off = 0; off < n;) {
            long w = sys3(1, 1, (long)(buf + off), n - off);
            if (w <= 0) goto out;
            off += w;
        }
out:
    sys3(60, 0, 0, 0);
    for (;;) {}
}
