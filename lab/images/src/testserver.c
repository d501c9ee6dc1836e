/*
 * knode testserver: the echo server of the lab's network tests (image knode.local/testserver).
 *
 * Serve mode (default): `testserver [--http-port=8083] [--udp-port=8081]`
 *   HTTP  GET /hostname        the hostname (the pod name), no newline
 *         GET /healthz         ok
 *         GET /clientip        ip:port the request came from (to check there is no NAT)
 *         GET /echo?msg=X      X
 *         GET /version         $KNODE_TESTSERVER_VERSION (differs between image tags)
 *         GET /exit?code=N     answers, then exits with N (restart tests)
 *         GET /dial?request=hostname&protocol=http|udp&host=IP&port=N&tries=T
 *                              asks another server T times from inside this pod and answers
 *                              {"responses":[...],"errors":[...]} (the conformance tests' probe)
 *   UDP   "hostname" -> hostname, "echo X" -> X, "clientip" -> ip:port
 * Client mode: `testserver udp HOST PORT MESSAGE [TIMEOUT_S]` prints the answer; exit 1 on
 *   timeout (busybox nc cannot speak UDP).
 *
 * One process, one poll loop; only /dial forks (it waits on other servers). PID 1 ignores signals
 * without a handler, so SIGTERM/SIGINT handlers make it stoppable. Linked statically (gcc -static)
 * so the busybox image needs no libc. Written for knode.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define REQ_MAX 8192
#define BODY_MAX 65536

static void on_stop(int sig) {
  (void)sig;
  static const char msg[] = "testserver: shutting down\n";
  (void)!write(1, msg, sizeof msg - 1);
  _exit(0);
}

static void set_timeout(int fd, int ms) {
  struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static void host_name(char *buf, size_t n) {
  if (gethostname(buf, n) != 0) snprintf(buf, n, "unknown");
  buf[n - 1] = 0;
}

static void addr_text(const struct sockaddr_in *a, char *buf, size_t n) {
  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
  snprintf(buf, n, "%s:%d", ip, ntohs(a->sin_port));
}

static int resolve(const char *host, int port, struct sockaddr_in *out) {
  memset(out, 0, sizeof *out);
  out->sin_family = AF_INET;
  out->sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, host, &out->sin_addr) == 1) return 0;
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_INET;
  if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) return -1;
  out->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
  freeaddrinfo(res);
  return 0;
}

static int listen_on(int type, int port) {
  int fd = socket(AF_INET, type, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  a.sin_port = htons((unsigned short)port);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || (type == SOCK_STREAM && listen(fd, 128) != 0)) {
    fprintf(stderr, "testserver: cannot listen on %s port %d: %s\n", type == SOCK_STREAM ? "tcp" : "udp", port, strerror(errno));
    exit(2);
  }
  return fd;
}

/* Value of query parameter `key` in `query`, percent-decoded into out. Returns 0 when found. */
static int query_param(const char *query, const char *key, char *out, size_t n) {
  size_t klen = strlen(key);
  for (const char *p = query; p && *p;) {
    if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
      const char *v = p + klen + 1;
      size_t o = 0;
      while (*v && *v != '&' && o + 1 < n) {
        if (*v == '%' && v[1] && v[2]) {
          char hex[3] = {v[1], v[2], 0};
          out[o++] = (char)strtol(hex, NULL, 16);
          v += 3;
        } else {
          out[o++] = *v == '+' ? ' ' : *v;
          v++;
        }
      }
      out[o] = 0;
      return 0;
    }
    p = strchr(p, '&');
    if (p) p++;
  }
  out[0] = 0;
  return -1;
}

static void respond(int fd, int code, const char *type, const char *body) {
  char head[256];
  const char *text = code == 200 ? "OK" : code == 404 ? "Not Found" : "Bad Request";
  int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                   code, text, type, strlen(body));
  (void)!write(fd, head, (size_t)n);
  (void)!write(fd, body, strlen(body));
}

/* /bytes?n=N: N bytes of 'a'..'z' repeating (byte i is 'a' + i % 26), at most 64 MiB. */
static void respond_bytes(int fd, const char *n_text) {
  char *end = NULL;
  unsigned long long n = strtoull(n_text, &end, 10);
  if (n_text[0] == 0 || *end != 0 || n > 64ULL * 1024 * 1024) {
    respond(fd, 400, "text/plain", "n must be an integer from 0 to 67108864\n");
    return;
  }
  char head[256];
  int h = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %llu\r\nConnection: close\r\n\r\n", n);
  if (write(fd, head, (size_t)h) != h) return;
  static char chunk[26 * 2048];
  for (size_t i = 0; i < sizeof chunk; i++) chunk[i] = (char)('a' + i % 26);
  /* start each write at the chunk offset that keeps byte i == 'a' + i % 26, partial writes included */
  for (unsigned long long off = 0; off < n;) {
    size_t k = (size_t)(off % 26);
    size_t part = sizeof chunk - k;
    if (n - off < part) part = (size_t)(n - off);
    ssize_t w = write(fd, chunk + k, part);
    if (w <= 0) return;
    off += (unsigned long long)w;
  }
}

