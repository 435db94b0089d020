// SPDX-License-Identifier: BSD-2-Clause
/*
 * teemedlat: per-VM latency of every SMC a guest makes to OP-TEE through
 * libteemed, per function id, split by stage: VMM mediation, host driver
 * plus secure world, secure world alone (kernel tracepoints), and the
 * guest's whole exit (KVM tracepoints).
 */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "teemedlat.h"
#include "teemedlat.skel.h"
#include "optee_fids.h"
#include "trace_helpers.h"

#define PIN_DIR TEEMED_PIN_ROOT "/teemedlat"

static struct env {
	struct trace_opts common;
	int interval;
	bool events;
	bool table;
	bool kvm;
	unsigned int stages; /* bit per stage shown */
	unsigned long long unit_div;
	const char *unit;
} env = {
	.common = { .client = -1, .kernel = true, .pin = true, .pin_dir = PIN_DIR },
	.kvm = true,
	.stages = (1u << NR_STAGES) - 1,
	.unit_div = 1000,
	.unit = "usecs",
};

static const char *const stage_names[NR_STAGES] = {
	[STAGE_TOTAL] = "total",
	[STAGE_VMM] = "vmm",
	[STAGE_BACKEND] = "backend",
	[STAGE_SECURE] = "secure",
	[STAGE_GUEST] = "guest",
};

static const char *const pinned_maps[] = { "calls", "backend", "hists", NULL };

const char *argp_program_version = "teemedlat 0.1";
const char argp_program_doc[] =
"Latency of the SMCs guests make to OP-TEE through libteemed, per VM and\n"
"function id, as log2 histograms per stage:\n"
"  total    the library, smc_entry to smc_exit\n"
"  vmm      total minus backend: the mediation in the VMM\n"
"  backend  the host TEE driver plus the secure world\n"
"  secure   the secure world alone (tee_vm tracepoints, patched kernel)\n"
"  guest    the vCPU's exit to re-entry around the SMC (KVM tracepoints)\n"
"\n"
"USAGE: teemedlat [-p PID] [-b BINARY] [-c CLIENT] [-i SEC] [-d SEC] [-e] [-T]\n"
"\n"
"EXAMPLES:\n"
"    teemedlat -p 1234            # the VMM of pid 1234; Ctrl-C prints\n"
"    teemedlat -p 1234 -i 5       # print and clear every 5 seconds\n"
"    teemedlat -p 1234 -c 3 -e    # every SMC of VM (client id) 3\n"
"    teemedlat -b /usr/lib/libteemed.so -T -n  # every VMM using it; table, ns\n"
"    teemedlat -p 1234 -s total,backend -m     # two stages, milliseconds\n"
"    teemedlat -p 1234 -d 10 -j   # 10 seconds, JSON\n"
"\n"
"While it runs its maps are pinned under " PIN_DIR ":\n"
"    bpftool map dump pinned " PIN_DIR "/calls\n";

static const struct argp_option opts[] = {
	{ "interval", 'i', "SEC", 0, "Print and clear every SEC seconds", 0 },
	{ "events", 'e', NULL, 0, "Per-event mode: one line per SMC", 0 },
	{ "table", 'T', NULL, 0, "Summary table only, no histograms", 0 },
	{ "stages", 's', "LIST", 0, "Histograms of these stages only "
	  "(total,vmm,backend,secure,guest)", 0 },
	{ "milliseconds", 'm', NULL, 0, "Millisecond histograms", 0 },
	{ "nanoseconds", 'n', NULL, 0, "Nanosecond histograms", 0 },
	{ "no-kvm", 'K', NULL, 0, "Do not attach to KVM's tracepoints", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case ARGP_KEY_INIT: state->child_inputs[0] = &env.common; break;
	case 'i': env.interval = parse_num_arg(arg, state, 1); break;
	case 'e': env.events = true; break;
	case 'T': env.table = true; break;
	case 'K': env.kvm = false; break;
	case 'm': env.unit_div = 1000000; env.unit = "msecs"; break;
	case 'n': env.unit_div = 1; env.unit = "nsecs"; break;
	case 's': {
		char *tok, *save = NULL;

		env.stages = 0;
		for (tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			int i;

			for (i = 0; i < NR_STAGES; i++)
				if (!strcmp(tok, stage_names[i]))
					break;
			if (i == NR_STAGES)
				argp_error(state, "unknown stage: %s", tok);
			env.stages |= 1u << i;
		}
		break;
	}
	case 'h': argp_state_help(state, stderr, ARGP_HELP_STD_HELP); break;
	default: return ARGP_ERR_UNKNOWN;
	}
	return 0;
}


