// SPDX-License-Identifier: BSD-2-Clause
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "optee_fids.h"
#include "trace_helpers.h"

static void print_stars(FILE *f, unsigned long long val, unsigned long long max, int width)
{
	int stars = max ? (int)(val * width / max) : 0;
	int i;

	for (i = 0; i < width; i++)
		fputc(i < stars ? '*' : ' ', f);
	if (val > max)
		fputc('+', f);
}

void print_log2_hist(FILE *f, const unsigned long long *vals, int n, const char *unit,
		     const char *indent)
{
	unsigned long long max = 0;
	int i, first = -1, last = -1;

	for (i = 0; i < n; i++) {
		if (vals[i] && first < 0)
			first = i;
		if (vals[i])
			last = i;
		if (vals[i] > max)
			max = vals[i];
	}
	if (last < 0)
		return;
	/* Empty buckets below the first are left out. */
	fprintf(f, "%s%*s%-*s : count    distribution\n", indent, 10, "", 14, unit);
	for (i = first; i <= last; i++) {
		unsigned long long low = i ? 1ULL << i : 0, high = (1ULL << (i + 1)) - 1;

		if (i == 0)
			low = 0, high = 1;
		fprintf(f, "%s%14llu -> %-10llu : %-8llu |", indent, low, high, vals[i]);
		print_stars(f, vals[i], max, 40);
		fprintf(f, "|\n");
	}
}

const char *optee_fid_name(unsigned int fid)
{
	switch (fid) {
#define FID_NAME(id, name, kernel, library, answer) case id: return name;
	TEEMED_OPTEE_SMC_IDS(FID_NAME)
#undef FID_NAME
	}
	return NULL;
}

static const char *tracefs_root(void)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(path, sizeof(path), "%s/events", roots[i]);
		if (access(path, F_OK) == 0)
			return roots[i];
	}
	return NULL;
}

bool tracefs_has(const char *system, const char *event)
{
	const char *root = tracefs_root();
	char path[256];

	if (!root)
		return false;
	if (event)
		snprintf(path, sizeof(path), "%s/events/%s/%s", root, system, event);
	else
		snprintf(path, sizeof(path), "%s/events/%s", root, system);
	return access(path, F_OK) == 0;
}

bool autoload_if_tracepoint(struct bpf_program *prog, const char *system, const char *event)
{
	bool on = tracefs_has(system, event);

	bpf_program__set_autoload(prog, on);
	return on;
}

static int mkdir_p(const char *dir)
{
	char buf[256], *p;

	snprintf(buf, sizeof(buf), "%s", dir);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int pin_maps(struct bpf_object *obj, const char *dir, const char *const maps[])
{
	char path[256];
	int i, err;

	err = mkdir_p(dir);
	if (err) {
		fprintf(stderr, "cannot create %s: %s (is bpffs mounted on /sys/fs/bpf?)\n", dir,
			strerror(-err));
		return err;
	}
	for (i = 0; maps[i]; i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, maps[i]);

		if (!map)
			return -ENOENT;
		snprintf(path, sizeof(path), "%s/%s", dir, maps[i]);
		unlink(path); /* a previous run's: its figures are stale */
		err = bpf_map__pin(map, path);
		if (err) {
			fprintf(stderr, "cannot pin %s: %s\n", path, strerror(-err));
			return err;
		}
	}
	return 0;
}

void unpin_maps(struct bpf_object *obj, const char *dir, const char *const maps[])
{
	char path[256];
	int i;

	for (i = 0; maps[i]; i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, maps[i]);

		snprintf(path, sizeof(path), "%s/%s", dir, maps[i]);
		if (map)
			bpf_map__unpin(map, path);
	}
	rmdir(dir);
}

static bool verbose_libbpf;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose_libbpf)
		return 0;
	return vfprintf(stderr, fmt, args);
}

void set_libbpf_verbosity(bool verbose)
{
	verbose_libbpf = verbose;
	libbpf_set_print(libbpf_print);
}

static struct bpf_link *attach_teemed_usdt(struct bpf_program *prog, int pid,
					   const char *binary, const char *name)
{
	struct bpf_link *link = bpf_program__attach_usdt(prog, pid, binary, "teemed", name, NULL);

	if (!link)
		fprintf(stderr, "cannot attach to USDT teemed:%s in %s: %s\n", name, binary,
			strerror(errno));
	return link;
}

int attach_teemed_usdts(const struct usdt_prog *progs, int n, int pid, const char *binary)
{
	int i;

	for (i = 0; i < n; i++) {
		*progs[i].link = attach_teemed_usdt(progs[i].prog, pid ? pid : -1, binary,
						    progs[i].probe);
		if (!*progs[i].link && !progs[i].optional)
			return -errno;
	}
	return 0;
}

