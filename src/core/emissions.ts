/**
 * Collected symbol emissions of a transaction. A symbol emitted twice counts once (its options
 * merged, the highest weight kept), as in rspamd. Options are bounded so headers and logs stay
 * small whatever an attacker puts in a message.
 */
import type { Emission } from './types.js';

/** At most this many options per symbol, each at most MAX_OPTION_LENGTH characters. */
export const MAX_OPTIONS = 8;
export const MAX_OPTION_LENGTH = 100;

interface Slot {
  weight: number;
  options: string[];
  check: string;
}

export class EmissionSet {
  private readonly slots = new Map<string, Slot>();

  add(name: string, check: string, options: readonly string[] = [], weight = 1): void {
    let slot = this.slots.get(name);
    if (!slot) {
      slot = { weight, options: [], check };
      this.slots.set(name, slot);
    } else if (weight > slot.weight) {
      slot.weight = weight;
    }
    for (const raw of options) {
      if (slot.options.length >= MAX_OPTIONS) break;
      const o = String(raw).slice(0, MAX_OPTION_LENGTH);
      if (!slot.options.includes(o)) slot.options.push(o);
    }
  }

  has(name: string): boolean {
    return this.slots.has(name);
  }

  get size(): number {
    return this.slots.size;
  }

  list(): Emission[] {
    return [...this.slots].map(([name, s]) => ({ name, check: s.check, weight: s.weight, options: [...s.options] }));
  }

  clone(): EmissionSet {
    const c = new EmissionSet();
    for (const [name, s] of this.slots) c.slots.set(name, { weight: s.weight, options: [...s.options], check: s.check });
    return c;
  }

  clear(): void {
    this.slots.clear();
  }
}
