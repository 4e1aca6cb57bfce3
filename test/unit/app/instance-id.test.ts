import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claimInstanceId } from '../../../app/instance-id.ts';

describe('claimInstanceId', () => {
  it('gives two live processes of one stage different slots, and the same slot back after a crash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-instance-'));
    const first = claimInstanceId(dir, 'logflow-aggregate');
    expect(first).toBe(`${hostname()}-0`);
    // Slots are per application: another stage in the same process starts at slot 0 too.
    expect(claimInstanceId(dir, 'logflow-alert')).toBe(`${hostname()}-0`);

    const other = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(other.stdout.toString());
    writeFileSync(join(dir, 'instances', 'logflow-parse-0.pid'), String(deadPid));
    // The holder of slot 0 is dead (it exited): the slot is taken over, as after a kill -9.
    expect(claimInstanceId(dir, 'logflow-parse')).toBe(`${hostname()}-0`);

    // A live holder (the parent of this test process) keeps its slot: we get the next one.
    writeFileSync(join(dir, 'instances', 'logflow-index-0.pid'), String(process.ppid));
    expect(claimInstanceId(dir, 'logflow-index')).toBe(`${hostname()}-1`);
  });
});