/* ---- reading the maps ---------------------------------------------------- */

struct row {
	struct call_key key;
	struct call_stats st;
};

struct brow {
	struct call_key key;
	struct backend_stats st;
};

struct hrow {
	struct call_key key;
	struct hist h;
};

static int key_cmp(const struct call_key *a, const struct call_key *b)
{
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	if (a->client_id != b->client_id)
		return a->client_id < b->client_id ? -1 : 1;
	if (a->fid != b->fid)
		return a->fid < b->fid ? -1 : 1;
	if (a->stage != b->stage)
		return a->stage < b->stage ? -1 : 1;
	return 0;
}

static int row_cmp(const void *a, const void *b) { return key_cmp(a, b); }

/* Read every entry of a map keyed by call_key; clear it if asked. */
static void *read_map(int fd, size_t vsize, size_t rsize, size_t *count, bool clear)
{
	struct call_key key, next, *prev = NULL;
	size_t n = 0, cap = 64;
	char *rows = calloc(cap, rsize);

	while (rows && bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (n == cap) {
			char *more = realloc(rows, cap * 2 * rsize);

			if (!more)
				break;
			rows = more;
			cap *= 2;
		}
		memcpy(rows + n * rsize, &next, sizeof(next));
		if (bpf_map_lookup_elem(fd, &next, rows + n * rsize + sizeof(next)) == 0)
			n++;
		key = next;
		prev = &key;
	}
	(void)vsize;
	if (clear) {
		size_t i;

		for (i = 0; i < n; i++)
			bpf_map_delete_elem(fd, rows + i * rsize);
	}
	qsort(rows, n, rsize, row_cmp);
	*count = n;
	return rows;
}

static const char *fid_label(unsigned int fid, char *buf, size_t len)
{
	const char *name = optee_fid_name(fid);

	if (name)
		return name;
	snprintf(buf, len, "%#x", fid);
	return buf;
}

static const struct hist *find_hist(const struct hrow *h, size_t nh, const struct call_key *k,
				    unsigned int stage)
{
	struct call_key want = *k;
	size_t i;

	want.stage = stage;
	for (i = 0; i < nh; i++)
		if (!key_cmp(&h[i].key, &want))
			return &h[i].h;
	return NULL;
}

static void print_avg(const struct call_stats *s, int stage)
{
	if (!s->n[stage])
		printf(" %10s", "-");
	else
		printf(" %10.1f", (double)s->ns[stage] / s->n[stage] / env.unit_div);
}

