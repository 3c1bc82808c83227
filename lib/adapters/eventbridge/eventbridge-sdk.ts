/**
 * The two pieces of the EventBridge SDK the functions use, behind one module the publisher and the wiring
 * import dynamically: the Lambda bundle keeps them in a chunk that only a publishing invocation loads, and
 * naming them here (not `import('@aws-sdk/client-eventbridge')`) lets the bundler drop the client's other
 * commands.
 */
export { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