/* One UDP question to host:port; the answer goes to out. */
static int ask_udp(const struct sockaddr_in *to, const char *msg, char *out, size_t n, int timeout_ms) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return -1;
  set_timeout(fd, timeout_ms);
  ssize_t r = -1;
  if (sendto(fd, msg, strlen(msg), 0, (const struct sockaddr *)to, sizeof *to) >= 0) r = recv(fd, out, n - 1, 0);
  close(fd);
  if (r < 0) return -1;
  out[r] = 0;
  return 0;
}

/* One HTTP GET /path to host:port; the body goes to out. */
static int ask_http(const struct sockaddr_in *to, const char *path, char *out, size_t n, int timeout_ms) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  set_timeout(fd, timeout_ms);
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int rc = connect(fd, (const struct sockaddr *)to, sizeof *to);
  if (rc != 0 && errno == EINPROGRESS) {
    struct pollfd p = {fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (poll(&p, 1, timeout_ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) rc = 0;
  }
  fcntl(fd, F_SETFL, flags);
  if (rc != 0) {
    close(fd);
    return -1;
  }
  char req[1024];
  int len = snprintf(req, sizeof req, "GET /%s HTTP/1.0\r\nHost: dial\r\n\r\n", path);
  (void)!write(fd, req, (size_t)len);
  size_t got = 0;
  ssize_t r;
  while (got + 1 < n && (r = read(fd, out + got, n - 1 - got)) > 0) got += (size_t)r;
  close(fd);
  out[got] = 0;
  char *body = strstr(out, "\r\n\r\n");
  if (!body || strncmp(out, "HTTP/1.", 7) != 0 || strncmp(out + 9, "200", 3) != 0) return -1;
  memmove(out, body + 4, strlen(body + 4) + 1);
  return 0;
}

static void json_string(char *dst, size_t n, size_t *o, const char *s) {
  if (*o + 2 < n) dst[(*o)++] = '"';
  for (; *s && *o + 7 < n; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') *o += (size_t)snprintf(dst + *o, n - *o, "\\%c", c);
    else if (c < 0x20) *o += (size_t)snprintf(dst + *o, n - *o, "\\u%04x", c);
    else dst[(*o)++] = (char)c;
  }
  if (*o + 1 < n) dst[(*o)++] = '"';
  dst[*o] = 0;
}

static void dial(int fd, const char *query) {
  char request[512], protocol[16], host[256], port_s[16], tries_s[16];
  query_param(query, "request", request, sizeof request);
  query_param(query, "protocol", protocol, sizeof protocol);
  query_param(query, "host", host, sizeof host);
  query_param(query, "port", port_s, sizeof port_s);
  query_param(query, "tries", tries_s, sizeof tries_s);
  int port = atoi(port_s), tries = tries_s[0] ? atoi(tries_s) : 1;
  struct sockaddr_in to;
  if (!host[0] || port <= 0 || tries <= 0 || tries > 100 || resolve(host, port, &to) != 0) {
    respond(fd, 400, "text/plain", "dial needs request, protocol, host (an IP or resolvable name), port and 1-100 tries\n");
    return;
  }
  int udp = strcmp(protocol, "udp") == 0;
  static char out[BODY_MAX], errors[BODY_MAX], answer[4096];
  size_t o = 0, e = 0;
  for (int i = 0; i < tries; i++) {
    int rc = udp ? ask_udp(&to, request, answer, sizeof answer, 1000) : ask_http(&to, request, answer, sizeof answer, 1000);
    if (rc == 0) {
      if (o) out[o++] = ',';
      json_string(out, sizeof out - 64, &o, answer);
    } else {
      char msg[512];
      snprintf(msg, sizeof msg, "%s %s:%d: no answer", udp ? "udp" : "http", host, port);
      if (e) errors[e++] = ',';
      json_string(errors, sizeof errors - 64, &e, msg);
    }
  }
  out[o] = 0;
  errors[e] = 0;
  static char body[2 * BODY_MAX + 64];
  snprintf(body, sizeof body, "{\"responses\":[%s],\"errors\":[%s]}\n", out, errors);
  respond(fd, 200, "application/json", body);
}

static void serve_http(int fd, const struct sockaddr_in *peer) {
  static char req[REQ_MAX + 1];
  size_t got = 0;
  ssize_t r;
  set_timeout(fd, 5000);
  while (got < REQ_MAX && (r = read(fd, req + got, REQ_MAX - got)) > 0) {
    got += (size_t)r;
    req[got] = 0;
    if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n")) break;
  }
  req[got] = 0;
  char method[8] = "", target[2048] = "";
  if (sscanf(req, "%7s %2047s", method, target) != 2) {
    close(fd);
    return;
  }
  char peer_text[64];
  addr_text(peer, peer_text, sizeof peer_text);
  printf("http %s %s from %s\n", method, target, peer_text);
  char *query = strchr(target, '?');
  if (query) *query++ = 0;
  char buf[BODY_MAX];
  if (strcmp(target, "/hostname") == 0) {
    host_name(buf, sizeof buf);
    respond(fd, 200, "text/plain", buf);
  } else if (strcmp(target, "/healthz") == 0) {
    respond(fd, 200, "text/plain", "ok");
  } else if (strcmp(target, "/clientip") == 0) {
    respond(fd, 200, "text/plain", peer_text);
  } else if (strcmp(target, "/echo") == 0) {
    query_param(query, "msg", buf, sizeof buf);
    respond(fd, 200, "text/plain", buf);
  } else if (strcmp(target, "/bytes") == 0) {
    query_param(query, "n", buf, sizeof buf);
    respond_bytes(fd, buf);
  } else if (strcmp(target, "/version") == 0) {
    const char *v = getenv("KNODE_TESTSERVER_VERSION");
    respond(fd, 200, "text/plain", v ? v : "unknown");
  } else if (strcmp(target, "/exit") == 0) {
    query_param(query, "code", buf, sizeof buf);
    respond(fd, 200, "text/plain", "bye");
    close(fd);
    printf("exiting with code %d on request\n", atoi(buf));
    exit(atoi(buf));
  } else if (strcmp(target, "/dial") == 0) {
    pid_t pid = fork();
    if (pid == 0) {
      dial(fd, query ? query : "");
      _exit(0);
    }
    if (pid < 0) respond(fd, 400, "text/plain", "fork failed\n");
  } else {
    respond(fd, 404, "text/plain", "not found\n");
  }
  close(fd);
}

static void serve_udp(int fd) {
  char msg[2048], reply[4096];
  struct sockaddr_in peer;
  socklen_t plen = sizeof peer;
  ssize_t r = recvfrom(fd, msg, sizeof msg - 1, 0, (struct sockaddr *)&peer, &plen);
  if (r < 0) return;
  msg[r] = 0;
  while (r > 0 && (msg[r - 1] == '\n' || msg[r - 1] == '\r')) msg[--r] = 0;
  if (strcmp(msg, "hostname") == 0) host_name(reply, sizeof reply);
  else if (strncmp(msg, "echo ", 5) == 0) snprintf(reply, sizeof reply, "%s", msg + 5);
  else if (strcmp(msg, "clientip") == 0) addr_text(&peer, reply, sizeof reply);
  else snprintf(reply, sizeof reply, "unknown request: %s", msg);
  sendto(fd, reply, strlen(reply), 0, (struct sockaddr *)&peer, plen);
}

static int udp_client(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: testserver udp HOST PORT MESSAGE [TIMEOUT_S]\n");
    return 2;
  }
  struct sockaddr_in to;
  if (resolve(argv[2], atoi(argv[3]), &to) != 0) {
    fprintf(stderr, "testserver: cannot resolve %s\n", argv[2]);
    return 2;
  }
  char answer[4096];
  int timeout_ms = argc > 5 ? atoi(argv[5]) * 1000 : 2000;
  if (ask_udp(&to, argv[4], answer, sizeof answer, timeout_ms) != 0) {
    fprintf(stderr, "testserver: no answer from %s:%s\n", argv[2], argv[3]);
    return 1;
  }
  printf("%s\n", answer);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "udp") == 0) return udp_client(argc, argv);
  int http_port = 8083, udp_port = 8081;
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "--http-port=", 12) == 0) http_port = atoi(argv[i] + 12);
    else if (strncmp(argv[i], "--udp-port=", 11) == 0) udp_port = atoi(argv[i] + 11);
    else {
      fprintf(stderr, "usage: testserver [--http-port=N] [--udp-port=N] | testserver udp HOST PORT MESSAGE [TIMEOUT_S]\n");
      return 2;
    }
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, NULL);
  sa.sa_flags = SA_NOCLDWAIT; /* /dial children reap themselves */
  sigaction(SIGCHLD, &sa, NULL);

  int tcp = listen_on(SOCK_STREAM, http_port);
  int udp = listen_on(SOCK_DGRAM, udp_port);
  char name[256];
  host_name(name, sizeof name);
  printf("testserver %s on %s: http :%d udp :%d\n", getenv("KNODE_TESTSERVER_VERSION") ? getenv("KNODE_TESTSERVER_VERSION") : "", name,
         http_port, udp_port);
  struct pollfd fds[2] = {{tcp, POLLIN, 0}, {udp, POLLIN, 0}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      perror("poll");
      return 1;
    }
    if (fds[0].revents & POLLIN) {
      struct sockaddr_in peer;
      socklen_t plen = sizeof peer;
      int c = accept(tcp, (struct sockaddr *)&peer, &plen);
      if (c >= 0) serve_http(c, &peer);
    }
    if (fds[1].revents & POLLIN) serve_udp(udp);
  }
}
