// SPDX-License-Identifier: BSD-2-Clause
// teemed-vmm: a small KVM VMM for arm64 whose guests reach OP-TEE through
// libteemed. See tee.cpp for the three lines that matter.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "machine.hpp"

namespace {

void usage(const char *argv0)
{
	std::fprintf(stderr,
		     "usage: %s --kernel Image [--initrd file] [--cmdline str] [--mem MiB]\n"
		     "          [--cpus N] [--tee /dev/teevm0 | --no-tee] [--verbose]\n"
		     "          [--tee-foreign-intr-budget USECS]\n"
		     "\n"
		     "Runs one arm64 guest under KVM. Its SMCs in the Trusted App/OS ranges are\n"
		     "mediated by libteemed through the host's VM-context device, so the\n"
		     "guest's own OP-TEE driver (linaro,optee-tz, method smc) works.\n"
		     "Exits 0 when the guest powers off.\n"
		     "\n"
		     "example: %s --kernel /boot/Image --initrd /guest.cpio --mem 256 --cpus 2\n",
		     argv0, argv0);
}

} // namespace

int main(int argc, char **argv)
{
	vmm::Options o;
	for (int i = 1; i < argc; i++) {
		const std::string a = argv[i];
		auto next = [&]() -> std::string {
			if (i + 1 >= argc) {
				usage(argv[0]);
				std::exit(2);
			}
			return argv[++i];
		};
		if (a == "--kernel")
			o.kernel = next();
		else if (a == "--initrd")
			o.initrd = next();
		else if (a == "--cmdline")
			o.cmdline = next();
		else if (a == "--mem")
			o.mem_mb = std::strtoull(next().c_str(), nullptr, 0);
		else if (a == "--cpus")
			o.cpus = unsigned(std::strtoul(next().c_str(), nullptr, 0));
		else if (a == "--tee")
			o.tee_dev = next();
		else if (a == "--no-tee")
			o.tee_dev.clear();
		else if (a == "--tee-foreign-intr-budget")
			o.foreign_intr_budget_us = std::strtol(next().c_str(), nullptr, 0);
		else if (a == "--verbose")
			o.verbose = true;
		else {
			usage(argv[0]);
			return a == "--help" || a == "-h" ? 0 : 2;
		}
	}
	if (o.kernel.empty() || !o.cpus || o.cpus > 8 || o.mem_mb < 64) {
		usage(argv[0]);
		return 2;
	}
	try {
		vmm::Machine m(o);
		return m.run();
	} catch (const std::exception &e) {
		std::fprintf(stderr, "teemed-vmm: %s\n", e.what());
		return 1;
	}
}
