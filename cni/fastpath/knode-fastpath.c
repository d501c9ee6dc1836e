/*
 * knode-fastpath: what the node agent runs to load, configure and attach the fast path's tc programs
 * (fastpath.bpf.c). Node.js cannot hold a BPF file descriptor, so every step that needs one is a
 * command of this small helper; everything lives on in bpffs pins and tc filters after it exits.
 *
 *   knode-fastpath load DIR OBJECT        load OBJECT; maps pinned (and reused) in DIR/maps, programs
 *                                         pinned as DIR/from_pod and DIR/from_underlay (replaced)
 *   knode-fastpath config DIR CLUSTER_CIDR NODE_CIDR NODE_IP VXLAN_DEV VNI PORT
 *                                         write the node's settings and enable the programs
 *   knode-fastpath disable DIR            every packet takes the normal path (the settings are kept)
 *   knode-fastpath enable DIR             the programs take packets again (after config, or disable)
 *   knode-fastpath attach DIR PROG DEV    PROG (from_pod, from_underlay) on DEV's tc ingress, replacing
 *   knode-fastpath detach DEV             remove what `attach` put on DEV (absent: fine)
 *   knode-fastpath pod-add DIR IP DEV POD_MAC HOST_MAC
 *                                         from_pod on DEV, and the pod in the map
 *   knode-fastpath pod-del DIR IP         the pod out of the map (absent: fine)
 *   knode-fastpath pods DIR               one line per pod: IP IFINDEX POD_MAC HOST_MAC
 *   knode-fastpath peers-set DIR [MAC=IP...]
 *                                         the other nodes' VTEPs (MAC -> underlay IP), replacing the map
 *   knode-fastpath peers DIR              one line per peer: MAC IP
 *   knode-fastpath stats DIR              one line per counter: NAME VALUE (summed over CPUs)
 *
 * Exit 0 on success; otherwise 1 and one line on stderr naming what failed, with the kernel's reason.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "fastpath.h"

#define TC_PRIORITY 1
#define TC_HANDLE 1

static const char *const PROGRAMS[] = { "from_pod", "from_underlay" };
static const char *const STAT_NAMES[STAT_COUNT] = { "pod_redirected", "pod_passed", "pod_encapsulated",
						     "underlay_redirected", "underlay_passed" };

/* libbpf's messages go to stderr, except while creating a clsact qdisc that may exist already (the
 * kernel's "exclusivity flag" complaint is then expected and ignored). */
static int quiet;

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (quiet || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "knode-fastpath: %s: %s\n", what, strerror(err < 0 ? -err : err));
	return 1;
}

static int usage(void)
{
	fprintf(stderr, "knode-fastpath: usage: load DIR OBJECT | config DIR CLUSTER_CIDR NODE_CIDR NODE_IP VXLAN_DEV "
			"VNI PORT | disable DIR | enable DIR | attach DIR PROG DEV | detach DEV | pod-add DIR IP DEV POD_MAC "
			"HOST_MAC | pod-del DIR IP | pods DIR | peers-set DIR [MAC=IP...] | peers DIR | stats DIR\n");
	return 2;
}

static void path_of(char *out, size_t n, const char *dir, const char *sub, const char *name)
{
	snprintf(out, n, "%s/%s%s%s", dir, sub, *sub ? "/" : "", name);
}

static int open_pinned(const char *dir, const char *sub, const char *name, int *fd)
{
	char path[4096];
	path_of(path, sizeof(path), dir, sub, name);
	*fd = bpf_obj_get(path);
	if (*fd < 0) {
		int err = errno;
		fprintf(stderr, "knode-fastpath: opening %s: %s (is the fast path loaded?)\n", path, strerror(err));
		return 1;
	}
	return 0;
}

static int parse_ipv4(const char *s, __u32 *out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "knode-fastpath: invalid IPv4 address %s\n", s);
		return 1;
	}
	*out = a.s_addr;
	return 0;
}

