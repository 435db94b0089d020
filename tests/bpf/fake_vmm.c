// SPDX-License-Identifier: BSD-2-Clause
/*
 * A FAKE VMM for the tests of teemedpins: no library, no guest, no OP-TEE.
 * It fires the library's USDT probes (provider "teemed", tools/lib/probes.hpp)
 * directly, in a sequence the real library never produces: a VM destroyed
 * while one of its buffers is still pinned. That is the only way to see the
 * leak alarm fire, since libteemed frees everything at destroy.
 *
 * It waits for a line on stdin before firing (so that a tool can attach)
 * and for another before exiting (so that the tool can read its maps).
 *
 *   VM client 11, label 100: a call with one RPC; pin 4, pin 2, unpin 4,
 *                            destroy -> 2 pages in 1 buffer leak
 *   VM client 12, label 200: a call with one RPC; pin 3, unpin 3, destroy
 *                            -> clean
 */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "probes.hpp"

static void fake_vm(uint64_t label, uint32_t client, int leak)
{
	uint32_t total = 0, pages;

	TEEMED_PROBE2(vm_create, label, client);
	/* A yielding call that goes out to an RPC and comes back. */
	TEEMED_PROBE3(smc_entry, label, client, (uint32_t)0x32000004);
	TEEMED_PROBE4(smc_exit, label, client, (uint32_t)0x32000004, (uint64_t)0xffff0005);
	TEEMED_PROBE3(smc_entry, label, client, (uint32_t)0x32000003);
	TEEMED_PROBE4(smc_exit, label, client, (uint32_t)0x32000003, (uint64_t)0);
	if (leak) {
		pages = 4, total += pages;
		TEEMED_PROBE4(pin, label, client, pages, total);
		pages = 2, total += pages;
		TEEMED_PROBE4(pin, label, client, pages, total);
		pages = 4, total -= pages;
		TEEMED_PROBE4(unpin, label, client, pages, total);
	} else {
		pages = 3, total += pages;
		TEEMED_PROBE4(pin, label, client, pages, total);
		total -= pages;
		TEEMED_PROBE4(unpin, label, client, pages, total);
	}
	/* The library would say 0 here too: it never knows of the leak. */
	TEEMED_PROBE3(vm_destroy, label, client, (uint32_t)0);
}

int main(void)
{
	char line[64];

	printf("fake-vmm pid %d ready\n", (int)getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	fake_vm(100, 11, 1);
	fake_vm(200, 12, 0);
	printf("fake-vmm fired\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 0;
	return 0;
}
