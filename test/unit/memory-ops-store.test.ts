import { InMemoryOpsStore } from '#lib/adapters/memory/memory-ops-store.js';
import { opsStoreContract } from '#test/support/ports/ops-store-contract.js';

opsStoreContract('InMemoryOpsStore', async () => {
  const store = new InMemoryOpsStore();
  return {
    store,
    putSignals: async (items) => store.putSignals(items),
    putOutbox: async (world, key, events) => store.putOutbox(world, key, events),
  };
});
