import middy from '@middy/core';

/** A middy handler with no middleware. */
export const handler = middy(async () => 1);