static int parse_cidr(const char *s, __u32 *net, __u32 *mask)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	char *endp;
	if (slash == NULL || (size_t)(slash - s) >= sizeof(buf))
		goto bad;
	memcpy(buf, s, slash - s);
	buf[slash - s] = 0;
	long bits = strtol(slash + 1, &endp, 10);
	if (*endp != 0 || bits < 0 || bits > 32 || parse_ipv4(buf, net) != 0)
		goto bad;
	*mask = bits == 0 ? 0 : htonl(0xffffffffu << (32 - bits));
	*net &= *mask;
	return 0;
bad:
	fprintf(stderr, "knode-fastpath: invalid CIDR %s\n", s);
	return 1;
}

static int parse_mac(const char *s, __u8 out[6])
{
	unsigned int b[6];
	char extra;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &extra) != 6) {
		fprintf(stderr, "knode-fastpath: invalid MAC address %s\n", s);
		return 1;
	}
	for (int i = 0; i < 6; i++)
		out[i] = (__u8)b[i];
	return 0;
}

static int parse_uint(const char *s, unsigned long max, const char *what, unsigned long *out)
{
	char *endp;
	errno = 0;
	unsigned long v = strtoul(s, &endp, 10);
	if (*s == 0 || *endp != 0 || errno != 0 || v > max) {
		fprintf(stderr, "knode-fastpath: invalid %s %s\n", what, s);
		return 1;
	}
	*out = v;
	return 0;
}

static int ifindex_of(const char *dev, int *ifindex)
{
	*ifindex = (int)if_nametoindex(dev);
	if (*ifindex == 0) {
		int err = errno;
		fprintf(stderr, "knode-fastpath: no link %s: %s\n", dev, strerror(err));
		return 1;
	}
	return 0;
}

#define BPF_FS_MAGIC 0xcafe4a11
#define BPF_FS_ROOT "/sys/fs/bpf"

/* /sys/fs/bpf mounted as bpffs (systemd does it; a bare VM may not have), then DIR and its parents. */
static int prepare_dir(const char *dir)
{
	struct statfs fs;
	if (statfs(BPF_FS_ROOT, &fs) == 0 && fs.f_type != BPF_FS_MAGIC &&
	    mount("bpffs", BPF_FS_ROOT, "bpf", 0, "mode=0700") != 0)
		return fail("mounting bpffs on " BPF_FS_ROOT, errno);
	char path[4096];
	snprintf(path, sizeof(path), "%s/maps", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return fail(path, errno);
		*p = '/';
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return fail(path, errno);
	return 0;
}

/* Loads OBJECT with its maps pinned under DIR/maps: an existing pin of the same shape is reused (the pods
 * and the settings survive an agent restart), one of another shape (an older build) is replaced. */
static int cmd_load(const char *dir, const char *object)
{
	char path[4096];
	if (prepare_dir(dir) != 0)
		return 1;
	for (int attempt = 0; attempt < 2; attempt++) {
		struct bpf_object *obj = bpf_object__open_file(object, NULL);
		if (obj == NULL)
			return fail(object, errno);
		struct bpf_map *map;
		bpf_object__for_each_map(map, obj) {
			path_of(path, sizeof(path), dir, "maps", bpf_map__name(map));
			int err = bpf_map__set_pin_path(map, path);
			if (err != 0) {
				bpf_object__close(obj);
				return fail("setting a map's pin path", err);
			}
		}
		int err = bpf_object__load(obj);
		if (err != 0) {
			bpf_object__close(obj);
			if (attempt == 0) {
				/* maybe pins of an older layout: drop them and try once more */
				const char *names[] = { "knode_config", "knode_pods", "knode_peers", "knode_stats" };
				for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
					path_of(path, sizeof(path), dir, "maps", names[i]);
					unlink(path);
				}
				continue;
			}
			return fail("loading the programs (the kernel's verifier log is above)", err);
		}
		for (size_t i = 0; i < sizeof(PROGRAMS) / sizeof(PROGRAMS[0]); i++) {
			struct bpf_program *prog = bpf_object__find_program_by_name(obj, PROGRAMS[i]);
			if (prog == NULL) {
				bpf_object__close(obj);
				fprintf(stderr, "knode-fastpath: %s has no program %s\n", object, PROGRAMS[i]);
				return 1;
			}
			path_of(path, sizeof(path), dir, "", PROGRAMS[i]);
			unlink(path);
			err = bpf_program__pin(prog, path);
			if (err != 0) {
				bpf_object__close(obj);
				return fail(path, err);
			}
		}
		bpf_object__close(obj);
		return 0;
	}
	return 1;
}

