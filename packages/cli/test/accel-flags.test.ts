/**
 * BootInfo's flags come from what the back end's machine has, never from
 * its name alone: the timer flag from `timer` (TCG: always; KVM: when it
 * made an in-kernel irqchip), the slot transport from TCG.
 */
import test from 'ava';
import { BOOT_FLAG_HYPERCALL_SLOT, BOOT_FLAG_TIMER, type AcceleratorFeatures } from '@kvmos/protocol';
import { planBoot } from '@kvmos/loader';
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { accelBootFlags, startAccelerator } from '../src/accel.js';
import { imagePath, readImage } from '../src/images.js';

test('the timer flag follows the machine\'s timer on both back ends; the slot flag is TCG\'s', (t) => {
  t.is(accelBootFlags({ name: 'tcg', timer: true }), BOOT_FLAG_HYPERCALL_SLOT | BOOT_FLAG_TIMER);
  t.is(accelBootFlags({ name: 'kvm', timer: true }), BOOT_FLAG_TIMER);
  t.is(accelBootFlags({ name: 'kvm', timer: false }), 0n);
  t.is(accelBootFlags({ name: 'tcg', timer: false }), BOOT_FLAG_HYPERCALL_SLOT);
});

test('startAccelerator has the back end make the boot state for its features (TCG: a timer)', (t) => {
  const kernel = readImage(imagePath('hello'), true);
  const seen: AcceleratorFeatures[] = [];
  const started = startAccelerator('tcg', (f) => {
    seen.push(f);
    return planBoot({ kernel, flags: accelBootFlags(f), bootTimeNs: 0n, randomSeed: randomBytes(32) });
  });
  try {
    t.deepEqual(seen, [{ name: 'tcg', timer: true }]);
    t.true(started.accel.timer);
    t.is(started.state.bootInfo.flags & BOOT_FLAG_TIMER, BOOT_FLAG_TIMER);
  } finally {
    started.accel.close();
  }
});

const noKvm = ((): string | undefined => {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
})();

(noKvm === undefined ? test : test.skip)(`KVM: the boot state's timer flag is the machine's (an in-kernel irqchip was made)${noKvm ? ` (skipped: ${noKvm})` : ''}`, (t) => {
  const kernel = readImage(imagePath('hello'), true);
  const seen: AcceleratorFeatures[] = [];
  const started = startAccelerator('kvm', (f) => {
    seen.push(f);
    return planBoot({ kernel, flags: accelBootFlags(f), bootTimeNs: 0n, randomSeed: randomBytes(32) });
  });
  try {
    t.deepEqual(seen, [{ name: 'kvm', timer: started.accel.timer }]);
    t.is(started.state.bootInfo.flags & BOOT_FLAG_TIMER, started.accel.timer ? BOOT_FLAG_TIMER : 0n);
    t.is(started.state.bootInfo.flags & BOOT_FLAG_HYPERCALL_SLOT, 0n);
    t.log(started.accel.timer ? 'KVM made an in-kernel irqchip: the guest has its tick' : `no tick: ${started.accel.noTimerReason}`);
  } finally {
    started.accel.close();
  }
});
