import type { ContractContext } from './context';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function defineSqlClientTests(ctx: ContractContext): void {
  describe('SqlClient', () => {
    beforeEach(async () => {
      await ctx.sql.query('CREATE TABLE contract_scratch (id int PRIMARY KEY, label text)');
    });

    const count = async () =>
      Number((await ctx.sql.query<{ n: unknown }>('SELECT count(*) AS n FROM contract_scratch')).rows[0]?.n);

    it('runs parameterised queries and reports row counts', async () => {
      const inserted = await ctx.sql.query('INSERT INTO contract_scratch VALUES ($1, $2), ($3, $4)', [1, 'a', 2, null]);
      expect(inserted.rowCount).toBe(2);
      const selected = await ctx.sql.query<{ id: number; label: string | null }>(
        'SELECT id, label FROM contract_scratch WHERE id = ANY($1::int[]) ORDER BY id',
        [[1, 2, 3]],
      );
      expect(selected.rows).toEqual([
        { id: 1, label: 'a' },
        { id: 2, label: null },
      ]);
      expect(selected.rowCount).toBe(2);
      expect((await ctx.sql.query('DELETE FROM contract_scratch WHERE id = $1', [3])).rowCount).toBe(0);
    });

    it('commits a transaction and returns its result', async () => {
      const result = await ctx.sql.transaction(async (tx) => {
        await tx.query('INSERT INTO contract_scratch VALUES (1, $1)', ['a']);
        return 'done';
      });
      expect(result).toBe('done');
      expect(await count()).toBe(1);
    });

    it('rolls a transaction back when its callback throws, and rethrows', async () => {
      const failure = new Error('boom');
      await expect(
        ctx.sql.transaction(async (tx) => {
          await tx.query('INSERT INTO contract_scratch VALUES (1, $1)', ['a']);
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await count()).toBe(0);
      await ctx.sql.query('INSERT INTO contract_scratch VALUES (1, $1)', ['a']);
      expect(await count()).toBe(1);
    });

    it('fails a transaction whose callback swallowed a failed statement, committing nothing', async () => {
      await expect(
        ctx.sql.transaction(async (tx) => {
          await tx.query('INSERT INTO contract_scratch VALUES (1, $1)', ['a']);
          await tx.query('INSERT INTO contract_scratch VALUES (1, $1)', ['duplicate']).catch(() => undefined);
          return 'swallowed';
        }),
      ).rejects.toThrow();
      expect(await count()).toBe(0);
    });

    it('runs a nested transaction as a savepoint', async () => {
      await ctx.sql.transaction(async (tx) => {
        await tx.query('INSERT INTO contract_scratch VALUES (1, $1)', ['outer']);
        await expect(
          tx.transaction(async (inner) => {
            await inner.query('INSERT INTO contract_scratch VALUES (2, $1)', ['inner']);
            throw new Error('inner failure');
          }),
        ).rejects.toThrow('inner failure');
        await tx.transaction((inner) => inner.query('INSERT INTO contract_scratch VALUES (3, $1)', ['kept']));
      });
      const rows = await ctx.sql.query<{ id: number }>('SELECT id FROM contract_scratch ORDER BY id');
      expect(rows.rows.map((row) => row.id)).toEqual([1, 3]);
    });

    it('never lets other queries see a transaction half done', async () => {
      const writer = ctx.sql.transaction(async (tx) => {
        await tx.query('INSERT INTO contract_scratch VALUES (1, $1)', ['first']);
        await pause(30);
        await tx.query('INSERT INTO contract_scratch VALUES (2, $1)', ['second']);
      });
      const readers = Array.from({ length: 5 }, async (_, index) => {
        await pause(index * 10);
        return count();
      });
      await writer;
      for (const seen of await Promise.all(readers)) expect([0, 2]).toContain(seen);
      expect(await count()).toBe(2);
    });
  });
}