static int write_config(const char *dir, const struct knode_config *cfg)
{
	int fd;
	__u32 zero = 0;
	if (open_pinned(dir, "maps", "knode_config", &fd) != 0)
		return 1;
	int err = bpf_map_update_elem(fd, &zero, cfg, BPF_ANY);
	close(fd);
	return err != 0 ? fail("writing the settings", errno) : 0;
}

static int cmd_switch(const char *dir, __u8 enabled)
{
	int fd;
	__u32 zero = 0;
	struct knode_config cfg;
	if (open_pinned(dir, "maps", "knode_config", &fd) != 0)
		return 1;
	int err = bpf_map_lookup_elem(fd, &zero, &cfg);
	if (err == 0 && enabled && cfg.node_mask == 0 && cfg.cluster_mask == 0) {
		close(fd);
		fprintf(stderr, "knode-fastpath: %s has no settings yet: run config first\n", dir);
		return 1;
	}
	if (err == 0) {
		cfg.enabled = enabled;
		err = bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY);
	}
	int saved = errno;
	close(fd);
	return err != 0 ? fail("switching the fast path", saved) : 0;
}

static int cmd_config(char **a)
{
	struct knode_config cfg = { .enabled = 1 };
	unsigned long vni, port;
	int vxlan;
	if (parse_cidr(a[1], &cfg.cluster_net, &cfg.cluster_mask) || parse_cidr(a[2], &cfg.node_net, &cfg.node_mask) ||
	    parse_ipv4(a[3], &cfg.node_ip) || ifindex_of(a[4], &vxlan) || parse_uint(a[5], 0xffffff, "VNI", &vni) ||
	    parse_uint(a[6], 0xffff, "port", &port))
		return 1;
	cfg.vxlan_ifindex = (__u32)vxlan;
	cfg.vni = (__u32)vni;
	cfg.vxlan_port = htons((__u16)port);
	return write_config(a[0], &cfg);
}

static int attach(const char *dir, const char *prog_name, int ifindex, const char *dev)
{
	int prog_fd;
	if (open_pinned(dir, "", prog_name, &prog_fd) != 0)
		return 1;
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	quiet = 1;
	int err = bpf_tc_hook_create(&hook);
	quiet = 0;
	if (err != 0 && err != -EEXIST) {
		close(prog_fd);
		fprintf(stderr, "knode-fastpath: adding the clsact qdisc to %s: %s\n", dev, strerror(-err));
		return 1;
	}
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = TC_HANDLE, .priority = TC_PRIORITY,
			    .flags = BPF_TC_F_REPLACE);
	err = bpf_tc_attach(&hook, &opts);
	close(prog_fd);
	if (err != 0) {
		fprintf(stderr, "knode-fastpath: attaching %s to %s: %s\n", prog_name, dev, strerror(-err));
		return 1;
	}
	return 0;
}

static int cmd_attach(char **a)
{
	int ifindex;
	if (strcmp(a[1], PROGRAMS[0]) != 0 && strcmp(a[1], PROGRAMS[1]) != 0) {
		fprintf(stderr, "knode-fastpath: unknown program %s (from_pod, from_underlay)\n", a[1]);
		return 1;
	}
	if (ifindex_of(a[2], &ifindex) != 0)
		return 1;
	return attach(a[0], a[1], ifindex, a[2]);
}