/* Set by SIGINT and SIGTERM: the one thing a handler may touch. */
static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

void trace_catch_signals(void)
{
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
}

int trace_loop_run(const struct trace_loop *l)
{
	time_t start, last, now;
	int err;

	start = last = time(NULL);
	while (!exiting) {
		if (l->rb) {
			err = ring_buffer__poll(l->rb, 100);
			if (err < 0 && err != -EINTR)
				return err;
		} else {
			usleep(100 * 1000);
		}
		now = time(NULL);
		if (l->duration && now - start >= l->duration)
			break;
		if (l->pid && kill(l->pid, 0) && errno == ESRCH)
			break; /* the VMM is gone */
		if (l->tick && l->interval && now - last >= l->interval) {
			l->tick(l->ctx);
			last = now;
		}
	}
	if (l->rb)
		ring_buffer__poll(l->rb, 0);
	return 0;
}

static const struct argp_option common_opts[] = {
	{ "pid", 'p', "PID", 0, "Trace this VMM process only", 0 },
	{ "binary", 'b', "PATH", 0, "Binary or library with the teemed probes "
	  "(default: the libteemed mapped by PID, else its executable)", 0 },
	{ "client", 'c', "ID", 0, "Trace this VM (OP-TEE client id) only", 0 },
	{ "duration", 'd', "SEC", 0, "Stop after SEC seconds", 0 },
	{ "json", 'j', NULL, 0, "JSON output", 0 },
	{ "no-kernel", 'k', NULL, 0, "Do not attach to the tee_vm tracepoints", 0 },
	{ "pin-dir", 'P', "DIR", 0, "Pin the maps here", 0 },
	{ "no-pin", 'N', NULL, 0, "Do not pin the maps", 0 },
	{ "verbose", 'v', NULL, 0, "libbpf debug output", 0 },
	{},
};

static error_t parse_common(int key, char *arg, struct argp_state *state)
{
	struct trace_opts *o = state->input;

	switch (key) {
	case 'p': o->pid = parse_num_arg(arg, state, 1); break;
	case 'b': o->binary = arg; break;
	case 'c': o->client = parse_num_arg(arg, state, 0); break;
	case 'd': o->duration = parse_num_arg(arg, state, 1); break;
	case 'j': o->json = true; break;
	case 'k': o->kernel = false; break;
	case 'P': o->pin_dir = arg; break;
	case 'N': o->pin = false; break;
	case 'v': o->verbose = true; break;
	default: return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp trace_common_argp = { common_opts, parse_common, NULL, NULL, NULL, NULL, NULL };

const char *trace_binary(const struct trace_opts *o, const char *tool, char *buf, size_t len)
{
	const char *binary = resolve_binary(o->binary, o->pid, buf, len);

	if (!binary)
		fprintf(stderr, "%s: which binary has the probes? Give -b PATH or -p PID\n", tool);
	return binary;
}

int trace_load_attach(struct bpf_object_skeleton *skel, const char *tool)
{
	int err = bpf_object__load_skeleton(skel);

	if (err) {
		fprintf(stderr, "%s: cannot load the BPF programs: %s\n", tool, strerror(-err));
		return err;
	}
	err = bpf_object__attach_skeleton(skel);
	if (err)
		fprintf(stderr, "%s: cannot attach: %s\n", tool, strerror(-err));
	return err;
}

int trace_pin(const struct trace_opts *o, struct bpf_object *obj, const char *const maps[],
	      bool *pinned)
{
	int err;

	*pinned = false;
	if (!o->pin)
		return 0;
	err = pin_maps(obj, o->pin_dir, maps);
	*pinned = !err;
	return err;
}

const char *resolve_binary(const char *binary, int pid, char *buf, size_t len)
{
	char path[64], line[512];
	const char *found = NULL;
	FILE *f;
	ssize_t n;

	if (binary)
		return binary;
	if (pid <= 0)
		return NULL;
	/* The library linked as a shared object (libteemed.so, or the
	 * Python module teemed.*.so), else the VMM itself (static). */
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	while (f && !found && fgets(line, sizeof(line), f)) {
		char *file = strchr(line, '/'), *base;

		if (!file)
			continue;
		file[strcspn(file, "\n")] = 0;
		base = strrchr(file, '/') + 1;
		if (!strncmp(base, "libteemed", 9) || !strncmp(base, "teemed.", 7)) {
			snprintf(buf, len, "%s", file);
			found = buf;
		}
	}
	if (f)
		fclose(f);
	if (found)
		return found;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, buf, len - 1);
	if (n < 0)
		return NULL;
	buf[n] = 0;
	return buf;
}

long parse_num_arg(const char *arg, struct argp_state *state, long min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 0);
	if (errno || *end || v < min)
		argp_error(state, "invalid number: %s", arg);
	return v;
}
