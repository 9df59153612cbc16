// The manager's workers: the running ones by key, and those on their way out after a reload
// removed or changed them, which are still shown and still awaited when everything stops.
import type { WorkerConfig } from "../config/types.ts";
import type { Slot } from "./slot.ts";

export type SlotPool = {
  readonly slots: Map<string, Slot>;
  newSlot(c: WorkerConfig): Slot;
  /** Running and leaving slots alike. */
  all(): Slot[];
  /** Drains (or stops) a slot taken out of `slots`; resolves once it stopped. */
  retire(slot: Slot, o: { cancel?: boolean; reason?: string }): Promise<void>;
  /** The manager is shutting down: no slot starts any more. */
  stopping(): boolean;
};

export function createSlotPool(o: { newSlot: (c: WorkerConfig) => Slot; stopping: () => boolean; onChange?: () => void }): SlotPool {
  const slots = new Map<string, Slot>();
  const leaving = new Set<Slot>();
  return {
    slots,
    newSlot: o.newSlot,
    all: () => [...slots.values(), ...leaving],
    retire(slot, r) {
      leaving.add(slot);
      return slot.retire(r).finally(() => {
        leaving.delete(slot);
        o.onChange?.();
      });
    },
    stopping: o.stopping,
  };
}