static int cmd_detach(const char *dev)
{
	int ifindex = (int)if_nametoindex(dev);
	if (ifindex == 0)
		return 0;
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIORITY);
	int err = bpf_tc_detach(&hook, &opts);
	if (err != 0 && err != -ENOENT && err != -EINVAL) {
		fprintf(stderr, "knode-fastpath: detaching from %s: %s\n", dev, strerror(-err));
		return 1;
	}
	return 0;
}

static int cmd_pod_add(char **a)
{
	__u32 ip;
	struct knode_pod pod = { 0 };
	int ifindex, fd;
	if (parse_ipv4(a[1], &ip) || ifindex_of(a[2], &ifindex) || parse_mac(a[3], pod.mac) || parse_mac(a[4], pod.host_mac))
		return 1;
	pod.host_ifindex = (__u32)ifindex;
	if (attach(a[0], "from_pod", ifindex, a[2]) != 0)
		return 1;
	if (open_pinned(a[0], "maps", "knode_pods", &fd) != 0)
		return 1;
	int err = bpf_map_update_elem(fd, &ip, &pod, BPF_ANY);
	close(fd);
	return err != 0 ? fail("adding the pod to the map", errno) : 0;
}

static int cmd_pod_del(const char *dir, const char *ip_text)
{
	__u32 ip;
	int fd;
	if (parse_ipv4(ip_text, &ip) || open_pinned(dir, "maps", "knode_pods", &fd))
		return 1;
	int err = bpf_map_delete_elem(fd, &ip);
	int saved = errno;
	close(fd);
	return err != 0 && saved != ENOENT ? fail("removing the pod from the map", saved) : 0;
}

static int cmd_pods(const char *dir)
{
	int fd;
	__u32 key, next;
	__u32 *prev = NULL;
	if (open_pinned(dir, "maps", "knode_pods", &fd) != 0)
		return 1;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct knode_pod pod;
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &pod) != 0)
			continue; /* removed meanwhile */
		char ip[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &key, ip, sizeof(ip));
		printf("%s %u %02x:%02x:%02x:%02x:%02x:%02x %02x:%02x:%02x:%02x:%02x:%02x\n", ip, pod.host_ifindex,
		       pod.mac[0], pod.mac[1], pod.mac[2], pod.mac[3], pod.mac[4], pod.mac[5], pod.host_mac[0],
		       pod.host_mac[1], pod.host_mac[2], pod.host_mac[3], pod.host_mac[4], pod.host_mac[5]);
	}
	close(fd);
	return 0;
}

static void format_mac(char out[18], const __u8 mac[6])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/*
 * The map becomes exactly the given set. Every argument is checked before anything changes. The peers
 * not given are removed first (which also makes room), then the given ones written: a peer that stays
 * is never missing meanwhile.
 */
static int cmd_peers_set(const char *dir, char **a, int n)
{
	struct knode_peer_key *keys = calloc((size_t)(n > 0 ? n : 1), sizeof(*keys));
	__u32 *ips = calloc((size_t)(n > 0 ? n : 1), sizeof(*ips));
	int fd = -1, rc = 1;
	char mac[32];
	if (keys == NULL || ips == NULL) {
		rc = fail("allocating", ENOMEM);
		goto out;
	}
	if (n > KNODE_MAX_PEERS) {
		fprintf(stderr, "knode-fastpath: %d peers: the map holds %d\n", n, KNODE_MAX_PEERS);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const char *eq = strchr(a[i], '=');
		if (eq == NULL || (size_t)(eq - a[i]) >= sizeof(mac)) {
			fprintf(stderr, "knode-fastpath: invalid peer %s (want MAC=IP)\n", a[i]);
			goto out;
		}
		memcpy(mac, a[i], (size_t)(eq - a[i]));
		mac[eq - a[i]] = 0;
		if (parse_mac(mac, keys[i].mac) || parse_ipv4(eq + 1, &ips[i]))
			goto out;
	}
	if (open_pinned(dir, "maps", "knode_peers", &fd) != 0)
		goto out;
	struct knode_peer_key key, next;
	int more = bpf_map_get_next_key(fd, NULL, &key) == 0;
	while (more) {
		/* the next key first: the walk cannot go on from a removed one */
		more = bpf_map_get_next_key(fd, &key, &next) == 0;
		int wanted = 0;
		for (int i = 0; i < n && !wanted; i++)
			wanted = memcmp(&keys[i], &key, sizeof(key)) == 0;
		if (!wanted && bpf_map_delete_elem(fd, &key) != 0 && errno != ENOENT) {
			int err = errno;
			format_mac(mac, key.mac);
			fprintf(stderr, "knode-fastpath: removing peer %s from the map: %s\n", mac, strerror(err));
			goto out;
		}
		if (more)
			key = next;
	}
	for (int i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, &keys[i], &ips[i], BPF_ANY) != 0) {
			fprintf(stderr, "knode-fastpath: adding peer %s to the map: %s\n", a[i], strerror(errno));
			goto out;
		}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(keys);
	free(ips);
	return rc;
}

