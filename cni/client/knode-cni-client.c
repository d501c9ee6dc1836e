/*
 * knode-cni-client: the `knode-cni` a runtime runs when the node agent serves CNI, in C so that a
 * pod's CNI call costs one small exec (~1 ms) instead of sh + curl (~30 ms measured: curl alone maps
 * 33 shared libraries) or a Node start (~60-100 ms). It speaks the same protocol as the sh client of
 * cni/thin-client.ts to cni/agent-server.ts: `POST /cni` over the agent's unix socket, the CNI_*
 * variables as X-Cni-* headers, the network config as the body; 200 -> the body on stdout, exit 0;
 * any other HTTP answer (400 with the spec's error JSON) -> the body on stdout, exit 1.
 *
 * When the agent cannot answer (no socket, nothing listening, the connection cut before a whole
 * answer), it does what the sh client does: exec `node knode-cni.js` with the stdin it read (held in
 * a memfd), without NODE_OPTIONS and NODE_EXTRA_CA_CERTS. Repeating a command is safe (cni/README.md).
 * A value a header cannot carry verbatim (not printable ASCII, or a space at either end, which HTTP
 * parsers trim) goes the same way, so the binary sees it exactly. If even that exec fails, the answer
 * is the spec's error JSON with code 11 (try again later) naming the socket.
 *
 * Its three paths (socket, node, plugin) are not compiled in: `knode agent` writes them into the
 * `config` block below when it installs a copy into the CNI bin dir (cni/client/embed.ts), so one
 * build serves every node. Single-threaded, no allocation beyond the stdin and answer buffers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Marker + NUL-separated "socket\0node\0plugin\0", filled in by embed.ts. Not static and not const:
 * the compiler must read it at run time, never fold the initial zeros. */
#define CONFIG_MARKER "KNODE-CNI-CLIENT-CONFIG-V1:"
#define CONFIG_SIZE 4096
char knode_cni_client_config[CONFIG_SIZE] __attribute__((used)) = CONFIG_MARKER;

static const char *const ENV_NAMES[] = {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH"};
static const char *const HEADER_NAMES[] = {"X-Cni-Command", "X-Cni-Containerid", "X-Cni-Netns", "X-Cni-Ifname", "X-Cni-Args", "X-Cni-Path"};
#define N_ENV (sizeof ENV_NAMES / sizeof ENV_NAMES[0])

struct buf {
	char *data;
	size_t len, cap;
};

static int buf_reserve(struct buf *b, size_t more) {
	if (b->len + more <= b->cap) return 0;
	size_t cap = b->cap ? b->cap : 8192;
	while (cap < b->len + more) cap *= 2;
	char *p = realloc(b->data, cap);
	if (p == NULL) return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

static int buf_append(struct buf *b, const char *s, size_t n) {
	if (buf_reserve(b, n) != 0) return -1;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	return 0;
}

static int buf_str(struct buf *b, const char *s) { return buf_append(b, s, strlen(s)); }

/* Reads fd to EOF; -1 on a read error. */
static int read_all(int fd, struct buf *b) {
	for (;;) {
		if (buf_reserve(b, 8192) != 0) return -1;
		ssize_t n = read(fd, b->data + b->len, b->cap - b->len);
		if (n == 0) return 0;
		if (n < 0) {
			if (errno == EINTR) continue;
			return -1;
		}
		b->len += (size_t)n;
	}
}

/* send(MSG_NOSIGNAL) on the socket: an agent gone mid-request must mean a fallback, not SIGPIPE */
static int write_all(int fd, const char *p, size_t n, int is_socket) {
	while (n > 0) {
		ssize_t w = is_socket ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR) continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* What the sh client carries in a header: printable ASCII, no space at either end (thin-client.ts). */
static int carriable(const char *v) {
	size_t n = strlen(v);
	if (v[0] == ' ' || v[n - 1] == ' ') return 0;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e) return 0;
	}
	return 1;
}

/* The config's cniVersion when it is one the plugin answers in, for the error JSON; a plain scan
 * (the JSON is the plugin's to validate). */
static const char *error_version(const struct buf *in) {
	static const char *const known[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};
	const char *key = "\"cniVersion\"";
	const char *p = in->len > 0 ? memmem(in->data, in->len, key, strlen(key)) : NULL;
	if (p != NULL) {
		const char *end = in->data + in->len;
		p += strlen(key);
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ':')) p++;
		for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
			size_t n = strlen(known[i]);
			if (p < end && *p == '"' && (size_t)(end - p) > n + 1 && memcmp(p + 1, known[i], n) == 0 && p[n + 1] == '"') return known[i];
		}
	}
	return "1.1.0";
}