static void print_text(const struct row *r, size_t n, const struct brow *b, size_t nb,
		       const struct hrow *h, size_t nh)
{
	size_t i, j;
	char buf[32];

	for (i = 0; i < n; i++) {
		const struct call_key *k = &r[i].key;
		const struct call_stats *s = &r[i].st;
		bool new_vm = i == 0 || k->pid != r[i - 1].key.pid ||
			      k->client_id != r[i - 1].key.client_id;

		if (new_vm) {
			unsigned long long bc = 0, be = 0;

			for (j = 0; j < nb; j++)
				if (b[j].key.pid == k->pid && b[j].key.client_id == k->client_id)
					bc += b[j].st.count, be += b[j].st.errors;
			printf("\nVM %u (pid %u, label %llu): %llu backend calls, %llu failed\n",
			       k->client_id, k->pid, (unsigned long long)s->label, bc, be);
			printf("  %-22s %9s %7s %8s %10s %10s %10s %10s %10s   (avg %s)\n",
			       "FUNCTION", "CALLS", "RPC", "BACKEND", "TOTAL", "VMM", "BACKEND",
			       "SECURE", "GUEST", env.unit);
		}
		printf("  %-22s %9llu %7llu %8llu", fid_label(k->fid, buf, sizeof(buf)),
		       (unsigned long long)s->count, (unsigned long long)s->rpc_out,
		       (unsigned long long)s->backend_calls);
		for (j = 0; j < NR_STAGES; j++)
			print_avg(s, j);
		printf("\n");
	}
	if (env.table)
		return;
	for (i = 0; i < n; i++) {
		const struct call_key *k = &r[i].key;
		unsigned int st;

		for (st = 0; st < NR_STAGES; st++) {
			const struct hist *hist = find_hist(h, nh, k, st);
			unsigned long long total = 0;

			if (!hist || !(env.stages & (1u << st)))
				continue;
			for (j = 0; j < TEEMEDLAT_MAX_SLOTS; j++)
				total += hist->slots[j];
			if (!total)
				continue;
			printf("\nVM %u (pid %u) %s, stage %s:\n", k->client_id, k->pid,
			       fid_label(k->fid, buf, sizeof(buf)), stage_names[st]);
			print_log2_hist(stdout, (const unsigned long long *)hist->slots,
					TEEMEDLAT_MAX_SLOTS, env.unit, "");
		}
	}
}

static void print_json(const struct row *r, size_t n, const struct brow *b, size_t nb,
		       const struct hrow *h, size_t nh)
{
	struct timespec ts;
	size_t i, j, vm_start;
	bool first_vm = true;

	clock_gettime(CLOCK_REALTIME, &ts);
	printf("{\"time\": %lld, \"unit\": \"%s\", \"vms\": [", (long long)ts.tv_sec, env.unit);
	/* VMs are those with calls or backend calls: walk both, sorted. */
	for (i = 0, j = 0; i < n || j < nb;) {
		struct call_key vk;
		size_t k;
		bool first = true;

		if (j >= nb || (i < n && (r[i].key.pid < b[j].key.pid ||
					  (r[i].key.pid == b[j].key.pid &&
					   r[i].key.client_id <= b[j].key.client_id))))
			vk = r[i].key;
		else
			vk = b[j].key;
		printf("%s\n {\"pid\": %u, \"client_id\": %u, \"calls\": [", first_vm ? "" : ",",
		       vk.pid, vk.client_id);
		first_vm = false;
		vm_start = i;
		for (; i < n && r[i].key.pid == vk.pid && r[i].key.client_id == vk.client_id; i++) {
			const struct call_stats *s = &r[i].st;
			const char *name = optee_fid_name(r[i].key.fid);
			unsigned int st;

			printf("%s\n  {\"fid\": %u, \"name\": \"%s\", \"label\": %llu, \"count\": %llu, "
			       "\"rpc_out\": %llu, \"backend_calls\": %llu, \"stages\": {",
			       first ? "" : ",", r[i].key.fid, name ? name : "",
			       (unsigned long long)s->label, (unsigned long long)s->count,
			       (unsigned long long)s->rpc_out, (unsigned long long)s->backend_calls);
			first = false;
			for (st = 0; st < NR_STAGES; st++) {
				const struct hist *hist = find_hist(h, nh, &r[i].key, st);
				int last = -1, x;

				printf("%s\"%s\": {\"n\": %llu, \"sum_ns\": %llu, \"hist\": [",
				       st ? ", " : "", stage_names[st], (unsigned long long)s->n[st],
				       (unsigned long long)s->ns[st]);
				for (x = 0; hist && x < TEEMEDLAT_MAX_SLOTS; x++)
					if (hist->slots[x])
						last = x;
				for (x = 0; x <= last; x++)
					printf("%s%llu", x ? ", " : "",
					       (unsigned long long)hist->slots[x]);
				printf("]}");
			}
			printf("}}");
		}
		(void)vm_start;
		printf("], \"backend\": [");
		first = true;
		for (; j < nb && b[j].key.pid == vk.pid && b[j].key.client_id == vk.client_id; j++) {
			const char *name = optee_fid_name(b[j].key.fid);

			printf("%s{\"fid\": %u, \"name\": \"%s\", \"count\": %llu, \"errors\": %llu, "
			       "\"sum_ns\": %llu}", first ? "" : ", ", b[j].key.fid, name ? name : "",
			       (unsigned long long)b[j].st.count, (unsigned long long)b[j].st.errors,
			       (unsigned long long)b[j].st.ns);
			first = false;
		}
		printf("]}");
		(void)k;
	}
	printf("\n]}\n");
}

