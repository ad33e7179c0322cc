import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InlineCreates, SLOW_CREATE_BACKOFF_MS, SLOW_CREATE_MS } from './fs-calls';

describe('InlineCreates', () => {
  /** Creates that take `durations[i]` ms of a fake clock each, recording where they ran. */
  function creates(durations: number[]): { creates: InlineCreates; ran: string[]; clock: { now: number } } {
    const clock = { now: 1000 };
    const ran: string[] = [];
    let next = 3;
    const inline = (file: string): number => {
      ran.push(`inline ${file}`);
      clock.now += durations.shift() ?? 0.1;
      return next++;
    };
    const pooled = async (file: string): Promise<number> => {
      ran.push(`pool ${file}`);
      return next++;
    };
    return { creates: new InlineCreates(inline, pooled, () => clock.now), ran, clock };
  }

  it('creates on the event loop while creates are quick', async () => {
    const { creates: c, ran } = creates([0.2, SLOW_CREATE_MS, 0.1]);
    await expect(c.create('a', 'w')).resolves.toBe(3);
    await c.create('b', 'w');
    await c.create('c', 'w');
    expect(ran).toEqual(['inline a', 'inline b', 'inline c']);
  });

  it('after a slow create, goes through the thread pool for a while, then inline again', async () => {
    const { creates: c, ran, clock } = creates([0.1, SLOW_CREATE_MS + 0.5, 0.1]);
    await c.create('quick', 'w');
    await c.create('slow', 'w');
    await c.create('next', 'w');
    clock.now += SLOW_CREATE_BACKOFF_MS - 1;
    await c.create('still', 'w');
    clock.now += 2;
    await c.create('again', 'w');
    expect(ran).toEqual(['inline quick', 'inline slow', 'pool next', 'pool still', 'inline again']);
  });

  it("a create that fails inline is a rejection, as the pool's would be, and the file system's own error", async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'ocireg-fs-create-'));
    try {
      const real = new InlineCreates();
      const missing = path.join(directory, 'no-such-dir', 'file');
      const creating = real.create(missing, 'w');
      await expect(creating).rejects.toMatchObject({ code: 'ENOENT' });
      const fd = await real.create(path.join(directory, 'file'), 'wx');
      fs.closeSync(fd);
      await expect(real.create(path.join(directory, 'file'), 'wx')).rejects.toMatchObject({ code: 'EEXIST' });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
