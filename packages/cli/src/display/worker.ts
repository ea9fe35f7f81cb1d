/**
 * The vCPU thread of a windowed run: boots the Machine and runs it, its
 * frames going through the shared channel (channel.ts). KVM_RUN blocks this
 * thread for as long as the guest computes; the main thread stays free for
 * the window. Errors come back already described (one line + exit code).
 */
import { readlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { describeError } from '../errors.js';
import { Machine } from '../machine.js';
import { WorkerEnd, type FrameGeometry } from './channel.js';
import type { GuestImage } from './run.js';

export interface WorkerData {
  image: GuestImage;
  verbose: boolean;
  fixedTime: boolean;
  buffer: SharedArrayBuffer;
  geometry: FrameGeometry;
  /** Collect the host time of each doorbell (benchmarks). */
  measure: boolean;
}

export type WorkerMessage =
  /** Booted; `tid` is this thread's Linux thread id, for kicking it out of KVM_RUN. */
  | { kind: 'booted'; tid: number }
  | { kind: 'done'; exitCode: number; exits: number; frames: number; hostTimesNs: number[] | undefined }
  | { kind: 'failed'; line: string; exitCode: number };

function post(m: WorkerMessage): void {
  parentPort?.postMessage(m);
}

function run(data: WorkerData): void {
  const channel = new WorkerEnd(data.buffer, data.geometry);
  const hostTimesNs = data.measure ? ([] as number[]) : undefined;
  let machine: Machine;
  try {
    machine = Machine.boot({
      ...data.image,
      verbose: data.verbose,
      display: { sink: channel, paced: true, fixedTime: data.fixedTime, ...(hostTimesNs && { onHostTime: (ns: number) => hostTimesNs.push(ns) }) },
    });
  } catch (e) {
    post({ kind: 'failed', ...describeError(e, data.verbose) });
    return;
  }
  try {
    // "<pid>/task/<tid>": this thread's id, without native code.
    post({ kind: 'booted', tid: Number(readlinkSync('/proc/thread-self').split('/').pop()) });
    if (!channel.waitStart()) return;
    const r = machine.run();
    post({ kind: 'done', exitCode: r.exitCode, exits: r.exits, frames: r.frames, hostTimesNs });
  } catch (e) {
    post({ kind: 'failed', ...describeError(e, data.verbose) });
  } finally {
    machine.close();
  }
}

run(workerData as WorkerData);
