// Paging over sorted ids: pages end where they say, a cursor resumes after them, and a page that
// matches little stops reading at its bound.
import { describe, expect, it } from 'vitest';
import { pageOf } from './pages.js';

const ids = Array.from({ length: 2500 }, (_, i) => `id${String(i).padStart(5, '0')}`);
const cursorOf = (id: string) => Buffer.from(id).toString('base64url');

describe('pageOf', () => {
  it('gives a full page and the cursor of its last id, then resumes after it', async () => {
    const all = async (batch: string[]) => batch;
    const first = await pageOf(ids.slice(0, 5), { limit: 2 }, all);
    expect(first).toEqual({ items: ['id00000', 'id00001'], next: cursorOf('id00001') });
    const last = await pageOf(ids.slice(0, 5), { limit: 3, after: 'id00001' }, all);
    expect(last).toEqual({ items: ['id00002', 'id00003', 'id00004'] });
  });

  it('skips what does not match, and reads no more than its bound when little does', async () => {
    let read = 0;
    const rare = async (batch: string[]) => {
      read += batch.length;
      return batch.map((id) => (id.endsWith('999') ? id : undefined));
    };
    const page = await pageOf(ids, { limit: 5 }, rare);
    expect(read).toBe(1000);
    expect(page).toEqual({ items: ['id00999'], next: cursorOf('id00999') });
    const more = await pageOf(ids, { limit: 5, after: 'id00999' }, rare);
    expect(more.items).toEqual(['id01999']);
  });
});
