/* SPDX-License-Identifier: BSD-2-Clause */
/* What both loaders need: histograms, names, tracefs, map pinning. */
#ifndef __TEEMED_TRACE_HELPERS_H
#define __TEEMED_TRACE_HELPERS_H

#include <stdbool.h>
#include <argp.h>
#include <stdio.h>
#include <bpf/libbpf.h>

struct ring_buffer;

#define TEEMED_PIN_ROOT "/sys/fs/bpf/teemed"

/* bcc's layout: "     usecs   : count   distribution". */
void print_log2_hist(FILE *f, const unsigned long long *vals, int n, const char *unit,
		     const char *indent);

/* A name for an OP-TEE SMC function id ("CALL_WITH_ARG"), or NULL. */
const char *optee_fid_name(unsigned int fid);

/* Whether the kernel has a trace system (events/<sys>) or one event. */
bool tracefs_has(const char *system, const char *event);

/* Turn a program off (not loaded) when its tracepoint is missing; returns
 * true if it stays on. */
bool autoload_if_tracepoint(struct bpf_program *prog, const char *system, const char *event);

/* Pin every map of obj named in maps[] under dir (made if needed), after
 * removing stale pins of the same names. */
int pin_maps(struct bpf_object *obj, const char *dir, const char *const maps[]);
void unpin_maps(struct bpf_object *obj, const char *dir, const char *const maps[]);

/* libbpf's warnings on stderr, its debug output only with verbose. */
void set_libbpf_verbosity(bool verbose);

/* A USDT program of provider "teemed" and where its link goes. */
struct usdt_prog {
	struct bpf_program *prog;
	struct bpf_link **link;
	const char *probe;
	bool optional; /* the tool still works without it */
};

/* Attach each to binary (pid 0: every process); -errno of the first
 * one that is not optional and fails. */
int attach_teemed_usdts(const struct usdt_prog *progs, int n, int pid, const char *binary);

/* The tools' main loop, until SIGINT/SIGTERM, the duration, or the
 * traced process's end: polls rb (or sleeps), calls tick every interval
 * seconds. Returns 0 or the poll's error. */
struct trace_loop {
	struct ring_buffer *rb;
	int duration;
	int interval;
	int pid;
	void (*tick)(void *ctx);
	void *ctx;
};
/* SIGINT and SIGTERM end trace_loop_run() (before it starts, too): call
 * before telling anyone the tool is tracing. */
void trace_catch_signals(void);
int trace_loop_run(const struct trace_loop *l);

/* A number option of at least `min`, or argp_error(). */
struct argp_state;
long parse_num_arg(const char *arg, struct argp_state *state, long min);

/* The options both tools take (-p -b -c -d -j -k -P -N -v): a tool's env
 * embeds one, and its argp has trace_common_argp as a child whose input
 * it is (state->child_inputs[0] at ARGP_KEY_INIT). */
struct trace_opts {
	int pid;
	long client; /* -1: every VM */
	const char *binary;
	int duration;
	bool json;
	bool kernel;
	bool pin;
	bool verbose;
	const char *pin_dir;
};
extern const struct argp trace_common_argp;

/* The binary with the probes (resolve_binary), or NULL after saying so. */
const char *trace_binary(const struct trace_opts *o, const char *tool, char *buf, size_t len);

/* Load the skeleton's programs and attach those that attach by section
 * name (the tracepoints); 0, or -errno after saying so. */
int trace_load_attach(struct bpf_object_skeleton *skel, const char *tool);

/* Pin maps[] of obj under o->pin_dir unless -N: 0 and *pinned, or -errno. */
int trace_pin(const struct trace_opts *o, struct bpf_object *obj, const char *const maps[],
	      bool *pinned);

/* The binary holding the probes: the given one, the library or the VMM
 * mapped by PID, or NULL. */
const char *resolve_binary(const char *binary, int pid, char *buf, size_t len);

#endif
