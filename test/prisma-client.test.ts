import { describe, expect, it } from 'vitest';
import { useTestApp } from './helpers/app.js';

const t = useTestApp();

describe("the app's Prisma client", () => {
  it('does not capture a call site per query (errorFormat minimal): an error names no calling file', async () => {
    // An invalid argument fails in the client, where Prisma would otherwise print the calling line.
    const error = await t.db.prisma.user.findMany({ where: { id: { in: 'not a list' as unknown as string[] } } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const { message } = error as Error;
    expect(message).not.toMatch(/invocation in/);
    expect(message).not.toMatch(/prisma-client\.test/);
  });
});
