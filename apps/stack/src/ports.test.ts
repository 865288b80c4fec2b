import { describe, expect, it } from 'vitest';
import { distinctPorts } from './stack.js';

describe('the ports a stack hands out', () => {
  it('never hands out a port twice, though the probe finds the same free port again', async () => {
    const found = [41000, 41000, 41001, 9000, 41001, 41002];
    const ports = distinctPorts(async () => found.shift()!, [9000]);
    expect(await ports.next()).toBe(41000);
    expect(await ports.next()).toBe(41001);
    expect(await ports.next()).toBe(41002);
  });

  it('counts fixed ports as handed out', async () => {
    const found = [9011, 41000];
    const ports = distinctPorts(async () => found.shift()!);
    expect(ports.reserve(9011)).toBe(9011);
    expect(await ports.next()).toBe(41000);
  });
});
