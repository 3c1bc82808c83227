import { InMemoryRuleSetStore } from '#lib/adapters/memory/memory-ruleset-store.js';
import { ruleSetStoreContract } from '#test/support/ports/ruleset-store-contract.js';

ruleSetStoreContract('InMemoryRuleSetStore', async () => {
  const store = new InMemoryRuleSetStore();
  return { store, audit: async () => store.audit() };
});