/* A JSON string body: the paths and errno texts we print are ours, but escape anyway. */
static void json_escaped(struct buf *b, const char *s) {
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char tmp[8];
		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			buf_append(b, tmp, 2);
		} else if (c < 0x20) {
			snprintf(tmp, sizeof tmp, "\\u%04x", c);
			buf_str(b, tmp);
		} else {
			buf_append(b, (const char *)&c, 1);
		}
	}
}

/* The spec's error JSON with code 11 (try again later) on stdout, exit 1. */
static int try_again_later(const struct buf *in, const char *socket_path, const char *why) {
	struct buf out = {0};
	buf_str(&out, "{\"cniVersion\":\"");
	buf_str(&out, error_version(in));
	buf_str(&out, "\",\"code\":11,\"msg\":\"");
	json_escaped(&out, "the knode agent at ");
	json_escaped(&out, socket_path);
	json_escaped(&out, " did not answer and the plugin could not run in its place: ");
	json_escaped(&out, why);
	buf_str(&out, "\"}\n");
	if (out.data != NULL) write_all(1, out.data, out.len, 0);
	return 1;
}

/* Runs the plugin binary in this process's place, with the saved stdin; returns only on failure. */
static int run_plugin(const struct buf *in, const char *socket_path, const char *node, const char *plugin) {
	char why[512];
	int fd = memfd_create("knode-cni-stdin", MFD_CLOEXEC);
	if (fd < 0 || (in->len > 0 && write_all(fd, in->data, in->len, 0) != 0) || lseek(fd, 0, SEEK_SET) != 0 || dup2(fd, 0) != 0) {
		snprintf(why, sizeof why, "saving stdin: %s", strerror(errno));
		return try_again_later(in, socket_path, why);
	}
	unsetenv("NODE_OPTIONS"); /* as the binary's shebang does */
	unsetenv("NODE_EXTRA_CA_CERTS");
	char *const argv[] = {(char *)node, (char *)plugin, NULL};
	execv(node, argv);
	snprintf(why, sizeof why, "exec %s %s: %s", node, plugin, strerror(errno));
	return try_again_later(in, socket_path, why);
}

/* Case-insensitive search for a header's value in the head; NULL when absent. */
static const char *header_value(const char *head, size_t head_len, const char *name) {
	size_t n = strlen(name);
	const char *end = head + head_len;
	for (const char *line = memchr(head, '\n', head_len); line != NULL && line + 1 < end; line = memchr(line + 1, '\n', (size_t)(end - line - 1))) {
		const char *p = line + 1;
		if ((size_t)(end - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			while (p < end && (*p == ' ' || *p == '\t')) p++;
			return p;
		}
	}
	return NULL;
}

enum outcome { ANSWERED, UNREACHABLE, MISSING };

/* One request; on ANSWERED, *status and the body (in `resp` from *body_off) are the agent's. */
static enum outcome ask_agent(const char *socket_path, const struct buf *req, struct buf *resp, int *status, size_t *body_off, char *why, size_t why_len) {
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(socket_path) >= sizeof addr.sun_path) {
		snprintf(why, why_len, "socket path too long");
		return UNREACHABLE;
	}
	strcpy(addr.sun_path, socket_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, why_len, "socket: %s", strerror(errno));
		return UNREACHABLE;
	}
	int rc;
	do rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
	while (rc != 0 && errno == EINTR);
	if (rc != 0) {
		int e = errno;
		snprintf(why, why_len, "connect: %s", strerror(e));
		close(fd);
		return e == ENOENT ? MISSING : UNREACHABLE;
	}
	if (write_all(fd, req->data, req->len, 1) != 0) {
		snprintf(why, why_len, "sending the request: %s", strerror(errno));
		close(fd);
		return UNREACHABLE;
	}
	/* no shutdown(SHUT_WR): node's http server drops a half-closed request (httpAllowHalfOpen false).
	 * Connection: close ends the answer at EOF; Content-Length still tells a cut answer apart. */
	rc = read_all(fd, resp);
	int e = errno;
	close(fd);
	if (rc != 0) {
		snprintf(why, why_len, "reading the answer: %s", strerror(e));
		return UNREACHABLE;
	}
	/* read_all leaves at least 8192 spare bytes at EOF: terminate for sscanf and the header search */
	resp->data[resp->len] = '\0';
	const char *head_end = resp->len > 0 ? memmem(resp->data, resp->len, "\r\n\r\n", 4) : NULL;
	int st = 0;
	if (head_end == NULL || sscanf(resp->data, "HTTP/1.%*d %d", &st) != 1 || st < 100) {
		snprintf(why, why_len, "the answer ended before its headers (%zu bytes)", resp->len);
		return UNREACHABLE;
	}
	size_t head_len = (size_t)(head_end - resp->data) + 4;
	const char *cl = header_value(resp->data, head_len, "Content-Length");
	if (cl != NULL) {
		unsigned long long want = strtoull(cl, NULL, 10);
		if (want != resp->len - head_len) {
			snprintf(why, why_len, "the answer was cut short (%zu of %llu body bytes)", resp->len - head_len, want);
			return UNREACHABLE;
		}
	}
	*status = st;
	*body_off = head_len;
	return ANSWERED;
}

