// The bench's C client and server, compiled with `cc` at bench time into a temporary folder.
// client <addr> <port> <count> <rounds> <warmup>: sequential connections; each is timed from
//   socket() to close(), 2 s connect/read timeout (rounds = 0: connect + close; rounds > 0: connect, that many 1-byte
//   echo round trips, close). Closes with SO_LINGER 0 (RST: no TIME_WAIT, so ports never run
//   out). Prints one latency in ns per line, then `total <ns>`, then `errors <n> <errno name>`.
// server <port>: accepts on 0.0.0.0:<port>, echoes every byte, one connection at a time
//   (the client is sequential). Prints `ready`.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

const CLIENT_C = String.raw`
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
static long long now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }
static int one(struct sockaddr_in *sa, int rounds) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return errno;
  int on = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  struct linger lg = { 1, 0 }; setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  struct timeval tv = { 2, 0 }; /* a connect or read that is not answered fails after 2 s */
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)sa, sizeof *sa) != 0) { int e = errno; close(fd); return e; }
  char c = 'x';
  for (int r = 0; r < rounds; r++) {
    if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1) { int e = errno ? errno : EPIPE; close(fd); return e; }
  }
  close(fd);
  return 0;
}
int main(int argc, char **argv) {
  if (argc != 6) { fprintf(stderr, "usage: client addr port count rounds warmup\n"); return 2; }
  struct sockaddr_in sa; memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET; sa.sin_port = htons(atoi(argv[2]));
  if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) { fprintf(stderr, "bad address\n"); return 2; }
  int count = atoi(argv[3]), rounds = atoi(argv[4]), warmup = atoi(argv[5]);
  int errors = 0, lastErr = 0;
  for (int i = 0; i < warmup; i++) { int e = one(&sa, rounds); if (e) { errors++; lastErr = e; } }
  if (errors == warmup && warmup > 0) { printf("errors %d %s\n", errors, strerror(lastErr)); return 1; }
  long long *lat = malloc(sizeof(long long) * (count > 0 ? count : 1));
  long long t0 = now_ns();
  int ok = 0; errors = 0;
  for (int i = 0; i < count; i++) {
    long long a = now_ns();
    int e = one(&sa, rounds);
    long long b = now_ns();
    if (e) { errors++; lastErr = e; } else lat[ok++] = b - a;
  }
  long long total = now_ns() - t0;
  for (int i = 0; i < ok; i++) printf("%lld\n", lat[i]);
  printf("total %lld\n", total);
  printf("errors %d %s\n", errors, errors ? strerror(lastErr) : "-");
  return 0;
}
`;

const SERVER_C = String.raw`
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc != 2) return 2;
  signal(SIGPIPE, SIG_IGN);
  int ls = socket(AF_INET, SOCK_STREAM, 0), on = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  struct sockaddr_in sa; memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET; sa.sin_port = htons(atoi(argv[1])); sa.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(ls, (struct sockaddr *)&sa, sizeof sa) || listen(ls, 4096)) { perror("listen"); return 1; }
  printf("ready\n"); fflush(stdout);
  char buf[4096];
  for (;;) {
    int fd = accept(ls, NULL, NULL);
    if (fd < 0) continue;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    for (;;) { ssize_t n = read(fd, buf, sizeof buf); if (n <= 0 || write(fd, buf, n) != n) break; }
    close(fd);
  }
}
`;

/** Compiles both programs; returns their paths and a cleanup. */
export async function buildNative() {
  const dir = await mkdtemp(join(tmpdir(), 'balanced-bench-'));
  try {
    for (const [name, src] of [['client', CLIENT_C], ['server', SERVER_C]]) {
      await writeFile(join(dir, `${name}.c`), src);
      await execFileP('cc', ['-O2', '-Wall', '-o', join(dir, name), join(dir, `${name}.c`)]);
    }
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`compiling the bench's C programs failed (is cc installed?): ${e.stderr || e.message}`, { cause: e });
  }
  return { client: join(dir, 'client'), server: join(dir, 'server'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Parses the client's output into latencies (µs), wall time and errors. */
export function parseClientOutput(text) {
  const latUs = [];
  let totalNs = 0, errors = 0, lastError = '-';
  for (const line of text.split('\n')) {
    if (/^\d+$/.test(line)) latUs.push(Number(line) / 1000);
    else if (line.startsWith('total ')) totalNs = Number(line.slice(6));
    else if (line.startsWith('errors ')) {
      const [, n, ...rest] = line.split(' ');
      errors = Number(n);
      lastError = rest.join(' ');
    }
  }
  return { latUs, totalNs, errors, lastError };
}
