import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MalformedRequestError, type Sql } from '@marquee/service-kit';
import { createScratchDatabase, type ScratchDatabase } from '../../../test/support/infra.ts';
import { createLargeObject, hashLargeObject, readLargeObject, writeBodyAt } from '../src/media/large-objects.ts';
import { sha256Hex } from './media-fixtures.ts';

let scratch: ScratchDatabase;
let sql: Sql;
beforeAll(async () => {
  scratch = await createScratchDatabase('v2lo');
  sql = postgres(scratch.url, { max: 2, onnotice: () => {} }) as unknown as Sql;
});
afterAll(async () => {
  await sql?.end();
  await scratch?.drop();
});

/** A request body that sends `first`, then nothing (a stalled client), until cancelled. */
function stallingBody(first: Buffer): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(new Uint8Array(first));
        return;
      }
      return new Promise(() => {});
    },
  });
}

const bodyOf = (...parts: Buffer[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const part of parts) controller.enqueue(new Uint8Array(part));
      controller.close();
    },
  });

describe('large object chunk writes', () => {
  it('gives up on a stalled body after the idle timeout and keeps none of its bytes', async () => {
    const oid = await createLargeObject(sql);
    const write = sql.begin((tx) => writeBodyAt(tx, oid, 0, stallingBody(Buffer.alloc(1000, 7)), { expectedBytes: 5000, idleTimeoutMs: 300 }));
    // The body never ends: only the idle timeout can end the write.
    await expect(write).rejects.toBeInstanceOf(MalformedRequestError);
    await expect(write).rejects.toThrow(/No request body data for 300 ms/);
    expect((await readLargeObject(sql, oid, 0, 5000)).length).toBe(0);
  });

  it('refuses bodies shorter or longer than declared (rolled back), and writes exact ones across blocks', async () => {
    const oid = await createLargeObject(sql);
    await expect(sql.begin((tx) => writeBodyAt(tx, oid, 0, bodyOf(Buffer.alloc(10)), { expectedBytes: 11, idleTimeoutMs: 1000 }))).rejects.toThrow(/ended after 10/);
    await expect(sql.begin((tx) => writeBodyAt(tx, oid, 0, bodyOf(Buffer.alloc(10), Buffer.alloc(5)), { expectedBytes: 12, idleTimeoutMs: 1000 }))).rejects.toThrow(/longer/);
    expect((await readLargeObject(sql, oid, 0, 100)).length).toBe(0);

    const parts = [Buffer.alloc(700_000, 1), Buffer.alloc(700_000, 2), Buffer.alloc(1234, 3)];
    const whole = Buffer.concat(parts);
    await sql.begin((tx) => writeBodyAt(tx, oid, 0, bodyOf(...parts), { expectedBytes: whole.length, idleTimeoutMs: 1000 }));
    expect(await hashLargeObject(sql, oid, whole.length)).toBe(sha256Hex(whole));
  });
});
