/* SPDX-License-Identifier: BSD-2-Clause */
/* Which VMM process and which VM (OP-TEE client id) a tool traces: set by
 * its loader before load (-p PID, -c CLIENT), the same in both tools. */
#ifndef __TEEMED_FILTER_BPF_H
#define __TEEMED_FILTER_BPF_H

const volatile __u32 targ_tgid = 0; /* 0: any VMM */
const volatile __u32 targ_client = 0;
const volatile bool filter_client = false;

static __always_inline bool traced(__u32 client_id)
{
	if (targ_tgid && (bpf_get_current_pid_tgid() >> 32) != targ_tgid)
		return false;
	if (filter_client && client_id != targ_client)
		return false;
	return true;
}

#endif /* __TEEMED_FILTER_BPF_H */
