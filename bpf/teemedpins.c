// SPDX-License-Identifier: BSD-2-Clause
/*
 * teemedpins: live pinned pages, buffers and yielding calls per VM, their
 * high-water marks, and an alarm when a VM is destroyed with pins still
 * outstanding. --check makes a leak the exit status, for scripts.
 */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "teemedpins.h"
#include "teemedpins.skel.h"
#include "trace_helpers.h"

#define PIN_DIR TEEMED_PIN_ROOT "/teemedpins"

static struct env {
	struct trace_opts common;
	int interval;
	bool check;
	bool calls;
	bool quiet;
} env = {
	.common = { .client = -1, .kernel = true, .pin = true, .pin_dir = PIN_DIR },
	.calls = true,
};

static const char *const pinned_maps[] = { "vms", "kvms", "summary", NULL };
static const char *const state_names[] = { "seen", "live", "destroyed", "LEAKED" };

const char *argp_program_version = "teemedpins 0.1";
const char argp_program_doc[] =
"Pinned guest memory of the VMs libteemed mediates: live pinned pages,\n"
"buffers and yielding calls per VM, with their high-water marks. A VM\n"
"destroyed while pages stay pinned raises an ALARM line (a leak); so does a\n"
"host driver context (tee_vm tracepoints) that could not unwind a secure\n"
"thread and so keeps its pages pinned on purpose.\n"
"\n"
"USAGE: teemedpins [-p PID] [-b BINARY] [-c CLIENT] [-i SEC] [-d SEC] [--check]\n"
"\n"
"EXAMPLES:\n"
"    teemedpins -p 1234           # the VMM of pid 1234; table at Ctrl-C\n"
"    teemedpins -p 1234 -i 1      # the table every second\n"
"    teemedpins -p 1234 --check   # exit 2 if a VM leaked pins (ends with the VMM)\n"
"    teemedpins -b ./teemed-vmm -c 2 -d 60 --check  # VM 2, one minute\n"
"    teemedpins -p 1234 -j        # JSON: alarms as they come, then the table\n"
"    teemedpins -p 1234 -C -q --check  # leak watch only: no probe on every SMC\n"
"\n"
"While it runs its maps are pinned under " PIN_DIR ":\n"
"    bpftool map dump pinned " PIN_DIR "/vms\n"
"\n"
"Exit status: 0, 1 on error, 2 with --check when a leak was seen.\n";

enum { OPT_CHECK = 256 };