int main(void) {
	const char *cfg = knode_cni_client_config + strlen(CONFIG_MARKER);
	const char *socket_path = cfg;
	const char *node = socket_path + strlen(socket_path) + 1;
	const char *plugin = node + strlen(node) + 1;
	struct buf in = {0};
	if (read_all(0, &in) != 0) in.len = 0; /* no stdin: VERSION still works, the rest fail decoding */
	if (socket_path[0] != '/' || node[0] != '/' || plugin[0] != '/') {
		return try_again_later(&in, "(not configured)", "this copy of knode-cni-client has no paths written into it (knode agent installs configured copies)");
	}

	int carry = 1, oom = 0;
	struct buf req = {0};
	for (size_t i = 0; i < N_ENV; i++) {
		const char *v = getenv(ENV_NAMES[i]);
		if (v == NULL || v[0] == '\0') continue; /* unset and empty are alike to the plugin */
		if (!carriable(v)) {
			carry = 0;
			break;
		}
		oom |= buf_str(&req, HEADER_NAMES[i]) | buf_str(&req, ": ") | buf_str(&req, v) | buf_str(&req, "\r\n");
	}
	/* a header we could not store must not be sent missing: the binary gets the call whole instead */
	if (!carry || oom) return run_plugin(&in, socket_path, node, plugin);

	struct buf full = {0};
	char len[32];
	snprintf(len, sizeof len, "%zu", in.len);
	oom |= buf_str(&full, "POST /cni HTTP/1.1\r\nHost: knode\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: ");
	oom |= buf_str(&full, len) | buf_str(&full, "\r\n");
	if (req.len > 0) oom |= buf_append(&full, req.data, req.len);
	oom |= buf_str(&full, "\r\n");
	if (in.len > 0) oom |= buf_append(&full, in.data, in.len);
	if (oom || full.data == NULL) return run_plugin(&in, socket_path, node, plugin);

	struct buf resp = {0};
	int status = 0;
	size_t body = 0;
	char why[256];
	switch (ask_agent(socket_path, &full, &resp, &status, &body, why, sizeof why)) {
	case ANSWERED:
		if (write_all(1, resp.data + body, resp.len - body, 0) != 0) return 1;
		return status < 400 ? 0 : 1;
	case UNREACHABLE:
		/* the agent is down (a stale socket after kill -9) or went away mid-request */
		fprintf(stderr, "knode-cni: the agent at %s did not answer (%s): running the plugin itself\n", socket_path, why);
		break;
	case MISSING:
		break; /* no socket: the agent is not running; quietly, as the sh client */
	}
	return run_plugin(&in, socket_path, node, plugin);
}
