/**
 * Worker thread of a batch run: loads the knowledge once, then applies shards on request and
 * writes each shard's output next to it, answering with counts only (no large messages).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { PlanDefinition } from '@medplum/fhirtypes';
import { loadKnowledgeBase } from '../knowledge/load-artifacts.ts';
import { toOperationOutcome } from '../errors/operation-outcome.ts';
import { applyShard, type ShardContext } from './apply-shard.ts';

export interface WorkerSetup {
  knowledgePaths: string[];
  planRefs: { url?: string; version?: string; id?: string }[];
  now: string;
  mode: 'r4' | 'cpg';
  files: string[];
}

export interface ShardJob {
  index: number;
  path: string;
  outPath: string;
  failPath: string;
}

export type WorkerReply =
  | { index: number; ok: true; patients: number; outputs: number; failures: number; bytes: number }
  | { index: number; ok: false; error: string };

const setup = workerData as WorkerSetup;
const knowledge = loadKnowledgeBase(setup.knowledgePaths);
const plans = setup.planRefs.map((ref) => {
  const plan = ref.url
    ? knowledge.resolve<PlanDefinition>(ref.version ? `${ref.url}|${ref.version}` : ref.url, 'PlanDefinition')
    : knowledge.byId<PlanDefinition>('PlanDefinition', ref.id ?? '');
  if (!plan) throw new Error(`plan ${ref.url ?? ref.id} not found in the worker's knowledge`);
  return plan;
});
const context: ShardContext = { plans, knowledge, now: setup.now, mode: setup.mode, files: setup.files };

parentPort!.on('message', (job: ShardJob) => {
  let reply: WorkerReply;
  try {
    const text = readFileSync(job.path, 'utf8');
    const result = applyShard(text, context);
    writeFileSync(job.outPath, result.outputs.length ? `${result.outputs.join('\n')}\n` : '');
    writeFileSync(job.failPath, result.failures.length ? `${result.failures.join('\n')}\n` : '');
    reply = { index: job.index, ok: true, patients: result.patients, outputs: result.outputs.length, failures: result.failures.length, bytes: text.length };
  } catch (err) {
    reply = { index: job.index, ok: false, error: toOperationOutcome(err).issue?.[0]?.diagnostics ?? String(err) };
  }
  parentPort!.postMessage(reply);
});