static const struct argp_option opts[] = {
	{ "interval", 'i', "SEC", 0, "Print the table every SEC seconds", 0 },
	{ "check", OPT_CHECK, NULL, 0, "Exit with status 2 if any leak was seen", 0 },
	{ "no-calls", 'C', NULL, 0, "Do not count calls in flight: no probe on every "
	  "SMC, pins only (near-zero overhead)", 0 },
	{ "quiet", 'q', NULL, 0, "Alarms only, no table", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case ARGP_KEY_INIT: state->child_inputs[0] = &env.common; break;
	case 'i': env.interval = parse_num_arg(arg, state, 1); break;
	case OPT_CHECK: env.check = true; break;
	case 'C': env.calls = false; break;
	case 'q': env.quiet = true; break;
	case 'h': argp_state_help(state, stderr, ARGP_HELP_STD_HELP); break;
	default: return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static unsigned long alarms_seen;

static void stamp(char *buf, size_t len)
{
	time_t t = time(NULL);

	strftime(buf, len, "%H:%M:%S", localtime(&t));
}

static int handle_alarm(void *ctx, void *data, size_t len)
{
	const struct pins_alarm *a = data;
	char ts[16];

	(void)ctx;
	(void)len;
	alarms_seen++;
	if (env.common.json) {
		printf("{\"alarm\": {\"source\": \"%s\", \"pid\": %u, \"client_id\": %u, "
		       "\"label\": %llu, \"pages\": %lld, \"buffers\": %lld, \"lib_leaked\": %llu, "
		       "\"lost_thread\": %u}}\n",
		       a->source == ALARM_KERNEL ? "kernel" : "library", a->pid, a->client_id,
		       (unsigned long long)a->label, (long long)a->pages, (long long)a->buffers,
		       (unsigned long long)a->lib_leaked, a->flags);
	} else if (a->source == ALARM_LIBRARY) {
		stamp(ts, sizeof(ts));
		printf("%s ALARM: VM %u (pid %u, label %llu) destroyed with %lld pages in %lld "
		       "buffers still pinned (library's leaked_pages: %llu)\n",
		       ts, a->client_id, a->pid, (unsigned long long)a->label, (long long)a->pages,
		       (long long)a->buffers, (unsigned long long)a->lib_leaked);
	} else {
		stamp(ts, sizeof(ts));
		printf("%s ALARM: driver context %u lost a secure thread at destroy: "
		       "%lld pages stay pinned\n", ts, a->client_id, (long long)a->pages);
	}
	fflush(stdout);
	return 0;
}

struct vrow {
	struct vm_key key;
	struct vm_pins v;
};

struct krow {
	__u32 client_id;
	struct kvm_pins k;
};

static int vrow_cmp(const void *a, const void *b)
{
	const struct vm_key *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->client_id < y->client_id ? -1 : x->client_id > y->client_id;
}

static int krow_cmp(const void *a, const void *b)
{
	const __u32 *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/* Rows of `rsize` bytes: the key at offset 0, the value at `voff` (its
 * alignment may put it after padding). */
static void *read_all(int fd, size_t ksize, size_t voff, size_t rsize, size_t *count,
		      int (*cmp)(const void *, const void *))
{
	char key[16], next[16];
	void *prev = NULL;
	size_t n = 0, cap = 64;
	char *rows = calloc(cap, rsize);

	while (rows && bpf_map_get_next_key(fd, prev, next) == 0) {
		if (n == cap) {
			char *more = realloc(rows, cap * 2 * rsize);

			if (!more)
				break;
			rows = more;
			cap *= 2;
		}
		memcpy(rows + n * rsize, next, ksize);
		if (bpf_map_lookup_elem(fd, next, rows + n * rsize + voff) == 0)
			n++;
		memcpy(key, next, ksize);
		prev = key;
	}
	qsort(rows, n, rsize, cmp);
	*count = n;
	return rows;
}

static void print_table(struct teemedpins_bpf *obj, bool kernel_tp)
{
	size_t nv, nk, i;
	struct vrow *v = read_all(bpf_map__fd(obj->maps.vms), sizeof(struct vm_key),
				  offsetof(struct vrow, v), sizeof(struct vrow), &nv, vrow_cmp);
	struct krow *k = read_all(bpf_map__fd(obj->maps.kvms), sizeof(__u32),
				  offsetof(struct krow, k), sizeof(struct krow), &nk, krow_cmp);
	struct pins_summary s = {};
	__u32 zero = 0;
	char ts[16];

	bpf_map_lookup_elem(bpf_map__fd(obj->maps.summary), &zero, &s);
	if (env.common.json) {
		printf("{\"summary\": {\"vms_created\": %llu, \"vms_destroyed\": %llu, "
		       "\"vms_leaked\": %llu, \"pages_leaked\": %llu, \"kvms_created\": %llu, "
		       "\"kvms_destroyed\": %llu, \"kvms_leaked\": %llu, \"alarms\": %lu},\n \"vms\": [",
		       (unsigned long long)s.vms_created, (unsigned long long)s.vms_destroyed,
		       (unsigned long long)s.vms_leaked, (unsigned long long)s.pages_leaked,
		       (unsigned long long)s.kvms_created, (unsigned long long)s.kvms_destroyed,
		       (unsigned long long)s.kvms_leaked, alarms_seen);
		for (i = 0; i < nv; i++) {
			const struct vm_pins *p = &v[i].v;

			printf("%s\n  {\"pid\": %u, \"client_id\": %u, \"label\": %llu, "
			       "\"state\": \"%s\", \"pages\": %lld, \"pages_max\": %llu, "
			       "\"buffers\": %lld, \"buffers_max\": %llu, \"calls\": %lld, "
			       "\"calls_max\": %llu, \"pins\": %llu, \"unpins\": %llu, "
			       "\"lib_total\": %llu, \"leaked_pages\": %llu, \"leaked_buffers\": %llu, "
			       "\"lib_leaked\": %llu}", i ? "," : "", v[i].key.pid, v[i].key.client_id,
			       (unsigned long long)p->label, state_names[p->state & 3],
			       (long long)p->pages, (unsigned long long)p->pages_max,
			       (long long)p->buffers, (unsigned long long)p->buffers_max,
			       (long long)p->calls, (unsigned long long)p->calls_max,
			       (unsigned long long)p->pins, (unsigned long long)p->unpins,
			       (unsigned long long)p->lib_total, (unsigned long long)p->leaked_pages,
			       (unsigned long long)p->leaked_buffers,
			       (unsigned long long)p->lib_leaked);
		}
		printf("],\n \"kernel\": [");
		for (i = 0; i < nk; i++) {
			const struct kvm_pins *p = &k[i].k;

			printf("%s\n  {\"client_id\": %u, \"state\": \"%s\", \"pages\": %lld, "
			       "\"pages_max\": %llu, \"pins\": %llu, \"unpins\": %llu, "
			       "\"max_pinned_pages\": %llu, \"pages_at_destroy\": %llu, "
			       "\"unwound_threads\": %u, \"lost_thread\": %u}", i ? "," : "",
			       k[i].client_id, state_names[p->state & 3], (long long)p->pages,
			       (unsigned long long)p->pages_max, (unsigned long long)p->pins,
			       (unsigned long long)p->unpins,
			       (unsigned long long)p->max_pinned_pages,
			       (unsigned long long)p->pages_at_destroy, p->unwound_threads,
			       p->leaked);
		}
		printf("]}\n");
		goto out;
	}

	stamp(ts, sizeof(ts));
	printf("\n%s  VMs: %llu created, %llu destroyed, %llu leaked (%llu pages)\n", ts,
	       (unsigned long long)s.vms_created, (unsigned long long)s.vms_destroyed,
	       (unsigned long long)s.vms_leaked, (unsigned long long)s.pages_leaked);
	printf("%-7s %-5s %-6s %-9s %7s %7s %5s %5s %5s %5s %7s %7s\n", "PID", "VM", "LABEL",
	       "STATE", "PAGES", "MAX", "BUFS", "MAX", "CALLS", "MAX", "PINS", "UNPINS");
	for (i = 0; i < nv; i++) {
		const struct vm_pins *p = &v[i].v;

		printf("%-7u %-5u %-6llu %-9s %7lld %7llu %5lld %5llu %5lld %5llu %7llu %7llu\n",
		       v[i].key.pid, v[i].key.client_id, (unsigned long long)p->label,
		       state_names[p->state & 3], (long long)p->pages,
		       (unsigned long long)p->pages_max, (long long)p->buffers,
		       (unsigned long long)p->buffers_max, (long long)p->calls,
		       (unsigned long long)p->calls_max, (unsigned long long)p->pins,
		       (unsigned long long)p->unpins);
	}
	if (kernel_tp) {
		printf("host driver (tee_vm): %llu contexts created, %llu destroyed, %llu leaked\n",
		       (unsigned long long)s.kvms_created, (unsigned long long)s.kvms_destroyed,
		       (unsigned long long)s.kvms_leaked);
		printf("%-5s %-9s %7s %7s %7s %7s %7s\n", "CTX", "STATE", "PAGES", "MAX", "QUOTA",
		       "PINS", "UNPINS");
		for (i = 0; i < nk; i++) {
			const struct kvm_pins *p = &k[i].k;

			printf("%-5u %-9s %7lld %7llu %7llu %7llu %7llu\n", k[i].client_id,
			       state_names[p->state & 3], (long long)p->pages,
			       (unsigned long long)p->pages_max,
			       (unsigned long long)p->max_pinned_pages,
			       (unsigned long long)p->pins, (unsigned long long)p->unpins);
		}
	}
out:
	fflush(stdout);
	free(v);
	free(k);
}

struct table_ctx {
	struct teemedpins_bpf *obj;
	bool kernel_tp;
};

static void tick(void *p)
{
	const struct table_ctx *ctx = p;

	print_table(ctx->obj, ctx->kernel_tp);
}

int main(int argc, char **argv)
{
	static const struct argp_child children[] = { { &trace_common_argp, 0, NULL, 0 }, {} };
	static const struct argp argp = { opts, parse_arg, NULL, argp_program_doc, children,
					  NULL, NULL };
	struct ring_buffer *rb = NULL;
	struct teemedpins_bpf *obj;
	char binbuf[512];
	const char *binary;
	bool kernel_tp, pinned = false;
	int err;

	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return 1;
	set_libbpf_verbosity(env.common.verbose);

	binary = trace_binary(&env.common, "teemedpins", binbuf, sizeof(binbuf));
	if (!binary)
		return 1;
	obj = teemedpins_bpf__open();
	if (!obj) {
		fprintf(stderr, "teemedpins: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	obj->rodata->targ_tgid = env.common.pid;
	obj->rodata->filter_client = env.common.client >= 0;
	obj->rodata->targ_client = env.common.client >= 0 ? env.common.client : 0;

	/* The host driver's side exists on the patched kernel only. */
	kernel_tp = env.common.kernel && tracefs_has("tee_vm", NULL);
	bpf_program__set_autoload(obj->progs.tee_vm_create, kernel_tp);
	bpf_program__set_autoload(obj->progs.tee_vm_pin, kernel_tp);
	bpf_program__set_autoload(obj->progs.tee_vm_unpin, kernel_tp);
	bpf_program__set_autoload(obj->progs.tee_vm_destroy, kernel_tp);
	bpf_program__set_autoload(obj->progs.smc_entry, env.calls);
	bpf_program__set_autoload(obj->progs.smc_exit, env.calls);

	/* The tracepoint programs attach by their section names. */
	err = trace_load_attach(obj->skeleton, "teemedpins");
	if (err)
		goto out;
	{
		/* Without the SMC probes only the calls figures go. */
		const struct usdt_prog usdt[] = {
			{ obj->progs.vm_create, &obj->links.vm_create, "vm_create", false },
			{ obj->progs.vm_destroy, &obj->links.vm_destroy, "vm_destroy", false },
			{ obj->progs.pin, &obj->links.pin, "pin", false },
			{ obj->progs.unpin, &obj->links.unpin, "unpin", false },
			{ obj->progs.smc_entry, &obj->links.smc_entry, "smc_entry", true },
			{ obj->progs.smc_exit, &obj->links.smc_exit, "smc_exit", true },
		};

		err = attach_teemed_usdts(usdt, env.calls ? 6 : 4, env.common.pid, binary);
		if (err)
			goto out;
	}
	err = trace_pin(&env.common, obj->obj, pinned_maps, &pinned);
	if (err)
		goto out;
	rb = ring_buffer__new(bpf_map__fd(obj->maps.alarms), handle_alarm, NULL, NULL);
	if (!rb) {
		err = -errno;
		fprintf(stderr, "teemedpins: ring buffer: %s\n", strerror(errno));
		goto out;
	}

	trace_catch_signals();
	fprintf(stderr, "Tracing teemed pins in %s%s%s%s... Hit Ctrl-C to end.\n", binary,
		env.common.pid ? " (pid filter)" : "", kernel_tp ? ", tee_vm tracepoints" : "",
		pinned ? ", maps pinned" : "");
	fflush(stderr);

	{
		struct table_ctx ctx = { obj, kernel_tp };
		const struct trace_loop loop = {
			.rb = rb, .duration = env.common.duration, .pid = env.common.pid,
			.interval = env.quiet ? 0 : env.interval, .tick = tick, .ctx = &ctx,
		};

		err = trace_loop_run(&loop);
		if (!err && !env.quiet)
			print_table(obj, kernel_tp);
	}

out:
	ring_buffer__free(rb);
	if (pinned)
		unpin_maps(obj->obj, env.common.pin_dir, pinned_maps);
	teemedpins_bpf__destroy(obj);
	if (err)
		return 1;
	if (env.check && alarms_seen) {
		fprintf(stderr, "teemedpins: %lu leak alarm(s)\n", alarms_seen);
		return 2;
	}
	return 0;
}
