/** Powertools' Logger module, loaded but not constructed. */
export { Logger } from '@aws-lambda-powertools/logger';
