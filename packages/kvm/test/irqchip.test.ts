/**
 * The in-kernel irqchip (a local APIC, hence the guest's timer tick): the
 * pure decisions here; a guest that needs the tick runs on KVM in
 * packages/cli's busybox and accel tests (skipped without /dev/kvm).
 */
import test from 'ava';
import { KvmError } from '../src/errors.js';
import { KVM_CREATE_IRQCHIP, KVM_GET_MP_STATE } from '../src/ioctls.js';
import { APIC_DEFAULT_PHYS_BASE, ramLeavesApicPage, tryIrqchip } from '../src/irqchip.js';

test('KVM_CREATE_IRQCHIP is _IO(KVMIO, 0x60) on the VM fd; KVM_GET_MP_STATE reads one u32', (t) => {
  // Also checked against <linux/kvm.h> in structs.test.ts.
  t.is(KVM_CREATE_IRQCHIP, 0xae60);
  t.is(KVM_GET_MP_STATE, 0x8004ae98);
});

test('the irqchip is made unless RAM reaches the local APIC page at 0xfee00000', (t) => {
  t.is(APIC_DEFAULT_PHYS_BASE, 0xfee0_0000);
  t.true(ramLeavesApicPage(256 * 2 ** 20));
  t.true(ramLeavesApicPage(APIC_DEFAULT_PHYS_BASE));
  t.false(ramLeavesApicPage(APIC_DEFAULT_PHYS_BASE + 4096));
  t.false(ramLeavesApicPage(4 * 2 ** 30));
});

test('a KVM that cannot make an irqchip leaves the guest cooperative and says why; other errors are thrown', (t) => {
  t.deepEqual(tryIrqchip(() => {}), { present: true });
  const failed = tryIrqchip(() => {
    throw new KvmError('KVM_CREATE_IRQCHIP', 25, 'this ioctl is not supported by this kernel');
  });
  t.false(failed.present);
  t.regex(failed.present ? '' : failed.why, /^KVM_CREATE_IRQCHIP: ENOTTY \(errno 25\) - this ioctl is not supported/);
  t.throws(() => tryIrqchip(() => {
    throw new TypeError('a bug');
  }), { instanceOf: TypeError });
});
