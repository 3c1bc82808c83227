import * as z from 'zod/mini';

/** zod/mini's core with one small object schema: the floor under every edge schema. */
export const schema = z.object({ id: z.string(), value: z.number() });
