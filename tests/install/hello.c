/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A C VMM's first contact with an installed libteemed: the C ABI only,
 * built with pkg-config (and with find_package(teemed)). With no OP-TEE
 * here, it checks what needs none, and that opening a context that
 * cannot exist fails cleanly.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <teemed/teemed.h>

int main(void)
{
	struct teemed_limits lim;
	teemed_ctx *ctx = NULL;
	int e;

	teemed_limits_default(&lim);
	if (!lim.max_pinned_pages_per_vm || !teemed_is_mediated_fid(0xb2000000u) ||
	    teemed_is_mediated_fid(0x84000000u) || TEEMED_SMCCC_RANGES[0][1] == 0) {
		fprintf(stderr, "hello: the C ABI answers wrongly\n");
		return 1;
	}
	e = teemed_ctx_open_kernel("/nonexistent/teevm0", &ctx);
	if (e != -ENOENT || ctx) {
		fprintf(stderr, "hello: opening a missing device gave %d\n", e);
		return 1;
	}
	printf("hello: libteemed %d.%d.%d, C ABI ok\n", TEEMED_VERSION_MAJOR, TEEMED_VERSION_MINOR,
	       TEEMED_VERSION_PATCH);
	return 0;
}