static void print_maps(struct teemedlat_bpf *obj, bool clear)
{
	size_t n, nb, nh;
	struct row *r = read_map(bpf_map__fd(obj->maps.calls), sizeof(struct call_stats),
				 sizeof(struct row), &n, clear);
	struct brow *b = read_map(bpf_map__fd(obj->maps.backend), sizeof(struct backend_stats),
				  sizeof(struct brow), &nb, clear);
	struct hrow *h = read_map(bpf_map__fd(obj->maps.hists), sizeof(struct hist),
				  sizeof(struct hrow), &nh, clear);

	if (env.common.json) {
		print_json(r, n, b, nb, h, nh);
	} else {
		char ts[32];
		time_t t = time(NULL);

		strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&t));
		printf("\n%s\n", ts);
		if (!n && !nb)
			printf("(no mediated SMC seen)\n");
		print_text(r, n, b, nb, h, nh);
	}
	fflush(stdout);
	free(r);
	free(b);
	free(h);
}

/* ---- per-event mode -------------------------------------------------------- */

static int handle_event(void *ctx, void *data, size_t len)
{
	const struct smc_event *e = data;
	static unsigned long long t0;
	char buf[32];
	int st;

	(void)ctx;
	(void)len;
	if (!t0)
		t0 = e->ts_ns;
	if (env.common.json) {
		printf("{\"ts_ns\": %llu, \"pid\": %u, \"tid\": %u, \"client_id\": %u, "
		       "\"label\": %llu, \"fid\": %u, \"a0_out\": %llu, \"backend_calls\": %u",
		       (unsigned long long)e->ts_ns, e->pid, e->tid, e->client_id,
		       (unsigned long long)e->label, e->fid, (unsigned long long)e->a0_out,
		       e->backend_calls);
		for (st = 0; st < NR_STAGES; st++)
			if (e->stages & (1u << st))
				printf(", \"%s_ns\": %llu", stage_names[st],
				       (unsigned long long)e->ns[st]);
		printf("}\n");
	} else {
		printf("%-11.6f %-7u %-7u %-4u %-6llu %-22s %-10llx", (e->ts_ns - t0) / 1e9, e->pid,
		       e->tid, e->client_id, (unsigned long long)e->label,
		       fid_label(e->fid, buf, sizeof(buf)), (unsigned long long)e->a0_out);
		for (st = STAGE_TOTAL; st <= STAGE_SECURE; st++) {
			if (e->stages & (1u << st))
				printf(" %9.3f", e->ns[st] / 1000.0);
			else
				printf(" %9s", "-");
		}
		printf("\n");
	}
	fflush(stdout);
	return 0;
}

/* ---- main ------------------------------------------------------------------ */

static void tick(void *obj)
{
	print_maps(obj, true);
}

