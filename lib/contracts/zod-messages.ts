import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

/**
 * Every Lambda-path schema is written in `zod/mini`, the functional API over the same core as classic
 * zod: classic attaches some fifty methods to every schema it builds and imports its JSON Schema
 * generator, which made it the largest cold-start cost after the AWS SDK (README, cold start). Mini
 * carries no messages of its own; a schema module imports this one, which configures the English
 * messages classic zod uses, so every issue reads exactly as before. (Import zod as a namespace,
 * `import * as z from 'zod/mini'`: esbuild then keeps only what is used; re-exporting the namespace
 * would pull in every locale.)
 *
 * The locale's message tables are built when the first issue needs a message, not when a function
 * loads: only bad input reads them, and `en()` builds the same tables either way.
 */
let english: ReturnType<typeof en>['localeError'] | undefined;
config({
  localeError: (issue) => {
    english ??= en().localeError;
    return english(issue);
  },
});
