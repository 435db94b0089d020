/* SPDX-License-Identifier: BSD-2-Clause */
/* What both loaders need: histograms, names, tracefs, map pinning. */
#ifndef __TEEMED_TRACE_HELPERS_H
#define __TEEMED_TRACE_HELPERS_H

#include <stdbool.h>
#include <stdio.h>
#include <bpf/libbpf.h>

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

/* Attach a USDT program of provider "teemed" to binary (pid -1: all). */
struct bpf_link *attach_teemed_usdt(struct bpf_program *prog, int pid, const char *binary,
				    const char *name);

/* The binary holding the probes: the given one, /proc/PID/exe, or NULL. */
/* A number option of at least `min`, or argp_error(). */
struct argp_state;
long parse_num_arg(const char *arg, struct argp_state *state, long min);

const char *resolve_binary(const char *binary, int pid, char *buf, size_t len);

#endif
