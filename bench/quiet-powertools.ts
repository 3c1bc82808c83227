/**
 * Imported first by a bench that runs the handlers in its own process (pipeline, soak, market fan-out): the
 * Powertools Logger and Metrics read these when lib/observability.ts builds them, so the warm-latency
 * runs do not print a JSON log line and an EMF record per snapshot. Set them yourself to see the output.
 */
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
// The SDK's "node >= 22 from January 2027" notice, once per process: this machine runs Node 20, Lambda 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