static int cmd_peers(const char *dir)
{
	int fd;
	struct knode_peer_key key, next, *prev = NULL;
	if (open_pinned(dir, "maps", "knode_peers", &fd) != 0)
		return 1;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		__u32 ip;
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &ip) != 0)
			continue;
		char text[INET_ADDRSTRLEN], mac[18];
		inet_ntop(AF_INET, &ip, text, sizeof(text));
		format_mac(mac, key.mac);
		printf("%s %s\n", mac, text);
	}
	close(fd);
	return 0;
}

static int cmd_stats(const char *dir)
{
	int fd, cpus = libbpf_num_possible_cpus();
	if (cpus <= 0)
		return fail("counting CPUs", cpus);
	if (open_pinned(dir, "maps", "knode_stats", &fd) != 0)
		return 1;
	__u64 *values = calloc((size_t)cpus, sizeof(__u64));
	if (values == NULL) {
		close(fd);
		return fail("allocating", ENOMEM);
	}
	for (__u32 i = 0; i < STAT_COUNT; i++) {
		__u64 sum = 0;
		if (bpf_map_lookup_elem(fd, &i, values) == 0)
			for (int c = 0; c < cpus; c++)
				sum += values[c];
		printf("%s %llu\n", STAT_NAMES[i], (unsigned long long)sum);
	}
	free(values);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	libbpf_set_print(print_libbpf);
	const char *cmd = argv[1];
	char **a = argv + 2;
	int n = argc - 2;
	if (strcmp(cmd, "load") == 0 && n == 2)
		return cmd_load(a[0], a[1]);
	if (strcmp(cmd, "config") == 0 && n == 7)
		return cmd_config(a);
	if (strcmp(cmd, "disable") == 0 && n == 1)
		return cmd_switch(a[0], 0);
	if (strcmp(cmd, "enable") == 0 && n == 1)
		return cmd_switch(a[0], 1);
	if (strcmp(cmd, "attach") == 0 && n == 3)
		return cmd_attach(a);
	if (strcmp(cmd, "detach") == 0 && n == 1)
		return cmd_detach(a[0]);
	if (strcmp(cmd, "pod-add") == 0 && n == 5)
		return cmd_pod_add(a);
	if (strcmp(cmd, "pod-del") == 0 && n == 2)
		return cmd_pod_del(a[0], a[1]);
	if (strcmp(cmd, "pods") == 0 && n == 1)
		return cmd_pods(a[0]);
	if (strcmp(cmd, "peers-set") == 0 && n >= 1)
		return cmd_peers_set(a[0], a + 1, n - 1);
	if (strcmp(cmd, "peers") == 0 && n == 1)
		return cmd_peers(a[0]);
	if (strcmp(cmd, "stats") == 0 && n == 1)
		return cmd_stats(a[0]);
	return usage();
}
