/**
 * The run deadline's thread timer (KvmMachine.run(deadlineMs)): its SIGALRM
 * must reach the thread that armed it, where KVM_RUN blocks, not another of
 * Node's threads. pause() stands in for KVM_RUN here (no /dev/kvm needed):
 * it returns EINTR only when a signal is handled by this thread, and would
 * block for ever otherwise.
 */
import test from 'ava';
import { DataType, load } from 'ffi-rs';
import { deleteAlarm, libcName, SIGALRM, threadAlarm } from '../src/libc.js';

test('threadAlarm interrupts a blocking call of the thread that armed it; deleteAlarm stops it', (t) => {
  // A listener, so SIGALRM is handled instead of ending the process.
  const onAlarm = (): void => {};
  process.on('SIGALRM', onAlarm);
  try {
    const alarm = threadAlarm(10, 0);
    if ('errno' in alarm) return t.fail(`timer_create/timer_settime failed: errno ${alarm.errno}`);
    const r = load<DataType.I32, true>({ library: libcName(), funcName: 'pause', retType: DataType.I32, paramsType: [], paramsValue: [], errno: true });
    t.is(r.value, -1);
    t.is(r.errnoCode, 4, 'EINTR');
    deleteAlarm(alarm.id);
  } finally {
    process.off('SIGALRM', onAlarm);
  }
  t.is(SIGALRM, 14);
});
