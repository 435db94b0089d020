#!/bin/sh
# Failure drills, run on the board's host by scripts/e2e.sh drills (the
# @...@ fields are filled in there). Prints TEEMED-DRILL lines; exits with
# the number of drills that failed.
set -u
T=/sys/kernel/tracing
M=@GUEST_MEM@
cmdline() { echo "quiet panic=-1 teemed_cmds=$1"; }
failed=0
drill() { # name pass|fail details
	echo "TEEMED-DRILL $1 $2 $3"
	[ "$2" = pass ] || failed=$((failed + 1))
}
field() { sed -n "s/.*$1=\([0-9a-fx]*\).*/\1/p"; }

echo 1 >$T/events/tee_vm/enable
echo >$T/trace

# 0. Access control: /dev/teevm0 is root's; an unprivileged VMM is refused
# before anything reaches OP-TEE. /dev/kvm is opened up for the drill, so
# that the refusal comes from the TEE device and not from KVM.
ls -l /dev/teevm0
chmod 666 /dev/kvm
su -s /bin/sh nobody -c "guest-vmm $M x" >/tmp/nobody.log 2>&1
rc=$?
chmod 600 /dev/kvm
echo "nobody's VMM said: $(head -n1 /tmp/nobody.log)"
# (teemed-vmm: "/dev/teevm0: Permission denied"; QEMU: "no permission to
# open /dev/teevm0")
if [ $rc != 0 ] && grep -qE "teevm0: Permission denied|no permission to open /dev/teevm0" /tmp/nobody.log &&
	! grep -q tee_vm_create $T/trace; then
	drill unprivileged pass "rc=$rc"
else
	drill unprivileged fail "rc=$rc"
fi

# 1. SIGKILL the VMM while its guest is inside xtest.
guest-vmm $M "$(cmdline @LONG@)" >/tmp/killed.log 2>&1 &
pid=$!
i=0
while ! grep -q "TEEMED-STEP 1 BEGIN" /tmp/killed.log && [ $i -lt 180 ]; do
	sleep 1
	i=$((i + 1))
done
sleep 10
calls_before=$(grep -c tee_vm_call_end $T/trace)
kill -9 $pid
wait $pid 2>/dev/null
sleep 1
grep -E "tee_vm_(create|destroy)" $T/trace | sed 's/^/trace: /'
destroy=$(grep tee_vm_destroy $T/trace | tail -n1)
client=$(echo "$destroy" | field client)
leaked=$(echo "$destroy" | field leaked)
unwound=$(echo "$destroy" | field unwound_threads)
at_destroy=$(echo "$destroy" | field pinned_pages)
after=$(grep "tee_vm_unpin: client=$client " $T/trace | tail -n1 | field pinned_pages)
[ -n "$after" ] || after=$at_destroy
pins=$(grep -c "tee_vm_pin: client=$client " $T/trace)
if [ -n "$destroy" ] && [ "$leaked" = 0 ] && [ "${after:-x}" = 0 ] && [ "$calls_before" -gt 0 ]; then
	drill kill pass "client=$client guest_smcs=$calls_before pins=$pins pinned_at_destroy=$at_destroy pinned_after=$after unwound_threads=$unwound leaked=$leaked"
else
	drill kill fail "client=$client pinned_after=$after leaked=$leaked destroy='$destroy'"
fi

# ... and a new guest gets a working context (the client id is reused).
guest-vmm $M "$(cmdline @SHORT@)" >/tmp/next.log 2>&1
rc=$?
sed 's/^/guest| /' /tmp/next.log | grep -E "test cases? of which|TEEMED-RESULT"
nclient=$(grep tee_vm_create $T/trace | tail -n1 | field client)
if [ $rc = 0 ] && grep -q "test cases\? of which 0 failed" /tmp/next.log; then
	drill after-kill pass "client=$nclient rc=$rc"
else
	drill after-kill fail "rc=$rc"
fi

# 2. Two guests at once: OP-TEE has room for two clients, so the host
# gives up its own registration (optee.host_client=0).
killall tee-supplicant 2>/dev/null
i=0
while pidof tee-supplicant >/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
for m in optee_rng scmi_transport_optee optee; do rmmod $m || echo "rmmod $m failed"; done
optee_ko=$(sed -n 's/^optee \(.*\)$/\1/p' /etc/teemed/modules)
insmod "$optee_ko" host_client=0
i=0
while [ ! -e /dev/teevm0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
echo 1 >$T/events/tee_vm/enable # the reloaded module's events start disabled
guest-vmm $M "$(cmdline @HOLD@)" >/tmp/a.log 2>&1 &
a=$!
guest-vmm $M "$(cmdline @HOLD@)" >/tmp/b.log 2>&1 &
b=$!
i=0
while ! { grep -q "TEEMED-TEE" /tmp/a.log && grep -q "TEEMED-TEE" /tmp/b.log; } && [ $i -lt 180 ]; do
	sleep 1
	i=$((i + 1))
done
# 3. A third, while both hold their contexts: refused, clearly.
guest-vmm $M "$(cmdline @SHORT@)" >/tmp/c.log 2>&1
rc_c=$?
wait $a
rc_a=$?
wait $b
rc_b=$?
for g in a b; do sed "s/^/guest| /" /tmp/$g.log | grep -E "test cases? of which|TEEMED-(TEE|RESULT)"; done
ca=$(grep -c "test cases\? of which 0 failed" /tmp/a.log)
cb=$(grep -c "test cases\? of which 0 failed" /tmp/b.log)
clients=$(grep tee_vm_create $T/trace | tail -n3 | field client | tr '\n' ' ')
if [ $rc_a = 0 ] && [ $rc_b = 0 ] && [ "$ca" = 1 ] && [ "$cb" = 1 ]; then
	drill two-guests pass "rc=$rc_a,$rc_b clients=$clients"
else
	drill two-guests fail "rc=$rc_a,$rc_b passed=$ca,$cb"
fi
echo "third VMM said: $(head -n1 /tmp/c.log)"
if [ $rc_c != 0 ] && grep -qi "no space\|ENOSPC\|no free guest slot" /tmp/c.log; then
	drill third-refused pass "rc=$rc_c"
else
	drill third-refused fail "rc=$rc_c"
fi
echo "TEEMED-DRILLS failed=$failed"
exit $failed