int main(int argc, char **argv)
{
	static const struct argp_child children[] = { { &trace_common_argp, 0, NULL, 0 }, {} };
	static const struct argp argp = { opts, parse_arg, NULL, argp_program_doc, children,
					  NULL, NULL };
	struct ring_buffer *rb = NULL;
	struct teemedlat_bpf *obj;
	char binbuf[512];
	const char *binary;
	bool kernel_tp = false, kvm_tp = false, pinned = false;
	int err;

	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return err;
	set_libbpf_verbosity(env.common.verbose);

	binary = trace_binary(&env.common, "teemedlat", binbuf, sizeof(binbuf));
	if (!binary)
		return 1;

	obj = teemedlat_bpf__open();
	if (!obj) {
		fprintf(stderr, "teemedlat: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	obj->rodata->targ_tgid = env.common.pid;
	obj->rodata->filter_client = env.common.client >= 0;
	obj->rodata->targ_client = env.common.client >= 0 ? env.common.client : 0;
	obj->rodata->unit_div = env.unit_div;
	obj->rodata->per_event = env.events;
	obj->rodata->with_hists = !env.events;

	/* The tee_vm tracepoints exist on the patched (arm64) kernel only;
	 * KVM's wherever KVM is built in or loaded. */
	kernel_tp = env.common.kernel && tracefs_has("tee_vm", NULL);
	bpf_program__set_autoload(obj->progs.tee_vm_call_begin, kernel_tp);
	bpf_program__set_autoload(obj->progs.tee_vm_call_end, kernel_tp);
	kvm_tp = env.kvm && tracefs_has("kvm", "kvm_exit") && tracefs_has("kvm", "kvm_entry") &&
		 tracefs_has("kvm", "kvm_userspace_exit");
	bpf_program__set_autoload(obj->progs.kvm_exit, kvm_tp);
	bpf_program__set_autoload(obj->progs.kvm_entry, kvm_tp);
	bpf_program__set_autoload(obj->progs.kvm_userspace_exit, kvm_tp);

	/* The tracepoint programs attach by their section names. */
	err = trace_load_attach(obj->skeleton, "teemedlat");
	if (err)
		goto out;
	{
		const struct usdt_prog usdt[] = {
			{ obj->progs.smc_entry, &obj->links.smc_entry, "smc_entry", false },
			{ obj->progs.smc_exit, &obj->links.smc_exit, "smc_exit", false },
			{ obj->progs.backend_enter, &obj->links.backend_enter, "backend_enter", false },
			{ obj->progs.backend_exit, &obj->links.backend_exit, "backend_exit", false },
		};

		err = attach_teemed_usdts(usdt, 4, env.common.pid, binary);
		if (err)
			goto out;
	}

	err = trace_pin(&env.common, obj->obj, pinned_maps, &pinned);
	if (err)
		goto out;
	if (env.events) {
		rb = ring_buffer__new(bpf_map__fd(obj->maps.events), handle_event, NULL, NULL);
		if (!rb) {
			err = -errno;
			fprintf(stderr, "teemedlat: ring buffer: %s\n", strerror(errno));
			goto out;
		}
	}

	trace_catch_signals();
	fprintf(stderr, "Tracing teemed SMCs in %s%s%s%s%s... Hit Ctrl-C to end.\n", binary,
		env.common.pid ? " (pid filter)" : "", kernel_tp ? ", tee_vm tracepoints" : "",
		kvm_tp ? ", KVM tracepoints" : "", pinned ? ", maps pinned" : "");
	if (env.events && !env.common.json)
		printf("%-11s %-7s %-7s %-4s %-6s %-22s %-10s %9s %9s %9s %9s\n", "TIME(s)", "PID",
		       "TID", "VM", "LABEL", "FUNCTION", "A0_OUT", "TOTAL(us)", "VMM(us)",
		       "BACKEND", "SECURE");
	fflush(stderr);

	{
		/* Events print as they come; otherwise the maps, every
		 * interval and at the end. */
		const struct trace_loop loop = {
			.rb = rb, .duration = env.common.duration, .pid = env.common.pid,
			.interval = env.events ? 0 : env.interval, .tick = tick, .ctx = obj,
		};

		err = trace_loop_run(&loop);
		if (!err && !rb)
			print_maps(obj, false);
	}

out:
	ring_buffer__free(rb);
	if (pinned)
		unpin_maps(obj->obj, env.common.pin_dir, pinned_maps);
	teemedlat_bpf__destroy(obj);
	return err ? 1 : 0;
}
